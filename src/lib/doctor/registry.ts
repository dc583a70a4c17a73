// What the registry's own reads say about the stack, for doctor: every step
// `up` makes, read in order (later reads use earlier records), each failure
// kept with its step instead of stopping the run.
import {readStep} from '../plan/runner.ts'
import type {Observation, StepContext} from '../plan/types.ts'
import {upSteps} from '../stack/steps.ts'

export interface Registry {
  /** What each step's read found, by step id. */
  observed: Map<string, Observation>
  /** Why a step's settings or read failed, by step id (bad or missing settings, AWS errors). */
  problems: Map<string, string>
}

// Steps whose validation only reads and fills facts their read compares
// against (the route tables to route, the destination's subnets).
const validatedForDoctor = new Set(['peering', 'routes:iot', 'routes:msk', 'sg-ingress', 'iot-destination'])

export async function readRegistry(ctx: StepContext): Promise<Registry> {
  const registry: Registry = {observed: new Map(), problems: new Map()}
  for (const step of upSteps({createCluster: true})) {
    try {
      if (validatedForDoctor.has(step.id)) await step.validate?.(ctx)
    } catch (error) {
      registry.problems.set(step.id, (error as Error).message.split('\n')[0])
    }
    try {
      registry.observed.set(step.id, await readStep(step, ctx, ctx.progress))
    } catch (error) {
      registry.problems.set(step.id, (error as Error).message.split('\n')[0])
    }
  }
  return registry
}
