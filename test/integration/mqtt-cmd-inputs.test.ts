// Inputs of `mqtt publish | subscribe | load`. Bad input: exit 2, one line on
// stderr, nothing sent — no connection at the broker and not one AWS request (not
// even DescribeEndpoint); a key file others can read is a warning, not an error.
// And the topic checked against the account's topic rules when a profile can read them.
import assert from 'node:assert/strict'
import {chmod, copyFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {CreateTopicRuleCommand, IoTClient} from '@aws-sdk/client-iot'
import type {CliResult} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {type DeviceFiles, type MosquittoBroker, startMosquitto} from '../support/mosquitto/index.ts'
import {runIotctl} from '../support/tunnel-service.ts'

let aws: LocalAws
let broker: MosquittoBroker
let device: DeviceFiles
let other: DeviceFiles

before(async () => {
  ;[aws, broker] = await Promise.all([startLocalAws(), startMosquitto({websockets: false})])
  ;[device, other] = await Promise.all([broker.device('sensor-1'), broker.device('sensor-2')])
})
after(async () => {
  await Promise.all([aws?.stop(), broker?.stop()])
})

const connections = () => broker.logs().filter((line) => line.includes('New connection from')).length
// With a profile (so that DescribeEndpoint would be the next call) or with an explicit endpoint and a device certificate.
const viaProfile = ['--profile', 'iot']
const viaTls = () => ['--endpoint', `${broker.host}:${broker.tlsPort}`, '--cert', device.cert, '--key', device.key, '--ca', broker.ca]

async function assertNothingSent(args: string[], expected: RegExp): Promise<CliResult> {
  aws.resetLog()
  const before = connections()
  const result = await runIotctl(args, {cwd: broker.dir, env: aws.childEnv()})
  assert.equal(result.code, 2, `exit 2 expected for ${args.join(' ')}; stderr: ${result.stderr}`)
  const lines = result.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one stderr line, got:\n${result.stderr}`)
  assert.match(lines[0], expected)
  assert.equal(result.stdout, '')
  assert.deepEqual(aws.log().map((r) => r.operation), [], 'no AWS request')
  assert.equal(connections(), before, 'no connection to the broker')
  return result
}

describe('mqtt commands: bad input is exit 2, one line, nothing sent', () => {
  const publish = (...args: string[]) => ['mqtt', 'publish', '--message', 'x', ...args]

  test('publish: wildcard topic, empty topic, QoS 2, --count 0, a payload file that does not exist', async () => {
    for (const connection of [viaProfile, viaTls()]) {
      await assertNothingSent(publish('--topic', 'device/+/data', ...connection), /^iotctl: topic "device\/\+\/data" contains a wildcard \('\+' or '#'\)/)
      await assertNothingSent(publish('--topic', 'device/#', ...connection), /wildcard/)
      await assertNothingSent(publish('--topic', '', ...connection), /^iotctl: the topic is empty/)
      await assertNothingSent(publish('--topic', 'device/1/data', '--qos', '2', ...connection), /^iotctl: QoS 2 is not supported by AWS IoT Core/)
      await assertNothingSent(publish('--topic', 'device/1/data', '--count', '0', ...connection), /^iotctl: --count must be a whole number greater than 0, not 0$/)
      await assertNothingSent(['mqtt', 'publish', '--topic', 'device/1/data', '--file', join(broker.dir, 'missing.json'), ...connection], /^iotctl: payload file .*missing\.json does not exist$/)
      await assertNothingSent(['mqtt', 'publish', '--topic', 'device/1/data', '--message', '{{nope}}', ...connection], /nope/)
    }
  })

  test('certificate and key that do not match; --cert without --key', async () => {
    const mismatched = ['--endpoint', `${broker.host}:${broker.tlsPort}`, '--cert', device.cert, '--key', other.key, '--ca', broker.ca]
    await assertNothingSent(publish('--topic', 'device/1/data', ...mismatched), /^iotctl: certificate .* and private key .* do not belong together/)
    // Without --endpoint the certificate is checked before DescribeEndpoint.
    await assertNothingSent(publish('--topic', 'device/1/data', ...viaProfile, '--cert', device.cert, '--key', other.key), /do not belong together/)
    await assertNothingSent(['mqtt', 'subscribe', '--topic', 'a/#', ...mismatched], /do not belong together/)
    await assertNothingSent(publish('--topic', 'device/1/data', '--cert', device.cert), /--key/)
  })

  test('subscribe and load: --count, --rate, --devices, --duration ≤ 0, QoS 2, a bad filter', async () => {
    await assertNothingSent(['mqtt', 'subscribe', '--topic', 'a/+', '--count', '0', ...viaProfile], /^iotctl: --count must be a whole number greater than 0/)
    await assertNothingSent(['mqtt', 'subscribe', '--topic', 'a/#/b', ...viaProfile], /'#' must be the whole last level/)
    await assertNothingSent(['mqtt', 'subscribe', '--topic', 'a/+', '--qos', '2', ...viaTls()], /QoS 2 is not supported/)
    const load = (...args: string[]) => ['mqtt', 'load', ...viaProfile, ...args]
    await assertNothingSent(load('--devices', '0', '--rate', '10', '--duration', '1'), /^iotctl: --devices must be a whole number greater than 0, not 0$/)
    await assertNothingSent(load('--devices', '-3', '--rate', '10', '--duration', '1'), /--devices/)
    await assertNothingSent(load('--devices', '2', '--rate', '0', '--duration', '1'), /^iotctl: --rate must be a number greater than 0, not 0$/)
    await assertNothingSent(load('--devices', '2', '--rate', 'fast', '--duration', '1'), /^iotctl: --rate must be a number greater than 0, not NaN$/)
    await assertNothingSent(load('--devices', '2', '--rate', '10', '--duration', '0'), /--duration must be a number greater than 0/)
    await assertNothingSent(load('--devices', '2', '--rate', '10', '--duration', '1', '--qos', '2'), /QoS 2 is not supported/)
    await assertNothingSent(load('--devices', '2', '--rate', '10', '--duration', '1', '--topic', 'load/+/{{index}}'), /wildcard/)
  })

  test('a key file others can read: a warning on stderr, and the message is sent', async () => {
    const key = join(broker.dir, 'readable.key')
    await copyFile(device.key, key)
    await chmod(key, 0o644)
    await writeFile(join(broker.dir, 'payload.json'), '{"n": {{seq}}}')
    const result = await runIotctl(['mqtt', 'publish', '--endpoint', `${broker.host}:${broker.tlsPort}`, '--cert', device.cert, '--key', key, '--ca', broker.ca,
      '--topic', 'device/1/data', '--file', join(broker.dir, 'payload.json')], {cwd: broker.dir, env: aws.childEnv()})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /^warning: private key .*readable\.key is readable by group or others \(mode 0644\); run: chmod 600 /m)
    assert.match(result.stdout, /^published 1 message to device\/1\/data at QoS 1 .* 1 acknowledged/m)
  })
})

describe('mqtt publish: which topic rule the topic reaches', () => {
  before(async () => {
    const iot = new IoTClient(aws.clientConfig('iot'))
    await iot.send(new CreateTopicRuleCommand({ruleName: 'to_kafka', topicRulePayload: {sql: "SELECT topic(2) as device_id, temperature FROM 'device/+/data'", actions: []}}))
  })
  const send = (topic: string, ...args: string[]) =>
    runIotctl(['mqtt', 'publish', ...viaTls(), '--topic', topic, '--message', '{}', ...args], {cwd: broker.dir, env: aws.childEnv()})

  test('a matching topic names the rule and its filter; a typo is warned about; both are in --json', async () => {
    const matching = await send('device/7/data', '--profile', 'iot')
    assert.equal(matching.code, 0, matching.stderr)
    assert.match(matching.stderr, /^topic device\/7\/data matches rule to_kafka \(FROM 'device\/\+\/data'\)$/m)

    const typo = await send('devices/7/data', '--profile', 'iot', '--json')
    assert.equal(typo.code, 0, typo.stderr)
    assert.match(typo.stderr, /^warning: topic devices\/7\/data matches none of the account's topic rules \(device\/\+\/data\)/m)
    assert.deepEqual(JSON.parse(typo.stdout).rules, {rules: [{name: 'to_kafka', filter: 'device/+/data', matches: false}], matching: []})
  })

  test('no profile (mTLS only): no AWS request at all; a profile that cannot read rules: skipped quietly', async () => {
    aws.resetLog()
    const quiet = await send('device/7/data')
    assert.equal(quiet.code, 0, quiet.stderr)
    assert.equal(quiet.stderr, 'payload: {}\n')
    assert.deepEqual(aws.log(), [])

    aws.injectFault({service: 'iot', operation: 'ListTopicRules', code: 'AccessDeniedException', status: 403, times: 5})
    const denied = await send('device/7/data', '--profile', 'iot')
    aws.clearFaults()
    assert.equal(denied.code, 0, denied.stderr)
    assert.equal(denied.stderr, 'payload: {}\n')
  })
})
