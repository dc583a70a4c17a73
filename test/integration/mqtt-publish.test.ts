// Publishing with a device certificate to a real mosquitto, watched by mosquitto_sub.
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createServer, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {AwsError} from '../../src/lib/errors.ts'
import {type MtlsConnectionOptions, prepareConnection} from '../../src/lib/mqtt/connection.ts'
import {type PublishAck, publish} from '../../src/lib/mqtt/publish.ts'
import {mosquittoSub} from '../support/mosquitto/clients.ts'
import {type DeviceFiles, type MosquittoBroker, startMosquitto, unusedPort} from '../support/mosquitto/index.ts'
import {createTestPki} from '../support/mosquitto/pki.ts'

describe('mqtt publish with a device certificate', () => {
  let broker: MosquittoBroker
  let device: DeviceFiles
  let mtls: MtlsConnectionOptions
  before(async () => {
    broker = await startMosquitto()
    device = await broker.device('sensor-1')
    mtls = {kind: 'mtls', endpoint: broker.host, port: broker.tlsPort, clientId: 'sensor-1', cert: device.cert, key: device.key, ca: broker.ca}
  })
  after(() => broker.stop())

  test('one message reaches a subscriber, acknowledged with its packet id', async () => {
    const sub = mosquittoSub(broker, {topic: 'device/+/data', count: 1})
    await sub.ready
    const result = await publish({connection: await prepareConnection(mtls), topic: 'device/1/data', payload: '{"temperature": 21.5}', qos: 1})
    const [message] = await sub.messages
    assert.equal(message.topic, 'device/1/data')
    assert.equal(message.payload.toString(), '{"temperature": 21.5}')
    assert.equal(result.sent, 1)
    assert.equal(result.acked, 1)
    assert.equal(result.acks!.length, 1)
    assert.equal(result.acks![0].seq, 1)
    assert.ok(result.acks![0].packetId >= 1 && result.acks![0].packetId <= 65535)
    assert.equal(result.url, `mqtts://${broker.host}:${broker.tlsPort}`)
  })

  test('QoS 1: each of many messages acknowledged once, through a small in-flight window', async () => {
    const count = 3000
    const sub = mosquittoSub(broker, {topic: 'qos1/data', count})
    await sub.ready
    const seen: PublishAck[] = []
    const result = await publish({connection: await prepareConnection(mtls), topic: 'qos1/data', payload: '{{seq}}', qos: 1, count, maxInflight: 10, onAck: (ack) => seen.push(ack)})
    assert.equal(result.sent, count)
    assert.equal(result.acked, count)
    assert.equal(seen.length, count)
    assert.deepEqual(new Set(result.acks!.map((ack) => ack.seq)), new Set(Array.from({length: count}, (_, i) => i + 1)))
    for (const ack of result.acks!) {
      assert.ok(ack.packetId >= 1 && ack.packetId <= 65535)
      assert.ok(ack.latencyMs >= 0)
    }
    // Packet ids are reused once acknowledged: more messages than ids in the cycle.
    assert.ok(new Set(result.acks!.map((ack) => ack.packetId)).size < count)
    const messages = await sub.messages
    assert.deepEqual(messages.map((m) => Number(m.payload.toString())).sort((a, b) => a - b), Array.from({length: count}, (_, i) => i + 1))
  })

  test('count with a template gives distinct, realistic payloads in order', async () => {
    const count = 50
    const sub = mosquittoSub(broker, {topic: 'template/data', count, qos: 0})
    await sub.ready
    const template = '{"device":"{{device}}","seq":{{seq}},"id":"{{uuid}}","temperature":{{random:20.0:30.0}},"at":"{{iso}}","ts":{{timestamp}}}'
    const result = await publish({connection: await prepareConnection(mtls), topic: 'template/data', payload: template, qos: 0, count})
    assert.equal(result.sent, count)
    assert.equal(result.acked, undefined, 'QoS 0 has no acknowledgements')
    const payloads = (await sub.messages).map((m) => JSON.parse(m.payload.toString()))
    assert.equal(new Set(payloads.map((p) => JSON.stringify(p))).size, count)
    assert.deepEqual(payloads.map((p) => p.seq), Array.from({length: count}, (_, i) => i + 1))
    assert.equal(new Set(payloads.map((p) => p.id)).size, count)
    for (const p of payloads) {
      assert.equal(p.device, 'sensor-1')
      assert.ok(p.temperature >= 20 && p.temperature <= 30)
      assert.ok(!Number.isNaN(Date.parse(p.at)))
    }
  })

  test('payloads of every size class arrive byte for byte, from a payload file too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iotctl-payload-'))
    try {
      const sizes = [0, 100, 130, 16_000, 16_400, 120_000]
      const sub = mosquittoSub(broker, {topic: 'sizes/data', count: sizes.length + 1})
      await sub.ready
      const connection = await prepareConnection(mtls)
      for (const size of sizes) await publish({connection, topic: 'sizes/data', payload: 'p'.repeat(size), qos: 1})
      const file = join(dir, 'payload.json')
      await writeFile(file, '{"from":"file","seq":{{seq}}}\n')
      await publish({connection, topic: 'sizes/data', payloadFile: file, qos: 1})
      const messages = await sub.messages
      assert.deepEqual(messages.slice(0, sizes.length).map((m) => m.payload.length), sizes)
      assert.ok(messages.slice(0, sizes.length).every((m, i) => m.payload.equals(Buffer.alloc(sizes[i], 'p'))))
      assert.equal(messages.at(-1)!.payload.toString(), '{"from":"file","seq":1}\n')
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  test('paced by an interval, progress after each message', async () => {
    const progress: number[] = []
    const result = await publish({connection: await prepareConnection(mtls), topic: 'paced/data', payload: '{{seq}}', qos: 1, count: 3, intervalMs: 20, onProgress: (p) => progress.push(p.sent)})
    assert.deepEqual(progress, [1, 2, 3])
    assert.equal(result.acked, 3)
  })

  test('a certificate from another CA is refused: AwsError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'iotctl-other-ca-'))
    try {
      const stranger = await (await createTestPki(dir)).device('stranger')
      const connection = await prepareConnection({...mtls, cert: stranger.cert, key: stranger.key})
      await assert.rejects(publish({connection, topic: 'device/1/data', payload: 'x'}), (error) => {
        assert.ok(error instanceof AwsError, String(error))
        assert.equal(error.step, 'mqtt connect')
        return true
      })
    } finally {
      await rm(dir, {recursive: true, force: true})
    }
  })

  test("a broker whose certificate Node's roots do not trust: AwsError", async () => {
    const connection = await prepareConnection({...mtls, ca: undefined})
    await assert.rejects(publish({connection, topic: 'device/1/data', payload: 'x'}), (error) => {
      assert.ok(error instanceof AwsError, String(error))
      assert.match(error.code, /CERT|SIGNATURE|ISSUER/)
      return true
    })
  })

  test('the broker going away in the middle: AwsError saying how far it got, no hang', async () => {
    let restart: Promise<void> | undefined
    const publishing = publish({
      connection: await prepareConnection(mtls),
      topic: 'flood/data',
      payload: '{{seq}}',
      qos: 0,
      count: 50_000_000,
      onProgress: ({sent}) => {
        if (sent > 10_000) restart ??= broker.restart()
      },
    })
    await assert.rejects(publishing, (error) => {
      assert.ok(error instanceof AwsError, String(error))
      assert.equal(error.code, 'ConnectionClosed')
      assert.match(error.message, /closed the connection after \d+ of 50000000 messages/)
      return true
    })
    await restart
  })

  test('nothing listening: AwsError ECONNREFUSED', async () => {
    const port = await unusedPort()
    const connection = await prepareConnection({...mtls, port})
    await assert.rejects(publish({connection, topic: 'device/1/data', payload: 'x'}), (error) => {
      assert.ok(error instanceof AwsError, String(error))
      assert.equal(error.code, 'ECONNREFUSED')
      assert.match(error.message, new RegExp(`mqtts://127.0.0.1:${port} as sensor-1`))
      return true
    })
  })
})

describe('mqtt publish to a broker that stops answering', () => {
  /** Accepts CONNECT with a CONNACK, then acknowledges nothing; `reading: false` also stops reading. */
  async function silentBroker(reading: boolean): Promise<{port: number; close(): Promise<void>}> {
    const sockets = new Set<Socket>()
    const server = createServer((socket) => {
      sockets.add(socket)
      socket.once('data', () => {
        socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]))
        if (!reading) socket.pause()
      })
      socket.on('error', () => {})
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return {
      port: (server.address() as {port: number}).port,
      close: async () => {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  }

  test('QoS 1 without PUBACKs: AckTimeout once the window is full, no hang', async () => {
    const broker = await silentBroker(true)
    try {
      const connection = await prepareConnection({kind: 'tcp', endpoint: '127.0.0.1', port: broker.port, clientId: 'unheard'})
      await assert.rejects(publish({connection, topic: 't', payload: 'x', qos: 1, count: 10, maxInflight: 3, ackTimeoutSeconds: 0.5}), (error) => {
        assert.ok(error instanceof AwsError, String(error))
        assert.equal(error.code, 'AckTimeout')
        assert.match(error.message, /took nothing for 0.5 s after 3 of 10 messages \(0 acknowledged\)/)
        return true
      })
    } finally {
      await broker.close()
    }
  })

  test('QoS 0 into a socket nobody reads: WriteTimeout, no hang', async () => {
    const broker = await silentBroker(false)
    try {
      const connection = await prepareConnection({kind: 'tcp', endpoint: '127.0.0.1', port: broker.port, clientId: 'unread'})
      await assert.rejects(publish({connection, topic: 't', payload: 'x'.repeat(1000), qos: 0, count: 1_000_000, ackTimeoutSeconds: 0.5}), (error) => {
        assert.ok(error instanceof AwsError, String(error))
        assert.equal(error.code, 'WriteTimeout')
        return true
      })
    } finally {
      await broker.close()
    }
  })
})
