// Progress on stderr: listr2's live list on a terminal, plain lines otherwise
// (CI logs, pipes). stdout stays reserved for results and --json.
import {Interrupted} from '../lib/errors.ts'
import type {TaskRunner} from '../lib/plan/runner.ts'

export interface ProgressOptions {
  /** Print nothing at all (e.g. --quiet); errors still reach stderr through the base command. */
  silent?: boolean
}

/**
 * Plain lines for logs: a progress message at most every 5 s while a task
 * waits (the first one names the task), and one line when it ends.
 */
export function plainTaskRunner(write: (line: string) => void): TaskRunner {
  return async (title, work) => {
    const started = Date.now()
    let lastProgress = 0
    try {
      const result = await work((message) => {
        if (Date.now() - lastProgress < 5000) return
        if (lastProgress === 0) write(`… ${title}`)
        lastProgress = Date.now()
        write(`  ${message}`)
      })
      write(`✓ ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`)
      return result
    } catch (error) {
      write(error instanceof Interrupted ? `! ${title} (interrupted)` : `✗ ${title}`)
      throw error
    }
  }
}

/** listr2's default renderer on stderr, one list entry per task. */
export async function listrTaskRunner(): Promise<TaskRunner> {
  const {Listr, ListrLogger, ProcessOutput} = await import('listr2')
  // Both of listr2's streams point at stderr: stdout is for results only.
  const logger = new ListrLogger({processOutput: new ProcessOutput(process.stderr, process.stderr)})
  return async (title, work) => {
    let result: Awaited<ReturnType<typeof work>> | undefined
    const list = new Listr([{
      title,
      task: async (_ctx, task) => {
        result = await work((message) => { task.output = message })
      },
    }], {renderer: 'default', rendererOptions: {logger}, registerSignalListeners: false, exitOnError: true})
    await list.run()
    return result as Awaited<ReturnType<typeof work>>
  }
}

export async function taskRunnerFor(options: ProgressOptions): Promise<TaskRunner> {
  if (options.silent) return (_title, work) => work(() => {})
  if (process.stderr.isTTY && !process.env.CI) return listrTaskRunner()
  return plainTaskRunner((line) => process.stderr.write(`${line}\n`))
}
