// `iot role`, `iot destination`, `iot rule`: each runs its slice of the
// registry's steps. What a slice needs from earlier steps (the secret, the
// key, the role, the destination) is read first — read-only — and a missing
// prerequisite is bad input naming the command that makes it (requireInputs).
import {applySteps, readStep, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {stackSteps} from '../stack/steps.ts'
import {topicFilterOf} from './names.ts'
import {checkRuleSettings, destinationArnOf, iotRoleArnOf, ruleSettingsOf} from './steps.ts'

export type IotSlice = 'role' | 'destination' | 'rule'

const sliceSteps: Record<IotSlice, string[]> = {
  role: ['iot-role', 'iot-key-user'],
  destination: ['iot-destination'],
  rule: ['iot-rule'],
}

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
  for (const step of all.filter((s) => sliceInputs[slice].includes(s.id) && !ctx.outputs.has(s.id))) await readStep(step, ctx, ctx.progress)
  const steps = all.filter((s) => sliceSteps[slice].includes(s.id))
  // Run on its own, a step's validation also demands what earlier steps make.
  const result = await applySteps(steps, {...ctx, options: {...ctx.options, requireInputs: true}}, options)
  const reports = result.reports
  const settings = ruleSettingsOf(ctx.settings)
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
