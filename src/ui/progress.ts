// Progress on stderr: listr2's live list on a terminal (the steps in flight
// side by side), plain lines otherwise (CI logs, pipes: one line per event,
// each naming its step, so interleaved steps stay readable). stdout stays
// reserved for results and --json.
import type {StepReport, TaskRunner} from '../lib/plan/runner.ts'
import {stepDetails, stepHeadline} from './report.ts'

export interface ProgressOptions {
  /** Print nothing at all (e.g. --quiet); errors still reach stderr through the base command. */
  silent?: boolean
}

/** A task runner, and whether its live list ends showing each step's result (then the caller need not print them again). */
export interface Progress {
  runner: TaskRunner
  showsResults: boolean
}

type Work<T> = (progress: (message: string) => void) => Promise<T>

/**
 * Plain lines for logs: a progress line at most every 5 s while a step works
 * or waits, each with the step's title. How each step ended is the step list
 * the command prints at the end: said once, not here as well.
 */
export function plainTaskRunner(write: (line: string) => void): TaskRunner {
  return {
    async run<T>(title: string, work: Work<T>): Promise<T> {
      let lastProgress = 0
      return work((message) => {
        if (Date.now() - lastProgress < 5000) return
        lastProgress = Date.now()
        write(`… ${title}: ${message}`)
      })
    },
  }
}

/** What a step's listr2 task lets the runner change. */
interface Task {
  title: string
  output: string
  skip: (message?: string) => void
}

/** What the runner hands a planned listr2 task when the step starts (or that it never will). */
type Order = {work: Work<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void} | 'skip'

/**
 * listr2's default renderer on stderr: one concurrent list of every step of
 * the plan; a step waits in it until the runner starts it, so the steps in
 * flight spin side by side. When a step ends its line becomes its result
 * (`VPC peering [iot]: created`) with what changed or was found under it, so
 * on a terminal each step appears once.
 */
export async function listrTaskRunner(): Promise<TaskRunner> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  // Both of listr2's streams point at stderr: stdout is for results only.
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  const rendererOptions = {logger}
  let orders = new Map<string, (order: Order) => void>()
  let settles = new Map<string, (report: StepReport | undefined) => void>()
  let running: Promise<unknown> | undefined
  const skip = (title: string): void => {
    orders.get(title)?.('skip')
    orders.delete(title)
  }
  const plan = (planned: readonly {title: string; waitsFor: string[]}[]): void => {
    orders = new Map()
    settles = new Map()
    const tasks = planned.map(({title, waitsFor}) => {
      const order = new Promise<Order>((resolve) => orders.set(title, resolve))
      const settled = new Promise<StepReport | undefined>((resolve) => settles.set(title, resolve))
      // The step's line becomes its result once the runner has its report.
      const showResult = async (task: Task) => {
        const report = await settled
        if (!report) return
        task.title = stepHeadline(report)
        task.output = stepDetails(report).map((line) => line.trimStart()).join('\n')
      }
      return {
        title,
        rendererOptions: {persistentOutput: true},
        task: async (_ctx: unknown, task: Task) => {
          task.output = waitsFor.length > 0 ? `after: ${waitsFor.join('; ')}` : 'starting'
          const given = await order
          if (given === 'skip') return task.skip(`${title} (not reached)`)
          task.output = ''
          try {
            given.resolve(await given.work((message) => { task.output = message }))
          } catch (error) {
            given.reject(error)
            await showResult(task)
            throw error
          }
          await showResult(task)
        },
      }
    })
    const list = new Listr(tasks, {concurrent: true, exitOnError: false, renderer: 'default', rendererOptions, registerSignalListeners: false})
    // Failures reach the runner through each step's own promise.
    running = list.run().catch(() => undefined)
  }
  return {
    plan,
    run<T>(title: string, work: Work<T>): Promise<T> {
      // The runner plans every run; a task nobody planned gets a list of its own.
      if (!orders.has(title)) plan([{title, waitsFor: []}])
      const start = orders.get(title)
      orders.delete(title)
      // The planned task resolves with the step's own result.
      return new Promise<T>((resolve, reject) => start?.({work, resolve: (value) => resolve(value as T), reject}))
    },
    skip,
    settle(title, report) {
      settles.get(title)?.(report)
      settles.delete(title)
    },
    async finish() {
      for (const title of [...orders.keys()]) skip(title)
      // A step whose report never came keeps its own line.
      for (const resolve of settles.values()) resolve(undefined)
      settles = new Map()
      await running
      running = undefined
    },
  }
}

export async function taskRunnerFor(options: ProgressOptions): Promise<Progress> {
  if (options.silent) return {runner: {run: (_title, work) => work(() => {})}, showsResults: false}
  if (process.stderr.isTTY && !process.env.CI) return {runner: await listrTaskRunner(), showsResults: true}
  return {runner: plainTaskRunner((line) => process.stderr.write(`${line}\n`)), showsResults: false}
}
