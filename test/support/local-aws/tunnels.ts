// IoT Secure Tunneling control plane (awsJson1.1, X-Amz-Target
// IoTSecuredTunneling.<Op>), after the API reference:
// https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT_Secure_Tunneling.html
// The registry is also what a local WebSocket relay asks to authorize an
// access token and tells about connection state.
import {randomBytes, randomUUID} from 'node:crypto'
import {EventEmitter} from 'node:events'
import {AwsServiceError} from './aws-errors.ts'

export type TunnelMode = 'source' | 'destination'
export type ConnectionStatus = 'CONNECTED' | 'DISCONNECTED'

export interface Tag {
  key: string
  value: string
}

export interface TunnelRecord {
  tunnelId: string
  tunnelArn: string
  accountId: string
  region: string
  description?: string
  thingName?: string
  services: string[]
  maxLifetimeTimeoutMinutes: number
  tags: Tag[]
  createdAt: number
  lastUpdatedAt: number
  closedAt?: number
  sourceToken: string
  destinationToken: string
  source: {status: ConnectionStatus; lastUpdatedAt: number}
  destination: {status: ConnectionStatus; lastUpdatedAt: number}
}

/** What a relay learns from a valid access token. */
export interface TunnelAccess {
  tunnelId: string
  tunnelArn: string
  mode: TunnelMode
  services: string[]
  thingName?: string
  region: string
  accountId: string
}

export interface TunnelEvents {
  opened: [TunnelRecord]
  /** The tunnel closed (CloseTunnel, lifetime over) or was deleted: its tokens are no longer valid. */
  closed: [TunnelRecord]
  /** Tokens of these modes were replaced: connections made with the old ones must end. */
  rotated: [TunnelRecord, TunnelMode[]]
  connection: [TunnelRecord, TunnelMode, ConnectionStatus]
}

export interface TunnelRegistryOptions {
  /** OpenTunnel calls allowed per second and account (AWS: 1); 0 disables throttling. */
  openTunnelsPerSecond?: number
  /** Open tunnels allowed per account before LimitExceededException; undefined: no limit. */
  maxOpenTunnels?: number
  now?: () => number
}

const seconds = (ms: number): number => ms / 1000
const namePattern = /^[a-zA-Z0-9:_-]+$/
const tagPattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u

function validation(message: string): AwsServiceError {
  return new AwsServiceError('ValidationException', 400, message)
}

function notFound(what: string): AwsServiceError {
  return new AwsServiceError('ResourceNotFoundException', 404, `${what} not found`)
}

function token(): string {
  // Real tokens are opaque base64 blobs a few hundred bytes long.
  return `AQGAAX${randomBytes(96).toString('base64url')}`
}

function checkTags(tags: unknown): Tag[] {
  if (tags === undefined) return []
  if (!Array.isArray(tags) || tags.length < 1 || tags.length > 200) throw validation('tags must hold 1 to 200 tags')
  return tags.map((tag: {key?: unknown; value?: unknown}) => {
    if (typeof tag?.key !== 'string' || tag.key.length < 1 || tag.key.length > 128 || !tagPattern.test(tag.key) || tag.key.startsWith('aws:')) {
      throw validation(`invalid tag key ${JSON.stringify(tag?.key)}`)
    }
    if (typeof tag.value !== 'string' || tag.value.length > 256 || !tagPattern.test(tag.value)) throw validation(`invalid value for tag ${tag.key}`)
    return {key: tag.key, value: tag.value}
  })
}

function checkDestination(config: unknown): {thingName?: string; services: string[]} {
  if (config === undefined) return {services: []}
  const {thingName, services} = config as {thingName?: unknown; services?: unknown}
  if (thingName !== undefined && (typeof thingName !== 'string' || thingName.length > 128 || !namePattern.test(thingName))) {
    throw validation(`Value '${String(thingName)}' at 'destinationConfig.thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9:_-]+`)
  }
  if (!Array.isArray(services) || services.length < 1) {
    throw validation("Value null at 'destinationConfig.services' failed to satisfy constraint: Member must not be null and must have at least 1 item")
  }
  // "You can use up to three services per tunnel" (secure tunneling guide).
  if (services.length > 3) throw validation('A tunnel supports at most 3 services; destinationConfig.services has ' + services.length)
  for (const service of services) {
    if (typeof service !== 'string' || service.length > 128 || !namePattern.test(service)) {
      throw validation(`Invalid service name ${JSON.stringify(service)}: must match [a-zA-Z0-9:_-]+`)
    }
  }
  if (new Set(services).size !== services.length) throw validation('destinationConfig.services holds duplicate service names')
  return {thingName: thingName, services: services as string[]}
}

export class TunnelRegistry extends EventEmitter<TunnelEvents> {
  readonly #tunnels = new Map<string, TunnelRecord>()
  readonly #byToken = new Map<string, {tunnelId: string; mode: TunnelMode}>()
  readonly #lastOpen = new Map<string, number>()
  readonly options: TunnelRegistryOptions
  #now: () => number

  constructor(options: TunnelRegistryOptions = {}) {
    super()
    // Kept as given (not copied): the stand-in changes its values at run time.
    this.options = options
    this.#now = options.now ?? Date.now
  }

  /** The tunnel, with its status brought up to date (a tunnel past its lifetime is CLOSED). */
  get(tunnelId: string): TunnelRecord | undefined {
    const tunnel = this.#tunnels.get(tunnelId)
    if (tunnel && tunnel.closedAt === undefined && this.#now() >= tunnel.createdAt + tunnel.maxLifetimeTimeoutMinutes * 60_000) {
      this.#close(tunnel, tunnel.createdAt + tunnel.maxLifetimeTimeoutMinutes * 60_000)
    }
    return tunnel
  }

  all(): TunnelRecord[] {
    return [...this.#tunnels.keys()].map((id) => this.get(id)!)
  }

  /** Who may connect with this token: undefined when unknown, rotated away or the tunnel is closed. */
  authorize(accessToken: string): TunnelAccess | undefined {
    const entry = this.#byToken.get(accessToken)
    if (!entry) return undefined
    const tunnel = this.get(entry.tunnelId)
    if (!tunnel || tunnel.closedAt !== undefined) return undefined
    return {
      tunnelId: tunnel.tunnelId,
      tunnelArn: tunnel.tunnelArn,
      mode: entry.mode,
      services: [...tunnel.services],
      thingName: tunnel.thingName,
      region: tunnel.region,
      accountId: tunnel.accountId,
    }
  }

  /** The relay reports a client of one side connecting or going away. */
  setConnectionState(tunnelId: string, mode: TunnelMode, status: ConnectionStatus): boolean {
    const tunnel = this.get(tunnelId)
    if (!tunnel || (mode !== 'source' && mode !== 'destination') || (status !== 'CONNECTED' && status !== 'DISCONNECTED')) return false
    const now = this.#now()
    if (tunnel[mode].status !== status) {
      tunnel[mode] = {status, lastUpdatedAt: now}
      tunnel.lastUpdatedAt = now
      this.emit('connection', tunnel, mode, status)
    }
    return true
  }

  clear(): void {
    for (const tunnel of this.#tunnels.values()) if (tunnel.closedAt === undefined) this.#close(tunnel, this.#now())
    this.#tunnels.clear()
    this.#byToken.clear()
    this.#lastOpen.clear()
  }

  // --- the API operations -------------------------------------------------

  open(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const now = this.#now()
    const perSecond = this.options.openTunnelsPerSecond ?? 1
    if (perSecond > 0) {
      const last = this.#lastOpen.get(accountId)
      if (last !== undefined && now - last < 1000 / perSecond) {
        throw new AwsServiceError('ThrottlingException', 400, 'Rate exceeded')
      }
    }
    if (input.description !== undefined && (typeof input.description !== 'string' || !/^[^\p{C}]{1,2048}$/u.test(input.description))) {
      throw validation("Value at 'description' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\\p{C}]{1,2048}")
    }
    const tags = checkTags(input.tags)
    const destination = checkDestination(input.destinationConfig)
    const timeout = (input.timeoutConfig as {maxLifetimeTimeoutMinutes?: unknown} | undefined)?.maxLifetimeTimeoutMinutes ?? 720
    if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 1 || timeout > 720) {
      throw validation(`Value '${String(timeout)}' at 'timeoutConfig.maxLifetimeTimeoutMinutes' failed to satisfy constraint: Member must have value between 1 and 720`)
    }
    const max = this.options.maxOpenTunnels
    if (max !== undefined) {
      const open = this.all().filter((t) => t.accountId === accountId && t.region === region && t.closedAt === undefined).length
      if (open >= max) throw new AwsServiceError('LimitExceededException', 403, `The maximum number of open tunnels (${max}) has been reached`)
    }
    this.#lastOpen.set(accountId, now)
    const tunnelId = randomUUID()
    const tunnel: TunnelRecord = {
      tunnelId,
      tunnelArn: `arn:aws:iot:${region}:${accountId}:tunnel/${tunnelId}`,
      accountId,
      region,
      description: input.description,
      thingName: destination.thingName,
      services: destination.services,
      maxLifetimeTimeoutMinutes: timeout,
      tags,
      createdAt: now,
      lastUpdatedAt: now,
      sourceToken: token(),
      destinationToken: token(),
      source: {status: 'DISCONNECTED', lastUpdatedAt: now},
      destination: {status: 'DISCONNECTED', lastUpdatedAt: now},
    }
    this.#tunnels.set(tunnelId, tunnel)
    this.#byToken.set(tunnel.sourceToken, {tunnelId, mode: 'source'})
    this.#byToken.set(tunnel.destinationToken, {tunnelId, mode: 'destination'})
    this.emit('opened', tunnel)
    return {
      tunnelId,
      tunnelArn: tunnel.tunnelArn,
      sourceAccessToken: tunnel.sourceToken,
      destinationAccessToken: tunnel.destinationToken,
    }
  }

  describe(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.#own(accountId, region, input.tunnelId)
    return {
      tunnel: {
        tunnelId: tunnel.tunnelId,
        tunnelArn: tunnel.tunnelArn,
        status: tunnel.closedAt === undefined ? 'OPEN' : 'CLOSED',
        sourceConnectionState: {status: tunnel.source.status, lastUpdatedAt: seconds(tunnel.source.lastUpdatedAt)},
        destinationConnectionState: {status: tunnel.destination.status, lastUpdatedAt: seconds(tunnel.destination.lastUpdatedAt)},
        ...(tunnel.description === undefined ? {} : {description: tunnel.description}),
        ...(tunnel.services.length ? {destinationConfig: {...(tunnel.thingName ? {thingName: tunnel.thingName} : {}), services: tunnel.services}} : {}),
        timeoutConfig: {maxLifetimeTimeoutMinutes: tunnel.maxLifetimeTimeoutMinutes},
        tags: tunnel.tags,
        createdAt: seconds(tunnel.createdAt),
        lastUpdatedAt: seconds(tunnel.lastUpdatedAt),
      },
    }
  }

  list(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const maxResults = input.maxResults ?? 100
    if (typeof maxResults !== 'number' || !Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) {
      throw validation(`Value '${String(maxResults)}' at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100`)
    }
    // "Tunnels are listed by creation time in descending order" (ListTunnels reference).
    const tunnels = this.all()
      .filter((t) => t.accountId === accountId && t.region === region)
      .filter((t) => input.thingName === undefined || t.thingName === input.thingName)
      .sort((a, b) => b.createdAt - a.createdAt || (a.tunnelId < b.tunnelId ? -1 : 1))
    let start = 0
    if (input.nextToken !== undefined) {
      const after = Buffer.from(String(input.nextToken), 'base64url').toString('utf8')
      start = tunnels.findIndex((t) => t.tunnelId === after) + 1
      if (start === 0) throw validation('The nextToken is not valid')
    }
    const page = tunnels.slice(start, start + maxResults)
    const more = start + maxResults < tunnels.length
    return {
      tunnelSummaries: page.map((t) => ({
        tunnelId: t.tunnelId,
        tunnelArn: t.tunnelArn,
        status: t.closedAt === undefined ? 'OPEN' : 'CLOSED',
        ...(t.description === undefined ? {} : {description: t.description}),
        createdAt: seconds(t.createdAt),
        lastUpdatedAt: seconds(t.lastUpdatedAt),
      })),
      ...(more ? {nextToken: Buffer.from(page.at(-1)!.tunnelId).toString('base64url')} : {}),
    }
  }

  closeTunnel(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.#own(accountId, region, input.tunnelId)
    if (tunnel.closedAt === undefined) this.#close(tunnel, this.#now())
    if (input.delete === true) {
      this.#tunnels.delete(tunnel.tunnelId)
      this.#byToken.delete(tunnel.sourceToken)
      this.#byToken.delete(tunnel.destinationToken)
    }
    return {}
  }

  rotate(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.#own(accountId, region, input.tunnelId)
    const clientMode = input.clientMode
    if (clientMode !== 'SOURCE' && clientMode !== 'DESTINATION' && clientMode !== 'ALL') {
      throw validation(`Value '${String(clientMode)}' at 'clientMode' failed to satisfy constraint: Member must satisfy enum value set: [SOURCE, DESTINATION, ALL]`)
    }
    if (tunnel.closedAt !== undefined) throw notFound(`Tunnel ${tunnel.tunnelId} is closed;`)
    if (input.destinationConfig !== undefined) {
      if (clientMode === 'SOURCE') throw validation('destinationConfig can only be given when rotating the DESTINATION or ALL tokens')
      const destination = checkDestination(input.destinationConfig)
      tunnel.thingName = destination.thingName ?? tunnel.thingName
      tunnel.services = destination.services
    }
    const modes: TunnelMode[] = clientMode === 'ALL' ? ['source', 'destination'] : [clientMode === 'SOURCE' ? 'source' : 'destination']
    const answer: Record<string, unknown> = {tunnelArn: tunnel.tunnelArn}
    const now = this.#now()
    for (const mode of modes) {
      const key = mode === 'source' ? 'sourceToken' : 'destinationToken'
      this.#byToken.delete(tunnel[key])
      tunnel[key] = token()
      this.#byToken.set(tunnel[key], {tunnelId: tunnel.tunnelId, mode})
      answer[mode === 'source' ? 'sourceAccessToken' : 'destinationAccessToken'] = tunnel[key]
      // Rotating a token disconnects the client that used the old one.
      tunnel[mode] = {status: 'DISCONNECTED', lastUpdatedAt: now}
    }
    tunnel.lastUpdatedAt = now
    this.emit('rotated', tunnel, modes)
    return answer
  }

  tag(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.#byArn(accountId, region, input.resourceArn)
    for (const tag of checkTags(input.tags)) {
      const existing = tunnel.tags.find((t) => t.key === tag.key)
      if (existing) existing.value = tag.value
      else tunnel.tags.push(tag)
    }
    if (tunnel.tags.length > 200) throw validation('A tunnel can have at most 200 tags')
    return {}
  }

  untag(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    const tunnel = this.#byArn(accountId, region, input.resourceArn)
    if (!Array.isArray(input.tagKeys)) throw validation("Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
    const keys = new Set(input.tagKeys)
    tunnel.tags = tunnel.tags.filter((t) => !keys.has(t.key))
    return {}
  }

  listTags(accountId: string, region: string, input: Record<string, unknown>): Record<string, unknown> {
    return {tags: this.#byArn(accountId, region, input.resourceArn).tags}
  }

  #own(accountId: string, region: string, tunnelId: unknown): TunnelRecord {
    if (typeof tunnelId !== 'string' || !tunnelId) throw validation("Value null at 'tunnelId' failed to satisfy constraint: Member must not be null")
    const tunnel = this.get(tunnelId)
    if (tunnel?.accountId !== accountId || tunnel.region !== region) throw notFound(`Tunnel ${tunnelId}`)
    return tunnel
  }

  #byArn(accountId: string, region: string, arn: unknown): TunnelRecord {
    if (typeof arn !== 'string' || !arn) throw validation("Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
    const id = /:tunnel\/(.+)$/.exec(arn)?.[1]
    const tunnel = id ? this.get(id) : undefined
    if (tunnel?.tunnelArn !== arn || tunnel.accountId !== accountId || tunnel.region !== region) throw notFound(`Resource ${arn}`)
    return tunnel
  }

  #close(tunnel: TunnelRecord, at: number): void {
    tunnel.closedAt = at
    tunnel.lastUpdatedAt = at
    for (const mode of ['source', 'destination'] as const) {
      if (tunnel[mode].status === 'CONNECTED') tunnel[mode] = {status: 'DISCONNECTED', lastUpdatedAt: at}
    }
    this.emit('closed', tunnel)
  }
}

type Operation = (registry: TunnelRegistry, accountId: string, region: string, input: Record<string, unknown>) => Record<string, unknown>

const operations: Record<string, Operation> = {
  OpenTunnel: (r, ...call) => r.open(...call),
  DescribeTunnel: (r, ...call) => r.describe(...call),
  ListTunnels: (r, ...call) => r.list(...call),
  CloseTunnel: (r, ...call) => r.closeTunnel(...call),
  RotateTunnelAccessToken: (r, ...call) => r.rotate(...call),
  TagResource: (r, ...call) => r.tag(...call),
  UntagResource: (r, ...call) => r.untag(...call),
  ListTagsForResource: (r, ...call) => r.listTags(...call),
}

/** Runs one IoTSecuredTunneling.<Op> call on the registry (undefined: no such operation). */
export function tunnelingOperation(
  registry: TunnelRegistry,
  operation: string,
  accountId: string,
  region: string,
  input: Record<string, unknown>,
): Record<string, unknown> | undefined {
  return Object.hasOwn(operations, operation) ? operations[operation](registry, accountId, region, input) : undefined
}
