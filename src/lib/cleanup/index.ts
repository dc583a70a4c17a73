// `iotctl cleanup`: every step of the stack, read walking its graph forward,
// deleted walking it backward (independent deletions side by side).
// Works from tags and construction marks in both accounts, with the ledger as
// a hint, so it also works when .iotctl/ is gone; "not found" counts as done.
import type {CallerIdentity} from '../aws/account.ts'
import {destroySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {AnyStep, StepContext} from '../plan/types.ts'
import {stackGraph} from '../stack/steps.ts'

export interface CleanupOptions {
  dryRun: boolean
  runTask?: TaskRunner
  /** Steps in flight at once per account. */
  parallel?: number
  confirm?: (plan: StepReport[]) => Promise<boolean>
  /** Step ids cleanup leaves out by default that the user asked for (e.g. the cluster). */
  includeOptional?: string[]
  /** Step ids cleanup leaves alone this time (e.g. the Kafka topic with --keep-topic). */
  exclude?: string[]
}

export interface CleanupResult {
  stack: string
  accounts: {iot: CallerIdentity; msk: CallerIdentity}
  dryRun: boolean
  /** False when the user declined at the prompt, or when there was nothing to delete. */
  confirmed: boolean
  interrupted: boolean
  /** Number of resources deleted (or that would be, with --dry-run). */
  deleted: number
  steps: StepReport[]
}

export async function cleanupStack(ctx: StepContext, options: CleanupOptions): Promise<CleanupResult> {
  const include = (step: AnyStep) => !(options.exclude ?? []).includes(step.id) && (step.cleanupByDefault !== false || (options.includeOptional ?? []).includes(step.id))
  const result = await destroySteps(stackGraph(), ctx, {dryRun: options.dryRun, runTask: options.runTask, parallel: options.parallel, confirm: options.confirm, include})
  // Everything else is gone (or was kept on purpose): the lease table goes last. Not after a refusal at the prompt, a failure or Ctrl-C.
  const finished = !result.interrupted && !result.reports.some((r) => r.outcome === 'failed' || r.outcome === 'would-delete')
  if (!options.dryRun && finished) await ctx.lease?.retire()
  const counted = result.reports.filter((r) => r.outcome === (options.dryRun ? 'would-delete' : 'deleted'))
  return {
    stack: ctx.stack,
    accounts: ctx.identities,
    dryRun: options.dryRun,
    confirmed: result.confirmed,
    interrupted: result.interrupted,
    deleted: counted.reduce((n, r) => n + r.resources.length, 0),
    steps: result.reports,
  }
}
