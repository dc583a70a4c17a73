// The device side: one destination proxy per tunnel notification, several at
// once. A notification that cannot be served (bad JSON, another mode, no mapped
// service) is refused with a log line; nothing a notification says stops the
// agent. A proxy ends when its tunnel does (CloseTunnel, lifetime over, token
// rotated: the service then refuses the token) and is forgotten.
import {createHash} from 'node:crypto'
import {
  startDestinationProxy,
  type CommonProxyOptions, type DestinationProxy, type DestinationTarget, type TunnelLogger,
} from '../protocol/index.ts'
import {mapServices, parseNotification} from './notification.ts'

export interface TunnelAgentOptions {
  thing: string
  /** Service -> local target (SSH -> localhost:22). */
  destinations: Record<string, DestinationTarget>
  /** Overrides wss://data.tunneling.iot.<region>.amazonaws.com. */
  proxyEndpoint?: string
  /** Used when a notification names no region. */
  region?: string
  logger: TunnelLogger
  /** Passed to every destination proxy (tests: retry timings, CA). */
  proxyOptions?: Partial<Omit<CommonProxyOptions, 'token' | 'endpoint' | 'region' | 'logger' | 'signal'>>
}

export type NotificationOutcome = 'started' | 'duplicate' | 'refused'

export interface AgentTunnel {
  /** The agent's number for it (notifications carry no tunnel id). */
  number: number
  services: Record<string, string>
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
  /** By a hash of the access token: a repeated notification (QoS 1 redelivery) starts nothing new. */
  readonly #tunnels = new Map<string, AgentTunnel>()
  #notifications = 0
  #started = 0
  #refused = 0
  #closing = false

  constructor(options: TunnelAgentOptions) {
    this.#options = options
    this.#log = options.logger
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
    const mapping = mapServices(notification, this.#options.destinations)
    const label = notification.services.join(', ') || 'a tunnel without services'
    if (!mapping.ok) return this.#refuse(`${label}: ${mapping.reason}`)
    const key = createHash('sha256').update(notification.clientAccessToken).digest('hex')
    if (this.#tunnels.has(key)) {
      this.#log('debug', `notification for tunnel ${this.#tunnels.get(key)!.number} again; already serving it`)
      return 'duplicate'
    }
    const region = notification.region ?? this.#options.region
    if (!this.#options.proxyEndpoint && !region) return this.#refuse(`${label}: the notification names no region; pass --region or --proxy-endpoint`)
    const number = ++this.#started
    const name = `tunnel ${number}`
    const routes = Object.entries(mapping.services).map(([service, target]) => `${service} -> ${target}`).join(', ')
    if (mapping.unmapped.length > 0) this.#log('warn', `${name}: no --destination for ${mapping.unmapped.join(', ')}; connections to it will be refused`)
    const proxy = startDestinationProxy({
      ...this.#options.proxyOptions,
      token: notification.clientAccessToken,
      ...(this.#options.proxyEndpoint ? {endpoint: this.#options.proxyEndpoint} : {}),
      ...(region ? {region} : {}),
      services: mapping.services,
      logger: (level, message, fields) => this.#log(level === 'info' ? 'debug' : level, `${name}: ${message}`, fields),
    })
    const tunnel: AgentTunnel = {number, services: mapping.services, startedAt: new Date().toISOString(), proxy}
    this.#tunnels.set(key, tunnel)
    this.#log('info', `${name}: notified for ${label}; connecting as destination (${routes})`)
    proxy.on('ready', () => this.#log('info', `${name}: connected; serving ${routes}`))
    proxy.on('connection-open', (info) => this.#log('info', `${name}: ${info.serviceId || 'stream'} connection ${info.connectionId || 1} opened to ${mapping.services[info.serviceId] ?? 'the service'}`))
    proxy.on('connection-close', (info) => this.#log('debug', `${name}: ${info.serviceId || 'stream'} connection ${info.connectionId || 1} closed (${info.reason})`))
    proxy.on('reconnecting', (info) => this.#log('info', `${name}: reconnecting in ${info.delayMs} ms (${info.reason})`))
    void proxy.closed.then(({error}) => {
      this.#tunnels.delete(key)
      if (this.#closing) return
      this.#log('info', `${name}: ended${error ? ` (${error.message})` : ''}`)
    })
    return 'started'
  }

  #refuse(reason: string): NotificationOutcome {
    this.#refused++
    this.#log('warn', `refused a tunnel notification: ${reason}`)
    return 'refused'
  }

  /** Closes every proxy (their local connections and WebSockets). */
  async close(): Promise<void> {
    this.#closing = true
    await Promise.all([...this.#tunnels.values()].map((tunnel) => tunnel.proxy.close()))
    this.#tunnels.clear()
  }
}
