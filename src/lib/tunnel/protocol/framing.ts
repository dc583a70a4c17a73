// Tunnel frames inside binary WebSocket messages.
//
// "Tunneling message frames" (V2/V3 guides): each frame is a 2-byte unsigned
// big-endian length followed by that many bytes of protobuf `Message`. Frames are
// only loosely coupled to WebSocket messages: one WebSocket message may hold
// several frames, and a frame may start in one message and end in a later one,
// so the receiver treats the WebSocket payloads as one byte stream.
import {randomFillSync} from 'node:crypto'
import {
  MAX_FRAME_LENGTH, MAX_PAYLOAD, MAX_WEBSOCKET_MESSAGE, MessageDecodeError, MessageType,
  checkMessage, decodeMessage, encodeMessage,
  type MessageProblem, type TunnelMessage, type TunnelMessageInit,
} from './message.ts'

/** A frame ready to send: `head` holds the length prefix (and for DATA the protobuf fields before the payload), `body` the payload bytes. */
export interface OutgoingFrame {
  head: Buffer
  body?: Uint8Array
}

export function frameLength(frame: OutgoingFrame): number {
  return frame.head.length + (frame.body ? frame.body.length : 0)
}

export class FrameTooLargeError extends RangeError {
  override name = 'FrameTooLargeError'
}

/** Length prefix + protobuf of one message, as one buffer. */
export function encodeFrame(message: TunnelMessageInit): Buffer {
  const body = encodeMessage(message)
  if (body.length > MAX_FRAME_LENGTH) {
    throw new FrameTooLargeError(`a tunnel frame holds at most ${MAX_FRAME_LENGTH} bytes, this message encodes to ${body.length}`)
  }
  const frame = Buffer.allocUnsafe(2 + body.length)
  frame.writeUInt16BE(body.length, 0)
  frame.set(body, 2)
  return frame
}

function varintLength(value: number): number {
  let length = 1
  while (value >= 0x80) {
    value >>>= 7
    length++
  }
  return length
}

function writeVarint(target: Buffer, offset: number, value: number): number {
  while (value >= 0x80) {
    target[offset++] = (value & 0x7f) | 0x80
    value >>>= 7
  }
  target[offset++] = value
  return offset
}

/** Field 4 (`payload`), wire type 2 (length-delimited): tag byte (4 << 3) | 2. */
const PAYLOAD_TAG = 0x22

/**
 * The protobuf fields every DATA frame of one connection shares (type, streamId,
 * serviceId, connectionId). Computed once per connection, so that sending data
 * costs no protobuf encoding: each frame is this header, the payload field's tag
 * and length, and the payload bytes. Protobuf parsers accept fields in any order.
 */
export function dataFrameHeader(streamId: number, serviceId: string, connectionId: number): Uint8Array {
  return encodeMessage({type: MessageType.DATA, streamId, serviceId, connectionId})
}

/** One DATA frame for `payload` (at most MAX_PAYLOAD bytes), without copying the payload. */
export function dataFrame(header: Uint8Array, payload: Uint8Array): OutgoingFrame {
  if (payload.length > MAX_PAYLOAD) throw new FrameTooLargeError(`a DATA payload holds at most ${MAX_PAYLOAD} bytes, got ${payload.length}`)
  const protobufLength = header.length + 1 + varintLength(payload.length) + payload.length
  const head = Buffer.allocUnsafe(2 + header.length + 1 + varintLength(payload.length))
  head.writeUInt16BE(protobufLength, 0)
  head.set(header, 2)
  head[2 + header.length] = PAYLOAD_TAG
  writeVarint(head, 3 + header.length, payload.length)
  return {head, body: payload}
}

/** DATA frames for a chunk of any size: payload slices of at most `maxPayload` bytes (views, not copies). */
export function dataFrames(header: Uint8Array, chunk: Uint8Array, maxPayload = MAX_PAYLOAD): OutgoingFrame[] {
  const frames: OutgoingFrame[] = []
  for (let offset = 0; offset < chunk.length; offset += maxPayload) {
    frames.push(dataFrame(header, chunk.subarray(offset, Math.min(offset + maxPayload, chunk.length))))
  }
  return frames
}

/** Bytes of the RFC 6455 header of a masked frame with `size` payload bytes. */
function maskedHeaderLength(size: number): number {
  return size < 126 ? 6 : size < 65536 ? 8 : 14
}

/**
 * A frame read from the tunnel. `bytes` is the whole frame (length prefix
 * included), a view into the received data. A frame whose protobuf does not parse
 * has no `message`; one that parses but breaks a rule has a `problem`.
 */
export type DecodedFrame =
  | {bytes: Buffer; message: TunnelMessage; problem?: MessageProblem}
  | {bytes: Buffer; message?: undefined; problem: 'bad-protobuf'; error: Error}

function decodeFrame(bytes: Buffer): DecodedFrame {
  try {
    const message = decodeMessage(bytes.subarray(2))
    const problem = checkMessage(message)
    return problem ? {bytes, message, problem} : {bytes, message}
  } catch (error) {
    if (error instanceof MessageDecodeError) return {bytes, problem: 'bad-protobuf', error}
    throw error
  }
}

function asBuffer(chunk: Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
}

/**
 * Reassembles frames from WebSocket payloads. At most one partial frame (65537
 * bytes) is held between pushes. Complete frames inside one payload are decoded
 * in place (no copy); only a frame that spans payloads is copied, once.
 */
export class FrameDecoder {
  #prefix = Buffer.alloc(2)
  #prefixLength = 0
  #frame: Buffer | undefined
  #frameFilled = 0

  /** Bytes of an incomplete frame waiting for the next payload. */
  get pendingBytes(): number {
    return this.#frame ? this.#frameFilled : this.#prefixLength
  }

  /** Forgets a partial frame (a new WebSocket connection starts a new byte stream). */
  reset(): void {
    this.#prefixLength = 0
    this.#frame = undefined
    this.#frameFilled = 0
  }

  push(data: Uint8Array): DecodedFrame[] {
    const chunk = asBuffer(data)
    const frames: DecodedFrame[] = []
    let offset = 0

    if (this.#prefixLength > 0 || this.#frame) {
      if (!this.#frame) {
        while (this.#prefixLength < 2 && offset < chunk.length) this.#prefix[this.#prefixLength++] = chunk[offset++]!
        if (this.#prefixLength < 2) return frames
        this.#frame = Buffer.allocUnsafe(2 + this.#prefix.readUInt16BE(0))
        this.#frame.set(this.#prefix, 0)
        this.#frameFilled = 2
        this.#prefixLength = 0
      }
      const frame = this.#frame
      const take = Math.min(frame.length - this.#frameFilled, chunk.length - offset)
      chunk.copy(frame, this.#frameFilled, offset, offset + take)
      this.#frameFilled += take
      offset += take
      if (this.#frameFilled < frame.length) return frames
      this.#frame = undefined
      this.#frameFilled = 0
      frames.push(decodeFrame(frame))
    }

    while (offset + 2 <= chunk.length) {
      const end = offset + 2 + chunk.readUInt16BE(offset)
      if (end > chunk.length) break
      frames.push(decodeFrame(chunk.subarray(offset, end)))
      offset = end
    }

    const rest = chunk.length - offset
    if (rest === 1) {
      this.#prefix[0] = chunk[offset]!
      this.#prefixLength = 1
    } else if (rest >= 2) {
      const frame = Buffer.allocUnsafe(2 + chunk.readUInt16BE(offset))
      chunk.copy(frame, 0, offset)
      this.#frame = frame
      this.#frameFilled = rest
    }
    return frames
  }
}

/** Where a built message's payload starts: room for the longest header (14 bytes), on a 4-byte boundary. */
const PAYLOAD_OFFSET = 16
/** A message buffer: the header room plus the largest WebSocket message. */
const MESSAGE_BUFFER_SIZE = PAYLOAD_OFFSET + MAX_WEBSOCKET_MESSAGE
/** Messages smaller than this are copied out to a buffer of their size (interactive traffic), so the message buffer is reused at once. */
const SMALL_MESSAGE = 16 * 1024

const MASK_POOL_SIZE = 8192
const maskPool = Buffer.alloc(MASK_POOL_SIZE)
let maskPoolOffset = MASK_POOL_SIZE

/** A fresh masking key from a CSPRNG (RFC 6455 section 5.3: unpredictable). */
export function nextMaskKey(): Buffer {
  if (maskPoolOffset === MASK_POOL_SIZE) {
    randomFillSync(maskPool)
    maskPoolOffset = 0
  }
  const key = maskPool.subarray(maskPoolOffset, maskPoolOffset + 4)
  maskPoolOffset += 4
  return key
}

/** XORs `size` bytes of `target` from `start` with `maskKey`, four bytes at a time where `start` is 4-byte aligned. */
function maskInPlace(target: Buffer, start: number, size: number, maskKey: Uint8Array): void {
  const aligned = (target.byteOffset + start) % 4 === 0
  const words = aligned && size >= 256 ? size >>> 2 : 0
  if (words > 0) {
    const mask32 = new Uint32Array(new Uint8Array([maskKey[0], maskKey[1], maskKey[2], maskKey[3]]).buffer)[0]
    const view = new Uint32Array(target.buffer, target.byteOffset + start, words)
    for (let i = 0; i < words; i++) view[i] ^= mask32
  }
  for (let i = words << 2; i < size; i++) target[start + i] ^= maskKey[i & 3]
}

/** Writes the RFC 6455 header of a masked binary frame (FIN, opcode 2) so that it ends at `end`; returns where it starts. */
function writeMaskedHeader(target: Buffer, end: number, size: number, maskKey: Uint8Array): number {
  const start = end - maskedHeaderLength(size)
  target[start] = 0x82
  let offset = start + 2
  if (size < 126) {
    target[start + 1] = 0x80 | size
  } else if (size < 65536) {
    target[start + 1] = 0x80 | 126
    target.writeUInt16BE(size, start + 2)
    offset += 2
  } else {
    target[start + 1] = 0x80 | 127
    target.writeUInt32BE(0, start + 2)
    target.writeUInt32BE(size, start + 6)
    offset += 8
  }
  target.set(maskKey.subarray(0, 4), offset)
  return start
}

/** A masked WebSocket message ready to write; `release` (if any) gives its buffer back once written. */
export interface BuiltMessage {
  bytes: Buffer
  release?: () => void
}

/**
 * Builds the outgoing WebSocket messages of one connection in place. Frames are
 * copied into a message buffer when they are sent, so the caller's buffer (a
 * socket read) is garbage at once instead of waiting for the batch to go out;
 * a full message (131076 bytes at most, frames never split) is masked in place.
 * Message buffers come from a pool of at most `poolLimit` and return to it once
 * written: the steady state of a bulk transfer allocates nothing.
 */
export class MessageBuilder {
  readonly #pool: Buffer[] = []
  readonly #poolLimit: number
  #buffer: Buffer | undefined
  /** Payload bytes in #buffer. */
  #size = 0
  #sealed: BuiltMessage[] = []
  #sealedBytes = 0

  constructor(poolLimit = 32) {
    this.#poolLimit = poolLimit
  }

  /** Bytes built and not yet taken. */
  get pendingBytes(): number {
    return this.#sealedBytes + this.#size
  }

  /** Appends one frame (length prefix and protobuf in `head`, payload bytes in `body`). */
  append(frame: OutgoingFrame): void {
    const buffer = this.#room(frameLength(frame))
    let offset = PAYLOAD_OFFSET + this.#size
    buffer.set(frame.head, offset)
    offset += frame.head.length
    if (frame.body) {
      buffer.set(frame.body, offset)
      offset += frame.body.length
    }
    this.#size = offset - PAYLOAD_OFFSET
  }

  /** Appends `chunk` as DATA frames with the connection's `header` (dataFrameHeader), in payloads of at most `maxPayload` bytes. */
  appendData(header: Uint8Array, chunk: Uint8Array, maxPayload = MAX_PAYLOAD): void {
    for (let start = 0; start < chunk.length; start += maxPayload) {
      const end = Math.min(start + maxPayload, chunk.length)
      const payloadLength = end - start
      const headLength = header.length + 1 + varintLength(payloadLength)
      const buffer = this.#room(2 + headLength + payloadLength)
      let offset = PAYLOAD_OFFSET + this.#size
      buffer.writeUInt16BE(headLength + payloadLength, offset)
      buffer.set(header, offset + 2)
      offset += 2 + header.length
      buffer[offset++] = PAYLOAD_TAG
      offset = writeVarint(buffer, offset, payloadLength)
      buffer.set(start === 0 && end === chunk.length ? chunk : chunk.subarray(start, end), offset)
      this.#size = offset + payloadLength - PAYLOAD_OFFSET
    }
  }

  /** The messages built so far, in order (the one being filled included). */
  take(): BuiltMessage[] {
    this.#seal()
    const sealed = this.#sealed
    this.#sealed = []
    this.#sealedBytes = 0
    return sealed
  }

  /** Drops what was built (the connection went away). */
  clear(): void {
    for (const message of this.#sealed) message.release?.()
    this.#sealed = []
    this.#sealedBytes = 0
    this.#size = 0
  }

  /** The current buffer with room for `bytes` more, sealing the current message first if they do not fit. */
  #room(bytes: number): Buffer {
    if (this.#buffer && this.#size + bytes > MAX_WEBSOCKET_MESSAGE) this.#seal()
    this.#buffer ??= this.#pool.pop() ?? Buffer.allocUnsafeSlow(MESSAGE_BUFFER_SIZE)
    return this.#buffer
  }

  #seal(): void {
    const buffer = this.#buffer
    const size = this.#size
    if (!buffer || size === 0) return
    const maskKey = nextMaskKey()
    this.#size = 0
    this.#sealedBytes += size
    if (size < SMALL_MESSAGE) {
      // Copied out: the message buffer stays for the next frames.
      const headerLength = maskedHeaderLength(size)
      const raw = Buffer.allocUnsafe(headerLength + size + 3)
      const pad = (4 - ((raw.byteOffset + headerLength) % 4)) % 4
      const bytes = raw.subarray(pad, pad + headerLength + size)
      writeMaskedHeader(bytes, headerLength, size, maskKey)
      buffer.copy(bytes, headerLength, PAYLOAD_OFFSET, PAYLOAD_OFFSET + size)
      maskInPlace(bytes, headerLength, size, maskKey)
      this.#sealed.push({bytes})
      return
    }
    this.#buffer = undefined
    const start = writeMaskedHeader(buffer, PAYLOAD_OFFSET, size, maskKey)
    maskInPlace(buffer, PAYLOAD_OFFSET, size, maskKey)
    this.#sealed.push({
      bytes: buffer.subarray(start, PAYLOAD_OFFSET + size),
      release: () => {
        if (this.#pool.length < this.#poolLimit) this.#pool.push(buffer)
      },
    })
  }
}
