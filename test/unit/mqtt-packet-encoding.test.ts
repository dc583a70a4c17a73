// PUBLISH packets encoded by the hot path, decoded by mqtt-packet (the parser mqtt.js uses).
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import mqttPacket from 'mqtt-packet'
import {encodePublish} from '../../src/lib/mqtt/sender.ts'

function topicField(topic: string): Buffer {
  const bytes = Buffer.from(topic)
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes])
}

function decode(buffer: Buffer): mqttPacket.Packet[] {
  const parser = mqttPacket.parser({protocolVersion: 4})
  const packets: mqttPacket.Packet[] = []
  parser.on('packet', (packet) => packets.push(packet))
  parser.on('error', (error) => assert.fail(error))
  parser.parse(buffer)
  return packets
}

describe('PUBLISH encoding', () => {
  // Payload sizes around the remaining-length boundaries: 1, 2 and 3 length bytes.
  for (const size of [0, 1, 100, 120, 121, 122, 16_370, 16_371, 16_372, 200_000]) {
    for (const qos of [0, 1] as const) {
      test(`QoS ${qos}, ${size}-byte payload`, () => {
        const payload = Buffer.alloc(size, 'x')
        const target = Buffer.alloc(size + 64)
        const end = encodePublish(target, 3, 0x30 | (qos << 1), topicField('device/1/data'), qos === 1 ? 513 : 0, size % 2 === 0 ? payload.toString() : payload)
        assert.ok(end > 3)
        const [packet, ...rest] = decode(target.subarray(3, end)) as mqttPacket.IPublishPacket[]
        assert.equal(rest.length, 0)
        assert.equal(packet.cmd, 'publish')
        assert.equal(packet.topic, 'device/1/data')
        assert.equal(packet.qos, qos)
        assert.equal(packet.retain, false)
        assert.equal(packet.dup, false)
        if (qos === 1) assert.equal(packet.messageId, 513)
        assert.ok(Buffer.from(packet.payload).equals(payload))
      })
    }
  }

  test('several packets back to back, UTF-8 topic and payload', () => {
    const target = Buffer.alloc(1024)
    let at = 0
    const topic = topicField('capteur/é/données')
    for (let seq = 1; seq <= 5; seq++) at = encodePublish(target, at, 0x32, topic, seq, `{"seq":${seq},"unit":"°C"}`)
    const packets = decode(target.subarray(0, at)) as mqttPacket.IPublishPacket[]
    assert.deepEqual(
      packets.map((p) => [p.topic, p.messageId, p.payload.toString()]),
      [1, 2, 3, 4, 5].map((seq) => ['capteur/é/données', seq, `{"seq":${seq},"unit":"°C"}`]),
    )
  })

  test('a packet that does not fit returns minus its size and writes nothing', () => {
    const target = Buffer.alloc(20, 0xee)
    const result = encodePublish(target, 5, 0x30, topicField('t'), 0, 'twenty bytes payload')
    assert.equal(result, -(2 + 3 + 20))
    assert.ok(target.equals(Buffer.alloc(20, 0xee)))
  })
})
