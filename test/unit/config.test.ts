import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync, chmodSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {parseConfig, loadConfig} from '../../src/lib/config/schema.ts'
import {applyOverrides, loadSettings} from '../../src/lib/config/settings.ts'
import {InputError} from '../../src/lib/errors.ts'

const valid = {
  stack: 'demo',
  iot: {profile: 'iot', vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-01234567']},
  msk: {profile: 'msk', vpcId: 'vpc-0abcdef0123456789', securityGroupId: 'sg-01234567', port: 9096},
}

test('a valid iotctl.json parses', () => {
  assert.deepEqual(parseConfig(JSON.stringify(valid), 'iotctl.json'), valid)
})

test('bad config documents are InputErrors naming the key', () => {
  const cases: [unknown, RegExp][] = [
    [{...valid, stak: 'x'}, /unknown key 'stak'/],
    [{...valid, iot: {...valid.iot, vpcid: 'vpc-01234567'}}, /unknown key 'iot\.vpcid'/],
    [{...valid, msk: {...valid.msk, port: '9096'}}, /msk\.port: /],
    [{...valid, msk: {...valid.msk, port: 70000}}, /msk\.port: /],
    [{...valid, iot: {...valid.iot, vpcId: 'vpc-xyz'}}, /iot\.vpcId: expected a VPC id/],
    [{...valid, stack: 'has space'}, /stack: letters, digits/],
    [[1, 2], /top level/],
  ]
  for (const [document, message] of cases) {
    assert.throws(() => parseConfig(JSON.stringify(document), 'iotctl.json'), (e: unknown) => e instanceof InputError && message.test(e.message), JSON.stringify(document))
  }
  assert.throws(() => parseConfig('{"stack": ', 'cfg.json'), /cfg\.json: not valid JSON/)
})

test('a missing default config is empty; a missing or unreadable named one is an error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-config-'))
  assert.deepEqual(loadConfig(join(dir, 'iotctl.json'), false), {})
  assert.throws(() => loadConfig(join(dir, 'nope.json'), true), /nope\.json: not found/)
  if (process.getuid?.() !== 0) {
    const file = join(dir, 'locked.json')
    writeFileSync(file, '{}')
    chmodSync(file, 0o000)
    assert.throws(() => loadConfig(file, true), /cannot be read/)
  }
})

test('flags override the config file, undefined flags leave it alone', () => {
  const merged = applyOverrides(valid, {'iot.vpcId': 'vpc-11111111', 'msk.port': undefined, 'peering.dnsResolution': true})
  assert.equal(merged.iot?.vpcId, 'vpc-11111111')
  assert.equal(merged.iot?.profile, 'iot')
  assert.equal(merged.msk?.port, 9096)
  assert.equal(merged.peering?.dnsResolution, true)
  assert.equal(valid.iot.vpcId, 'vpc-0123456789abcdef0', 'the parsed config is not mutated')
})

test('settings: stack from flag, then config, then "iotctl"; ledgers live beside the config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-settings-'))
  const file = join(dir, 'iotctl.json')
  writeFileSync(file, JSON.stringify({stack: 'fromfile'}))
  assert.equal(loadSettings(file, {}).settings.stack, 'fromfile')
  assert.equal(loadSettings(file, {stack: 'fromflag'}).settings.stack, 'fromflag')
  assert.equal(loadSettings(file, {}).stateDirectory, join(dir, '.iotctl'))
  assert.throws(() => loadSettings(join(dir, 'absent.json'), {}), /absent\.json: not found/)
  const cwd = process.cwd()
  try {
    process.chdir(mkdtempSync(join(tmpdir(), 'iotctl-empty-')))
    assert.equal(loadSettings(undefined, {}).settings.stack, 'iotctl')
  } finally {
    process.chdir(cwd)
  }
  assert.throws(() => loadSettings(file, {stack: 'bad/name'}, ['--stack', 'bad/name']), /--stack bad\/name: letters, digits/)
})

test('flag values are checked by the same schema, and the message names the flag the user typed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-flags-'))
  const file = join(dir, 'iotctl.json')
  writeFileSync(file, '{}')
  assert.throws(() => loadSettings(file, {'iot.vpcId': 'vpc_1'}, ['peer', 'setup', '--iot-vpc', 'vpc_1']), /^InputError: --iot-vpc vpc_1: expected a VPC id/)
  assert.throws(() => loadSettings(file, {'msk.securityGroupId': 'sg-x'}, ['msk', 'create', '--security-group=sg-x']), /--security-group sg-x: expected a security group id/)
  assert.throws(() => loadSettings(file, {'msk.routeTableIds': ['rtb-01234567', 'rtb_2']}, ['--msk-route-tables', 'rtb-01234567,rtb_2']), /--msk-route-tables rtb_2: expected a route table id/)
  assert.equal(loadSettings(file, {'iot.vpcId': 'vpc-01234567'}, ['--iot-vpc', 'vpc-01234567']).settings.iot?.vpcId, 'vpc-01234567')
})
