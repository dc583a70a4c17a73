// Subscribing with a device certificate; messages sent by mosquitto_pub.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {CheckFailed} from '../../src/lib/errors.ts'
import {type MqttConnection, prepareConnection} from '../../src/lib/mqtt/connection.ts'
import {type ReceivedMessage, subscribe} from '../../src/lib/mqtt/subscribe.ts'
import {mosquittoPub} from '../support/mosquitto/clients.ts'
import {type MosquittoBroker, startMosquitto} from '../support/mosquitto/index.ts'

describe('mqtt subscribe with a device certificate', () => {
  let broker: MosquittoBroker
  let clients = 0
  /** A connection with a client id of its own, and a way to know when its subscription is in place. */
  async function watcher(filter: string): Promise<{connection: MqttConnection; subscribed: Promise<string>}> {
    const device = await broker.device('watcher')
    const clientId = `watcher-${++clients}`
    const connection = await prepareConnection({kind: 'mtls', endpoint: broker.host, port: broker.tlsPort, clientId, cert: device.cert, key: device.key, ca: broker.ca})
    const escaped = filter.replace(/[+$]/g, '\\$&')
    return {connection, subscribed: broker.waitForLog(new RegExp(`: ${clientId} 1 ${escaped}$`))}
  }

  before(async () => {
    broker = await startMosquitto()
  })
  after(() => broker.stop())

  test('resolves after count messages, each handed over with its topic', async () => {
    const {connection, subscribed} = await watcher('device/+/data')
    const messages: ReceivedMessage[] = []
    const done = subscribe({connection, filter: 'device/+/data', count: 3, timeoutSeconds: 20, onMessage: (m) => messages.push(m)})
    await subscribed
    for (const n of [1, 2, 3, 4]) await mosquittoPub(broker, {topic: `device/${n}/data`, message: `{"n":${n}}`})
    const result = await done
    assert.equal(result.received, 3)
    assert.equal(result.stoppedBy, 'count')
    assert.deepEqual(messages.map((m) => [m.topic, m.payload.toString()]), [1, 2, 3].map((n) => [`device/${n}/data`, `{"n":${n}}`]))
    assert.equal(messages[0].qos, 1)
    assert.equal(messages[0].retain, false)
  })

  test('fewer than count by the timeout: CheckFailed (exit 1)', async () => {
    const {connection, subscribed} = await watcher('slow/#')
    const done = subscribe({connection, filter: 'slow/#', count: 5, timeoutSeconds: 1, onMessage: () => {}})
    await subscribed
    await mosquittoPub(broker, {topic: 'slow/one', message: 'only one'})
    await assert.rejects(done, (error) => {
      assert.ok(error instanceof CheckFailed)
      assert.equal(error.exitCode, 1)
      assert.match(error.message, /received 1 of 5 messages on slow\/# within 1 s/)
      return true
    })
  })

  test('without a count, the timeout ends the watch and resolves', async () => {
    const {connection, subscribed} = await watcher('watch/+')
    const done = subscribe({connection, filter: 'watch/+', timeoutSeconds: 1, onMessage: () => {}})
    await subscribed
    await mosquittoPub(broker, {topic: 'watch/a', message: 'a'})
    await mosquittoPub(broker, {topic: 'not-watched/a', message: 'b'})
    const result = await done
    assert.equal(result.stoppedBy, 'timeout')
    assert.equal(result.received, 1)
  })

  test('a signal ends the watch with what arrived', async () => {
    const {connection, subscribed} = await watcher('stop/me')
    const controller = new AbortController()
    const done = subscribe({connection, filter: 'stop/me', onMessage: () => controller.abort(), signal: controller.signal})
    await subscribed
    await mosquittoPub(broker, {topic: 'stop/me', message: 'bye'})
    const result = await done
    assert.equal(result.stoppedBy, 'signal')
    assert.equal(result.received, 1)
  })
})
