// Progress on stderr: listr2's live list on a terminal (the steps in flight
// side by side), plain lines otherwise (CI logs, pipes: one line per event,
// each naming its step, so interleaved steps stay readable). stdout stays
// reserved for results and --json.
import {Interrupted} from '../lib/errors.ts'
import type {TaskRunner} from '../lib/plan/runner.ts'

export interface ProgressOptions {
  /** Print nothing at all (e.g. --quiet); errors still reach stderr through the base command. */
  silent?: boolean
}

type Work<T> = (progress: (message: string) => void) => Promise<T>

/**
 * Plain lines for logs: a progress line at most every 5 s while a step waits,
 * and one line when it ends, each with the step's title.
 */
export function plainTaskRunner(write: (line: string) => void): TaskRunner {
  return {
    async run<T>(title: string, work: Work<T>): Promise<T> {
      const started = Date.now()
      let lastProgress = 0
      try {
        const result = await work((message) => {
          if (Date.now() - lastProgress < 5000) return
          lastProgress = Date.now()
          write(`… ${title}: ${message}`)
        })
        write(`✓ ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
        return result
      } catch (error) {
        write(error instanceof Interrupted ? `! ${title} (interrupted)` : `✗ ${title}`)
        throw error
      }
    },
  }
}

/** What the runner hands a planned listr2 task when the step starts (or that it never will). */
type Order = {work: Work<unknown>; resolve: (value: unknown) => void; reject: (error: unknown) => void} | 'skip'

/**
 * listr2's default renderer on stderr: one concurrent list of every step of
 * the plan; a step waits in it until the runner starts it, so the steps in
 * flight spin side by side.
 */
export async function listrTaskRunner(): Promise<TaskRunner> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  // Both of listr2's streams point at stderr: stdout is for results only.
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  const rendererOptions = {logger}
  let orders = new Map<string, (order: Order) => void>()
  let running: Promise<unknown> | undefined
  const skip = (title: string): void => {
    orders.get(title)?.('skip')
    orders.delete(title)
  }
  const plan = (planned: readonly {title: string; waitsFor: string[]}[]): void => {
    orders = new Map()
    const tasks = planned.map(({title, waitsFor}) => {
      const order = new Promise<Order>((resolve) => orders.set(title, resolve))
      return {
        title,
        task: async (_ctx: unknown, task: {output: string; skip: (message?: string) => void}) => {
          task.output = waitsFor.length > 0 ? `after: ${waitsFor.join('; ')}` : 'starting'
          const given = await order
          if (given === 'skip') return task.skip(`${title} (not reached)`)
          task.output = ''
          try {
            given.resolve(await given.work((message) => { task.output = message }))
          } catch (error) {
            given.reject(error)
            throw error
          }
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
    async finish() {
      for (const title of [...orders.keys()]) skip(title)
      await running
      running = undefined
    },
  }
}

export async function taskRunnerFor(options: ProgressOptions): Promise<TaskRunner> {
  if (options.silent) return {run: (_title, work) => work(() => {})}
  if (process.stderr.isTTY && !process.env.CI) return listrTaskRunner()
  return plainTaskRunner((line) => process.stderr.write(`${line}\n`))
}
