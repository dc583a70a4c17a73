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
    const note = await errorTopicNote(ctx, settings.errorTopic)
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
 * The error action republishes with the stack's role, which `iot role` (or
 * `up`) allows to publish to the configured error topic; a role made before
 * --error-topic was chosen cannot, and the rule would drop its errors silently.
 */
async function errorTopicNote(ctx: StepContext, errorTopic: string): Promise<string | undefined> {
  const topic = topicArn(partitionOf(ctx.identities.iot.arn), ctx.accounts.iot.region, ctx.identities.iot.accountId, errorTopic)
  try {
    const [verdict] = await simulateRole(await ctx.accounts.iot.iam(), iotRoleArnOf(ctx), [{action: 'iot:Publish', resource: topic}])
    if (verdict.decision === 'allowed') return undefined
  } catch (error) {
    // No role yet (a dry run before `iot role`) is a role that may not publish; anything else is said as it is.
    if (!isNotFound(error)) return `could not ask IAM whether the role may publish to '${errorTopic}': ${(error as Error).message.split('\n')[0]}`
  }
  return `the role may not publish to '${errorTopic}' yet: run \`iotctl iot role --error-topic ${errorTopic}\` (or \`iotctl up\`) so the error action can republish`
}
