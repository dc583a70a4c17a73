// Bad input is an InputError (exit 2), found before any connection is attempted.
import assert from 'node:assert/strict'
import {chmod, copyFile, mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {type MqttConnection, prepareConnection} from '../../src/lib/mqtt/connection.ts'
import {runLoad} from '../../src/lib/mqtt/load.ts'
import {publish} from '../../src/lib/mqtt/publish.ts'
import {subscribe} from '../../src/lib/mqtt/subscribe.ts'
import {createTestPki, type DeviceFiles, type TestPki} from '../support/mosquitto/pki.ts'

/** A connection that fails the test if anything tries to connect through it. */
const neverConnect: MqttConnection = {
  kind: 'tcp',
  url: 'mqtt://127.0.0.1:1',
  clientId: 'validation-test',
  warnings: [],
  clientOptions: async () => assert.fail('tried to connect before validating the input'),
}

function inputError(message: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`)
    assert.match(error.message, message)
    return true
  }
}

describe('publish input', () => {
  const base = {connection: neverConnect, topic: 'device/1/data', payload: '{}'}
  const cases: [string, object, RegExp][] = [
    ['an empty topic', {topic: ''}, /topic is empty/],
    ['a topic with +', {topic: 'device/+/data'}, /wildcard/],
    ['a topic with #', {topic: 'device/#'}, /wildcard/],
    ['QoS 2, which AWS IoT does not support', {qos: 2}, /QoS 2 is not supported by AWS IoT/],
    ['QoS 3', {qos: 3}, /use 0 or 1/],
    ['QoS -1', {qos: -1}, /use 0 or 1/],
    ['a count of 0', {count: 0}, /count must be a whole number greater than 0/],
    ['a negative count', {count: -5}, /greater than 0/],
    ['a fractional count', {count: 1.5}, /whole number/],
    ['a negative interval', {intervalMs: -1}, /interval/],
    ['a payload file that does not exist', {payload: undefined, payloadFile: '/nonexistent/payload.json'}, /payload file \/nonexistent\/payload.json does not exist/],
    ['a payload and a payload file', {payloadFile: '/etc/hostname'}, /not both/],
    ['a bad template', {payload: '{"t": {{temp}}}'}, /unknown placeholder \{\{temp\}\}/],
    ['a payload over 128 KB', {payload: 'x'.repeat(128 * 1024 + 1)}, /AWS IoT accepts at most 131072 bytes/],
    ['an in-flight window of 0', {maxInflight: 0}, /in-flight window/],
  ]
  for (const [what, change, message] of cases) {
    test(`refuses ${what}`, async () => {
      await assert.rejects(publish({...base, ...change}), inputError(message))
    })
  }
})

describe('subscribe input', () => {
  const base = {connection: neverConnect, filter: 'device/+/data', onMessage: () => assert.fail('no message expected')}
  const cases: [string, object, RegExp][] = [
    ['an empty filter', {filter: ''}, /empty/],
    ['# before the last level', {filter: 'device/#/data'}, /'#' must be the whole last level/],
    ['+ inside a level', {filter: 'device/a+/data'}, /'\+' must be a whole level/],
    ['QoS 2', {qos: 2}, /QoS 2 is not supported by AWS IoT/],
    ['a count of 0', {count: 0}, /greater than 0/],
    ['a timeout of 0', {timeoutSeconds: 0}, /timeout must be a number greater than 0/],
  ]
  for (const [what, change, message] of cases) {
    test(`refuses ${what}`, async () => {
      await assert.rejects(subscribe({...base, ...change}), inputError(message))
    })
  }
})

describe('load input', () => {
  const base = {connection: neverConnect, devices: 10, rate: 100, durationSeconds: 10, topic: 'device/{{index}}/data', payload: '{"seq":{{seq}}}'}
  const cases: [string, object, RegExp][] = [
    ['0 devices', {devices: 0}, /number of devices must be a whole number greater than 0/],
    ['negative devices', {devices: -3}, /greater than 0/],
    ['a fractional number of devices', {devices: 2.5}, /whole number/],
    ['a rate of 0', {rate: 0}, /rate must be a number greater than 0/],
    ['a negative rate', {rate: -10}, /rate/],
    ['a duration of 0', {durationSeconds: 0}, /duration must be a number greater than 0/],
    ['QoS 2', {qos: 2}, /QoS 2 is not supported by AWS IoT/],
    ['a ramp-up as long as the duration', {rampUpSeconds: 10}, /ramp-up .* must be shorter than the duration/],
    ['a negative grace period', {graceSeconds: -1}, /grace period/],
    ['a topic template giving a wildcard', {topic: 'device/+/{{index}}'}, /wildcard/],
    ['a bad topic template', {topic: 'device/{{nope}}/data'}, /unknown placeholder/],
    ['a payload file that does not exist', {payload: undefined, payloadFile: '/nonexistent/load.json'}, /does not exist/],
  ]
  for (const [what, change, message] of cases) {
    test(`refuses ${what}`, async () => {
      await assert.rejects(runLoad({...base, ...change}), inputError(message))
    })
  }

  test('a per-device connection factory is asked for every device before any connects', async () => {
    const asked: string[] = []
    await assert.rejects(
      runLoad({
        ...base,
        devices: 3,
        clientIdPrefix: 'sim',
        connection: ({index, clientId}) => {
          asked.push(clientId)
          if (index === 3) throw new InputError('no certificate for sim-3')
          return neverConnect
        },
      }),
      inputError(/no certificate for sim-3/),
    )
    assert.deepEqual(asked, ['sim-1', 'sim-2', 'sim-3'])
  })
})

describe('connection options', () => {
  let dir: string
  let pki: TestPki
  let alice: DeviceFiles
  let bob: DeviceFiles
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'iotctl-mqtt-validation-'))
    pki = await createTestPki(dir)
    ;[alice, bob] = await Promise.all([pki.device('alice'), pki.device('bob')])
  })
  after(() => rm(dir, {recursive: true, force: true}))

  const mtls = (change: object = {}) => ({kind: 'mtls' as const, endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com', clientId: 'alice', cert: alice.cert, key: alice.key, ...change})

  test('a matching certificate and key with a 0600 key: no warning', async () => {
    const connection = await prepareConnection(mtls())
    assert.deepEqual(connection.warnings, [])
    assert.equal(connection.url, 'mqtts://abc-ats.iot.eu-west-1.amazonaws.com:8883')
    const options = await connection.clientOptions()
    assert.equal(options.ca, undefined, "Node's own roots (with Amazon Root CA 1) by default")
    assert.equal(options.ALPNProtocols, undefined)
  })

  test('port 443 offers the ALPN protocol AWS IoT needs for MQTT there', async () => {
    const options = await (await prepareConnection(mtls({port: 443}))).clientOptions()
    assert.deepEqual(options.ALPNProtocols, ['x-amzn-mqtt-ca'])
  })

  test('a certificate and a key that do not belong together', async () => {
    await assert.rejects(prepareConnection(mtls({key: bob.key})), inputError(/do not belong together/))
  })

  test('a key file readable by others gives a warning, not an error', async () => {
    const key = join(dir, 'alice-readable.key')
    await copyFile(alice.key, key)
    await chmod(key, 0o644)
    const connection = await prepareConnection(mtls({key}))
    assert.equal(connection.warnings.length, 1)
    assert.match(connection.warnings[0], /readable by group or others \(mode 0644\); run: chmod 600/)
  })

  const bad: [string, () => object, RegExp][] = [
    ['a certificate file that does not exist', () => mtls({cert: join(dir, 'missing.crt')}), /certificate file .*missing.crt does not exist/],
    ['a key file that does not exist', () => mtls({key: join(dir, 'missing.key')}), /private key file .*missing.key does not exist/],
    ['a CA file that does not exist', () => mtls({ca: join(dir, 'missing-ca.crt')}), /CA bundle file .* does not exist/],
    ['a certificate that is not one', () => mtls({cert: alice.key}), /not a PEM X.509 certificate/],
    ['a key that is not one', () => mtls({key: alice.cert}), /not a PEM private key/],
    ['a CA bundle that is not one', () => mtls({ca: join(dir, 'garbage.pem')}), /holds no PEM certificate/],
    ['an endpoint with a scheme', () => mtls({endpoint: 'mqtts://abc-ats.iot.eu-west-1.amazonaws.com'}), /host name only/],
    ['an empty endpoint', () => mtls({endpoint: ''}), /endpoint is empty/],
    ['port 0', () => mtls({port: 0}), /not a TCP port/],
    ['port 70000', () => mtls({port: 70_000}), /not a TCP port/],
    ['an empty client id', () => mtls({clientId: ''}), /client id is empty/],
    ['a client id over 128 bytes', () => mtls({clientId: 'c'.repeat(129)}), /at most 128/],
    ['a WebSocket connection without a region', () => ({kind: 'websocket', endpoint: 'x', clientId: 'c', region: '', credentials: async () => ({})}), /not an AWS region/],
    ['a WebSocket connection without credentials', () => ({kind: 'websocket', endpoint: 'x', clientId: 'c', region: 'eu-west-1'}), /needs AWS credentials/],
    ['an unknown kind', () => ({kind: 'carrier-pigeon', endpoint: 'x', clientId: 'c'}), /unknown connection kind/],
  ]
  for (const [what, options, message] of bad) {
    test(`refuses ${what}`, async () => {
      await writeFile(join(dir, 'garbage.pem'), 'not a certificate\n')
      await assert.rejects(prepareConnection(options() as never), inputError(message))
    })
  }
})
