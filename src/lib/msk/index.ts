// `msk create`, `msk associate-secret` and `msk brokers`: steps 1 and 3 of the
// walkthrough and the SASL/SCRAM bootstrap brokers the IoT rule connects to.
import type {CallerIdentity} from '../aws/account.ts'
import {CheckFailed, InputError} from '../errors.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StackSettings, StepContext} from '../plan/types.ts'
import {clusterLabel, clusterOf, getBootstrapBrokers, type BootstrapBrokers} from './clusters.ts'
import {mskClusterStep, scramAssociationStep} from './steps.ts'

export {clusterOf, getBootstrapBrokers} from './clusters.ts'

/**
 * The MSK commands work in account A only: the IoT side of the step context
 * is pointed at the same handle, so they need (and resolve) A's credentials only.
 */
export function mskAccountOnly(settings: StackSettings): StackSettings {
  return {...settings, iot: {...settings.iot, profile: settings.msk?.profile, region: settings.msk?.region}}
}

export interface MskCreateResult {
  stack: string
  dryRun: boolean
  account: CallerIdentity
  clusterArn?: string
  clusterName?: string
  state?: string
  changed: boolean
  interrupted: boolean
  steps: StepReport[]
}

export async function createCluster(ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<MskCreateResult> {
  const result = await applySteps([mskClusterStep], ctx, options)
  const cluster = options.dryRun && !ctx.outputs.get('msk-cluster')?.length ? undefined : await clusterOf(ctx)
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    account: ctx.identities.msk,
    clusterArn: cluster?.ClusterArn,
    clusterName: cluster?.ClusterName,
    state: cluster?.State,
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    steps: result.reports,
  }
}

export interface MskAssociateResult {
  stack: string
  dryRun: boolean
  clusterArn?: string
  secretArn?: string
  changed: boolean
  interrupted: boolean
  steps: StepReport[]
}

export async function associateSecret(ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<MskAssociateResult> {
  const result = await applySteps([scramAssociationStep], ctx, options)
  const record = ctx.outputs.get('scram-association')?.[0]
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    clusterArn: record?.attrs?.clusterArn ?? (await clusterOf(ctx))?.ClusterArn,
    secretArn: record?.attrs?.secretArn,
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    steps: result.reports,
  }
}

/** `msk brokers --json`: the cluster and the whole GetBootstrapBrokers answer. */
export type MskBrokersResult = {clusterArn: string; clusterName?: string} & BootstrapBrokers

export async function bootstrapBrokers(ctx: StepContext): Promise<MskBrokersResult> {
  const cluster = await clusterOf(ctx)
  if (!cluster?.ClusterArn) {
    const configured = ctx.settings.msk?.clusterArn
    throw new InputError(configured
      ? `--cluster-arn ${configured}: no such cluster in the MSK account (${ctx.accounts.msk.label}, ${ctx.accounts.msk.region})`
      : `no MSK cluster for stack '${ctx.stack}': pass --cluster-arn (or msk.clusterArn in the config file), or create one with \`iotctl msk create\``)
  }
  const answer = await getBootstrapBrokers(await ctx.accounts.msk.kafka(), cluster.ClusterArn)
  if (!answer.BootstrapBrokerStringSaslScram) {
    throw new CheckFailed(`cluster ${clusterLabel(cluster)} has no SASL/SCRAM bootstrap brokers: it must be ACTIVE with SASL/SCRAM client authentication enabled`)
  }
  return {clusterArn: cluster.ClusterArn, clusterName: cluster.ClusterName, ...answer}
}
