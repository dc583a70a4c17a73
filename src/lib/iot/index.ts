// `iot role`, `iot destination`, `iot rule`: each runs its slice of the
// registry's steps. What a slice needs from earlier steps (the secret, the
// key, the role, the destination) is read first — read-only — and a missing
// prerequisite is bad input naming the command that makes it (requireInputs).
import {isNotFound} from '../errors.ts'
import {applySteps, readStep, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {stackSteps} from '../stack/steps.ts'
import {topicFilterOf} from './names.ts'
import {partitionOf, topicArn} from './policies.ts'
import {checkRuleSettings, destinationArnOf, iotRoleArnOf, ruleSettingsOf} from './inputs.ts'
import {simulateRole} from './simulate.ts'

export type IotSlice = 'role' | 'destination' | 'rule'

const sliceSteps: Record<IotSlice, string[]> = {
  role: ['iot-role', 'iot-key-user'],
  destination: ['iot-destination'],
  rule: ['iot-rule'],
}

const clusterSteps = ['msk-cluster', 'scram-association']

/** Earlier steps whose records a slice uses. */
const sliceInputs: Record<IotSlice, string[]> = {
  role: ['kms-key:iot', 'secret:iot'],
  destination: ['iot-role'],
  rule: ['msk-cluster', 'scram-association', 'secret:iot', 'iot-role', 'iot-destination'],
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

export async function setupIot(slice: IotSlice, ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<IotSetupResult> {
  // The rule's names and SQL first: a bad one is reported before any AWS call.
  if (slice === 'rule') checkRuleSettings(ruleSettingsOf(ctx.settings))
  const all = stackSteps()
  // A configured cluster needs no look-up; otherwise the stack's cluster is found through its steps.
  const inputs = sliceInputs[slice].filter((id) => !(ctx.settings.msk?.clusterArn && clusterSteps.includes(id)))
  for (const step of all.filter((s) => inputs.includes(s.id) && !ctx.outputs.has(s.id))) await readStep(step, ctx, ctx.progress)
  const steps = all.filter((s) => sliceSteps[slice].includes(s.id))
  // Run on its own, a step's validation also demands what earlier steps make.
  const result = await applySteps(steps, {...ctx, options: {...ctx.options, requireInputs: true}}, options)
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
