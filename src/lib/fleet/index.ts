// `iotctl fleet …`: fleet provisioning by claim (issue 18). `fleet setup` runs the
// fleet steps of the registry (src/lib/stack/steps.ts) as its slice; `fleet
// claim-cert` makes the claim certificate; `fleet register` is the device side.
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {stackGraph} from '../stack/steps.ts'
import {fleetSettingsOf, fleetStepIds, shippedHookCode} from './steps.ts'

export {checkClaimRequest, createClaimCertificate, type ClaimResult} from './claim.ts'
export {checkRegisterRequest, registerDevice, type RegisterResult} from './register.ts'

export interface FleetSetupResult {
  stack: string
  dryRun: boolean
  changed: boolean
  interrupted: boolean
  template: string
  /** The hook: the user's Lambda, the one iotctl deploys (`iotctl-…-fleet-hook`), or none. */
  hook: {kind: 'user'; arn: string} | {kind: 'deployed'; serialPrefix: string; code: string} | {kind: 'none'}
  steps: StepReport[]
}

/** The fleet steps, whose checks of the settings run before any AWS call. */
export function fleetChecks(): ReturnType<typeof stackGraph> {
  return stackGraph().filter((step) => fleetStepIds.includes(step.id))
}

export async function setupFleet(ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<FleetSetupResult> {
  const result = await applySteps(stackGraph().slice(...fleetStepIds), ctx, {...options, targets: [...fleetStepIds]})
  const settings = fleetSettingsOf(ctx.settings)
  const code = shippedHookCode(ctx.stack, ctx.settings)
  const hook: FleetSetupResult['hook'] = settings.hookArn !== undefined
    ? {kind: 'user', arn: settings.hookArn}
    : settings.serialPrefix !== undefined && code !== undefined ? {kind: 'deployed', serialPrefix: settings.serialPrefix, code} : {kind: 'none'}
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    template: settings.template ?? '',
    hook,
    steps: result.reports,
  }
}
