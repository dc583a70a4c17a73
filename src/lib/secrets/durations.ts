// Durations on the command line (`--if-older-than 30d`, `--wait 10m`), checked
// before any AWS call so that a bad one is exit 2 naming the flag.
import {InputError} from '../errors.ts'

const units: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export interface Duration {
  text: string
  ms: number
}

/** `<whole number><s|m|h|d>` (e.g. 30d, 12h, 90s); InputError naming `flag` otherwise. */
export function parseDuration(text: string, flag: string): Duration {
  const match = /^(\d{1,9})([smhd])$/.exec(text.trim())
  if (!match) throw new InputError(`${flag} '${text}': not a duration; give a whole number and a unit: s, m, h or d (e.g. 30d, 12h)`)
  return {text: text.trim(), ms: Number(match[1]) * units[match[2]]}
}

/** A duration for people: the largest unit that keeps it a whole number, down to seconds. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000))
  if (seconds >= 86_400 && seconds % 86_400 === 0) return `${seconds / 86_400}d`
  if (seconds >= 86_400) return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`
  if (seconds >= 3600) return `${Math.floor(seconds / 3600)}h${seconds % 3600 >= 60 ? ` ${Math.floor((seconds % 3600) / 60)}m` : ''}`
  if (seconds >= 60) return `${Math.floor(seconds / 60)}m${seconds % 60 ? ` ${seconds % 60}s` : ''}`
  return `${seconds}s`
}
