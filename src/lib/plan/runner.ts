// The one runner behind `up`, every single-capability command, `cleanup` and
// `--dry-run`: create order is the order of the steps, delete order is its reverse.
import {Interrupted} from '../errors.ts'
import type {Observation, ResourceRecord, Step, StepContext} from './types.ts'

export type StepOutcome =
  | 'created' // something was missing and is now there
  | 'unchanged' // everything was there already (possibly adopted from tags)
  | 'would-create' // dry run: something is missing
  | 'deleted'
  | 'would-delete' // dry run: something would be deleted
  | 'absent' // cleanup: nothing of the stack's was there
  | 'kept' // cleanup: left alone on purpose (e.g. the cluster without --include-cluster)
  | 'interrupted' // Ctrl-C came while it ran: what it made so far is in the ledger, the rest remains
  | 'skipped' // not reached (interrupted or an earlier step failed)

export interface StepReport {
  id: string
  title: string
  account: string
  outcome: StepOutcome
  /** What was (or would be) created or deleted, one line each. */
  changes: string[]
  notes: string[]
  resources: ResourceRecord[]
}

/**
 * Wraps the execution of one step for display: the command layer passes a
 * listr2-backed or a plain-line runner; `progress` updates the step's line.
 */
export type TaskRunner = <T>(title: string, work: (progress: (message: string) => void) => Promise<T>) => Promise<T>

export const plainTaskRunner: TaskRunner = (_title, work) => work(() => {})

export interface RunOptions {
  dryRun: boolean
  runTask?: TaskRunner
}

export interface RunResult {
  reports: StepReport[]
  /** Set when the run stopped early (Ctrl-C or a failure): what remained. */
  interrupted: boolean
}

/** Validates every step (read-only, so bad input changes nothing), then brings each up to date in order. */
export async function applySteps(steps: Step[], ctx: StepContext, options: RunOptions): Promise<RunResult> {
  const runTask = options.runTask ?? plainTaskRunner
  for (const step of steps) await step.validate?.(ctx)
  const reports: StepReport[] = []
  for (const [index, step] of steps.entries()) {
    let changing = false
    try {
      ctx.checkpoint()
      const report = await runTask(step.title, async (progress) => {
        const observed = await readStep(step, ctx, progress)
        if (observed.missing.length === 0) {
          // Adopts what tags found when the ledger was lost or is behind.
          if (!options.dryRun) ctx.ledger.replaceStep(step.id, observed.resources)
          return reportOf(step, 'unchanged', [], observed, observed.resources)
        }
        if (options.dryRun) return reportOf(step, 'would-create', observed.missing, observed, observed.resources)
        // Ctrl-C during the read: the first change of the step must not start.
        ctx.checkpoint()
        changing = true
        const resources = await step.create(withProgress(ctx, progress), observed)
        ctx.ledger.replaceStep(step.id, resources)
        ctx.outputs.set(step.id, resources)
        return reportOf(step, 'created', observed.missing, observed, resources)
      })
      reports.push(report)
    } catch (error) {
      if (error instanceof Interrupted) {
        reports.push(changing ? interruptedIn(step, ctx) : skipped(step), ...steps.slice(index + 1).map((s) => skipped(s)))
        return {reports, interrupted: true}
      }
      throw Object.assign(error as Error, {reports: [...reports, ...steps.slice(index).map((s) => skipped(s))]})
    }
  }
  return {reports, interrupted: false}
}

export interface DestroyOptions extends RunOptions {
  /** Which steps cleanup deletes; the others' resources are reported as kept. */
  include?: (step: Step) => boolean
  /** Shown the plan before anything is deleted; false stops the run with nothing changed. */
  confirm?: (plan: StepReport[]) => Promise<boolean>
}

/**
 * Reads every step forward (later steps find their resources through earlier
 * ones, e.g. routes through the peering), then deletes in reverse order.
 */
export async function destroySteps(steps: Step[], ctx: StepContext, options: DestroyOptions): Promise<RunResult & {confirmed: boolean}> {
  const runTask = options.runTask ?? plainTaskRunner
  const observed = new Map<string, Observation>()
  for (const step of steps) observed.set(step.id, await readStep(step, ctx, ctx.progress))
  const reversed = [...steps].reverse()
  const included = (step: Step) => (options.include ? options.include(step) : step.cleanupByDefault !== false)
  const plan = reversed.map((step) => {
    const found = observed.get(step.id) as Observation
    const outcome: StepOutcome = found.resources.length === 0 ? 'absent' : included(step) ? 'would-delete' : 'kept'
    const changes = outcome === 'would-delete' ? found.resources.map((r) => `delete ${describeRecord(r)}`) : []
    return reportOf(step, outcome, changes, found, found.resources)
  })
  const work = plan.filter((r) => r.outcome === 'would-delete')
  if (options.dryRun || work.length === 0) return {reports: plan, interrupted: false, confirmed: false}
  if (options.confirm && !(await options.confirm(plan))) return {reports: plan, interrupted: false, confirmed: false}
  const reports: StepReport[] = []
  for (const [index, step] of reversed.entries()) {
    const planned = plan[index]
    try {
      ctx.checkpoint()
      if (planned.outcome !== 'would-delete') {
        reports.push(planned)
        continue
      }
      await runTask(step.title, (progress) => step.delete(withProgress(ctx, progress), planned.resources))
      ctx.ledger.replaceStep(step.id, [])
      reports.push({...planned, outcome: 'deleted'})
    } catch (error) {
      if (error instanceof Interrupted) {
        reports.push(...reversed.slice(index).map((s) => skipped(s)))
        return {reports, interrupted: true, confirmed: true}
      }
      throw Object.assign(error as Error, {reports: [...reports, ...reversed.slice(index).map((s) => skipped(s))]})
    }
  }
  return {reports, interrupted: false, confirmed: true}
}

/** Reads one step and remembers its resources for the steps after it. */
export async function readStep(step: Step, ctx: StepContext, progress: (message: string) => void): Promise<Observation> {
  const observed = await step.read(withProgress(ctx, progress))
  ctx.outputs.set(step.id, observed.resources)
  return observed
}

export function describeRecord(record: ResourceRecord): string {
  return `${record.kind} ${record.id} (${record.account} account ${record.accountId})`
}

function withProgress(ctx: StepContext, progress: (message: string) => void): StepContext {
  return {...ctx, progress: (message) => { progress(message); ctx.progress(message) }}
}

function reportOf(step: Step, outcome: StepOutcome, changes: string[], observed: Observation, resources: ResourceRecord[]): StepReport {
  return {id: step.id, title: step.title, account: step.account, outcome, changes, notes: observed.notes ?? [], resources}
}

/** The step Ctrl-C stopped: what the ledger holds for it is what it has so far. */
function interruptedIn(step: Step, ctx: StepContext): StepReport {
  return {id: step.id, title: step.title, account: step.account, outcome: 'interrupted', changes: [], notes: [], resources: ctx.ledger.forStep(step.id)}
}

function skipped(step: Step): StepReport {
  return {id: step.id, title: step.title, account: step.account, outcome: 'skipped', changes: [], notes: [], resources: []}
}
