import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {
  FrameDecoder, FrameTooLargeError, MessageBuilder, dataFrame, dataFrameHeader, dataFrames, encodeFrame,
  type BuiltMessage, type OutgoingFrame,
} from '../../src/lib/tunnel/protocol/framing.ts'
import {
  MAX_PAYLOAD, MAX_WEBSOCKET_MESSAGE, MessageType, checkMessage, decodeMessage, encodeMessage, messageTypeName,
  type TunnelMessageInit,
} from '../../src/lib/tunnel/protocol/message.ts'

const bytes = (...values: number[]) => new Uint8Array(values)

describe('tunnel Message encoding', () => {
  const cases: [string, TunnelMessageInit][] = [
    ['DATA with a payload', {type: MessageType.DATA, streamId: 1, serviceId: 'SSH', connectionId: 3, payload: bytes(1, 2, 3)}],
    ['STREAM_START V3', {type: MessageType.STREAM_START, streamId: 123456789, serviceId: 'HTTP', connectionId: 1}],
    ['STREAM_START V2 (no connection id)', {type: MessageType.STREAM_START, streamId: 7, serviceId: 'SSH'}],
    ['STREAM_RESET V1 (no service id)', {type: MessageType.STREAM_RESET, streamId: 7}],
    ['SESSION_RESET', {type: MessageType.SESSION_RESET}],
    ['SERVICE_IDS', {type: MessageType.SERVICE_IDS, availableServiceIds: ['SSH', 'HTTP', 'RDP']}],
    ['CONNECTION_START', {type: MessageType.CONNECTION_START, streamId: 9, serviceId: 'SSH', connectionId: 4294967295}],
    ['CONNECTION_RESET', {type: MessageType.CONNECTION_RESET, streamId: 9, serviceId: 'SSH', connectionId: 2}],
    ['unknown type marked ignorable', {type: 42, ignorable: true}],
  ]
  for (const [name, message] of cases) {
    it(`round-trips ${name}`, () => {
      const decoded = decodeMessage(encodeMessage(message))
      assert.equal(decoded.type, message.type)
      assert.equal(decoded.streamId, message.streamId ?? 0)
      assert.equal(decoded.serviceId, message.serviceId ?? '')
      assert.equal(decoded.connectionId, message.connectionId ?? 0)
      assert.equal(decoded.ignorable, message.ignorable ?? false)
      assert.deepEqual([...decoded.payload], [...(message.payload ?? [])])
      assert.deepEqual(decoded.availableServiceIds, message.availableServiceIds ?? [])
    })
  }

  it('writes the wire format of Message.proto (field numbers and types)', () => {
    // type=1 (varint 1), streamId=2 (varint 5), payload=4 ("hi"), serviceId=5 ("S"), connectionId=7 (varint 2)
    assert.deepEqual([...encodeMessage({type: 1, streamId: 5, payload: bytes(0x68, 0x69), serviceId: 'S', connectionId: 2})],
      [0x08, 0x01, 0x10, 0x05, 0x22, 0x02, 0x68, 0x69, 0x2a, 0x01, 0x53, 0x38, 0x02])
    // proto3 defaults are not written: a V1 peer sees no service id at all
    assert.deepEqual([...encodeMessage({type: 3, streamId: 1, serviceId: '', connectionId: 0})], [0x08, 0x03, 0x10, 0x01])
  })

  it('names message types', () => {
    assert.equal(messageTypeName(MessageType.CONNECTION_RESET), 'CONNECTION_RESET')
    assert.equal(messageTypeName(99), 'TYPE_99')
  })

  const problems: [string, TunnelMessageInit, string | undefined][] = [
    ['a valid DATA', {type: MessageType.DATA, streamId: 1, payload: new Uint8Array(MAX_PAYLOAD)}, undefined],
    ['no type', {type: 0, streamId: 1}, 'no-type'],
    ['DATA without stream id', {type: MessageType.DATA, payload: bytes(1)}, 'no-stream-id'],
    ['STREAM_START without stream id', {type: MessageType.STREAM_START, serviceId: 'SSH'}, 'no-stream-id'],
    ['payload one byte over 63 KiB', {type: MessageType.DATA, streamId: 1, payload: new Uint8Array(MAX_PAYLOAD + 1)}, 'payload-too-large'],
    ['unknown type not ignorable', {type: 8, streamId: 1}, 'unknown-type'],
    ['unknown type ignorable', {type: 8, streamId: 1, ignorable: true}, undefined],
    ['SERVICE_IDS needs no stream id', {type: MessageType.SERVICE_IDS, availableServiceIds: ['A']}, undefined],
  ]
  for (const [name, message, problem] of problems) {
    it(`checks ${name}`, () => assert.equal(checkMessage(decodeMessage(encodeMessage(message))), problem))
  }

  it('rejects bytes that are not a Message', () => {
    assert.throws(() => decodeMessage(bytes(0x22, 0x05, 0x01)), {name: 'MessageDecodeError'})
    assert.throws(() => decodeMessage(bytes(0x0f)), {name: 'MessageDecodeError'})
  })
})

describe('tunnel framing', () => {
  const messages: TunnelMessageInit[] = [
    {type: MessageType.SERVICE_IDS, availableServiceIds: ['SSH', 'HTTP']},
    {type: MessageType.STREAM_START, streamId: 5, serviceId: 'SSH', connectionId: 1},
    {type: MessageType.DATA, streamId: 5, serviceId: 'SSH', connectionId: 1, payload: new Uint8Array(1000).fill(7)},
    {type: MessageType.DATA, streamId: 5, serviceId: 'SSH', connectionId: 1, payload: bytes(1)},
    {type: MessageType.CONNECTION_RESET, streamId: 5, serviceId: 'SSH', connectionId: 1},
  ]
  const stream = Buffer.concat(messages.map(message => encodeFrame(message)))

  it('prefixes each frame with its 2-byte big-endian length', () => {
    const frame = encodeFrame({type: MessageType.STREAM_RESET, streamId: 1})
    assert.deepEqual([...frame], [0x00, 0x04, 0x08, 0x03, 0x10, 0x01])
  })

  const splits: [string, (data: Buffer) => Buffer[]][] = [
    ['all frames in one WebSocket message', data => [data]],
    ['one byte per message', data => [...data].map(byte => Buffer.from([byte]))],
    ['messages of 7 bytes', data => Array.from({length: Math.ceil(data.length / 7)}, (_, i) => data.subarray(i * 7, i * 7 + 7))],
    ['a split inside the length prefix', data => [data.subarray(0, 1), data.subarray(1)]],
    ['a split right after the prefix', data => [data.subarray(0, 2), data.subarray(2)]],
    ['a big frame across three messages', data => [data.subarray(0, 40), data.subarray(40, 600), data.subarray(600)]],
  ]
  for (const [name, split] of splits) {
    it(`reassembles frames from ${name}`, () => {
      const decoder = new FrameDecoder()
      const decoded = split(stream).flatMap(chunk => decoder.push(chunk))
      assert.equal(decoder.pendingBytes, 0)
      assert.deepEqual(decoded.map(frame => frame.message?.type), messages.map(message => message.type))
      assert.equal(decoded[2].message!.payload.length, 1000)
      assert.ok(decoded.every(frame => frame.problem === undefined))
    })
  }

  it('splits at every byte boundary of the stream', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder()
      const decoded = [...decoder.push(stream.subarray(0, cut)), ...decoder.push(stream.subarray(cut))]
      assert.equal(decoded.length, messages.length, `cut at ${cut}`)
    }
  })

  it('decodes payloads as views, not copies, when a frame is inside one message', () => {
    const frame = encodeFrame({type: MessageType.DATA, streamId: 1, payload: new Uint8Array(100)})
    const [decoded] = new FrameDecoder().push(frame)
    assert.equal(decoded.message!.payload.buffer, frame.buffer)
  })

  it('keeps going after a frame that is not a protobuf Message', () => {
    const garbage = Buffer.from([0x00, 0x03, 0x22, 0x05, 0x01])
    const decoded = new FrameDecoder().push(Buffer.concat([garbage, encodeFrame(messages[1])]))
    assert.equal(decoded.length, 2)
    assert.equal(decoded[0].problem, 'bad-protobuf')
    assert.equal(decoded[0].message, undefined)
    assert.equal(decoded[1].message!.type, MessageType.STREAM_START)
  })

  it('reports an oversized payload with the message, so that its stream can be reset', () => {
    const oversized = encodeFrame({type: MessageType.DATA, streamId: 9, serviceId: 'SSH', connectionId: 2, payload: new Uint8Array(65000)})
    const [decoded] = new FrameDecoder().push(oversized)
    assert.equal(decoded.problem, 'payload-too-large')
    assert.equal(decoded.message.streamId, 9)
    assert.equal(decoded.message.connectionId, 2)
  })

  it('treats an empty frame as a message without a type', () => {
    const [decoded] = new FrameDecoder().push(Buffer.from([0, 0]))
    assert.equal(decoded.problem, 'no-type')
  })

  it('refuses to encode a frame longer than the 16-bit prefix allows', () => {
    assert.throws(() => encodeFrame({type: MessageType.DATA, streamId: 1, payload: new Uint8Array(70000)}), FrameTooLargeError)
    assert.throws(() => dataFrame(dataFrameHeader(1, 'SSH', 1), new Uint8Array(MAX_PAYLOAD + 1)), FrameTooLargeError)
  })

  it('encodes DATA frames from a shared header that decode like encodeFrame', () => {
    const payload = Buffer.from('hello tunnel')
    const frame = dataFrame(dataFrameHeader(77, 'SSH', 3), payload)
    const [decoded] = new FrameDecoder().push(Buffer.concat([frame.head, frame.body!]))
    assert.deepEqual({...decoded.message!, payload: Buffer.from(decoded.message!.payload).toString()},
      {type: MessageType.DATA, streamId: 77, ignorable: false, payload: 'hello tunnel', serviceId: 'SSH', availableServiceIds: [], connectionId: 3})
  })

  const chunkSizes: [number, number[]][] = [
    [1, [1]],
    [MAX_PAYLOAD, [MAX_PAYLOAD]],
    [MAX_PAYLOAD + 1, [MAX_PAYLOAD, 1]],
    [65536, [MAX_PAYLOAD, 1024]],
    [3 * MAX_PAYLOAD, [MAX_PAYLOAD, MAX_PAYLOAD, MAX_PAYLOAD]],
  ]
  for (const [size, expected] of chunkSizes) {
    it(`cuts a ${size}-byte chunk into payloads of ${expected.join(' + ')}`, () => {
      const frames = dataFrames(dataFrameHeader(1, 'SSH', 1), new Uint8Array(size))
      assert.deepEqual(frames.map(frame => frame.body!.length), expected)
    })
  }

  /** The payload of a masked binary WebSocket frame (RFC 6455 section 5.2), unmasked; checks the header. */
  function unmask(frame: Buffer): Buffer {
    assert.equal(frame[0], 0x82, 'FIN + binary')
    assert.equal(frame[1] & 0x80, 0x80, 'masked')
    const lengthCode = frame[1] & 0x7f
    const headerLength = lengthCode < 126 ? 6 : lengthCode === 126 ? 8 : 14
    const length = lengthCode < 126 ? lengthCode : lengthCode === 126 ? frame.readUInt16BE(2) : frame.readUInt32BE(6)
    assert.equal(frame.length, headerLength + length, 'one whole frame')
    const key = frame.subarray(headerLength - 4, headerLength)
    const payload = Buffer.from(frame.subarray(headerLength))
    for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3]
    return payload
  }

  it('packs frames into WebSocket messages of at most 131076 bytes without splitting frames', () => {
    const header = dataFrameHeader(1, 'SSH', 1)
    const builder = new MessageBuilder()
    builder.appendData(header, new Uint8Array(5 * MAX_PAYLOAD + 10).map((_, i) => i % 251))
    builder.append({head: encodeFrame({type: 7, streamId: 1, connectionId: 1})})
    const packed = builder.take().map(message => unmask(message.bytes))
    assert.ok(packed.every(message => message.length <= MAX_WEBSOCKET_MESSAGE))
    assert.equal(packed.length, 3)
    const decoder = new FrameDecoder()
    const decoded = packed.flatMap(message => {
      const frames = decoder.push(message)
      assert.equal(decoder.pendingBytes, 0, 'every message ends on a frame boundary')
      return frames
    })
    assert.deepEqual(decoded.map(frame => frame.message!.type), [1, 1, 1, 1, 1, 1, 7])
    const data = Buffer.concat(decoded.slice(0, 6).map(frame => frame.message!.payload))
    assert.ok(data.equals(new Uint8Array(5 * MAX_PAYLOAD + 10).map((_, i) => i % 251)))
    assert.equal(builder.pendingBytes, 0)
  })

  const maskCases: [string, number][] = [['a tiny', 3], ['a 125-byte', 125], ['a 16-bit-length', 4000], ['a pooled 16-bit-length', 60000], ['a 64-bit-length', 120000]]
  for (const [name, size] of maskCases) {
    it(`builds ${name} masked binary WebSocket frame that unmasks to the frames`, () => {
      const frame: OutgoingFrame = {head: Buffer.alloc(1, 0xee), body: Buffer.alloc(size - 1).map((_, i) => i & 0xff)}
      const builder = new MessageBuilder()
      builder.append(frame)
      assert.equal(builder.pendingBytes, size)
      const [message, ...rest] = builder.take()
      assert.equal(rest.length, 0)
      assert.deepEqual(unmask(message.bytes), Buffer.concat([frame.head, frame.body!]))
    })
  }

  it('copies the sent bytes at once: the caller may reuse its buffer before the message goes out', () => {
    const chunk = Buffer.from('first bytes')
    const builder = new MessageBuilder()
    builder.appendData(dataFrameHeader(1, 'SSH', 1), chunk)
    chunk.fill(0)
    const [frame] = new FrameDecoder().push(unmask(builder.take()[0].bytes))
    assert.equal(Buffer.from(frame.message!.payload).toString(), 'first bytes')
  })

  it('reuses at most poolLimit message buffers: a bulk transfer allocates none in its steady state', () => {
    const builder = new MessageBuilder(2)
    const header = dataFrameHeader(1, 'SSH', 1)
    const round = (messages: number): BuiltMessage[] => {
      builder.appendData(header, new Uint8Array(messages * 2 * MAX_PAYLOAD))
      return builder.take()
    }
    const first = round(4)
    assert.equal(first.length, 4)
    assert.ok(first.every(message => message.release), 'large messages are pooled')
    for (const message of first) message.release!()
    const second = round(4)
    const reused = second.filter(message => first.some(old => old.bytes.buffer === message.bytes.buffer))
    assert.equal(reused.length, 2, 'two buffers came back from the pool, no more were kept')
    // A small message (interactive traffic) is copied out; the message buffer is not handed over.
    builder.appendData(header, Buffer.from('x'))
    const [small] = builder.take()
    assert.equal(small.release, undefined)
  })
})
