// The load generator against a real mosquitto: counts that match what a subscriber
// received, and a broker restarted in the middle of a run.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {AwsError} from '../../src/lib/errors.ts'
import {type MqttConnection, prepareConnection} from '../../src/lib/mqtt/connection.ts'
import {type LoadProgress, type LoadResult, runLoad} from '../../src/lib/mqtt/load.ts'
import {mosquittoSub, type ReceivedMessage} from '../support/mosquitto/clients.ts'
import {type MosquittoBroker, startMosquitto, unusedPort} from '../support/mosquitto/index.ts'

/** The books must balance whatever happened. */
function assertAccountsBalance(result: LoadResult): void {
  const {offline, notSent, connectionLost, unacked} = result.failures
  assert.equal(result.due, result.sent + offline + notSent, 'every message due was sent or failed')
  if (result.qos === 1) assert.equal(result.sent, result.acked! + connectionLost + unacked, 'every message sent was acknowledged or failed')
  assert.equal(result.failed, offline + notSent + connectionLost + unacked)
}

/** Each device's payloads carry its name and seq: per device, seq must run 1, 2, 3… with no gap or repeat. */
function perDevice(messages: ReceivedMessage[]): Map<string, number[]> {
  const devices = new Map<string, number[]>()
  for (const message of messages) {
    const {device, seq} = JSON.parse(message.payload.toString()) as {device: string; seq: number}
    assert.equal(message.topic, `load/${device.split('-').at(-1)}/data`)
    devices.set(device, [...(devices.get(device) ?? []), seq])
  }
  return devices
}

describe('mqtt load', () => {
  let broker: MosquittoBroker
  let connection: MqttConnection
  before(async () => {
    broker = await startMosquitto()
    // One certificate for every simulated device, as an AWS IoT policy with
    // iot:Connect on client/sim-* allows.
    const device = await broker.device('load-fleet')
    connection = await prepareConnection({kind: 'mtls', endpoint: broker.host, port: broker.tlsPort, clientId: 'sim', cert: device.cert, key: device.key, ca: broker.ca})
  })
  after(() => broker.stop())

  test('50 devices at QoS 1: the counts match what a subscriber received', async () => {
    const sub = mosquittoSub(broker, {topic: 'load/+/data', timeoutSeconds: 60})
    await sub.ready
    const progress: LoadProgress[] = []
    const result = await runLoad({
      connection,
      devices: 50,
      rate: 250,
      durationSeconds: 3,
      rampUpSeconds: 0.5,
      topic: 'load/{{index}}/data',
      payload: '{"device":"{{device}}","seq":{{seq}},"temperature":{{random:20.0:30.0}}}',
      onProgress: (p) => progress.push(p),
    })
    assertAccountsBalance(result)
    assert.equal(result.connectedDevices, 50)
    assert.equal(result.failed, 0)
    assert.ok(result.sent > 0)
    assert.equal(result.acked, result.sent)
    assert.ok(result.latencyMs!.p50 <= result.latencyMs!.p95 && result.latencyMs!.p95 <= result.latencyMs!.p99 && result.latencyMs!.p99 <= result.latencyMs!.max)
    assert.ok(progress.length >= 2)
    await sub.waitForCount(result.sent)
    const received = await sub.stop()
    assert.equal(received.length, result.sent)
    const devices = perDevice(received)
    assert.equal(devices.size, 50, 'every device published')
    for (const [device, seqs] of devices) {
      assert.ok(device.startsWith('sim-'))
      assert.deepEqual([...seqs].sort((a, b) => a - b), Array.from({length: seqs.length}, (_, i) => i + 1))
    }
  })

  test('QoS 0: sent equals received', async () => {
    const sub = mosquittoSub(broker, {topic: 'load/+/data', timeoutSeconds: 60, qos: 0})
    await sub.ready
    const result = await runLoad({connection, clientIdPrefix: 'q0', devices: 5, rate: 500, durationSeconds: 2, qos: 0, topic: 'load/{{index}}/data', payload: '{"device":"{{device}}","seq":{{seq}}}'})
    assertAccountsBalance(result)
    assert.equal(result.acked, undefined)
    assert.equal(result.latencyMs, undefined)
    assert.equal(result.failed, 0)
    await sub.waitForCount(result.sent)
    assert.equal((await sub.stop()).length, result.sent)
  })

  test('the broker restarted during the run: devices reconnect, failures are counted, the run ends', async () => {
    let restarted: Promise<void> | undefined
    const result = await runLoad({
      connection,
      clientIdPrefix: 'restart',
      devices: 10,
      rate: 100,
      durationSeconds: 6,
      rampUpSeconds: 0.2,
      graceSeconds: 2,
      topic: 'load/{{index}}/data',
      payload: '{"device":"{{device}}","seq":{{seq}}}',
      onProgress: (p) => {
        if (!restarted && p.connectedDevices === 10 && p.sent > 0) restarted = broker.restart({downMs: 1500})
      },
    })
    await restarted
    assert.ok(restarted, 'the broker was restarted during the run')
    assertAccountsBalance(result)
    assert.equal(result.connectedDevices, 10)
    assert.ok(result.reconnects >= 10, `every device reconnected (${result.reconnects} reconnections)`)
    assert.ok(result.failures.offline > 0, 'messages due while the broker was down are counted')
    assert.ok(result.connectionErrors > 0, 'refused reconnection attempts are counted')
    assert.ok(result.acked! > 0)
  })

  test('no device can connect: AwsError after the duration, not a hang', async () => {
    const port = await unusedPort()
    const nowhere = await prepareConnection({kind: 'tcp', endpoint: '127.0.0.1', port, clientId: 'nowhere'})
    await assert.rejects(runLoad({connection: nowhere, devices: 3, rate: 30, durationSeconds: 1, graceSeconds: 0.5, topic: 't/{{index}}'}), (error) => {
      assert.ok(error instanceof AwsError, String(error))
      assert.equal(error.code, 'ECONNREFUSED')
      assert.match(error.message, /none of the 3 devices could connect to mqtt:\/\/127.0.0.1/)
      return true
    })
  })
})
