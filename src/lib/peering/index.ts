// `peer setup` and `peer status`: step 4 of the walkthrough.
import type {CallerIdentity} from '../aws/account.ts'
import {inspectSteps, type InspectResult} from '../plan/inspect.ts'
import {StepGraph} from '../plan/graph.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {ResourceRecord, StepContext} from '../plan/types.ts'
import {peeringIdOf, peeringSteps} from './steps.ts'

export interface PeerSetupResult {
  stack: string
  dryRun: boolean
  accounts: {iot: CallerIdentity; msk: CallerIdentity}
  peeringId?: string
  /** False when a second run found everything in place. */
  changed: boolean
  interrupted: boolean
  steps: StepReport[]
}

/** Step 4's steps: the peering, routes both ways, the brokers' ingress. */
export function peeringGraph(): StepGraph {
  return new StepGraph(peeringSteps)
}

export async function setupPeering(ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<PeerSetupResult> {
  const result = await applySteps(peeringGraph(), ctx, options)
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    accounts: ctx.identities,
    peeringId: peeringIdOf(ctx),
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    steps: result.reports,
  }
}

export interface PeerStatusResult extends InspectResult {
  stack: string
  peeringId?: string
}

export function describeLink(record: ResourceRecord): string {
  switch (record.kind) {
    case 'ec2:vpc-peering-connection':
      return `peering ${record.id}: ${record.attrs?.requesterVpc} → ${record.attrs?.accepterVpc} (${record.attrs?.accepterAccountId})`
    case 'ec2:route':
      return `route ${record.attrs?.destination} → ${record.attrs?.peeringId} in ${record.attrs?.routeTableId}`
    case 'ec2:security-group-rule':
      return `ingress tcp/${record.attrs?.port} from ${record.attrs?.cidr} into ${record.attrs?.groupId} (${record.id})`
    default:
      return `${record.kind} ${record.id}`
  }
}

export async function peeringStatus(ctx: StepContext): Promise<PeerStatusResult> {
  const result = await inspectSteps(peeringSteps, ctx, describeLink)
  return {stack: ctx.stack, peeringId: peeringIdOf(ctx), ...result}
}
