// Numbers and lines for the MQTT commands' output. Pure.
import type {LatencySummary} from '../mqtt/index.ts'

/** Nearest-rank percentiles of `values` (milliseconds), or undefined for none. */
export function latencySummary(values: number[]): LatencySummary | undefined {
  if (values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
  return {p50: rank(50), p95: rank(95), p99: rank(99), max: sorted.at(-1)!}
}

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** A payload as text when it is valid UTF-8, else undefined. */
export function utf8Text(payload: Buffer): string | undefined {
  const text = payload.toString('utf8')
  return Buffer.from(text, 'utf8').equals(payload) ? text : undefined
}

/** `[#######.............]` for a fraction in [0, 1]. */
export function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}
