// Read-only views of steps for `status` and `doctor`: what exists, what is missing.
import {StepGraph} from './graph.ts'
import {readSteps} from './runner.ts'
import type {ResourceRecord, Step, StepContext} from './types.ts'

export type LinkState = 'ok' | 'missing' | 'broken'

export interface Link {
  step: string
  account: string
  state: LinkState
  /** What the link is: "route 10.10.0.0/16 → pcx-… in rtb-…". */
  link: string
  detail?: string
}

export interface InspectResult {
  links: Link[]
  healthy: boolean
}

/**
 * Validates and reads each step, turning resources into `ok` links, what
 * create would add into `missing` ones, and its broken findings into `broken` ones.
 */
export async function inspectSteps(steps: Step[], ctx: StepContext, describe: (record: ResourceRecord) => string): Promise<InspectResult> {
  for (const step of steps) await step.validate?.(ctx)
  const observations = await readSteps(new StepGraph(steps), ctx)
  const links: Link[] = []
  for (const step of steps) {
    const observed = observations.get(step.id) ?? {resources: [], missing: []}
    const broken = (observed.findings ?? []).filter((f) => f.kind === 'broken').map((f) => f.text)
    for (const record of observed.resources) links.push({step: step.id, account: step.account, state: 'ok', link: describe(record)})
    for (const line of observed.missing) links.push({step: step.id, account: step.account, state: 'missing', link: line})
    for (const note of broken) links.push({step: step.id, account: step.account, state: 'broken', link: note})
  }
  return {links, healthy: links.every((l) => l.state === 'ok')}
}
