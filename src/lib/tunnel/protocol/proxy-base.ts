// What source and destination proxies share: the tunnel connection, the
// per-service stream state, handling of DATA and resets, malformed frames, the
// ready/closed promises and events.
import {randomUUID} from 'node:crypto'
import {EventEmitter} from 'node:events'
import {Interrupted} from '../../errors.ts'
import {
  TunnelConnection, type OpenInfo, type ProtocolVersion, type ProxyMode, type RetryOptions, type TunnelLogger,
} from './connection.ts'
import {encodeFrame, type DecodedFrame} from './framing.ts'
import type {CloseReason, LocalConnection} from './local-connection.ts'
import {MessageType, messageTypeName, type TunnelMessage, type TunnelMessageInit} from './message.ts'

export interface CommonProxyOptions {
  /** The client access token of OpenTunnel for this side. */
  token: string
  /**
   * Reconnects as the same client after a drop. Without one the service makes the
   * access token unusable after the first handshake, so a random one is made.
   */
  clientToken?: string
  region?: string
  /** Overrides `wss://data.tunneling.iot.<region>.amazonaws.com:443`. */
  endpoint?: string
  /** Extra CAs (tests); otherwise the system store plus NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer | (string | Buffer)[]
  /** Where HTTPS_PROXY / NO_PROXY are read (default process.env). */
  env?: Record<string, string | undefined>
  /** Subprotocols to offer, preferred first (default [3, 2]). */
  protocols?: ProtocolVersion[]
  retry?: RetryOptions
  pingIntervalMs?: number
  /** Bytes buffered towards the service above which local reads pause (default 1 MiB). */
  highWaterMark?: number
  logger?: TunnelLogger
  /** Aborting closes the proxy. */
  signal?: AbortSignal
  /** Retry after the service's certificate was refused instead of failing at once (the agent). */
  retryCertificateErrors?: boolean
}

export interface ReadyInfo {
  /** The tunnel's services (SERVICE_IDS); empty for a tunnel opened without services. */
  serviceIds: string[]
  protocol: ProtocolVersion
}

export interface ConnectionInfo {
  serviceId: string
  streamId: number
  connectionId: number
}

export interface ProxyEvents {
  /** The WebSocket handshake succeeded. */
  connected: [info: OpenInfo]
  /** SERVICE_IDS arrived and matches the configuration: connections are served. */
  ready: [info: ReadyInfo]
  /**
   * The first message from the other side since connecting. The protocol has no
   * presence message ("the tunnel peers have no knowledge if the other side has
   * disconnected"); DescribeTunnel's connection states say it before any traffic.
   */
  peer: [info: {serviceId: string; streamId: number}]
  disconnected: [info: {code: number; reason: string; retrying: boolean}]
  reconnecting: [info: {delayMs: number; attempt: number; reason: string}]
  'connection-open': [info: ConnectionInfo]
  'connection-close': [info: ConnectionInfo & {reason: CloseReason; error?: Error}]
  /** A stream or connection was reset, by the peer or by this proxy (with why). */
  'stream-reset': [info: {serviceId: string; streamId: number; connectionId?: number; by: 'peer' | 'proxy'; reason: string}]
}

export interface ProxyStats {
  connections: number
  /** Bytes batched or buffered towards the service. */
  bufferedToTunnel: number
  /** Bytes written to local sockets and not yet taken by them. */
  bufferedToLocal: number
  /** Bytes read from local sockets and held while the tunnel is congested. */
  bufferedFromLocal: number
  /** Payload bytes received from / sent to the peer over the lifetime of the proxy. */
  bytesFromPeer: number
  bytesToPeer: number
}

export interface ServiceState {
  /** The name in the proxy's configuration. */
  name: string
  /** The service id on the wire ('' for a tunnel without services). */
  wireId: string
  /** The active stream, if any. */
  streamId: number | undefined
  /** The active stream has no connection ids (V1/V2 peer or subprotocol). */
  singleConnection: boolean
  nextConnectionId: number
  connections: Map<number, LocalConnection>
}

export function newServiceState(name: string, wireId: string): ServiceState {
  return {name, wireId, streamId: undefined, singleConnection: false, nextConnectionId: 1, connections: new Map()}
}

const RECENT_RESETS_LIMIT = 1024

export abstract class TunnelProxyBase extends EventEmitter<ProxyEvents> {
  readonly mode: ProxyMode
  readonly clientToken: string
  /** Resolves when the tunnel is connected and its services are known; rejects on a fatal error. */
  readonly ready: Promise<ReadyInfo>
  /** Resolves when the proxy has stopped, with the error that stopped it, if any. */
  readonly closed: Promise<{error?: Error}>
  protected readonly connection: TunnelConnection
  protected readonly log: TunnelLogger
  /** By wire service id. */
  protected services = new Map<string, ServiceState>()
  protected isReady = false
  protected closing = false
  #resolveReady!: (info: ReadyInfo) => void
  #rejectReady!: (error: Error) => void
  #readySettled = false
  #resolveClosed!: (result: {error?: Error}) => void
  #closePromise: Promise<void> | undefined
  #fatal: Error | undefined
  #peerSeen = false
  #recentResets = new Set<string>()
  #signal: AbortSignal | undefined
  #bytesFromPeer = 0
  #bytesToPeer = 0
  /**
   * Every local connection from its start until its close callback. A connection the
   * peer closed leaves its service's map at once but drains its output first: until
   * then only this set holds it, so that stats() counts its bytes and close() ends it.
   */
  readonly #live = new Set<LocalConnection>()

  constructor(mode: ProxyMode, options: CommonProxyOptions) {
    super()
    this.mode = mode
    this.log = options.logger ?? (() => {})
    this.clientToken = options.clientToken ?? randomUUID()
    this.ready = new Promise<ReadyInfo>((resolve, reject) => {
      this.#resolveReady = resolve
      this.#rejectReady = reject
    })
    // A caller that only awaits `closed` must not get an unhandled rejection.
    this.ready.catch(() => {})
    this.closed = new Promise(resolve => {
      this.#resolveClosed = resolve
    })
    const connectionOptions: ConstructorParameters<typeof TunnelConnection>[0] = {mode, token: options.token, clientToken: this.clientToken}
    for (const key of ['region', 'endpoint', 'ca', 'env', 'protocols', 'retry', 'pingIntervalMs', 'highWaterMark', 'logger', 'retryCertificateErrors'] as const) {
      if (options[key] !== undefined) (connectionOptions as unknown as Record<string, unknown>)[key] = options[key]
    }
    this.connection = new TunnelConnection(connectionOptions)
    this.connection.on('open', info => {
      this.#peerSeen = false
      this.emit('connected', info)
    })
    this.connection.on('frame', frame => this.#onFrame(frame))
    this.connection.on('disconnected', info => this.#onDisconnected(info))
    this.connection.on('reconnecting', info => this.emit('reconnecting', info))
    this.connection.on('fatal', error => this.fail(error))
    this.#signal = options.signal
    this.#signal?.addEventListener('abort', this.#onAbort)
  }

  readonly #onAbort = (): void => {
    void this.close()
  }

  protected startConnecting(): void {
    if (this.#signal?.aborted) {
      void this.close()
      return
    }
    this.connection.start()
  }

  stats(): ProxyStats {
    let connections = 0
    let bufferedToLocal = 0
    let bufferedFromLocal = 0
    let bytesFromPeer = this.#bytesFromPeer
    let bytesToPeer = this.#bytesToPeer
    for (const service of this.services.values()) connections += service.connections.size
    for (const connection of this.#live) {
      bufferedToLocal += connection.pendingOutput
      bufferedFromLocal += connection.pendingInput
      bytesFromPeer += connection.bytesIn
      bytesToPeer += connection.bytesOut
    }
    return {connections, bufferedToTunnel: this.connection.bufferedAmount, bufferedToLocal, bufferedFromLocal, bytesFromPeer, bytesToPeer}
  }

  /** Checks SERVICE_IDS against the configuration and (re)builds `services`; throws a typed error on a mismatch. */
  protected abstract applyServiceIds(serviceIds: string[]): void
  protected abstract onStreamStart(message: TunnelMessage): void
  protected abstract onConnectionStart(message: TunnelMessage): void
  /** Called after each SERVICE_IDS once `isReady` is set. */
  protected afterReady(): void {
    // Nothing by default; the source proxy starts the connections that waited for the service ids.
  }
  /** Called when the proxy stops: release listeners and local endpoints. */
  protected abstract releaseLocal(): Promise<void>

  protected sendControl(message: TunnelMessageInit): void {
    this.connection.send({head: encodeFrame(message)})
  }

  /** The service a message is for; a message without a service id belongs to the only service. */
  protected serviceFor(wireId: string): ServiceState | undefined {
    const service = this.services.get(wireId)
    if (service || wireId !== '' || this.services.size !== 1) return service
    return this.services.values().next().value
  }

  /** The connection key of a message on a service's active stream (0 is mapped to 1 on V3 streams). */
  protected connectionKey(service: ServiceState, connectionId: number): number {
    return service.singleConnection ? 0 : connectionId || 1
  }

  protected trackConnection(service: ServiceState, key: number, connection: LocalConnection): void {
    service.connections.set(key, connection)
    this.#live.add(connection)
    this.emit('connection-open', {serviceId: service.name, streamId: connection.ids.streamId, connectionId: connection.ids.connectionId})
  }

  /** LocalConnection's close callback. */
  protected readonly onLocalClosed = (connection: LocalConnection, reason: CloseReason, error?: Error): void => {
    const {ids} = connection
    const service = this.serviceFor(ids.wireServiceId)
    const key = ids.connectionId
    if (service?.connections.get(key) === connection) {
      service.connections.delete(key)
      // A V1/V2 stream is its one connection: when that ends, so does the stream.
      if (service.singleConnection && service.streamId === ids.streamId) service.streamId = undefined
    }
    if (this.#live.delete(connection)) {
      this.#bytesFromPeer += connection.bytesIn
      this.#bytesToPeer += connection.bytesOut
    }
    if (reason === 'local' || reason === 'error') {
      this.log('debug', 'local connection closed', {service: service?.name, streamId: ids.streamId, connectionId: ids.connectionId, error: error?.message})
    }
    const info: ConnectionInfo & {reason: CloseReason; error?: Error} = {serviceId: service?.name ?? ids.serviceId, streamId: ids.streamId, connectionId: ids.connectionId, reason}
    if (error) info.error = error
    this.emit('connection-close', info)
  }

  /** Ends every connection of a service's active stream (peer reset, replaced stream, lost tunnel). */
  protected closeStream(service: ServiceState, reason: CloseReason): void {
    const connections = [...service.connections.values()]
    service.connections.clear()
    service.streamId = undefined
    service.singleConnection = false
    for (const connection of connections) connection.closeFromPeer(reason)
  }

  /** Resets a service's active stream towards the peer and locally. */
  protected resetStream(service: ServiceState, why: string): void {
    const streamId = service.streamId
    if (streamId === undefined) return
    this.sendControl({type: MessageType.STREAM_RESET, streamId, serviceId: service.wireId})
    this.closeStream(service, 'error')
    this.log('warn', `reset stream ${streamId} of ${service.name || 'the tunnel'}: ${why}`)
    this.emit('stream-reset', {serviceId: service.name, streamId, by: 'proxy', reason: why})
  }

  /** Answers a message for a stream or connection this proxy does not have, once per id. */
  protected resetUnknown(message: TunnelMessage, why: string): void {
    const service = this.serviceFor(message.serviceId)
    const streamKnown = service?.streamId === message.streamId
    const connectionReset = streamKnown && !service.singleConnection
    const key = `${message.serviceId}/${message.streamId}/${connectionReset ? message.connectionId || 1 : ''}`
    if (this.#recentResets.has(key)) return
    if (this.#recentResets.size >= RECENT_RESETS_LIMIT) this.#recentResets.clear()
    this.#recentResets.add(key)
    if (connectionReset) {
      this.sendControl({type: MessageType.CONNECTION_RESET, streamId: message.streamId, serviceId: message.serviceId, connectionId: message.connectionId || 1})
    } else {
      this.sendControl({type: MessageType.STREAM_RESET, streamId: message.streamId, serviceId: message.serviceId})
    }
    this.log('debug', `reset ${connectionReset ? 'connection' : 'stream'} ${message.streamId}${connectionReset ? `/${message.connectionId || 1}` : ''}: ${why}`)
    const info: ProxyEvents['stream-reset'][0] = {serviceId: service?.name ?? message.serviceId, streamId: message.streamId, by: 'proxy', reason: why}
    if (connectionReset) info.connectionId = message.connectionId || 1
    this.emit('stream-reset', info)
  }

  #notePeer(message: TunnelMessage): void {
    if (this.#peerSeen) return
    this.#peerSeen = true
    this.emit('peer', {serviceId: this.serviceFor(message.serviceId)?.name ?? message.serviceId, streamId: message.streamId})
  }

  #onFrame(frame: DecodedFrame): void {
    if (this.closing) return
    if (!frame.message) {
      // The frame boundary is known but not which stream the bytes belonged to: every
      // active stream may have lost data, so all are reset ("If the order of messages is
      // lost or cannot be understood ... end the data stream with a StreamReset").
      this.log('warn', `dropped a frame that is not a tunnel message (${frame.error.message}); resetting active streams`)
      for (const service of this.services.values()) this.resetStream(service, 'malformed frame from the service')
      return
    }
    const message = frame.message
    if (frame.problem) return this.#onBadMessage(message, frame.problem)
    switch (message.type) {
      case MessageType.SERVICE_IDS:
        return this.#onServiceIds(message.availableServiceIds)
      case MessageType.DATA:
        return this.#onData(message)
      case MessageType.STREAM_START:
        this.#notePeer(message)
        return this.onStreamStart(message)
      case MessageType.CONNECTION_START:
        this.#notePeer(message)
        return this.onConnectionStart(message)
      case MessageType.STREAM_RESET:
        this.#notePeer(message)
        return this.#onStreamReset(message)
      case MessageType.CONNECTION_RESET:
        this.#notePeer(message)
        return this.#onConnectionReset(message)
      case MessageType.SESSION_RESET:
        this.log('info', 'the service reset the session; closing all connections')
        for (const service of this.services.values()) {
          const streamId = service.streamId
          if (streamId === undefined) continue
          this.closeStream(service, 'peer')
          this.emit('stream-reset', {serviceId: service.name, streamId, by: 'peer', reason: 'SESSION_RESET'})
        }
        return
      default:
        // An unknown type marked ignorable (checkMessage lets only those through).
        this.log('debug', `ignored message of unknown type ${message.type}`)
    }
  }

  #onBadMessage(message: TunnelMessage, problem: string): void {
    const service = this.serviceFor(message.serviceId)
    if (problem === 'payload-too-large' || problem === 'unknown-type') {
      const why = problem === 'payload-too-large'
        ? `${messageTypeName(message.type)} payload of ${message.payload.length} bytes exceeds the 64512-byte limit`
        : `message of unknown type ${message.type} not marked ignorable`
      if (service?.streamId === message.streamId) {
        const key = this.connectionKey(service, message.connectionId)
        const connection = service.connections.get(key)
        if (!service.singleConnection && connection) {
          this.sendControl({type: MessageType.CONNECTION_RESET, streamId: message.streamId, serviceId: service.wireId, connectionId: key})
          connection.closeFromPeer('error')
          service.connections.delete(key)
          this.log('warn', `reset connection ${message.streamId}/${key}: ${why}`)
          this.emit('stream-reset', {serviceId: service.name, streamId: message.streamId, connectionId: key, by: 'proxy', reason: why})
        } else {
          this.resetStream(service, why)
        }
      } else if (message.streamId) {
        this.resetUnknown(message, why)
      } else {
        this.log('warn', `ignored a bad message: ${why}`)
      }
      return
    }
    this.log('warn', `ignored a ${messageTypeName(message.type)} message: ${problem}`)
  }

  #onServiceIds(serviceIds: string[]): void {
    try {
      this.applyServiceIds(serviceIds)
    } catch (error) {
      this.fail(error as Error)
      return
    }
    this.isReady = true
    const protocol = this.connection.protocol ?? 3
    const info = {serviceIds: [...serviceIds], protocol}
    this.log('info', 'tunnel ready', {serviceIds, protocol})
    if (!this.#readySettled) {
      this.#readySettled = true
      this.#resolveReady(info)
    }
    this.emit('ready', info)
    this.afterReady()
  }

  #onData(message: TunnelMessage): void {
    this.#notePeer(message)
    const service = this.serviceFor(message.serviceId)
    if (service?.streamId !== message.streamId) return this.resetUnknown(message, 'data for an unknown stream')
    const connection = service.connections.get(this.connectionKey(service, message.connectionId))
    if (!connection) return this.resetUnknown(message, 'data for an unknown connection')
    connection.write(message.payload)
  }

  #onStreamReset(message: TunnelMessage): void {
    const service = this.serviceFor(message.serviceId)
    // "Only a StreamReset with [the active] stream ID should cause the client to close its local connection."
    if (service?.streamId !== message.streamId) return
    this.closeStream(service, 'peer')
    this.emit('stream-reset', {serviceId: service.name, streamId: message.streamId, by: 'peer', reason: 'STREAM_RESET'})
  }

  #onConnectionReset(message: TunnelMessage): void {
    const service = this.serviceFor(message.serviceId)
    if (service?.streamId !== message.streamId) return
    const key = this.connectionKey(service, message.connectionId)
    const connection = service.connections.get(key)
    if (!connection) return
    service.connections.delete(key)
    connection.closeFromPeer('peer')
    this.emit('stream-reset', {serviceId: service.name, streamId: message.streamId, connectionId: key, by: 'peer', reason: 'CONNECTION_RESET'})
  }

  #onDisconnected(info: {code: number; reason: string; retrying: boolean}): void {
    this.isReady = false
    // "If there is a network issue with the WebSocket connection ... all active streams
    // should be considered invalid and closed."
    for (const service of this.services.values()) this.closeStream(service, 'tunnel')
    this.#recentResets.clear()
    this.emit('disconnected', info)
  }

  /** Stops the proxy because of `error` (4xx, protocol or configuration mismatch). */
  protected fail(error: Error): void {
    if (this.#fatal || this.closing) return
    this.#fatal = error
    if (!this.#readySettled) {
      this.#readySettled = true
      this.#rejectReady(error)
    }
    void this.close()
  }

  /** Closes listeners, local connections and the WebSocket; no timers or sockets stay behind. */
  close(): Promise<void> {
    if (this.#closePromise) return this.#closePromise
    this.closing = true
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#closePromise = (async () => {
      const released = this.releaseLocal()
      for (const service of this.services.values()) service.connections.clear()
      // Draining ones included: nothing of the proxy outlives close().
      for (const connection of [...this.#live]) connection.abort('proxy')
      await Promise.all([released, this.connection.close()])
      if (!this.#readySettled) {
        this.#readySettled = true
        this.#rejectReady(new Interrupted('the proxy was closed before the tunnel was ready'))
      }
      this.#resolveClosed(this.#fatal ? {error: this.#fatal} : {})
    })()
    return this.#closePromise
  }
}
