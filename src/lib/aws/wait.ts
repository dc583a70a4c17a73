// Polling for states the SDK has no waiter for (an active peering, an ENABLED
// rule destination). Backs off from `interval` to `maxInterval`, reports
// progress with the elapsed time, and gives up after `timeoutSeconds`.
import {CheckFailed} from '../errors.ts'

export interface WaitOptions {
  /** What is being waited for, for progress and the timeout message. */
  what: string
  timeoutSeconds: number
  intervalMs?: number
  maxIntervalMs?: number
  progress?: (message: string) => void
  checkpoint?: () => void
}

/** Calls `check` until it returns a value other than undefined. */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const started = Date.now()
  let interval = options.intervalMs ?? 1000
  const maxInterval = options.maxIntervalMs ?? 15_000
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    const elapsed = (Date.now() - started) / 1000
    if (elapsed >= options.timeoutSeconds) {
      throw new CheckFailed(`timed out after ${Math.round(elapsed)} s waiting for ${options.what}`)
    }
    options.progress?.(`waiting for ${options.what} (${Math.round(elapsed)} s)`)
    await new Promise((resolve) => setTimeout(resolve, interval))
    options.checkpoint?.()
    interval = Math.min(maxInterval, Math.round(interval * 1.5))
  }
}
