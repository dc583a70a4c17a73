// `iot role`, `iot destination`, `iot rule`: each runs its slice of the
// registry's graph (its steps and what they need). What they need from other
// steps (the secret, the key, the role, the destination) is only read, first,
// and a missing prerequisite is bad input naming the command that makes it
// (requireInputs).
import {isNotFound} from '../errors.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {stackGraph} from '../stack/steps.ts'
import {topicFilterOf} from './names.ts'
import {partitionOf, topicArn} from './policies.ts'
import {destinationArnOf, iotRoleArnOf, ruleSettingsOf} from './inputs.ts'
import {simulateRole} from './simulate.ts'

export type IotSlice = 'role' | 'destination' | 'rule'

const sliceSteps: Record<IotSlice, string[]> = {
  role: ['iot-role', 'iot-key-user'],
  destination: ['iot-destination'],
  rule: ['iot-rule'],
}

export interface IotSetupResult {
  stack: string
  dryRun: boolean
  /** False when everything was in place already. */
  changed: boolean
  interrupted: boolean
  roleArn: string
  destinationArn?: string
  rule?: {name: string; topicFilter?: string; kafkaTopic: string}
  steps: StepReport[]
}

/** The part of the registry a slice runs: its own steps and, to read only, what they need. */
export function iotSliceGraph(slice: IotSlice): ReturnType<typeof stackGraph> {
  return stackGraph().slice(...sliceSteps[slice])
}

/** The slice's own steps, whose checks of the settings run before any AWS call. */
export function iotSliceChecks(slice: IotSlice): ReturnType<typeof stackGraph> {
  return stackGraph().filter((step) => sliceSteps[slice].includes(step.id))
}

export async function setupIot(slice: IotSlice, ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner; parallel?: number}): Promise<IotSetupResult> {
  // Run on its own, a step's validation also demands what earlier steps make.
  const result = await applySteps(iotSliceGraph(slice), {...ctx, options: {...ctx.options, requireInputs: true}}, {...options, targets: sliceSteps[slice]})
  const reports = result.reports
  const settings = ruleSettingsOf(ctx.settings)
  if (slice === 'rule' && settings.errorTopic) {
    const topic = topicArn(partitionOf(ctx.identities.iot.arn), ctx.accounts.iot.region, ctx.identities.iot.accountId, settings.errorTopic)
    const note = await roleMayNote(ctx, {action: 'iot:Publish', resource: topic, what: `publish to '${settings.errorTopic}'`, flag: `--error-topic ${settings.errorTopic}`, so: 'the error action can republish'})
    if (note) reports.find((r) => r.id === 'iot-rule')?.notes.push(note)
  }
  if (slice === 'rule' && settings.s3?.bucket) {
    const objects = `arn:${partitionOf(ctx.identities.iot.arn)}:s3:::${settings.s3.bucket}/${settings.s3.key.replace(/\$\{[^}]*\}/g, 'x')}`
    const note = await roleMayNote(ctx, {action: 's3:PutObject', resource: objects, what: `put objects in '${settings.s3.bucket}'`, flag: `--s3-bucket ${settings.s3.bucket}`, so: 'the S3 action can write'})
    if (note) reports.find((r) => r.id === 'iot-rule')?.notes.push(note)
  }
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    changed: reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    roleArn: iotRoleArnOf(ctx),
    destinationArn: destinationArnOf(ctx),
    ...(slice === 'rule' ? {rule: {name: settings.name, topicFilter: topicFilterOf(settings.sql), kafkaTopic: settings.kafkaTopic}} : {}),
    steps: reports,
  }
}

/**
 * The error action and the S3 action act with the stack's role, which `iot role`
 * (or `up`) allows to publish to the error topic and to put objects in the bucket;
 * a role made before --error-topic or --s3-bucket was chosen cannot, and the rule
 * would drop its errors or objects silently.
 */
async function roleMayNote(ctx: StepContext, ask: {action: string; resource: string; what: string; flag: string; so: string}): Promise<string | undefined> {
  try {
    const [verdict] = await simulateRole(await ctx.accounts.iot.iam(), iotRoleArnOf(ctx), [{action: ask.action, resource: ask.resource}])
    if (verdict.decision === 'allowed') return undefined
  } catch (error) {
    // No role yet (a dry run before `iot role`) is a role that may not; anything else is said as it is.
    if (!isNotFound(error)) return `could not ask IAM whether the role may ${ask.what}: ${(error as Error).message.split('\n')[0]}`
  }
  return `the role may not ${ask.what} yet: run \`iotctl iot role ${ask.flag}\` (or \`iotctl up\`) so ${ask.so}`
}
