// The WebSocket connection of one local proxy to the tunneling service: handshake,
// subprotocol, keep-alive, batching of frames, flow control, and reconnection.
//
// Handshake rules are from "Connecting to the proxy server and tunnel" and
// "Handshake error responses" in the V2/V3 guides: path /tunnel,
// `local-proxy-mode`, `access-token` header, optional `client-token` header,
// `Sec-WebSocket-Protocol`; 5xx -> retry with exponential backoff, 4xx -> do not
// retry.
import {EventEmitter} from 'node:events'
import type {IncomingMessage} from 'node:http'
import type {Socket} from 'node:net'
import type {Agent} from 'node:http'
import WebSocket from 'ws'
import {InputError} from '../../errors.ts'
import {TunnelProtocolError, TunnelRejectedError, TunnelUnreachableError} from './errors.ts'
import {setFlagsFromString} from 'node:v8'
import {runInNewContext} from 'node:vm'
import {FrameDecoder, MessageBuilder, type DecodedFrame, type OutgoingFrame} from './framing.ts'
import {CLIENT_TOKEN_PATTERN, MAX_WEBSOCKET_MESSAGE, SUBPROTOCOL_V2, SUBPROTOCOL_V3} from './message.ts'
import {proxyAgent, proxyFailure, proxyForUrl} from './proxy-env.ts'
import {registerSecret} from '../../redact/index.ts'

export type ProxyMode = 'source' | 'destination'
export type ProtocolVersion = 2 | 3
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
/** Lib code never prints: callers pass a logger to see what happens. */
export type TunnelLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

export interface RetryOptions {
  /** First reconnect delay (default 500 ms); doubles on each failed attempt. */
  initialDelayMs?: number
  /** Cap of the delay (default 30 s). */
  maxDelayMs?: number
  /** Reconnect attempts without success before giving up (default: never give up). */
  maxAttempts?: number
}

export interface TunnelConnectionOptions {
  mode: ProxyMode
  /** The client access token of OpenTunnel for this mode. */
  token: string
  /** Reconnects as the same client; `^[a-zA-Z0-9-]{32,128}$`. */
  clientToken?: string
  /** Used for the default endpoint `wss://data.tunneling.iot.<region>.amazonaws.com:443`. */
  region?: string
  /** Overrides the service endpoint, e.g. `wss://127.0.0.1:8443`. */
  endpoint?: string
  /** Extra trust anchors (tests). Production uses the system store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | (string | Buffer)[]
  /** Subprotocol versions to offer, preferred first (default [3, 2]). */
  protocols?: ProtocolVersion[]
  /** Where HTTPS_PROXY / NO_PROXY are read (default process.env). */
  env?: Record<string, string | undefined>
  /** WebSocket ping period (default 20 s). */
  pingIntervalMs?: number
  retry?: RetryOptions
  /** Bytes buffered towards the service above which local reads pause (default 1 MiB). */
  highWaterMark?: number
  logger?: TunnelLogger
  /** Retry (within `retry`) after the server's certificate was refused, e.g. an unattended device whose clock is not set yet. */
  retryCertificateErrors?: boolean
}

export interface OpenInfo {
  protocol: ProtocolVersion
  /** The `channel-id` response header, for AWS Support. */
  channelId: string | undefined
}

export interface ConnectionEvents {
  open: [info: OpenInfo]
  frame: [frame: DecodedFrame]
  /** An open WebSocket closed; `retrying` says whether a reconnect follows. */
  disconnected: [info: {code: number; reason: string; retrying: boolean}]
  reconnecting: [info: {delayMs: number; attempt: number; reason: string}]
  /** Nothing will be retried any more (4xx, protocol mismatch, attempts exhausted). */
  fatal: [error: Error]
  /** Buffered bytes towards the service fell back to zero after congestion. */
  drain: []
  closed: []
}

/** OpenSSL/Node verification failures of the server certificate. */
const TLS_VERIFY_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS_CERT_ALTNAME_INVALID/

const SUBPROTOCOLS: Record<ProtocolVersion, string> = {2: SUBPROTOCOL_V2, 3: SUBPROTOCOL_V3}

/**
 * AWS region names (us-east-1, us-gov-west-1, cn-north-1). A region picks the host
 * an access token is sent to, so nothing else (`x@host:port/`) may stand in for one.
 */
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/

/** The tunneling data plane's host for a region (V2/V3 guides: data.tunneling.iot.<region>.amazonaws.com). */
export function regionalHost(region: string): string {
  if (!REGION_PATTERN.test(region)) throw new InputError(`region ${JSON.stringify(region)} is not an AWS region name such as eu-west-1`)
  return `data.tunneling.iot.${region}.amazonaws.com`
}

export function defaultEndpoint(region: string): string {
  const url = new URL('wss://placeholder:443')
  url.hostname = regionalHost(region)
  return url.origin
}

/** `wss://host[:port]/tunnel?local-proxy-mode=<mode>` from an endpoint or a region. */
export function tunnelUrl(mode: ProxyMode, endpoint: string | undefined, region: string | undefined): URL {
  if (!endpoint && !region) throw new InputError('the tunnel endpoint needs a region (or an explicit endpoint)')
  const base = endpoint ?? defaultEndpoint(region ?? '')
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(base) ? base : `wss://${base}`)
  } catch {
    throw new InputError(`tunnel endpoint ${base} is not a URL`)
  }
  if (url.protocol === 'https:') url.protocol = 'wss:'
  if (url.protocol === 'http:') url.protocol = 'ws:'
  if (url.protocol !== 'wss:' && url.protocol !== 'ws:') throw new InputError(`tunnel endpoint ${base} must be a wss:// URL`)
  url.pathname = '/tunnel'
  url.search = ''
  url.searchParams.set('local-proxy-mode', mode)
  // Without an explicit endpoint the token goes to the region's tunneling host and nowhere else.
  if (!endpoint && url.hostname !== regionalHost(region ?? '')) throw new InputError(`region ${JSON.stringify(region)} does not name a tunneling endpoint`)
  return url
}

/** Exponential backoff: initial * 2^(attempt-1), capped, with ±20 % jitter. */
export function backoffDelay(attempt: number, retry: RetryOptions = {}, random: () => number = Math.random): number {
  const initial = retry.initialDelayMs ?? 500
  const max = retry.maxDelayMs ?? 30_000
  const base = Math.min(max, initial * 2 ** Math.max(0, attempt - 1))
  return Math.max(0, Math.round(base * (0.8 + 0.4 * random())))
}

export function validateClientToken(clientToken: string | undefined): void {
  if (clientToken !== undefined && !CLIENT_TOKEN_PATTERN.test(clientToken)) {
    throw new InputError('client token must be 32 to 128 letters, digits or dashes')
  }
}

/**
 * One proxy's link to the service. Call `start()`; it connects, and reconnects
 * after drops and 5xx answers until `close()`. Outgoing frames are batched into
 * WebSocket messages of at most 131076 bytes at the end of the current I/O
 * phase. `congested` tells senders to pause their reads until `drain`.
 */
export class TunnelConnection extends EventEmitter<ConnectionEvents> {
  readonly mode: ProxyMode
  readonly url: URL
  readonly #options: TunnelConnectionOptions
  readonly #log: TunnelLogger
  readonly #decoder = new FrameDecoder()
  readonly #highWaterMark: number
  #ws: WebSocket | undefined
  #socket: Socket | undefined
  #open = false
  #protocol: ProtocolVersion | undefined
  /** Reconnects since the last connection that delivered a message. */
  #retries = 0
  #closing = false
  #closed = false
  #reconnectTimer: NodeJS.Timeout | undefined
  #pingTimer: NodeJS.Timeout | undefined
  /** Frames sent since the last flush, already copied into masked WebSocket messages. */
  readonly #builder: MessageBuilder
  #flushScheduled: NodeJS.Immediate | undefined
  #recheck: NodeJS.Immediate | undefined
  #congested = false
  #readBlockers = new Set<unknown>()
  #heldSenders = new Set<{resume(): unknown}>()
  #handshakeStatus: number | undefined
  #channelId: string | undefined
  #fatal: Error | undefined
  #closedPromise: Promise<void> | undefined
  /** Set while the proxy agent module loads. */
  #connecting: Promise<void> | undefined

  constructor(options: TunnelConnectionOptions) {
    super()
    if (!options.token) throw new InputError('the tunnel needs a client access token')
    // Whoever handed it over (token file, environment, a notification), no debug line shows it.
    registerSecret(options.token)
    validateClientToken(options.clientToken)
    this.mode = options.mode
    this.url = tunnelUrl(options.mode, options.endpoint, options.region)
    this.#options = options
    this.#log = options.logger ?? (() => {})
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024
    // Enough pooled message buffers for what may be in flight: the mark, and as much again before 'drain'.
    this.#builder = new MessageBuilder(Math.ceil((2 * this.#highWaterMark) / MAX_WEBSOCKET_MESSAGE) + 2)
  }

  get isOpen(): boolean {
    return this.#open
  }

  /** The negotiated subprotocol version while open. */
  get protocol(): ProtocolVersion | undefined {
    return this.#protocol
  }

  /** Bytes waiting to reach the service: batched frames plus the WebSocket's buffer. */
  get bufferedAmount(): number {
    return this.#builder.pendingBytes + (this.#ws ? this.#ws.bufferedAmount : 0)
  }

  /** True when senders should stop reading until `drain`. */
  get congested(): boolean {
    return this.#congested
  }

  start(): void {
    if (this.#ws || this.#connecting || this.#closing) return
    this.#connect()
  }

  #connect(): void {
    this.#reconnectTimer = undefined
    const proxy = proxyForUrl(this.url, this.#options.env ?? process.env)
    if (!proxy) return this.#openWebSocket(undefined, undefined)
    // Loaded only when a proxy is configured: it brings ~10 MB of modules.
    this.#connecting = proxyAgent(proxy).then(
      (agent) => {
        this.#connecting = undefined
        if (!this.#closing) this.#openWebSocket(proxy, agent)
        else this.#finish()
      },
      (error: unknown) => {
        this.#connecting = undefined
        this.#fatal = error as Error
        this.emit('fatal', this.#fatal)
        this.#finish()
      },
    )
  }

  #openWebSocket(proxy: URL | undefined, agent: Agent | undefined): void {
    this.#handshakeStatus = undefined
    this.#channelId = undefined
    const options = this.#options
    const versions = options.protocols ?? [3, 2]
    const headers: Record<string, string> = {'access-token': options.token}
    if (options.clientToken) headers['client-token'] = options.clientToken
    const wsOptions: WebSocket.ClientOptions = {
      headers,
      perMessageDeflate: false,
      maxPayload: MAX_WEBSOCKET_MESSAGE,
      handshakeTimeout: 30_000,
      skipUTF8Validation: true,
      followRedirects: false,
    }
    if (options.ca !== undefined) wsOptions.ca = options.ca
    if (agent) wsOptions.agent = agent
    this.#log('debug', 'connecting to the tunnel', {url: this.url.href, retry: this.#retries, proxy: proxy?.host})

    const ws = new WebSocket(this.url, versions.map(version => SUBPROTOCOLS[version]), wsOptions)
    this.#ws = ws
    let lastError: Error | undefined

    ws.on('upgrade', (response: IncomingMessage) => {
      this.#channelId = headerValue(response.headers['channel-id'])
      this.#socket = response.socket
    })
    ws.on('unexpected-response', (_request, response) => {
      this.#handshakeStatus = response.statusCode
      this.#channelId = headerValue(response.headers['channel-id'])
      response.resume()
      ws.terminate()
    })
    ws.on('open', () => {
      const protocol = ws.protocol === SUBPROTOCOL_V3 ? 3 : 2
      this.#open = true
      this.#protocol = protocol
      this.#socket?.setKeepAlive(true, 30_000)
      this.#socket?.on('drain', this.#onSocketDrain)
      const pingIntervalMs = options.pingIntervalMs ?? 20_000
      if (pingIntervalMs > 0) {
        this.#pingTimer = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) ws.ping()
        }, pingIntervalMs)
        this.#pingTimer.unref()
      }
      this.#log('info', 'connected to the tunnel', {protocol: ws.protocol, channelId: this.#channelId})
      this.emit('open', {protocol, channelId: this.#channelId})
    })
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (!isBinary) {
        // "If any text frames are received, clients SHOULD close the WebSocket connection."
        this.#log('warn', 'the service sent a text WebSocket message; reconnecting')
        ws.close(1003, 'text messages are not part of the protocol')
        return
      }
      this.#retries = 0
      noteTransientBuffer((data as Buffer).length)
      const frames = this.#decoder.push(data as Buffer)
      for (const frame of frames) {
        if (this.#ws !== ws) return
        this.emit('frame', frame)
      }
    })
    ws.on('error', (error: NodeJS.ErrnoException) => {
      lastError = error
      const refusedByProxy = proxy && proxyFailure(error, proxy)
      if (refusedByProxy) {
        this.#fatal = refusedByProxy
      } else if (error.code && TLS_VERIFY_ERRORS.test(error.code) && !options.retryCertificateErrors) {
        // Retrying does not change a certificate: say so instead of retrying forever.
        this.#fatal = new TunnelUnreachableError(`the TLS certificate of ${this.url.host} was not accepted (${error.code}: ${error.message}); a proxy that inspects TLS needs its CA in NODE_EXTRA_CA_CERTS`)
      } else if (/subprotocol/i.test(error.message)) {
        this.#fatal = new TunnelProtocolError('SubprotocolMismatch', `the service did not accept ${versions.map(v => SUBPROTOCOLS[v]).join(' or ')}: ${error.message}`)
      }
    })
    ws.on('close', (code: number, reasonBuffer: Buffer) => {
      const wasOpen = this.#open
      this.#teardownSocket(ws)
      const reason = this.#handshakeStatus !== undefined
        ? `HTTP ${this.#handshakeStatus}`
        : reasonBuffer.length > 0 ? reasonBuffer.toString() : lastError?.message ?? `close code ${code}`
      const status = this.#handshakeStatus
      if (!this.#fatal && status !== undefined && status >= 400 && status < 500) {
        this.#fatal = new TunnelRejectedError(status, `the tunneling service rejected the ${this.mode} token with HTTP ${status} (wrong or used-up token, wrong mode, or closed tunnel)`, this.#channelId)
      }
      const maxAttempts = options.retry?.maxAttempts ?? Number.POSITIVE_INFINITY
      if (!this.#fatal && !this.#closing && this.#retries >= maxAttempts) {
        this.#fatal = new TunnelUnreachableError(`could not connect to ${this.url.host} after ${this.#retries + 1} attempts: ${reason}`, status)
      }
      const retrying = !this.#closing && !this.#fatal
      if (wasOpen) {
        this.#log('info', 'disconnected from the tunnel', {code, reason, retrying})
        this.emit('disconnected', {code, reason, retrying})
      }
      if (this.#closing) return this.#finish()
      if (this.#fatal) {
        this.#log('error', this.#fatal.message)
        this.emit('fatal', this.#fatal)
        return this.#finish()
      }
      this.#retries++
      const delayMs = backoffDelay(this.#retries, options.retry)
      this.#log('info', `reconnecting in ${delayMs} ms`, {attempt: this.#retries, reason})
      this.emit('reconnecting', {delayMs, attempt: this.#retries, reason})
      this.#reconnectTimer = setTimeout(() => this.#connect(), delayMs)
    })
  }

  #teardownSocket(ws: WebSocket): void {
    if (this.#ws === ws) this.#ws = undefined
    this.#socket?.off('drain', this.#onSocketDrain)
    this.#socket = undefined
    this.#open = false
    this.#protocol = undefined
    if (this.#pingTimer) clearInterval(this.#pingTimer)
    this.#pingTimer = undefined
    if (this.#flushScheduled) clearImmediate(this.#flushScheduled)
    this.#flushScheduled = undefined
    this.#builder.clear()
    this.#readBlockers.clear()
    this.#decoder.reset()
    if (this.#recheck) clearImmediate(this.#recheck)
    this.#recheck = undefined
    if (this.#congested) this.#drained(true)
  }

  /**
   * Room below the mark: held readers resume, oldest first, as many as the room
   * takes one read (64 KiB) each, so that 64 connections resuming together do
   * not put 4 MiB in flight at once; the others wait for the next turn (`all`:
   * every one, when the WebSocket went away).
   */
  #drained(all = false): void {
    const budget = all ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor((this.#highWaterMark - this.bufferedAmount) / READ_SIZE))
    const resumed: {resume(): unknown}[] = []
    for (const sender of this.#heldSenders) {
      if (resumed.length >= budget) break
      resumed.push(sender)
    }
    for (const sender of resumed) this.#heldSenders.delete(sender)
    if (this.#heldSenders.size === 0) {
      this.#congested = false
      this.emit('drain')
    } else {
      // Still congested for the readers that wait; the next flush (or this check, if
      // the resumed ones had nothing to send) lets the next ones go.
      this.#recheck ??= setImmediate(this.#recheckHeld)
    }
    for (const sender of resumed) sender.resume()
  }

  readonly #recheckHeld = (): void => {
    this.#recheck = undefined
    if (this.#congested && this.bufferedAmount <= this.#highWaterMark) this.#drained()
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    this.emit('closed')
  }

  readonly #onSocketDrain = (): void => {
    if (this.#congested && this.bufferedAmount <= this.#highWaterMark / 4) this.#drained()
  }

  /** Queues one frame; false if the WebSocket is not open (the frame is dropped). */
  send(frame: OutgoingFrame): boolean {
    if (!this.#open) return false
    this.#builder.append(frame)
    this.#queued()
    return true
  }

  /**
   * Queues `chunk` as DATA frames with a connection's `header` (dataFrameHeader).
   * The bytes are copied at once: the caller may reuse or drop `chunk`.
   */
  sendData(header: Uint8Array, chunk: Uint8Array): boolean {
    if (!this.#open) return false
    this.#builder.appendData(header, chunk)
    this.#queued()
    return true
  }

  #queued(): void {
    if (!this.#flushScheduled) this.#flushScheduled = setImmediate(this.#flush)
    if (!this.#congested && this.bufferedAmount > this.#highWaterMark) this.#congested = true
  }

  /** Sends the queued frames now (normally done at the end of the I/O phase). */
  readonly #flush = (): void => {
    this.#flushScheduled = undefined
    const ws = this.#ws
    const socket = this.#socket
    const messages = this.#builder.take()
    if (!ws || !socket || ws.readyState !== WebSocket.OPEN || messages.length === 0) {
      for (const message of messages) message.release?.()
      return
    }
    // Data messages are framed and masked here and written to the socket directly:
    // ws masks byte by byte in JavaScript (without the optional native bufferutil),
    // which costs more than TLS. Whole frames are written synchronously, so they
    // never interleave with ws's own control frames (ping, pong, close).
    // One message (interactive traffic) is one write; several go out in one writev.
    if (messages.length > 1) socket.cork()
    for (const {bytes, release} of messages) socket.write(bytes, release)
    if (messages.length > 1) socket.uncork()
    // Above the mark the socket's own buffer is far above its 16 KiB mark, so a
    // 'drain' follows; at or below it, release the held readers now.
    if (this.bufferedAmount > this.#highWaterMark) this.#congested = true
    else if (this.#congested) this.#drained()
  }

  /** Pauses a local reader until the buffered bytes towards the service drain. */
  holdUntilDrained(sender: {pause(): unknown; resume(): unknown}): void {
    if (!this.#congested) return
    sender.pause()
    this.#heldSenders.add(sender)
  }

  /** Stops reading from the service while `blocker` (e.g. a full TCP socket) is registered. */
  pauseReading(blocker: unknown): void {
    if (this.#readBlockers.has(blocker)) return
    this.#readBlockers.add(blocker)
    if (this.#readBlockers.size === 1) this.#ws?.pause()
  }

  resumeReading(blocker: unknown): void {
    if (!this.#readBlockers.delete(blocker)) return
    if (this.#readBlockers.size === 0) this.#ws?.resume()
  }

  /** Drops the current WebSocket (without a close frame) and reconnects. */
  reconnect(reason: string): void {
    if (!this.#ws) return
    this.#log('warn', `dropping the tunnel connection: ${reason}`)
    this.#ws.terminate()
  }

  /** Closes the WebSocket and stops reconnecting. Resolves when everything is released. */
  close(): Promise<void> {
    if (this.#closedPromise) return this.#closedPromise
    this.#closing = true
    this.#closedPromise = new Promise<void>(resolve => {
      if (this.#closed) return resolve()
      this.once('closed', () => resolve())
      if (this.#reconnectTimer) {
        clearTimeout(this.#reconnectTimer)
        this.#reconnectTimer = undefined
      }
      const ws = this.#ws
      if (!ws) {
        // A connection waiting for the proxy agent finishes once that import settles.
        if (!this.#connecting) this.#finish()
        return
      }
      if (ws.readyState === WebSocket.OPEN) {
        if (this.#flushScheduled) {
          clearImmediate(this.#flushScheduled)
          this.#flush()
        }
        ws.close(1000)
        // The service may not answer the close frame; do not wait for ws's 30 s timeout.
        const timer = setTimeout(() => ws.terminate(), 2000)
        ws.once('close', () => clearTimeout(timer))
      } else {
        ws.terminate()
      }
    })
    return this.#closedPromise
  }
}

/** Bytes one read of a local socket delivers at most (libuv's suggested size in Node). */
const READ_SIZE = 64 * 1024

/**
 * Every socket and TLS read hands over a freshly allocated buffer (up to 64 KiB),
 * and ws joins a message's fragments into another. Each is garbage once copied
 * or written, but V8 counts it as external memory and collects it only after
 * ~64 MB of such growth (or when the young generation fills, up to 16 MB of
 * small objects later): while streaming, the process held 3-5x its live bytes.
 * A minor GC after every TRANSIENT_LIMIT bytes read keeps that garbage within
 * the flow-control window; it costs ~0.1 ms, about 0.03 s per GiB.
 */
const TRANSIENT_LIMIT = 4 * 1024 * 1024
/**
 * Reads held by paused sockets (one per connection that waits for the window)
 * outlive two minor GCs and move to the old generation, which only a full GC
 * empties; past this many bytes of array buffers, one is started (incremental
 * marking, no long pause).
 */
const HELD_LIMIT = 16 * 1024 * 1024
let transientBytes = 0
let collector: {minor(): void; major(): void} | undefined | null

function loadCollector(): {minor(): void; major(): void} | null {
  // `gc` is exposed only to a context created while --expose-gc is set; the flag is put back at once.
  try {
    setFlagsFromString('--expose-gc')
    const gc = runInNewContext('gc') as ((options: {type: 'minor' | 'major'; execution?: 'async'}) => void) | undefined
    return gc ? {minor: () => gc({type: 'minor'}), major: () => gc({type: 'major', execution: 'async'})} : null
  } catch {
    return null
  } finally {
    setFlagsFromString('--no-expose-gc')
  }
}

/** Notes `bytes` read into a fresh buffer that is garbage once handled; collects after each TRANSIENT_LIMIT. */
export function noteTransientBuffer(bytes: number): void {
  transientBytes += bytes
  if (transientBytes < TRANSIENT_LIMIT) return
  transientBytes = 0
  if (collector === undefined) collector = loadCollector()
  if (!collector) return
  collector.minor()
  if (process.memoryUsage().arrayBuffers > HELD_LIMIT) collector.major()
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value
}
