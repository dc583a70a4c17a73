// One local byte stream (a TCP socket, or stdin/stdout) bridged to one tunnel
// connection: DATA frames both ways, a reset when either side ends, and flow
// control in both directions so that memory stays bounded.
import type {Readable, Writable} from 'node:stream'
import {noteTransientBuffer, type TunnelConnection} from './connection.ts'
import {dataFrameHeader, encodeFrame} from './framing.ts'
import {MessageType, type TunnelMessageInit} from './message.ts'

/** The local side: for TCP both are the socket; for a ProxyCommand, stdin and stdout. */
export interface LocalEndpoint {
  input: Readable
  output: Writable
  /** Releases the endpoint at once (socket.destroy()). */
  destroy(): void
}

/** Why a connection ended: its local side, the peer's reset, the tunnel's loss, a local error, the proxy's shutdown. */
export type CloseReason = 'local' | 'peer' | 'tunnel' | 'error' | 'proxy'

export interface LocalConnectionIds {
  serviceId: string
  /** The service id on the wire ('' on tunnels without services). */
  wireServiceId: string
  streamId: number
  /** 0 for streams without connection ids (protocol V1/V2). */
  connectionId: number
}

/** Payloads at least this large are gathered into one writev per tick. */
const CORK_MIN = 16 * 1024

/** After the peer reset a connection, how long a local side that keeps its end open is waited for. */
const LINGER_MS = 10_000

export class LocalConnection {
  readonly ids: LocalConnectionIds
  readonly #endpoint: LocalEndpoint
  readonly #tunnel: TunnelConnection
  readonly #header: Uint8Array
  readonly #resetMessage: TunnelMessageInit
  readonly #onClosed: (connection: LocalConnection, reason: CloseReason, error?: Error) => void
  #state: 'open' | 'draining' | 'closed' = 'open'
  #drainReason: CloseReason = 'peer'
  #blocked = false
  #corked = false
  #lingerTimer: NodeJS.Timeout | undefined
  /** Bytes from the peer written to the local side / read from the local side. */
  bytesIn = 0
  bytesOut = 0

  constructor(
    tunnel: TunnelConnection,
    endpoint: LocalEndpoint,
    ids: LocalConnectionIds,
    onClosed: (connection: LocalConnection, reason: CloseReason, error?: Error) => void,
  ) {
    this.ids = ids
    this.#tunnel = tunnel
    this.#endpoint = endpoint
    this.#onClosed = onClosed
    this.#header = dataFrameHeader(ids.streamId, ids.wireServiceId, ids.connectionId)
    // V3 ends one connection with CONNECTION_RESET; V1/V2 streams have one connection and end with STREAM_RESET.
    this.#resetMessage = ids.connectionId === 0
      ? {type: MessageType.STREAM_RESET, streamId: ids.streamId, serviceId: ids.wireServiceId}
      : {type: MessageType.CONNECTION_RESET, streamId: ids.streamId, serviceId: ids.wireServiceId, connectionId: ids.connectionId}
    const {input, output} = endpoint
    input.on('data', this.#onData)
    input.on('end', this.#onEnd)
    input.on('close', this.#onInputClose)
    // Stays attached after the end: a late ECONNRESET must not become an uncaught error.
    input.on('error', this.#onError)
    if ((output as unknown) !== input) output.on('error', this.#onError)
    input.resume()
  }

  get isOpen(): boolean {
    return this.#state === 'open'
  }

  /** Bytes read from the local side and not yet framed (held while the tunnel is congested). */
  get pendingInput(): number {
    return this.#endpoint.input.readableLength
  }

  /** Bytes written towards the local side and not yet taken by it. */
  get pendingOutput(): number {
    return this.#endpoint.output.writableLength
  }

  readonly #onData = (chunk: Buffer): void => {
    this.fromLocal(chunk, {reused: false})
  }

  /**
   * Bytes read from the local side: its 'data' events, or a socket's `onread`
   * callback (`reused`: the read buffer is the caller's, reused for the next read).
   */
  fromLocal(chunk: Uint8Array, {reused}: {reused: boolean}): void {
    if (this.#state !== 'open') return
    this.bytesOut += chunk.length
    // Copied into the outgoing message at once: `chunk` is free when this returns.
    this.#tunnel.sendData(this.#header, chunk)
    // A fresh read buffer is garbage now.
    if (!reused) noteTransientBuffer(chunk.length)
    if (this.#tunnel.congested) this.#tunnel.holdUntilDrained(this.#endpoint.input)
  }

  readonly #onEnd = (): void => {
    this.#closeFromLocal('local')
  }

  readonly #onError = (error: Error): void => {
    this.#closeFromLocal('error', error)
  }

  readonly #onInputClose = (): void => {
    if (this.#state === 'open') this.#closeFromLocal('local')
    else if (this.#state === 'draining') this.#finish(this.#drainReason, undefined, false)
  }

  /** The local side ended or failed: tell the peer (after the data already queued), release the endpoint. */
  #closeFromLocal(reason: CloseReason, error?: Error): void {
    if (this.#state === 'draining' && error) return this.#finish(this.#drainReason, undefined, true)
    if (this.#state !== 'open') return
    this.#tunnel.send({head: encodeFrame(this.#resetMessage)})
    if (!error) this.#endpoint.output.end()
    this.#finish(reason, error, Boolean(error))
  }

  /** Data from the peer for this connection. */
  write(payload: Uint8Array): void {
    if (this.#state !== 'open') return
    this.bytesIn += payload.length
    const output = this.#endpoint.output
    // The payloads of one read from the tunnel (a 128 KiB message holds two
    // 63 KiB frames) go to the local side in one writev, at the end of this tick;
    // small ones (interactive traffic) are written at once, without the extra tick.
    if (!this.#corked && payload.length >= CORK_MIN) {
      this.#corked = true
      output.cork()
      process.nextTick(this.#uncork)
    }
    if (!output.write(payload) && !this.#blocked) {
      this.#blocked = true
      this.#tunnel.pauseReading(this)
      this.#endpoint.output.once('drain', this.#onOutputDrain)
    }
  }

  readonly #uncork = (): void => {
    this.#corked = false
    this.#endpoint.output.uncork()
  }

  readonly #onOutputDrain = (): void => {
    this.#unblock()
  }

  #unblock(): void {
    if (!this.#blocked) return
    this.#blocked = false
    this.#endpoint.output.off('drain', this.#onOutputDrain)
    this.#tunnel.resumeReading(this)
  }

  /**
   * The peer reset this connection, or the tunnel went away: flush what was
   * received, end the local side, and discard anything more it sends ("orderly
   * shutdown ... flush any local connection buffers before closing").
   */
  closeFromPeer(reason: CloseReason = 'peer'): void {
    if (this.#state !== 'open') return
    this.#state = 'draining'
    this.#drainReason = reason
    this.#unblock()
    const {input, output} = this.#endpoint
    input.off('data', this.#onData)
    input.resume()
    output.end()
    if (input.destroyed) return this.#finish(reason, undefined, false)
    this.#lingerTimer = setTimeout(() => this.#finish(reason, undefined, true), LINGER_MS)
  }

  /** Releases the endpoint at once, without telling the peer (proxy shutdown). */
  abort(reason: CloseReason = 'proxy'): void {
    this.#finish(reason, undefined, true)
  }

  #finish(reason: CloseReason, error: Error | undefined, destroy: boolean): void {
    if (this.#state === 'closed') return
    this.#state = 'closed'
    if (this.#lingerTimer) clearTimeout(this.#lingerTimer)
    this.#lingerTimer = undefined
    this.#unblock()
    const {input} = this.#endpoint
    input.off('data', this.#onData)
    input.off('end', this.#onEnd)
    input.off('close', this.#onInputClose)
    if (destroy) this.#endpoint.destroy()
    this.#onClosed(this, reason, error)
  }
}
