// Doctor's pure parts: comparing secrets by digest, turning a step's read into
// a check, and the one-line-per-check rendering with its fix.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {stepCheck} from '../../src/lib/doctor/network.ts'
import {secretDigest} from '../../src/lib/doctor/secrets.ts'
import type {Registry} from '../../src/lib/doctor/registry.ts'
import type {StepContext} from '../../src/lib/plan/types.ts'
import {renderChecks} from '../../src/ui/checks.ts'

test('secrets compare by digest of their content, whatever the JSON spelling', () => {
  const a = secretDigest('{"username":"iotctl","password":"p4ss"}')
  assert.equal(secretDigest('{ "password": "p4ss", "username": "iotctl" }'), a)
  assert.notEqual(secretDigest('{"username":"iotctl","password":"other"}'), a)
  assert.match(a, /^[0-9a-f]{64}$/)
  assert.ok(!a.includes('p4ss'))
  assert.equal(secretDigest('not json'), secretDigest('not json'))
})

test('a step\'s read becomes a check: missing or broken fails with the fix, a read error fails with it too', async () => {
  const check = stepCheck('routes:msk', 'routes', 'run `iotctl peer setup`')
  const registry = (observed: Registry['observed'], problems = new Map<string, string>()): Registry => ({observed, problems})
  const ctx = {} as StepContext
  const route = {step: 'routes:msk', kind: 'ec2:route', id: 'rtb-1:10.20.0.0/16', account: 'msk' as const, accountId: '1', region: 'r', attrs: {routeTableId: 'rtb-1', destination: '10.20.0.0/16', peeringId: 'pcx-1'}}
  assert.deepEqual(await check.run(ctx, registry(new Map([['routes:msk', {resources: [route], missing: []}]]))), {status: 'pass', detail: 'route 10.20.0.0/16 → pcx-1 in rtb-1'})
  assert.deepEqual(await check.run(ctx, registry(new Map([['routes:msk', {resources: [], missing: ['route 10.20.0.0/16 → pcx-1 in rtb-1']}]]))),
    {status: 'fail', detail: 'missing: route 10.20.0.0/16 → pcx-1 in rtb-1', hint: 'run `iotctl peer setup`'})
  const blackhole = {kind: 'broken' as const, code: 'route-blackhole', text: 'route rtb-1 → 10.20.0.0/16 is a blackhole', fix: 'iotctl cleanup, then iotctl up'}
  assert.deepEqual(await check.run(ctx, registry(new Map([['routes:msk', {resources: [route], missing: [], findings: [blackhole]}]]))),
    {status: 'fail', detail: 'route rtb-1 → 10.20.0.0/16 is a blackhole', hint: 'iotctl cleanup, then iotctl up'})
  // A note is for people, never a verdict: the same words in a note do not fail the check.
  assert.equal((await check.run(ctx, registry(new Map([['routes:msk', {resources: [route], missing: [], notes: ['route rtb-1 → 10.20.0.0/16 is a blackhole']}]])))).status, 'pass')
  assert.deepEqual(await check.run(ctx, registry(new Map(), new Map([['routes:msk', 'missing --msk-vpc']]))), {status: 'fail', detail: 'missing --msk-vpc', hint: 'run `iotctl peer setup`'})
})

test('one line per check, the fix on the failing line, and a verdict', () => {
  const text = renderChecks([
    {id: 'peering', title: '', status: 'pass', detail: 'pcx-1 active'},
    {id: 'secrets-match', title: '', status: 'fail', detail: 'they differ', hint: 'run `iotctl secret mirror --force`'},
    {id: 'profiles', title: '', status: 'warn', detail: 'same account', hint: 'fine'},
  ])
  assert.deepEqual(text.split('\n'), [
    '✓ pass  peering        pcx-1 active',
    '✗ FAIL  secrets-match  they differ — fix: run `iotctl secret mirror --force`',
    '! warn  profiles       same account — fix: fine',
    '1 of 3 checks fail: secrets-match',
  ])
  assert.match(renderChecks([{id: 'a', title: '', status: 'pass', detail: 'x'}]), /all 1 checks pass$/)
})
