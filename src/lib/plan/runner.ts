// The one runner behind `up`, every single-capability command, `cleanup` and
// `--dry-run`. It walks the steps' graph (./graph.ts): a step starts as soon
// as the steps it needs are done, with at most `parallel` steps in flight per
// account, so a long wait (a cluster becoming ACTIVE) holds up only the steps
// that need it. Cleanup walks the same graph backward.
import type {AccountRole} from '../aws/account.ts'
import {Interrupted} from '../errors.ts'
import {StepGraph} from './graph.ts'
import {isManaged, type AnyStep, type Finding, type LeftInPlace, type Observation, type ResourceRecord, type StepContext} from './types.ts'

export type StepOutcome =
  | 'created' // something was missing and is now there
  | 'unchanged' // everything was there already (possibly adopted from tags)
  | 'would-create' // dry run: something is missing
  | 'deleted'
  | 'would-delete' // dry run: something would be deleted
  | 'absent' // cleanup: nothing of the stack's was there
  | 'kept' // cleanup: left alone on purpose (e.g. the cluster without --include-cluster)
  | 'interrupted' // stopped while it ran (Ctrl-C, or another step failed): what it made so far is in the ledger, the rest remains
  | 'failed' // its request failed; the error says why
  | 'skipped' // not reached (interrupted, or a step failed first)

export interface StepReport {
  id: string
  title: string
  account: string
  outcome: StepOutcome
  /** What was (or would be) created or deleted, one line each. */
  changes: string[]
  notes: string[]
  /** What the step's read found wrong (broken, drifted, restorable), for scripts: read these, not the notes. */
  findings: Finding[]
  resources: ResourceRecord[]
  /** Cleanup: what it found beside the stack's resources and left alone, one entry each, with why (set when there is any). */
  leftInPlace?: LeftInPlace[]
  /** Step ids this step waited for (dependencies in the graph), for plans and --json. */
  after: string[]
  /** Wall time the step took, when it ran. */
  seconds?: number
}

/**
 * Shows the steps of a run as they go: the command layer passes listr2's
 * concurrent list on a terminal or plain lines in logs. `run` may be called for
 * several steps at once; `progress` updates that step's line.
 */
export interface TaskRunner {
  /** Every step the run may start, in plan order, with the titles of the steps it waits for, before the first starts. */
  plan?(tasks: readonly {title: string; waitsFor: string[]}[]): void
  run<T>(title: string, work: (progress: (message: string) => void) => Promise<T>): Promise<T>
  /** A planned step that will not run (not reached, nothing to do). */
  skip?(title: string): void
  /** A step's final report, once known (a live list turns the step's line into its result). */
  settle?(title: string, report: StepReport): void
  /** After the run; resolves when the display is settled. */
  finish?(): Promise<void>
}

export const plainTaskRunner: TaskRunner = {run: (_title, work) => work(() => {})}

/** Steps in flight per account when no --parallel is given: enough for the walkthrough's widest level. */
export const defaultParallel = 4

export interface RunOptions {
  dryRun: boolean
  runTask?: TaskRunner
  /** Steps in flight at once per account (default `defaultParallel`); 1 runs one step at a time in graph order. */
  parallel?: number
  /**
   * The steps to bring up to date (a capability command's own); the graph's
   * other steps are what they need, only read, first, so their facts and
   * records are there (a slice: `registry.slice(...targets)`). Default: all.
   */
  targets?: readonly string[]
}

export interface RunResult {
  reports: StepReport[]
  /** Set when the run stopped early (Ctrl-C or a failure): what remained. */
  interrupted: boolean
}

type Steps<S extends AnyStep> = readonly S[] | StepGraph<S>

function graphOf<S extends AnyStep>(steps: Steps<S>): StepGraph<S> {
  return steps instanceof StepGraph ? steps : new StepGraph(steps)
}

/** Why a walk stopped starting steps; in-flight steps see it at their next checkpoint. */
class Stop {
  reason?: 'interrupted' | 'failed'
  failure?: unknown

  /** A step ended: Ctrl-C (or another step's failure) reached its checkpoint, or it failed — the first failure is the one thrown. */
  record(error: unknown): void {
    if (error instanceof Interrupted) {
      this.reason ??= 'interrupted'
    } else if (this.reason !== 'failed') {
      this.failure = error
      this.reason = 'failed'
    }
  }

  /** After the walk: the first failure, thrown (with the reports, when the walk made any); else whether Ctrl-C stopped it. */
  end(reports?: StepReport[]): boolean {
    if (this.reason === 'failed') throw reports ? Object.assign(errorOf(this.failure), {reports}) : errorOf(this.failure)
    return this.reason === 'interrupted'
  }
}

/**
 * Calls `work` for every step once the steps before it (its needs forward,
 * the steps needing it backward) are done, at most
 * `parallel` at once per account, in graph order among those ready. A step
 * whose `work` fails (or after `stop` is set) ends the walk: steps not
 * started stay out of the returned set.
 */
async function walk<S extends AnyStep>(graph: StepGraph<S>, direction: 'forward' | 'backward', parallel: number, stop: Stop, work: (step: S) => Promise<boolean>): Promise<Set<string>> {
  const order = direction === 'forward' ? graph.steps : [...graph.steps].reverse()
  const before = (step: S) => (direction === 'forward' ? graph.needsOf(step) : graph.neededBy(step))
  const state = new Map<string, 'waiting' | 'running' | 'done' | 'failed'>(order.map((s) => [s.id, 'waiting']))
  const inFlight: Record<AccountRole, number> = {iot: 0, msk: 0}
  const started = new Set<string>()
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (!stop.reason) {
        for (const step of order) {
          if (state.get(step.id) !== 'waiting' || inFlight[step.account] >= parallel) continue
          if (!before(step).every((b) => state.get(b.id) === 'done')) continue
          state.set(step.id, 'running')
          started.add(step.id)
          inFlight[step.account] += 1
          void work(step).then((ok) => state.set(step.id, ok ? 'done' : 'failed'), () => state.set(step.id, 'failed')).finally(() => {
            inFlight[step.account] -= 1
            pump()
          })
        }
      }
      if (![...state.values()].includes('running')) resolve()
    }
    pump()
  })
  return started
}

/** The step's view of the context: progress also to its own line (when it has one), and a checkpoint that also stops it when another step failed. */
function stepScope(ctx: StepContext, stop: Stop, line?: (message: string) => void): StepContext {
  return {
    ...ctx,
    progress: line ? (message) => { line(message); ctx.progress(message) } : ctx.progress,
    checkpoint() {
      ctx.checkpoint()
      if (stop.reason === 'failed') throw new Interrupted('stopped: another step failed')
    },
  }
}

function parallelOf(options: RunOptions): number {
  const parallel = options.parallel ?? defaultParallel
  return Number.isInteger(parallel) && parallel > 0 ? parallel : defaultParallel
}

/**
 * Validates every step (read-only, so bad input changes nothing), then brings
 * each up to date, walking the graph: steps whose needs are done run at once.
 */
export async function applySteps(steps: Steps<AnyStep>, ctx: StepContext, options: RunOptions): Promise<RunResult> {
  const whole = graphOf(steps)
  const targets = options.targets
  const graph = (targets ? whole.filter((s) => targets.includes(s.id)) : whole).filter(isManaged)
  const runTask = options.runTask ?? plainTaskRunner
  for (const step of graph.steps) if (!ctx.checked?.has(step.id)) step.check?.(ctx.settings)
  // What the targets need, read once per context (a step read already in it is not read again).
  if (targets) await readSteps(whole.filter((s) => !targets.includes(s.id) && !ctx.outputs.has(s.id)), ctx, parallelOf(options))
  for (const step of graph.steps) await step.validate?.(ctx)
  // Checked and validated, nothing changed yet: from here on, one run at a time per stack.
  if (!options.dryRun) await ctx.lease?.hold()
  const reports = new Map<string, StepReport>()
  const stop = new Stop()
  runTask.plan?.(graph.steps.map((s) => ({title: s.title, waitsFor: graph.needsOf(s).map((n) => n.title)})))
  const started = await walk(graph, 'forward', parallelOf(options), stop, async (step) => {
    let changing = false
    const began = Date.now()
    try {
      const report = await runTask.run(step.title, async (progress) => {
        const scope = stepScope(ctx, stop, progress)
        scope.checkpoint()
        const observed = await readStep(step, scope)
        if (observed.missing.length === 0) {
          // Adopts what tags found when the ledger was lost or is behind.
          if (!options.dryRun) ctx.ledger.replaceStep(step.id, observed.resources)
          return reportOf(graph, step, 'unchanged', [], observed, observed.resources)
        }
        if (options.dryRun) return reportOf(graph, step, 'would-create', observed.missing, observed, observed.resources)
        // Ctrl-C during the read: the first change of the step must not start.
        scope.checkpoint()
        changing = true
        const resources = await step.create(scope, observed)
        ctx.ledger.replaceStep(step.id, resources)
        ctx.outputs.set(step.id, resources)
        return reportOf(graph, step, 'created', observed.missing, observed, resources)
      })
      reports.set(step.id, {...report, seconds: (Date.now() - began) / 1000})
      return true
    } catch (error) {
      stop.record(error)
      if (error instanceof Interrupted) reports.set(step.id, changing ? interruptedIn(graph, step, ctx) : skipped(graph, step))
      else reports.set(step.id, {...skipped(graph, step), outcome: 'failed'})
      return false
    } finally {
      const settled = reports.get(step.id)
      if (settled) runTask.settle?.(step.title, settled)
    }
  })
  const ordered = graph.steps.map((step) => reports.get(step.id) ?? skipped(graph, step))
  for (const step of graph.steps) if (!started.has(step.id)) runTask.skip?.(step.title)
  await runTask.finish?.()
  return {reports: ordered, interrupted: stop.end(ordered)}
}

export interface DestroyOptions extends RunOptions {
  /** Which steps cleanup deletes; the others' resources are reported as kept. */
  include?: (step: AnyStep) => boolean
  /** Shown the plan before anything is deleted; false stops the run with nothing changed. */
  confirm?: (plan: StepReport[]) => Promise<boolean>
}

/**
 * Reads every step walking the graph forward (later steps find their
 * resources through earlier ones, e.g. routes through the peering), then
 * deletes walking it backward: a step's resources go once every step that
 * needs it has gone, independent deletions side by side.
 */
export async function destroySteps(steps: Steps<AnyStep>, ctx: StepContext, options: DestroyOptions): Promise<RunResult & {confirmed: boolean}> {
  const graph = graphOf(steps)
  const runTask = options.runTask ?? plainTaskRunner
  const parallel = parallelOf(options)
  const included = (step: AnyStep) => (options.include ? options.include(step) : step.cleanupByDefault !== false)
  const observed = await readUnderLease(graph, ctx, parallel, options.dryRun, (found) => graph.steps.some((s) => included(s) && (found.get(s.id)?.resources.length ?? 0) > 0))
  const planned = new Map<string, StepReport>()
  for (const step of graph.steps) {
    const found = observed.get(step.id) ?? {resources: [], missing: []}
    const outcome: StepOutcome = found.resources.length === 0 ? 'absent' : included(step) ? 'would-delete' : 'kept'
    const changes = outcome === 'would-delete' ? found.resources.map((r) => `delete ${describeRecord(r)}`) : []
    planned.set(step.id, reportOf(graph, step, outcome, changes, found, found.resources))
  }
  // Reports in deletion order: the registry's order reversed.
  const inDeleteOrder = (reports: Map<string, StepReport>) => [...graph.steps].reverse().map((s) => reports.get(s.id) ?? skipped(graph, s))
  const plan = inDeleteOrder(planned)
  const work = plan.filter((r) => r.outcome === 'would-delete')
  if (options.dryRun || work.length === 0) return {reports: plan, interrupted: false, confirmed: false}
  if (options.confirm && !(await options.confirm(plan))) return {reports: plan, interrupted: false, confirmed: false}
  const reports = new Map<string, StepReport>()
  const stop = new Stop()
  const deleting = graph.steps.filter((s) => planned.get(s.id)?.outcome === 'would-delete')
  runTask.plan?.([...deleting].reverse().map((s) => ({title: s.title, waitsFor: graph.neededBy(s).filter((n) => deleting.includes(n)).map((n) => n.title)})))
  await walk(graph, 'backward', parallel, stop, async (step) => {
    const report = planned.get(step.id) ?? skipped(graph, step)
    if (report.outcome !== 'would-delete') {
      reports.set(step.id, report)
      return true
    }
    const began = Date.now()
    try {
      const result = await runTask.run(step.title, async (progress) => {
        const scope = stepScope(ctx, stop, progress)
        scope.checkpoint()
        return step.delete(scope, report.resources)
      })
      ctx.ledger.replaceStep(step.id, [])
      reports.set(step.id, {...withLeftInPlace(report, result?.leftInPlace ?? []), outcome: 'deleted', seconds: (Date.now() - began) / 1000})
      return true
    } catch (error) {
      stop.record(error)
      if (error instanceof Interrupted) reports.set(step.id, {...interruptedIn(graph, step, ctx), changes: report.changes})
      else reports.set(step.id, {...report, outcome: 'failed'})
      return false
    } finally {
      const settled = reports.get(step.id)
      if (settled) runTask.settle?.(step.title, settled)
    }
  })
  for (const step of deleting) if (!reports.has(step.id)) runTask.skip?.(step.title)
  await runTask.finish?.()
  const ordered = inDeleteOrder(reports)
  return {reports: ordered, interrupted: stop.end(ordered), confirmed: true}
}

/**
 * Cleanup's reads, under the stack's lease (unless --dry-run), so the plan is
 * what the run before left, not a stack another run is changing. Without a
 * lease table no run holds the lease: a cleanup that then finds nothing to
 * delete takes none (and makes no table: it changes nothing another run could
 * be using); one that finds something takes the lease and reads again under it.
 */
async function readUnderLease(graph: StepGraph, ctx: StepContext, parallel: number, dryRun: boolean, anyToDelete: (observed: Map<string, Observation>) => boolean): Promise<Map<string, Observation>> {
  const lease = dryRun ? undefined : ctx.lease
  if (!lease || await lease.hold({create: false})) return readSteps(graph, ctx, parallel)
  const first = await readSteps(graph, ctx, parallel)
  if (!anyToDelete(first)) return first
  await lease.hold()
  return readSteps(graph, ctx, parallel)
}

/**
 * Reads every step walking the graph forward, side by side where the graph
 * allows (a read uses the records and facts of the steps it needs). The
 * first failure stops the walk and is thrown, unless `onError` takes it (doctor:
 * a step that cannot be read is a finding, and the steps after it still read).
 */
export async function readSteps(graph: StepGraph, ctx: StepContext, parallel = defaultParallel, onError?: (step: AnyStep, error: unknown) => void): Promise<Map<string, Observation>> {
  const observed = new Map<string, Observation>()
  const stop = new Stop()
  await walk(graph, 'forward', parallel, stop, async (step) => {
    try {
      observed.set(step.id, await readStep(step, stepScope(ctx, stop)))
      return true
    } catch (error) {
      if (onError && !(error instanceof Interrupted)) {
        onError(step, error)
        return true
      }
      stop.record(error)
      return false
    }
  })
  // Ctrl-C while reading: nothing was changed, the caller's checkpoint says so.
  if (stop.end()) ctx.checkpoint()
  return observed
}

function errorOf(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value))
}

/** Reads one step and remembers its resources for the steps after it. */
export async function readStep(step: AnyStep, ctx: StepContext): Promise<Observation> {
  const observed = await step.read(ctx)
  ctx.outputs.set(step.id, observed.resources)
  return observed
}

export function describeRecord(record: ResourceRecord): string {
  return `${record.kind} ${record.id} (${record.account} account ${record.accountId})`
}

function reportOf(graph: StepGraph, step: AnyStep, outcome: StepOutcome, changes: string[], observed: Observation, resources: ResourceRecord[]): StepReport {
  const report: StepReport = {...base(graph, step), outcome, changes, notes: observed.notes ?? [], findings: observed.findings ?? [], resources}
  return observed.leftInPlace?.length ? {...report, leftInPlace: observed.leftInPlace} : report
}

/** A deletion's report once the step left some of its planned resources alone: those are no longer counted as deleted. */
function withLeftInPlace(report: StepReport, left: LeftInPlace[]): StepReport {
  if (left.length === 0) return report
  const isLeft = (r: ResourceRecord) => left.some((l) => l.kind === r.kind && l.id === r.id && l.account === r.account)
  const resources = report.resources.filter((r) => !isLeft(r))
  return {...report, resources, changes: resources.map((r) => `delete ${describeRecord(r)}`), leftInPlace: [...(report.leftInPlace ?? []), ...left]}
}

function base(graph: StepGraph, step: AnyStep): Pick<StepReport, 'id' | 'title' | 'account' | 'after'> {
  return {id: step.id, title: step.title, account: step.account, after: graph.needsOf(step).map((s) => s.id)}
}

/** The step Ctrl-C stopped: what the ledger holds for it is what it has so far. */
function interruptedIn(graph: StepGraph, step: AnyStep, ctx: StepContext): StepReport {
  return {...base(graph, step), outcome: 'interrupted', changes: [], notes: [], findings: [], resources: ctx.ledger.forStep(step.id)}
}

function skipped(graph: StepGraph, step: AnyStep): StepReport {
  return {...base(graph, step), outcome: 'skipped', changes: [], notes: [], findings: [], resources: []}
}
