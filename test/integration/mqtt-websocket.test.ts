// MQTT over WebSocket with a SigV4-presigned URL, against mosquitto's WebSocket
// listeners (mosquitto ignores the signature; the URL's contents are pinned by
// test/unit/mqtt-sigv4.test.ts).
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {prepareConnection, type WebSocketConnectionOptions} from '../../src/lib/mqtt/connection.ts'
import {runLoad} from '../../src/lib/mqtt/load.ts'
import {publish} from '../../src/lib/mqtt/publish.ts'
import {mosquittoSub} from '../support/mosquitto/clients.ts'
import {type MosquittoBroker, startMosquitto} from '../support/mosquitto/index.ts'

describe('mqtt over a SigV4-signed WebSocket', () => {
  let broker: MosquittoBroker
  let signings = 0
  const credentials = async () => {
    signings++
    return {accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token/with+special=chars'}
  }
  let ws: WebSocketConnectionOptions
  before(async () => {
    broker = await startMosquitto()
    ws = {kind: 'websocket', endpoint: broker.host, region: 'eu-west-1', credentials, clientId: 'browser-1', scheme: 'ws', port: broker.wsPort}
  })
  after(() => broker.stop())

  test('ws:// publishes, acknowledged, to a subscriber', async () => {
    const sub = mosquittoSub(broker, {topic: 'ws/data', count: 20})
    await sub.ready
    const before = signings
    const connection = await prepareConnection(ws)
    assert.equal(connection.url, `ws://${broker.host}:${broker.wsPort}/mqtt`)
    const result = await publish({connection, topic: 'ws/data', payload: '{"seq":{{seq}}}', qos: 1, count: 20})
    assert.equal(result.acked, 20)
    assert.ok(signings > before, 'the URL was signed with the credentials')
    assert.deepEqual((await sub.messages).map((m) => m.payload.toString()), Array.from({length: 20}, (_, i) => `{"seq":${i + 1}}`))
  })

  test('wss:// (TLS, trusting the test CA) publishes at QoS 0 too', async () => {
    const sub = mosquittoSub(broker, {topic: 'wss/data', count: 500, qos: 0})
    await sub.ready
    const connection = await prepareConnection({...ws, scheme: 'wss', port: broker.wssPort, ca: broker.ca})
    const result = await publish({connection, topic: 'wss/data', payload: '{{seq}}', qos: 0, count: 500})
    assert.equal(result.sent, 500)
    assert.equal((await sub.messages).length, 500)
  })

  test('a load over WebSocket signs a URL for every device', async () => {
    const before = signings
    const sub = mosquittoSub(broker, {topic: 'wsload/+'})
    await sub.ready
    const result = await runLoad({connection: await prepareConnection(ws), clientIdPrefix: 'ws-sim', devices: 4, rate: 40, durationSeconds: 1.5, rampUpSeconds: 0.2, topic: 'wsload/{{index}}', payload: '{{device}} {{seq}}'})
    assert.equal(result.connectedDevices, 4)
    assert.ok(signings - before >= 4)
    assert.equal(result.failed, 0)
    assert.equal(result.acked, result.sent)
    await sub.waitForCount(result.sent)
    assert.equal((await sub.stop()).length, result.sent)
  })
})
