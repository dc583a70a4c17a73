// Source mode: local clients connect here (TCP ports, or stdin/stdout for
// `ssh -o ProxyCommand=...`) and each connection becomes a stream/connection over
// the tunnel towards the destination proxy.
//
// V3 ("aws.iot.securetunneling-3.0"): the first connection of a service opens its
// stream with STREAM_START (connection id 1), later ones add CONNECTION_START
// with new connection ids. V2: one connection per service at a time; a new one
// replaces the stream (STREAM_RESET of the old, STREAM_START of a new id).
// `destinationClientType` V1/V2 (localproxy's -y) keeps to that even on the 3.0
// subprotocol, for an older destination that does not know CONNECTION_START (V3
// guide, "Backward compatibility": "The local proxy should not use a connection ID
// when sending to v2 protocol"). A V1 destination skips the service-id field it
// does not know, so V1 is served as V2.
import {randomInt} from 'node:crypto'
import {createServer, type Server, type Socket} from 'node:net'
import type {Readable, Writable} from 'node:stream'
import {InputError} from '../../errors.ts'
import {LocalConnection, type LocalEndpoint} from './local-connection.ts'
import {MAX_SERVICES, MessageType, SERVICE_ID_PATTERN, type TunnelMessage} from './message.ts'
import {TunnelProxyBase, newServiceState, type CommonProxyOptions, type ServiceState} from './proxy-base.ts'

export interface SourceProxyOptions extends CommonProxyOptions {
  /**
   * Service id -> local port (0 picks a free one). Up to 3. The key '' stands for
   * "the tunnel's only service" (or a tunnel opened without services).
   */
  services: Record<string, number>
  /** Address to listen on (default 127.0.0.1). */
  bindAddress?: string
  /** 'V1'/'V2' keep one connection per service even on the 3.0 subprotocol, for an older destination. */
  destinationClientType?: DestinationClientType
}

export interface SourceStreamOptions extends CommonProxyOptions {
  /** The service to reach (default: the tunnel's only service). */
  serviceId?: string
  /** The local end (the command passes stdin/stdout: the library never touches the process's streams). */
  input: Readable
  output: Writable
  destinationClientType?: DestinationClientType
}

/** The destination's protocol version, as localproxy's -y/--destination-client-type names it. */
export type DestinationClientType = 'V1' | 'V2' | 'V3'

/**
 * Maps configured service names to the ids of SERVICE_IDS. Throws InputError when a
 * configured service is not one of the tunnel's, or when '' (the only service) is
 * ambiguous.
 */
export function resolveSourceServices(configured: readonly string[], available: readonly string[]): Map<string, string> {
  const wireIds = new Map<string, string>()
  if (available.length === 0) {
    // A tunnel opened without services (V1 style): one unnamed stream.
    if (configured.length > 1) throw new InputError(`the tunnel was opened without services, so it carries one stream; got ${configured.length} services (${configured.join(', ')})`)
    for (const name of configured) wireIds.set(name, '')
    return wireIds
  }
  for (const name of configured) {
    if (name === '') {
      if (available.length !== 1) throw new InputError(`the tunnel has services ${available.join(', ')}: say which one to forward`)
      wireIds.set(name, available[0])
    } else if (available.includes(name)) {
      wireIds.set(name, name)
    } else {
      throw new InputError(`service ${name} is not one of the tunnel's services (${available.join(', ')})`)
    }
  }
  return wireIds
}

function validateServiceNames(names: readonly string[]): void {
  if (names.length === 0) throw new InputError('name at least one service to forward')
  if (names.length > MAX_SERVICES) throw new InputError(`a tunnel has at most ${MAX_SERVICES} services, got ${names.length}`)
  for (const name of names) {
    if (name !== '' && !SERVICE_ID_PATTERN.test(name)) throw new InputError(`service id ${JSON.stringify(name)} must be 1-128 letters, digits, ':', '_' or '-'`)
  }
  if (names.includes('') && names.length > 1) throw new InputError('an unnamed service can only be forwarded alone')
}

/** Stream ids should not repeat over a tunnel's lifetime, also across restarts of this proxy. */
function firstStreamId(): number {
  return randomInt(1, 2 ** 30)
}

interface Waiting {
  endpoint: LocalEndpoint
  name: string
  release: () => void
}

export class SourceProxy extends TunnelProxyBase {
  /** Listening port per configured service (empty for a stdio stream). */
  readonly ports: Record<string, number> = {}
  readonly #options: SourceProxyOptions | SourceStreamOptions
  readonly #names: string[]
  readonly #servers = new Map<string, Server>()
  readonly #sockets = new Set<Socket>()
  #wireIdByName = new Map<string, string>()
  #waiting: Waiting[] = []
  #nextStreamId = firstStreamId()
  #stdio: LocalEndpoint | undefined
  #stdioStarted = false

  /** Use startSourceProxy() or openSourceStream(). */
  constructor(options: SourceProxyOptions | SourceStreamOptions, names: string[], stdio?: LocalEndpoint) {
    super('source', options)
    this.#options = options
    this.#names = names
    this.#stdio = stdio
    for (const name of names) this.services.set(name, newServiceState(name, name))
  }

  async listen(services: Record<string, number>, bindAddress: string): Promise<void> {
    try {
      for (const [name, port] of Object.entries(services)) {
        const server = createServer({pauseOnConnect: true, noDelay: true}, socket => this.#onSocket(socket, name))
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject)
          server.listen({host: bindAddress, port}, () => {
            server.off('error', reject)
            resolve()
          })
        }).catch((error: NodeJS.ErrnoException) => {
          if (error.code === 'EADDRINUSE') throw new InputError(`port ${port} on ${bindAddress} (service ${name || 'of the tunnel'}) is already in use`)
          if (error.code === 'EACCES') throw new InputError(`port ${port} on ${bindAddress} (service ${name || 'of the tunnel'}) needs privileges`)
          if (error.code === 'EADDRNOTAVAIL') throw new InputError(`${bindAddress} is not an address of this machine`)
          throw error
        })
        server.on('error', error => this.log('error', `listener of ${name} failed: ${error.message}`))
        this.#servers.set(name, server)
        const listening = (server.address() as {port: number}).port
        // An own property even for a service named `__proto__` (plain assignment would set the prototype).
        Object.defineProperty(this.ports, name, {value: listening, enumerable: true, writable: true, configurable: true})
        this.log('info', `listening for ${name || 'the tunnel'} on ${bindAddress}:${listening}`)
      }
    } catch (error) {
      await this.releaseLocal()
      throw error
    }
  }

  start(): void {
    this.startConnecting()
  }

  #onSocket(socket: Socket, name: string): void {
    if (this.closing) {
      socket.destroy()
      return
    }
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    const endpoint: LocalEndpoint = {input: socket, output: socket, destroy: () => socket.destroy()}
    if (this.isReady) {
      this.#startConnection(endpoint, name)
      return
    }
    // Held (paused since accepted) until the tunnel is ready again.
    const waiting: Waiting = {
      endpoint,
      name,
      release: () => {
        socket.off('close', waiting.release)
        socket.off('error', ignore)
        this.#waiting = this.#waiting.filter(entry => entry !== waiting)
      },
    }
    socket.once('close', waiting.release)
    socket.on('error', ignore)
    this.#waiting.push(waiting)
  }

  protected override afterReady(): void {
    const waiting = this.#waiting
    this.#waiting = []
    for (const entry of waiting) {
      entry.release()
      this.#startConnection(entry.endpoint, entry.name)
    }
    if (this.#stdio && !this.#stdioStarted) {
      this.#stdioStarted = true
      this.#startConnection(this.#stdio, this.#names[0])
    }
  }

  #newStreamId(): number {
    const id = this.#nextStreamId
    this.#nextStreamId = id >= 0x7fffffff ? 1 : id + 1
    return id
  }

  #startConnection(endpoint: LocalEndpoint, name: string): void {
    const service = this.serviceFor(this.#wireIdByName.get(name) ?? name)
    if (!service) {
      endpoint.destroy()
      return
    }
    const type = this.#options.destinationClientType ?? 'V3'
    const multiplexed = this.connection.protocol === 3 && type === 'V3'
    let connectionId: number
    if (multiplexed && service.streamId !== undefined && !service.singleConnection) {
      connectionId = service.nextConnectionId++
      this.sendControl({type: MessageType.CONNECTION_START, streamId: service.streamId, serviceId: service.wireId, connectionId})
    } else {
      if (service.streamId !== undefined) {
        // V2: one connection per service; the new one replaces the stream.
        this.resetStream(service, 'replaced by a new local connection')
      }
      service.streamId = this.#newStreamId()
      service.singleConnection = !multiplexed
      connectionId = multiplexed ? 1 : 0
      service.nextConnectionId = 2
      this.sendControl({type: MessageType.STREAM_START, streamId: service.streamId, serviceId: service.wireId, connectionId})
    }
    const connection = new LocalConnection(this.connection, endpoint, {
      serviceId: service.name, wireServiceId: service.wireId, streamId: service.streamId, connectionId,
    }, this.onLocalClosed)
    this.trackConnection(service, connectionId, connection)
  }

  protected applyServiceIds(serviceIds: string[]): void {
    const wireIds = resolveSourceServices(this.#names, serviceIds)
    this.#wireIdByName = wireIds
    const services = new Map<string, ServiceState>()
    for (const [name, wireId] of wireIds) {
      // SERVICE_IDS may come again on the same connection: keep the streams it already carries.
      const current = [...this.services.values()].find(service => service.name === name && service.wireId === wireId)
      services.set(wireId, current ?? newServiceState(name, wireId))
    }
    for (const service of this.services.values()) {
      if (![...services.values()].includes(service)) this.closeStream(service, 'proxy')
    }
    this.services = services
  }

  protected onStreamStart(message: TunnelMessage): void {
    // "Source mode tunnel clients SHOULD treat receiving StreamStart as an error."
    const service = this.serviceFor(message.serviceId)
    this.log('warn', `the peer sent STREAM_START to a source proxy (stream ${message.streamId})`)
    if (service) this.resetStream(service, 'STREAM_START received in source mode')
  }

  protected onConnectionStart(message: TunnelMessage): void {
    const service = this.serviceFor(message.serviceId)
    const connection = service?.streamId === message.streamId ? service.connections.get(message.connectionId) : undefined
    this.log('warn', `the peer sent CONNECTION_START to a source proxy (stream ${message.streamId})`)
    this.sendControl({type: MessageType.CONNECTION_RESET, streamId: message.streamId, serviceId: message.serviceId, connectionId: message.connectionId})
    if (service && connection) {
      service.connections.delete(message.connectionId)
      connection.closeFromPeer('error')
    }
  }

  protected async releaseLocal(): Promise<void> {
    const closing = [...this.#servers.values()].map(server => new Promise<void>(resolve => server.close(() => resolve())))
    this.#servers.clear()
    for (const entry of [...this.#waiting]) {
      entry.release()
      entry.endpoint.destroy()
    }
    this.#waiting = []
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    if (this.#stdio && !this.#stdioStarted) this.#stdio.destroy()
    await Promise.all(closing)
  }
}

function ignore(): void {
  // A waiting socket's error is followed by its close, which releases it.
}

/**
 * Listens on a local port per service and forwards each accepted connection
 * through the tunnel. Ports are bound before connecting, so a port in use fails
 * early with an InputError naming it.
 */
export async function startSourceProxy(options: SourceProxyOptions): Promise<SourceProxy> {
  const names = Object.keys(options.services)
  validateServiceNames(names)
  for (const [name, port] of Object.entries(options.services)) {
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InputError(`port of service ${name || 'of the tunnel'} must be 0-65535, got ${port}`)
  }
  const proxy = new SourceProxy(options, names)
  await proxy.listen(options.services, options.bindAddress ?? '127.0.0.1')
  proxy.start()
  return proxy
}

/**
 * One connection over the tunnel on a pair of streams: stdin/stdout for `ssh -o ProxyCommand=...`.
 * The proxy closes when that connection ends; a lost tunnel ends it too, since its
 * stream cannot survive a reconnect.
 */
export function openSourceStream(options: SourceStreamOptions): SourceProxy {
  const name = options.serviceId ?? ''
  validateServiceNames([name])
  const {input, output} = options
  const endpoint: LocalEndpoint = {
    input,
    output,
    destroy: () => {
      input.destroy()
      output.end()
    },
  }
  const proxy = new SourceProxy(options, [name], endpoint)
  proxy.on('connection-close', () => void proxy.close())
  proxy.start()
  return proxy
}
