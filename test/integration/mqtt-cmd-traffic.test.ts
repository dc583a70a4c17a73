// `iotctl mqtt publish | subscribe | load` as a user runs them (the built CLI, a
// separate process) against a real mosquitto: mutual TLS with device certificates
// of the fixture's test CA, and the SigV4 WebSocket path on its ws:// listener.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {chmod, copyFile} from 'node:fs/promises'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {binPath, type CliResult} from '../support/cli.ts'
import {mosquittoSub} from '../support/mosquitto/clients.ts'
import {type DeviceFiles, type MosquittoBroker, startMosquitto} from '../support/mosquitto/index.ts'

const bin = process.env.IOTCTL_BIN ?? binPath
// No AWS profile and no config: the mTLS path must not need either.
const env = {PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent'}

interface Running {
  result: Promise<CliResult>
  child: ReturnType<typeof spawn>
}

function start(args: string[], extraEnv: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [bin, ...args], {cwd: '/tmp', env: {...env, ...extraEnv}, stdio: ['pipe', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  child.stdin.end()
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const result = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => {
    clearTimeout(timer)
    resolve({code, signal, stdout, stderr})
  }))
  return {result, child}
}

const run = (args: string[], extraEnv?: Record<string, string>) => start(args, extraEnv).result

describe('mqtt publish / subscribe / load commands against mosquitto', () => {
  let broker: MosquittoBroker
  let sensor: DeviceFiles
  let watcher: DeviceFiles
  let tls: (device: DeviceFiles) => string[]
  before(async () => {
    broker = await startMosquitto()
    const made = await broker.device('sensor-1')
    watcher = await broker.device('watcher')
    // Laid out as `device create` writes them: <thing>.cert.pem, <thing>.private.key (0600).
    sensor = {...made, cert: join(broker.dir, 'sensor-1.cert.pem'), key: join(broker.dir, 'sensor-1.private.key')}
    await copyFile(made.cert, sensor.cert)
    await copyFile(made.key, sensor.key)
    await chmod(sensor.key, 0o600)
    tls = (device) => ['--endpoint', `${broker.host}:${broker.tlsPort}`, '--cert', device.cert, '--key', device.key, '--ca', broker.ca]
  })
  after(() => broker.stop())

  /** Starts `mqtt subscribe` and waits until mosquitto has its subscription. */
  async function subscriber(filter: string, clientId: string, args: string[]): Promise<Running> {
    const running = start(['mqtt', 'subscribe', '--topic', filter, '--client-id', clientId, ...tls(watcher), ...args])
    const escaped = filter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    await Promise.race([
      broker.waitForLog(new RegExp(`: ${clientId} \\d ${escaped}$`), 20_000),
      running.result.then((r) => { throw new Error(`subscribe ended early (${r.code}): ${r.stderr}`) }),
    ])
    return running
  }

  test('mTLS publish at QoS 1 reaches `mqtt subscribe`; acks printed; templates give distinct payloads', async () => {
    const sub = await subscriber('device/+/data', 'watch-1', ['--count', '5', '--json', '--timeout', '30'])
    const published = await run(['mqtt', 'publish', ...tls(sensor), '--topic', 'device/sensor-1/data',
      '--count', '5', '--message', '{"seq": {{seq}}, "t": {{random:20.0:30.0}}, "id": "{{uuid}}"}'])
    assert.equal(published.code, 0, published.stderr)
    const lines = published.stdout.trim().split('\n')
    assert.equal(lines.length, 6, published.stdout)
    for (const [i, line] of lines.slice(0, 5).entries()) assert.match(line, new RegExp(`^#${i + 1} device/sensor-1/data acknowledged \\(packet \\d+, [\\d.]+ ms\\)$`))
    assert.match(lines[5], /^published 5 messages to device\/sensor-1\/data at QoS 1 via mqtts:\/\/127\.0\.0\.1:\d+ as sensor-1, 5 acknowledged/)

    const watched = await sub.result
    assert.equal(watched.code, 0, watched.stderr)
    const docs = watched.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.equal(docs.length, 6, 'five message lines and the result line')
    const messages = docs.slice(0, 5)
    assert.ok(messages.every((m) => m.topic === 'device/sensor-1/data' && m.qos === 1))
    const payloads = messages.map((m) => JSON.parse(m.payload))
    assert.deepEqual(payloads.map((p) => p.seq), [1, 2, 3, 4, 5])
    assert.equal(new Set(messages.map((m) => m.payload)).size, 5, 'distinct payloads')
    assert.ok(payloads.every((p) => p.t >= 20 && p.t <= 30))
    assert.deepEqual({received: docs[5].received, stoppedBy: docs[5].stoppedBy, filter: docs[5].filter}, {received: 5, stoppedBy: 'count', filter: 'device/+/data'})
  })

  test('--json publish: counts and one ack per message; QoS 0 says there are no acks', async () => {
    const one = await run(['mqtt', 'publish', ...tls(sensor), '--topic', 'device/sensor-1/data', '--message', 'x', '--count', '3', '--json'])
    assert.equal(one.code, 0, one.stderr)
    const doc = JSON.parse(one.stdout)
    assert.equal(doc.clientId, 'sensor-1', 'the client id comes from sensor-1.cert.pem')
    assert.deepEqual([doc.sent, doc.acked, doc.acks.length, doc.qos, doc.payload, doc.endpointSource], [3, 3, 3, 1, 'x', 'flag'])
    assert.ok(doc.latencyMs.p50 >= 0 && doc.latencyMs.p99 >= doc.latencyMs.p50)
    assert.equal(doc.rules, undefined, 'no profile: topic rules are not read')

    const zero = await run(['mqtt', 'publish', ...tls(sensor), '--topic', 'device/sensor-1/data', '--message', 'x', '--qos', '0'])
    assert.equal(zero.code, 0, zero.stderr)
    assert.match(zero.stdout, /^#1 device\/sensor-1\/data sent \(QoS 0: no acknowledgement\)\npublished 1 message to device\/sensor-1\/data at QoS 0/)
  })

  test('subscribe: exit 1 when --count is not reached by --timeout, and without --count when nothing arrived', async () => {
    const partial = await subscriber('quiet/+', 'watch-2', ['--count', '2', '--timeout', '2'])
    await run(['mqtt', 'publish', ...tls(sensor), '--topic', 'quiet/1', '--message', 'only one'])
    const result = await partial.result
    assert.equal(result.code, 1)
    assert.equal(result.stdout, 'quiet/1 only one\n')
    assert.match(result.stderr.trim().split('\n').at(-1)!, /^iotctl: received 1 of 2 messages on quiet\/\+ within 2 s$/)

    const none = await run(['mqtt', 'subscribe', ...tls(watcher), '--topic', 'silent/#', '--timeout', '1'])
    assert.equal(none.code, 1)
    assert.match(none.stderr, /no message arrived on silent\/# within 1 s/)
  })

  test('load: 50 devices over mTLS; the counts match what a subscriber received', async () => {
    const sub = mosquittoSub(broker, {topic: 'load/+/data', timeoutSeconds: 60})
    await sub.ready
    const loaded = await run(['mqtt', 'load', ...tls(sensor), '--devices', '50', '--rate', '200', '--duration', '2', '--ramp-up', '0.5',
      '--topic', 'load/{{index}}/data', '--client-id-prefix', 'sim', '--json'])
    assert.equal(loaded.code, 0, loaded.stderr)
    const doc = JSON.parse(loaded.stdout)
    assert.equal(doc.devices, 50)
    assert.equal(doc.connectedDevices, 50)
    assert.equal(doc.failed, 0)
    assert.ok(doc.sent > 0)
    assert.equal(doc.acked, doc.sent)
    assert.ok(doc.latencyMs.p50 <= doc.latencyMs.p95 && doc.latencyMs.p95 <= doc.latencyMs.p99)
    await sub.waitForCount(doc.acked)
    const received = await sub.stop()
    assert.equal(received.length, doc.acked)
    const devicesSeen = new Set(received.map((m) => m.topic))
    assert.equal(devicesSeen.size, 50, 'every device published on its own topic')
  })

  test('load: plain lines and the summary without --json; exit 1 when messages failed', async () => {
    const ok = await run(['mqtt', 'load', ...tls(sensor), '--devices', '2', '--rate', '20', '--duration', '1', '--qos', '0', '--topic', 'plain/{{index}}'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^devices +2\/2 connected/m)
    assert.match(ok.stdout, /^failed +0 /m)
    assert.match(ok.stdout, /^rate +[\d.]+ msg\/s achieved \(target 20\)$/m)
    assert.doesNotMatch(ok.stdout, /latency/, 'QoS 0 has no acknowledgements to time')

    // Without --ca, Node's roots do not trust the test broker: no device connects (exit 1, one line).
    const refused = await run(['mqtt', 'load', '--endpoint', `${broker.host}:${broker.tlsPort}`, '--cert', watcher.cert, '--key', watcher.key,
      '--devices', '1', '--rate', '5', '--duration', '0.5', '--grace', '0'])
    assert.equal(refused.code, 1)
    assert.match(refused.stderr.trim().split('\n').at(-1)!, /^iotctl: mqtt load: .*none of the 1 devices could connect/)
  })

  test('load: the broker restarted during the run → reconnects, failures counted, exit 1, no hang', async () => {
    const loading = start(['mqtt', 'load', ...tls(sensor), '--devices', '5', '--rate', '100', '--duration', '3', '--ramp-up', '0.2', '--grace', '1',
      '--topic', 'restart/{{index}}', '--json'])
    await broker.waitForLog(/New client connected .* as iotctl-load-5 /, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 500))
    await broker.restart({downMs: 500})
    const loaded = await loading.result
    assert.equal(loaded.code, 1, loaded.stderr)
    const doc = JSON.parse(loaded.stdout)
    assert.ok(doc.failed > 0 && doc.reconnects > 0, JSON.stringify(doc))
    assert.equal(doc.due, doc.sent + doc.failures.offline + doc.failures.notSent)
    assert.equal(doc.sent, doc.acked + doc.failures.connectionLost + doc.failures.unacked)
  })

  test('SigV4 WebSocket (profile credentials from the environment) against the ws:// listener', async () => {
    const sub = mosquittoSub(broker, {topic: 'ws/data', count: 3})
    await sub.ready
    const credentials = {AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', AWS_SESSION_TOKEN: 'session/token+x=', AWS_REGION: 'eu-west-1'}
    const published = await run(['mqtt', 'publish', '--endpoint', `ws://${broker.host}:${broker.wsPort}/mqtt`, '--topic', 'ws/data', '--count', '3', '--message', '{{seq}}', '--json'], credentials)
    assert.equal(published.code, 0, published.stderr)
    const doc = JSON.parse(published.stdout)
    assert.equal(doc.url, `ws://${broker.host}:${broker.wsPort}/mqtt`)
    assert.equal(doc.acked, 3)
    assert.deepEqual((await sub.messages).map((m) => m.payload.toString()), ['1', '2', '3'])
  })
})
