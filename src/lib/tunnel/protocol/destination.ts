// Destination mode: the device side. Each STREAM_START / CONNECTION_START from
// the source opens a TCP connection to the service it names (e.g. SSH ->
// localhost:22) and bridges it. A start for an unknown service, and data for an
// unknown stream, are answered with a reset; nothing from the tunnel crashes the
// process. Services are looked up in Maps only: a tunnel's service may be named
// `constructor` or `__proto__` (both match the service-id pattern).
//
// `maxConnections` bounds the local TCP connections (connecting, open or
// draining) the proxy holds at once: beyond it a StreamStart is answered with
// StreamReset and a ConnectionStart with ConnectionReset, the protocol's way of
// refusing them (V3 guide, "ConnectionReset": the destination "could not
// establish the connection"), so a flood from the tunnel cannot exhaust the device.
import {connect} from 'node:net'
import {InputError} from '../../errors.ts'
import {LocalConnection, type LocalEndpoint} from './local-connection.ts'
import {MAX_SERVICES, MessageType, SERVICE_ID_PATTERN, type TunnelMessage} from './message.ts'
import {TunnelProxyBase, newServiceState, type CommonProxyOptions, type ServiceState} from './proxy-base.ts'
import {serviceMap} from './services.ts'

/**
 * The destination reads its local sockets into this one buffer (net's `onread`)
 * instead of a fresh 64 KiB one per read: each read is copied into an outgoing
 * frame before the callback returns, so the buffer is free again at once, and
 * device-to-source traffic leaves no garbage for the collector (see
 * noteTransientBuffer). One buffer serves every socket: callbacks never overlap.
 * https://nodejs.org/api/net.html#new-netsocketoptions (onread)
 */
const localReadBuffer = Buffer.allocUnsafe(64 * 1024)

export interface DestinationTarget {
  host: string
  port: number
}

export interface DestinationProxyOptions extends CommonProxyOptions {
  /**
   * Service id -> where to connect: `host:port`, `[v6]:port`, `port` (localhost)
   * or a number. The key '' stands for the tunnel's only service. Only own keys of a record count.
   */
  services: Readonly<Record<string, string | number>> | ReadonlyMap<string, string | number>
  /** Local TCP connections held at once, over all streams (default: no limit). */
  maxConnections?: number
}

/** `localhost:22`, `[::1]:22`, `22`, 22 -> {host, port}. */
export function parseTarget(value: string | number, service = ''): DestinationTarget {
  const text = String(value).trim()
  let host = 'localhost'
  let portText = text
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text)
  if (bracketed) {
    host = bracketed[1]!
    portText = bracketed[2]!
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':')
    host = text.slice(0, at)
    portText = text.slice(at + 1)
  }
  const port = Number(portText)
  const label = `destination of service ${service || 'of the tunnel'}`
  if (!host) throw new InputError(`${label} has no host before the port, got ${JSON.stringify(String(value))} (e.g. localhost:22)`)
  if (/^\d+$/.test(portText) && (port < 1 || port > 65535)) throw new InputError(`${label}: port ${portText} is out of range 1-65535, got ${JSON.stringify(String(value))}`)
  if (!/^\d+$/.test(portText)) throw new InputError(`${label} must be host:port or a port, got ${JSON.stringify(String(value))}`)
  return {host, port}
}

interface DestinationService extends ServiceState {
  target: DestinationTarget | undefined
}

/**
 * Which configured target serves each of the tunnel's services. A single mapping
 * named '' (or the only one, on a tunnel with one service or none) serves the
 * tunnel's only service. Returns the targets and what does not match, for warnings.
 */
export function resolveDestinationServices(
  configured: Readonly<Record<string, DestinationTarget>> | ReadonlyMap<string, DestinationTarget>,
  available: readonly string[],
): {targets: Map<string, DestinationTarget | undefined>; unmapped: string[]; unused: string[]} {
  const byName = serviceMap(configured)
  const names = [...byName.keys()]
  const targets = new Map<string, DestinationTarget | undefined>()
  const wireIds = available.length === 0 ? [''] : available
  const only = names.length === 1 && wireIds.length === 1 ? byName.get(names[0]) : undefined
  for (const wireId of wireIds) targets.set(wireId, byName.get(wireId) ?? only)
  const unmapped = wireIds.filter(wireId => targets.get(wireId) === undefined)
  const unused = names.filter(name => name !== '' && !wireIds.includes(name) && only === undefined)
  return {targets, unmapped, unused}
}

export class DestinationProxy extends TunnelProxyBase {
  readonly #targets: ReadonlyMap<string, DestinationTarget>
  readonly #maxConnections: number
  /** Local connections not yet finished (connecting, open or draining). */
  #live = 0
  /** Set while starts are being refused, so that a flood logs one line. */
  #atLimit = false
  declare protected services: Map<string, DestinationService>

  /** Use startDestinationProxy(). */
  constructor(options: DestinationProxyOptions, targets: ReadonlyMap<string, DestinationTarget>) {
    super('destination', options)
    this.#targets = targets
    this.#maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY
    // Until SERVICE_IDS arrives, serve the configured names as they are.
    const services = new Map<string, DestinationService>()
    for (const [name, target] of targets) services.set(name, {...newServiceState(name, name), target})
    this.services = services
  }

  /** Local connections held now, draining ones included. */
  get liveConnections(): number {
    return this.#live
  }

  /** True (and one log line per burst) when a new local connection would pass maxConnections. */
  #full(): boolean {
    if (this.#live < this.#maxConnections) {
      this.#atLimit = false
      return false
    }
    if (!this.#atLimit) {
      this.#atLimit = true
      this.log('warn', `at the limit of ${this.#maxConnections} local connections (--max-connections); resetting new ones`)
    }
    return true
  }

  start(): void {
    this.startConnecting()
  }

  protected override serviceFor(wireId: string): DestinationService | undefined {
    return super.serviceFor(wireId) as DestinationService | undefined
  }

  protected applyServiceIds(serviceIds: string[]): void {
    const {targets, unmapped, unused} = resolveDestinationServices(this.#targets, serviceIds)
    for (const wireId of unmapped) this.log('warn', `no destination for service ${wireId || 'of the tunnel'}; its streams will be reset`)
    for (const name of unused) this.log('warn', `service ${name} is not one of the tunnel's services (${serviceIds.join(', ') || 'none'})`)
    const services = new Map<string, DestinationService>()
    for (const [wireId, target] of targets) {
      // SERVICE_IDS may come again on the same connection: keep the streams it already carries.
      const previous = this.services.get(wireId)
      if (previous) previous.target = target
      services.set(wireId, previous ?? {...newServiceState(wireId, wireId), target})
    }
    for (const [wireId, previous] of this.services) {
      if (services.get(wireId) !== previous) this.closeStream(previous, 'proxy')
    }
    this.services = services
  }

  protected onStreamStart(message: TunnelMessage): void {
    const service = this.serviceFor(message.serviceId)
    if (!service?.target) {
      this.log('warn', `STREAM_START for unknown service ${JSON.stringify(message.serviceId)}; resetting it`)
      this.sendControl({type: MessageType.STREAM_RESET, streamId: message.streamId, serviceId: message.serviceId})
      this.emit('stream-reset', {serviceId: message.serviceId, streamId: message.streamId, by: 'proxy', reason: 'unknown service'})
      return
    }
    // "If the destination ... already has an open/active stream and receives a
    // StreamStart, it should consider the current data stream to have closed."
    if (service.streamId !== undefined) this.closeStream(service, 'peer')
    if (this.#full()) {
      this.sendControl({type: MessageType.STREAM_RESET, streamId: message.streamId, serviceId: message.serviceId})
      this.emit('stream-reset', {serviceId: service.name, streamId: message.streamId, by: 'proxy', reason: 'too many local connections'})
      return
    }
    service.streamId = message.streamId
    // A StreamStart without a connection id comes from a V1/V2 source: one connection, no ids.
    service.singleConnection = message.connectionId === 0
    this.#open(service, message.connectionId)
  }

  protected onConnectionStart(message: TunnelMessage): void {
    const service = this.serviceFor(message.serviceId)
    const reset = (why: string): void => {
      this.sendControl({type: MessageType.CONNECTION_RESET, streamId: message.streamId, serviceId: message.serviceId, connectionId: message.connectionId})
      this.log('debug', `reset connection ${message.streamId}/${message.connectionId}: ${why}`)
      this.emit('stream-reset', {serviceId: service?.name ?? message.serviceId, streamId: message.streamId, connectionId: message.connectionId, by: 'proxy', reason: why})
    }
    if (!service?.target || service.streamId !== message.streamId || service.singleConnection || message.connectionId === 0) {
      return reset('CONNECTION_START for an unknown stream')
    }
    const existing = service.connections.get(message.connectionId)
    if (existing) {
      // "... already has an open/active TCP connection with the given connection ID, it should consider it an error."
      service.connections.delete(message.connectionId)
      existing.closeFromPeer('error')
      return reset('CONNECTION_START for a connection id in use')
    }
    if (this.#full()) return reset('too many local connections')
    this.#open(service, message.connectionId)
  }

  #open(service: DestinationService, connectionId: number): void {
    const target = service.target!
    const streamId = service.streamId!
    const key = service.singleConnection ? 0 : connectionId || 1
    const socket = connect({
      host: target.host, port: target.port, noDelay: true,
      onread: {buffer: localReadBuffer, callback: (bytes, buffer) => {
        // Reads start after connecting, a later turn of the loop: `connection` is set by then.
        connection.fromLocal(buffer.subarray(0, bytes), {reused: true})
        return true
      }},
    })
    const endpoint: LocalEndpoint = {input: socket, output: socket, destroy: () => socket.destroy()}
    this.#live++
    const connection = new LocalConnection(this.connection, endpoint, {
      serviceId: service.name, wireServiceId: service.wireId, streamId, connectionId: key,
    }, (closed, reason, error) => {
      this.#live--
      this.onLocalClosed(closed, reason, error)
    })
    this.trackConnection(service, key, connection)
  }

  protected async releaseLocal(): Promise<void> {
    // A destination has no listener; close() aborts its connections like every proxy's.
  }
}

/**
 * Connects to the tunnel as the destination and opens a TCP connection to the
 * mapped service for every stream the source starts.
 */
export function startDestinationProxy(options: DestinationProxyOptions): DestinationProxy {
  const entries = serviceMap(options.services)
  if (entries.size === 0) throw new InputError('map at least one service to a destination (e.g. SSH=localhost:22)')
  if (entries.size > MAX_SERVICES) throw new InputError(`a tunnel has at most ${MAX_SERVICES} services, got ${entries.size}`)
  if (options.maxConnections !== undefined && (!Number.isInteger(options.maxConnections) || options.maxConnections < 1)) {
    throw new InputError(`maxConnections must be a whole number of at least 1, got ${options.maxConnections}`)
  }
  const targets = new Map<string, DestinationTarget>()
  for (const [name, value] of entries) {
    if (name !== '' && !SERVICE_ID_PATTERN.test(name)) throw new InputError(`service id ${JSON.stringify(name)} must be 1-128 letters, digits, ':', '_' or '-'`)
    targets.set(name, parseTarget(value, name))
  }
  const proxy = new DestinationProxy(options, targets)
  proxy.start()
  return proxy
}
