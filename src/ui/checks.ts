// Doctor's human output: one line per check, the fix on the same line.
import type {Check, CheckStatus} from '../lib/doctor/index.ts'

const marks: Record<CheckStatus, string> = {pass: '✓ pass', fail: '✗ FAIL', warn: '! warn', skip: '· skip'}

export function renderChecks(checks: Check[]): string {
  const width = Math.max(...checks.map((c) => c.id.length))
  const lines = checks.map((c) => `${marks[c.status]}  ${c.id.padEnd(width)}  ${c.detail}${c.hint && c.status !== 'pass' ? ` — fix: ${c.hint}` : ''}`)
  const failed = checks.filter((c) => c.status === 'fail')
  lines.push(failed.length === 0
    ? `all ${checks.filter((c) => c.status === 'pass').length} checks pass${checks.some((c) => c.status === 'warn') ? ' (with warnings)' : ''}`
    : `${failed.length} of ${checks.length} checks fail: ${failed.map((c) => c.id).join(', ')}`)
  return lines.join('\n')
}
