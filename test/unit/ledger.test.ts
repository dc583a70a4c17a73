import assert from 'node:assert/strict'
import {mkdtempSync, readdirSync, statSync, readFileSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {Ledger} from '../../src/lib/plan/ledger.ts'
import type {ResourceRecord} from '../../src/lib/plan/types.ts'

const record = (id: string, step = 'routes:iot'): ResourceRecord => ({step, kind: 'ec2:route', id, account: 'iot', accountId: '222222222222', region: 'us-east-1', profile: 'iot'})

test('the ledger is written after every change, mode 0600, with no temp file left', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'iotctl-ledger-')), '.iotctl')
  const ledger = Ledger.open(dir, 'demo')
  ledger.put(record('rtb-1:10.10.0.0/16'))
  ledger.put(record('rtb-2:10.10.0.0/16'))
  ledger.put(record('rtb-1:10.10.0.0/16'))
  const file = join(dir, 'demo.json')
  assert.equal(statSync(file).mode & 0o777, 0o600)
  assert.deepEqual(readdirSync(dir), ['demo.json'])
  const reopened = Ledger.open(dir, 'demo')
  assert.deepEqual(reopened.resources.map((r) => r.id), ['rtb-2:10.10.0.0/16', 'rtb-1:10.10.0.0/16'])
  reopened.remove(record('rtb-2:10.10.0.0/16'))
  reopened.replaceStep('peering', [record('pcx-1', 'peering')])
  assert.deepEqual(Ledger.open(dir, 'demo').resources.map((r) => r.id), ['rtb-1:10.10.0.0/16', 'pcx-1'])
  assert.equal(JSON.parse(readFileSync(file, 'utf8')).stack, 'demo')
})

test('a dry-run ledger is never written', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'iotctl-ledger-')), '.iotctl')
  const ledger = Ledger.open(dir, 'demo', {readOnly: true})
  ledger.put(record('rtb-1:10.10.0.0/16'))
  assert.throws(() => statSync(join(dir, 'demo.json')), /ENOENT/)
})

test('a corrupt ledger is an input error that says how to recover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-ledger-'))
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'demo.json'), '{not json')
  assert.throws(() => Ledger.open(dir, 'demo'), /cannot be read.*rebuild it from tags/)
})

test('a ledger of another stack, or with records that are not records, is refused naming the file (and both stacks)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-ledger-'))
  const file = join(dir, 'demo.json')
  writeFileSync(file, JSON.stringify({version: 1, stack: 'other', updatedAt: '', resources: [record('rtb-1:10.10.0.0/16')]}))
  assert.throws(() => Ledger.open(dir, 'demo'), (error: Error & {exitCode?: number}) => {
    assert.equal(error.exitCode, 2)
    assert.ok(error.message.includes(file), error.message)
    assert.match(error.message, /belongs to stack 'other', not to stack 'demo'/)
    return true
  })
  writeFileSync(file, JSON.stringify({version: 1, stack: 'demo', resources: [{...record('x'), account: 'elsewhere'}]}))
  assert.throws(() => Ledger.open(dir, 'demo'), /demo\.json cannot be read \(not an iotctl ledger: .* at resources\.0\.account\)/)
  writeFileSync(file, JSON.stringify({version: 1, stack: 'demo', resources: [{...record('x'), attrs: {arn: 7}}]}))
  assert.throws(() => Ledger.open(dir, 'demo'), /at resources\.0\.attrs\.arn/)
})
