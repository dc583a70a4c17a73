// The publishing hot path. mqtt.js owns the connection (TLS, WebSocket, CONNECT,
// keep-alive, reconnection, parsing what the broker sends); PUBLISH packets for
// test traffic are encoded here, many to a buffer, and written straight to the
// client's socket with one write per batch. mqtt.js's own publish() costs five
// socket writes and a callback per message, which caps a single process well
// below what a broker on loopback accepts.
//
// QoS 1 packet ids are allocated here; the broker's PUBACKs are read from
// mqtt.js's 'packetreceive' event (mqtt.js itself ignores acks it did not ask for).
import type {MqttClient} from 'mqtt'

/** The broker's acknowledgement of one QoS 1 message. */
export interface PublishAck {
  /** The message's number, from 1. */
  seq: number
  /** The MQTT packet identifier it was sent with. */
  packetId: number
  /** Milliseconds from writing the message to receiving its PUBACK. */
  latencyMs: number
}

export interface SenderOptions {
  /** QoS 1: the most messages awaiting PUBACK at once. */
  maxInflight: number
  onAck?: (ack: PublishAck) => void
}

const batchBytes = 64 * 1024
const scratch = Buffer.allocUnsafe(batchBytes)

/** Writes PUBLISH packets for one topic to one connected mqtt.js client. */
export class PublishSender {
  readonly qos: 0 | 1
  /** QoS 1 messages written and not yet acknowledged. */
  inflight = 0
  acked = 0
  readonly #client: MqttClient
  readonly #topic: Buffer
  readonly #header: number
  readonly #maxInflight: number
  readonly #refillAt: number
  readonly #onAck: ((ack: PublishAck) => void) | undefined
  // QoS 1 bookkeeping by packet id. Ids only need to be unique among messages in
  // flight, so they cycle through a range a few times the window, not all 65535.
  readonly #idLimit: number
  readonly #pending: Uint8Array
  readonly #seqOf: Float64Array
  readonly #sentAt: Float64Array
  #nextId = 1
  #wake: (() => void) | undefined
  #wakeScheduled = false

  constructor(client: MqttClient, topic: string, qos: 0 | 1, options: SenderOptions) {
    this.#client = client
    this.qos = qos
    const topicBytes = Buffer.from(topic, 'utf8')
    this.#topic = Buffer.concat([Buffer.from([topicBytes.length >> 8, topicBytes.length & 0xff]), topicBytes])
    this.#header = 0x30 | (qos << 1)
    this.#maxInflight = options.maxInflight
    this.#refillAt = Math.max(1, Math.floor(options.maxInflight / 4))
    this.#onAck = options.onAck
    this.#idLimit = qos === 0 ? 0 : Math.min(65535, Math.max(1024, options.maxInflight * 4))
    this.#pending = new Uint8Array(this.#idLimit + 1)
    this.#seqOf = new Float64Array(this.#idLimit + 1)
    this.#sentAt = new Float64Array(this.#idLimit + 1)
    if (qos === 1) client.on('packetreceive', this.#onPacket)
  }

  /** How many messages could be written now: 0 while the socket needs draining, the window is full or the client is offline. */
  get room(): number {
    const stream = this.#client.stream
    if (!this.#client.connected || !stream || stream.destroyed || stream.writableNeedDrain) return 0
    return this.qos === 0 ? Number.MAX_SAFE_INTEGER : this.#maxInflight - this.inflight
  }

  /**
   * Encodes up to `count` messages numbered from `firstSeq` (payload from `payload(seq)`)
   * into one buffer of at most 64 KiB (or one larger message alone) and writes it.
   * Returns how many it wrote: fewer than asked when the buffer or the room ran out.
   */
  write(firstSeq: number, count: number, payload: (seq: number) => string | Buffer): number {
    const n = Math.min(count, this.room)
    if (n <= 0) return 0
    const now = performance.now()
    let offset = 0
    let written = 0
    while (written < n) {
      const seq = firstSeq + written
      const body = payload(seq)
      const packetId = this.qos === 0 ? 0 : this.#allocate()
      const end = encodePublish(scratch, offset, this.#header, this.#topic, packetId, body)
      if (end < 0) {
        if (packetId !== 0) this.#release(packetId)
        if (written > 0) break
        // A message larger than the batch buffer goes alone in a buffer of its own.
        const alone = Buffer.allocUnsafe(-end)
        const id = this.qos === 0 ? 0 : this.#allocate()
        encodePublish(alone, 0, this.#header, this.#topic, id, body)
        if (id !== 0) this.#track(id, seq, now)
        this.#client.stream.write(alone)
        return 1
      }
      if (packetId !== 0) this.#track(packetId, seq, now)
      offset = end
      written++
    }
    this.#client.stream.write(Buffer.from(scratch.subarray(0, offset)))
    return written
  }

  /** Resolves when there may be room again: the socket drained, an ack came, or the connection closed. */
  wait(): Promise<void> {
    if (!this.#client.connected) return Promise.resolve()
    return new Promise((resolve) => {
      const stream = this.#client.stream
      const done = () => {
        stream?.removeListener('drain', done)
        this.#client.removeListener('close', done)
        this.#wake = undefined
        resolve()
      }
      stream?.once('drain', done)
      this.#client.once('close', done)
      this.#wake = done
    })
  }

  /** The connection is gone: its messages in flight will never be acknowledged. Returns how many there were. */
  abandonInflight(): number {
    const lost = this.inflight
    this.#pending.fill(0)
    this.inflight = 0
    return lost
  }

  /** Stops listening to the client. */
  close(): void {
    this.#client.removeListener('packetreceive', this.#onPacket)
    this.#wake?.()
  }

  #onPacket = (packet: {cmd: string; messageId?: number}): void => {
    if (packet.cmd !== 'puback') return
    const id = packet.messageId ?? 0
    if (id > this.#idLimit || this.#pending[id] === 0) return
    this.#pending[id] = 0
    this.inflight--
    this.acked++
    this.#onAck?.({seq: this.#seqOf[id], packetId: id, latencyMs: performance.now() - this.#sentAt[id]})
    // Wake the writer once a quarter of the window is free (or none is in flight), and
    // only after the other acks of the same read: it then refills the window with one
    // write rather than one write per ack, which costs the broker a read per message too.
    const free = this.#maxInflight - this.inflight
    if (this.#wake && !this.#wakeScheduled && (free >= this.#refillAt || this.inflight === 0)) {
      this.#wakeScheduled = true
      setImmediate(() => {
        this.#wakeScheduled = false
        this.#wake?.()
      })
    }
  }

  #allocate(): number {
    let id = this.#nextId
    while (this.#pending[id] !== 0) id = id === this.#idLimit ? 1 : id + 1
    this.#nextId = id === this.#idLimit ? 1 : id + 1
    this.#pending[id] = 2 // reserved until tracked
    return id
  }

  #release(id: number): void {
    this.#pending[id] = 0
    this.#nextId = id
  }

  #track(id: number, seq: number, now: number): void {
    this.#pending[id] = 1
    this.#seqOf[id] = seq
    this.#sentAt[id] = now
    this.inflight++
  }
}

/**
 * Encodes one MQTT 3.1.1 PUBLISH (§3.3) at `offset`: fixed header, remaining length,
 * topic (pre-encoded with its 2-byte length), packet id when QoS > 0, payload.
 * Returns the offset after it, or minus the packet's size when it does not fit.
 */
export function encodePublish(target: Buffer, offset: number, header: number, topic: Buffer, packetId: number, body: string | Buffer): number {
  const bodyBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length
  const remaining = topic.length + (packetId === 0 ? 0 : 2) + bodyBytes
  const size = 1 + (remaining < 128 ? 1 : remaining < 16_384 ? 2 : remaining < 2_097_152 ? 3 : 4) + remaining
  if (offset + size > target.length) return -size
  let at = offset
  target[at++] = header
  let rest = remaining
  do {
    const digit = rest & 0x7f
    rest >>>= 7
    target[at++] = rest > 0 ? digit | 0x80 : digit
  } while (rest > 0)
  at += topic.copy(target, at)
  if (packetId !== 0) {
    target[at++] = packetId >> 8
    target[at++] = packetId & 0xff
  }
  at += typeof body === 'string' ? target.write(body, at, 'utf8') : body.copy(target, at)
  return at
}
