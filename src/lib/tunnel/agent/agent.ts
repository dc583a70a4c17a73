// The device side: one destination proxy per tunnel notification, several at
// once. A notification that cannot be served (bad JSON, another mode, no mapped
// service, a region that is not one, over the limits) is refused with a log line;
// nothing a notification says stops the agent. A proxy ends when its tunnel does
// (CloseTunnel, lifetime over, token rotated: the service then refuses the token)
// or when it cannot reach the service within its reconnect attempts, and is forgotten.
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import tls from 'node:tls'
import {
  regionalHost, startDestinationProxy, tunnelUrl, TunnelUnreachableError,
  type CommonProxyOptions, type DestinationProxy, type DestinationTarget, type TunnelLogger,
} from '../protocol/index.ts'
import {MAX_CONNECTIONS, MAX_RECONNECTS, MAX_TUNNELS} from './limits.ts'
import {mapServices, parseNotification, printable} from './notification.ts'

export interface TunnelAgentOptions {
  thing: string
  /** Service -> local target (SSH -> localhost:22). A Map: a service named `constructor` must find nothing. */
  destinations: ReadonlyMap<string, DestinationTarget>
  /** Overrides wss://data.tunneling.iot.<region>.amazonaws.com. */
  proxyEndpoint?: string
  /** Used when a notification names no region. */
  region?: string
  /** Tunnels served at once (default 8). */
  maxTunnels?: number
  /** Local connections per tunnel at once (default 64). */
  maxConnections?: number
  /** Reconnect attempts of a proxy that cannot reach the service (default 20). */
  maxReconnects?: number
  logger: TunnelLogger
  /** --ca (PEM): trusted for the tunnels' TLS in addition to Node's roots and NODE_EXTRA_CA_CERTS. */
  ca?: string
  /** Passed to every destination proxy (tests: retry timings, CA). */
  proxyOptions?: Partial<Omit<CommonProxyOptions, 'token' | 'endpoint' | 'region' | 'logger' | 'signal'>>
}

export type NotificationOutcome = 'started' | 'duplicate' | 'refused'

export interface AgentTunnel {
  /** The agent's number for it (notifications carry no tunnel id). */
  number: number
  services: ReadonlyMap<string, string>
  startedAt: string
  proxy: DestinationProxy
}

export interface AgentStats {
  notifications: number
  started: number
  refused: number
  /** Tunnels being served now. */
  active: number
}

export class TunnelAgent {
  readonly #options: TunnelAgentOptions
  readonly #log: TunnelLogger
  readonly #maxTunnels: number
  /** The tunnels' trust with --ca, built once. */
  readonly #trust: string[] | undefined
  /** By a hash of the access token: a repeated notification (QoS 1 redelivery) starts nothing new. */
  readonly #tunnels = new Map<string, AgentTunnel>()
  /** Tunnels whose connection to the service dropped and has not come back. */
  readonly #cutOff = new Set<AgentTunnel>()
  /** Cut-off tunnels a newer notification was let in for, over the limit. */
  readonly #superseded = new Set<AgentTunnel>()
  #notifications = 0
  #started = 0
  #refused = 0
  #closing = false

  constructor(options: TunnelAgentOptions) {
    this.#options = options
    this.#log = options.logger
    this.#maxTunnels = options.maxTunnels ?? MAX_TUNNELS.default
    this.#trust = options.ca ? trustedWith(options.ca) : undefined
  }

  get tunnels(): AgentTunnel[] {
    return [...this.#tunnels.values()]
  }

  stats(): AgentStats {
    return {notifications: this.#notifications, started: this.#started, refused: this.#refused, active: this.#tunnels.size}
  }

  /** Handles one message of the notify topic. */
  handle(payload: Buffer | string): NotificationOutcome {
    this.#notifications++
    if (this.#closing) return this.#refuse('the agent is stopping')
    let notification
    try {
      notification = parseNotification(payload)
    } catch (error) {
      return this.#refuse((error as Error).message)
    }
    // Service names are checked against the service-id pattern by parseNotification: safe to print.
    const mapping = mapServices(notification, this.#options.destinations)
    const label = notification.services.join(', ') || 'a tunnel without services'
    if (!mapping.ok) return this.#refuse(`${label}: ${mapping.reason}`)
    const key = createHash('sha256').update(notification.clientAccessToken).digest('hex')
    const served = this.#tunnels.get(key)
    if (served) {
      this.#log('debug', `notification for tunnel ${served.number} again; already serving it`)
      return 'duplicate'
    }
    let replaces: AgentTunnel | undefined
    if (this.#tunnels.size >= this.#maxTunnels) {
      // A rotated destination token comes as a new notification while the old token's
      // proxy is cut off (the service refuses it on its next attempt): that tunnel is
      // not counted twice. Each disconnected tunnel stands in for one newcomer only.
      replaces = [...this.#cutOff].find((tunnel) => !this.#superseded.has(tunnel) && sameServices(tunnel, mapping.services))
      if (!replaces) return this.#refuse(`${label}: the agent serves ${this.#tunnels.size} tunnels already (--max-tunnels ${this.#maxTunnels})`)
    }
    const region = notification.region ?? this.#options.region
    const {proxyEndpoint} = this.#options
    if (!proxyEndpoint && !region) return this.#refuse(`${label}: the notification names no region; pass --region or --proxy-endpoint`)
    // The token goes to --proxy-endpoint or to the region's tunneling host, and nowhere else.
    try {
      const url = tunnelUrl('destination', proxyEndpoint, region)
      if (!proxyEndpoint && url.hostname !== regionalHost(region ?? '')) return this.#refuse(`${label}: region ${printable(region ?? '')} does not name a tunneling endpoint`)
    } catch (error) {
      return this.#refuse(`${label}: ${printable((error as Error).message, 200)}`)
    }
    const number = ++this.#started
    const name = `tunnel ${number}`
    const routes = [...mapping.services].map(([service, target]) => `${service} -> ${target}`).join(', ')
    if (mapping.unmapped.length > 0) this.#log('warn', `${name}: no --destination for ${mapping.unmapped.join(', ')}; connections to it will be refused`)
    const maxReconnects = this.#options.maxReconnects ?? MAX_RECONNECTS.default
    const proxy = startDestinationProxy({
      // An unattended device retries a refused certificate too (a clock not set yet at boot,
      // a CA bundle being replaced), with backoff and within --max-reconnects, as any failure.
      retryCertificateErrors: true,
      ...(this.#trust ? {ca: this.#trust} : {}),
      ...this.#options.proxyOptions,
      token: notification.clientAccessToken,
      ...(proxyEndpoint ? {endpoint: proxyEndpoint} : {}),
      ...(region ? {region} : {}),
      services: mapping.services,
      maxConnections: this.#options.maxConnections ?? MAX_CONNECTIONS.default,
      retry: {...this.#options.proxyOptions?.retry, maxAttempts: maxReconnects},
      // Its info lines are the agent's debug; its fatal error is the 'ended'/'gave up' line below.
      logger: (level, message, fields) => this.#log(level === 'warn' ? 'warn' : 'debug', `${name}: ${message}`, fields),
    })
    const tunnel: AgentTunnel = {number, services: mapping.services, startedAt: new Date().toISOString(), proxy}
    this.#tunnels.set(key, tunnel)
    this.#log('info', `${name}: notified for ${label}; connecting as destination (${routes})`)
    if (replaces) {
      this.#superseded.add(replaces)
      this.#log('info', `${name}: over --max-tunnels ${this.#maxTunnels} while tunnel ${replaces.number} (same services) is disconnected: a rotated token for it, or it ends at its next attempt`)
    }
    proxy.on('ready', () => this.#log('info', `${name}: connected; serving ${routes}`))
    proxy.on('connected', () => this.#cutOff.delete(tunnel))
    proxy.on('disconnected', () => this.#cutOff.add(tunnel))
    proxy.on('connection-open', (info) => this.#log('info', `${name}: ${info.serviceId || 'stream'} connection ${info.connectionId || 1} opened to ${mapping.services.get(info.serviceId) ?? 'the service'}`))
    proxy.on('connection-close', (info) => this.#log('debug', `${name}: ${info.serviceId || 'stream'} connection ${info.connectionId || 1} closed (${info.reason})`))
    proxy.on('reconnecting', (info) => this.#log('info', `${name}: reconnecting in ${info.delayMs} ms (attempt ${info.attempt} of ${maxReconnects}; ${printable(info.reason, 200)})`))
    void proxy.closed.then(({error}) => {
      this.#tunnels.delete(key)
      this.#superseded.delete(tunnel)
      this.#cutOff.delete(tunnel)
      if (this.#closing) return
      if (error instanceof TunnelUnreachableError) this.#log('warn', `${name}: gave up: ${printable(error.message, 300)}`)
      else this.#log('info', `${name}: ended${error ? ` (${printable(error.message, 300)})` : ''}`)
    })
    return 'started'
  }

  #refuse(reason: string): NotificationOutcome {
    this.#refused++
    this.#log('warn', `refused a tunnel notification: ${printable(reason, 400)}`)
    return 'refused'
  }

  /** Closes every proxy (their local connections and WebSockets). */
  async close(): Promise<void> {
    this.#closing = true
    await Promise.all([...this.#tunnels.values()].map((tunnel) => tunnel.proxy.close()))
    this.#tunnels.clear()
  }
}

/** A tunnel served for the same (mapped) services as a notification. */
function sameServices(tunnel: AgentTunnel, mapped: ReadonlyMap<string, string>): boolean {
  return tunnel.services.size === mapped.size && [...mapped.keys()].every((name) => tunnel.services.has(name))
}

/**
 * Node's default trust (its roots plus NODE_EXTRA_CA_CERTS) with `pem` added:
 * a `ca` option alone would replace the roots.
 */
export function trustedWith(pem: string): string[] {
  const defaults = typeof tls.getCACertificates === 'function'
    ? tls.getCACertificates('default')
    // Node 22 before 22.15: the bundled roots, and NODE_EXTRA_CA_CERTS read as Node reads it.
    : [...tls.rootCertificates, ...(process.env.NODE_EXTRA_CA_CERTS ? [readFileSync(process.env.NODE_EXTRA_CA_CERTS, 'utf8')] : [])]
  return [...defaults, pem]
}
