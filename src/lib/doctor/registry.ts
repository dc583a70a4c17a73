// What the registry's own reads say about the stack, for doctor: every step
// `up` makes, read walking the graph (later reads use earlier records), each
// failure kept with its step instead of stopping the run.
import {readSteps} from '../plan/runner.ts'
import type {Observation, StepContext} from '../plan/types.ts'
import {optionalParts, upGraph} from '../stack/steps.ts'

export interface Registry {
  /** What each step's read found, by step id. */
  observed: Map<string, Observation>
  /** Why a step's settings or read failed, by step id (bad or missing settings, AWS errors). */
  problems: Map<string, string>
}

const firstLine = (error: unknown) => (error instanceof Error ? error.message : String(error)).split('\n')[0]

export async function readRegistry(ctx: StepContext): Promise<Registry> {
  const graph = upGraph({createCluster: true, ...optionalParts(ctx.settings)})
  const problems = new Map<string, string>()
  // A step's read-only validation fills the facts its read compares against
  // (the route tables to route, the destination's subnets); a step whose
  // validation fails is still read, and its problem is kept.
  for (const step of graph.steps) {
    try {
      step.check?.(ctx.settings)
      await step.validate?.(ctx)
    } catch (error) {
      problems.set(step.id, firstLine(error))
    }
  }
  const observed = await readSteps(graph, ctx, undefined, (step, error) => {
    if (!problems.has(step.id)) problems.set(step.id, firstLine(error))
  })
  return {observed, problems}
}
