// The contract for bad input (DESIGN.md, "Exit codes"): exit 2, one line on
// stderr naming what is wrong, and not one mutating request in the stand-in's log.
import assert from 'node:assert/strict'
import type {CliResult} from './cli.ts'
import type {LocalAws} from './local-aws/index.ts'

export function assertBadInput(aws: LocalAws, result: CliResult, expected: RegExp): void {
  assert.equal(result.code, 2, `exit 2 expected; stderr: ${result.stderr}`)
  const lines = result.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one stderr line, got:\n${result.stderr}`)
  assert.match(lines[0], expected)
  assert.deepEqual(aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`), [], 'no mutating request')
}
