// Every step iotctl manages, in the walkthrough's order (DESIGN.md steps 1–7).
// `up` runs them forward, `cleanup` backward; single-capability commands run
// their slice. No command hand-codes this order a second time.
import {peeringSteps} from '../peering/steps.ts'
import type {Step} from '../plan/types.ts'

export function stackSteps(): Step[] {
  return [...peeringSteps]
}
