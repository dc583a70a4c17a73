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

/**
 * IOTCTL_WAIT_SCALE (0 < s ≤ 1) shortens every polling interval by that factor.
 * Only for emulators whose delays are AWS's scaled down by the same factor
 * (bench/graph): there the waits keep AWS's proportions instead of
 * overshooting by a whole unscaled interval.
 */
function waitScale(): number {
  const scale = Number(process.env.IOTCTL_WAIT_SCALE ?? 1)
  return Number.isFinite(scale) && scale > 0 && scale <= 1 ? scale : 1
}

/** Calls `check` until it returns a value other than undefined. */
export async function waitFor<T>(check: () => Promise<T | undefined>, options: WaitOptions): Promise<T> {
  const started = Date.now()
  const scale = waitScale()
  let interval = (options.intervalMs ?? 1000) * scale
  const maxInterval = (options.maxIntervalMs ?? 15_000) * scale
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
