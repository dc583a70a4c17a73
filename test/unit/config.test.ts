import assert from 'node:assert/strict'
import {mkdtempSync, writeFileSync, chmodSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {parseConfig, loadConfig} from '../../src/lib/config/schema.ts'
import {accountOptions} from '../../src/lib/config/accounts.ts'
import {applyOverrides, loadSettings} from '../../src/lib/config/settings.ts'
import {settingName} from '../../src/lib/config/origins.ts'
import {InputError} from '../../src/lib/errors.ts'
import {clusterSpecSettings, destinationSettings, networkSettings, overridesOf, stackSettings} from '../../src/settings-flags.ts'

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
  const merged = applyOverrides(valid, overridesOf({'iot-vpc': 'vpc-11111111', 'dns-resolution': true}, networkSettings))
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
  assert.equal(loadSettings(file, []).settings.stack, 'fromfile')
  assert.equal(loadSettings(file, overridesOf({stack: 'fromflag'}, stackSettings)).settings.stack, 'fromflag')
  assert.equal(loadSettings(file, []).stateDirectory, join(dir, '.iotctl'))
  assert.throws(() => loadSettings(join(dir, 'absent.json'), []), /absent\.json: not found/)
  const cwd = process.cwd()
  try {
    process.chdir(mkdtempSync(join(tmpdir(), 'iotctl-empty-')))
    assert.equal(loadSettings(undefined, []).settings.stack, 'iotctl')
  } finally {
    process.chdir(cwd)
  }
  assert.throws(() => loadSettings(file, overridesOf({stack: 'bad/name'}, stackSettings)), /--stack bad\/name: letters, digits/)
})

test('flag values are checked by the same schema, and the message names the flag from the table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-flags-'))
  const file = join(dir, 'iotctl.json')
  writeFileSync(file, '{}')
  assert.throws(() => loadSettings(file, overridesOf({'iot-vpc': 'vpc_1'}, networkSettings)), /^InputError: --iot-vpc vpc_1: expected a VPC id/)
  assert.throws(() => loadSettings(file, overridesOf({'security-group': 'sg-x'}, clusterSpecSettings)), /^InputError: --security-group sg-x: expected a security group id/)
  assert.throws(() => loadSettings(file, overridesOf({'msk-route-tables': 'rtb-01234567,rtb_2'}, networkSettings)), /^InputError: --msk-route-tables rtb_2: expected a route table id/)
  assert.throws(() => loadSettings(file, overridesOf({'iot-subnets': ' , '}, destinationSettings)), /^InputError: --iot-subnets: /)
  assert.equal(loadSettings(file, overridesOf({'iot-vpc': 'vpc-01234567'}, networkSettings)).settings.iot?.vpcId, 'vpc-01234567')
  // The same value on the command line twice: the message names the flag of the bad one, without reading argv.
  assert.throws(() => loadSettings(file, overridesOf({'msk-vpc': 'vpc-01234567', 'iot-vpc': 'vpc-0123456'}, networkSettings)), /^InputError: --iot-vpc vpc-0123456: /)
})

test('--profile names both accounts, --iot-profile and --msk-profile win over it, --region over the file\'s regions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-accounts-'))
  const file = join(dir, 'iotctl.json')
  writeFileSync(file, JSON.stringify({region: 'eu-west-1', iot: {region: 'eu-west-2', profile: 'a'}, msk: {profile: 'b'}}))
  const both = loadSettings(file, overridesOf({profile: 'one'}, stackSettings)).settings
  assert.deepEqual([both.iot?.profile, both.msk?.profile], ['one', 'one'])
  const split = loadSettings(file, overridesOf({profile: 'one', 'iot-profile': 'iot'}, stackSettings)).settings
  assert.deepEqual([split.iot?.profile, split.msk?.profile], ['iot', 'one'])
  const fromFile = loadSettings(file, []).settings
  assert.deepEqual([fromFile.iot?.region, fromFile.msk?.region, fromFile.region], ['eu-west-2', undefined, 'eu-west-1'])
  const explicit = loadSettings(file, overridesOf({region: 'us-east-2'}, stackSettings)).settings
  assert.deepEqual([explicit.iot?.region, explicit.msk?.region, explicit.region], ['us-east-2', 'us-east-2', 'us-east-2'])
  assert.throws(() => loadSettings(file, overridesOf({'msk-profile': ''}, stackSettings)), /^InputError: --msk-profile: /)
})

test('each account is reached with its own region from the file, else the stack\'s, else the profile\'s (left to the SDK chain)', () => {
  const settings = {stack: 's', region: 'eu-west-1', iot: {profile: 'iot', region: 'eu-central-1'}, msk: {profile: 'msk'}}
  assert.deepEqual(accountOptions(settings, 'iot'), {profile: 'iot', region: 'eu-central-1'})
  assert.deepEqual(accountOptions(settings, 'msk'), {profile: 'msk', region: 'eu-west-1'})
  assert.deepEqual(accountOptions({stack: 's'}, 'iot'), {profile: undefined, region: undefined})
})

test('an error names where a value came from: the flag as typed, else the key in the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-origins-'))
  const previous = process.cwd()
  try {
    writeFileSync(join(dir, 'iotctl.json'), JSON.stringify({rule: {name: 'from_file', sql: "SELECT * FROM 'a/b'"}}))
    process.chdir(dir)
    const {settings} = loadSettings(undefined, [{path: 'rule.kafkaTopic', value: 'typed', flag: 'kafka-topic'}, {path: 'rule.sql', value: "SELECT * FROM 'c/d'", flag: 'sql'}])
    assert.equal(settingName(settings, 'rule.kafkaTopic', '--kafka-topic'), '--kafka-topic')
    assert.equal(settingName(settings, 'rule.sql', '--sql'), '--sql', 'a flag wins over the file')
    assert.equal(settingName(settings, 'rule.name', '--name'), 'rule.name in ./iotctl.json')
    assert.equal(settingName(settings, 'rule.errorTopic', '--error-topic'), '--error-topic (rule.errorTopic)', 'neither: both names')
  } finally {
    process.chdir(previous)
    rmSync(dir, {recursive: true, force: true})
  }
})
