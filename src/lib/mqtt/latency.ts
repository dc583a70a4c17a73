// Percentiles of publish-to-PUBACK latencies for `mqtt publish`'s result. Pure.
import type {LatencySummary} from './load.ts'

/** Nearest-rank percentiles of `values` (milliseconds), or undefined for none. */
export function latencySummary(values: number[]): LatencySummary | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
  return {p50: rank(50), p95: rank(95), p99: rank(99), max: sorted.at(-1)!}
}
