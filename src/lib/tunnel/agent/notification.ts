// The message AWS IoT publishes to `$aws/things/<thing>/tunnels/notify` when a
// tunnel is opened for the thing (and when its destination token is rotated),
// from the Secure Tunneling developer guide ("IoT agent snippet"):
//   {"clientAccessToken": "...", "clientMode": "destination", "region": "us-east-1", "services": ["SSH"]}
// Pure: parsing and the mapping of the tunnel's services to local destinations.
//
// Anything on the topic is checked as if an attacker wrote it: the services as
// OpenTunnel's DestinationConfig allows them (1-3 names of 1-128 [a-zA-Z0-9:_-],
// https://docs.aws.amazon.com/iot/latest/apireference/API_iot-secure-tunneling_DestinationConfig.html),
// the region as an AWS region name (it picks the host the token is sent to), the
// size bounded, and every value that reaches a log line stripped of control characters.
import type {DestinationTarget} from '../protocol/index.ts'
import {REGION_PATTERN} from '../protocol/index.ts'
import {MAX_SERVICES, SERVICE_ID_PATTERN} from '../protocol/message.ts'

export function notifyTopic(thing: string): string {
  return `$aws/things/${thing}/tunnels/notify`
}

/**
 * The largest notify payload the agent reads. AWS's message is four short fields
 * (a token of a few hundred bytes, three service names of at most 128
 * characters): 8 KiB leaves room for longer tokens and refuses anything else
 * before JSON.parse sees it.
 */
export const MAX_NOTIFICATION_BYTES = 8192

/** Longest value of a notification quoted in a log line. */
const MAX_QUOTED = 64

export interface TunnelNotification {
  clientAccessToken: string
  clientMode: string
  region?: string
  /** Empty for a tunnel opened without services (one unnamed stream). */
  services: string[]
}

/**
 * A value from a notification made safe for one log line: C0/C1 controls, DEL,
 * line/paragraph separators and bidi overrides become '?', and long values are cut.
 */
export function printable(value: string, max = MAX_QUOTED): string {
  // eslint-disable-next-line no-control-regex -- these are exactly what must not reach a terminal
  const cleaned = value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, '?')
  return cleaned.length > max ? `${cleaned.slice(0, max)}…` : cleaned
}

/** `"value"` for a log line: printable, quoted. */
function quoted(value: string): string {
  return `"${printable(value).replaceAll('"', '\\"')}"`
}

/** Parses a notification; throws an Error saying what is wrong, in one printable line (the agent logs it and goes on). */
export function parseNotification(payload: Buffer | string): TunnelNotification {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  if (size > MAX_NOTIFICATION_BYTES) throw new Error(`the notification is ${size} bytes; at most ${MAX_NOTIFICATION_BYTES} are accepted`)
  let document: unknown
  try {
    document = JSON.parse(payload.toString())
  } catch {
    throw new Error('the notification is not JSON')
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error('the notification is not a JSON object')
  const field = (name: string): unknown => Object.hasOwn(document, name) ? (document as Record<string, unknown>)[name] : undefined
  const clientAccessToken = field('clientAccessToken')
  const clientMode = field('clientMode')
  const region = field('region')
  const services = field('services')
  if (typeof clientAccessToken !== 'string' || clientAccessToken === '') throw new Error('the notification has no clientAccessToken')
  if (typeof clientMode !== 'string') throw new Error('the notification has no clientMode')
  if (region !== undefined && typeof region !== 'string') throw new Error('the notification\'s region is not a string')
  if (typeof region === 'string' && !REGION_PATTERN.test(region)) throw new Error(`region ${quoted(region)} is not an AWS region`)
  if (services !== undefined && (!Array.isArray(services) || services.some((service) => typeof service !== 'string'))) {
    throw new Error('the notification\'s services are not a list of names')
  }
  const names: string[] = services === undefined ? [] : services.filter((service): service is string => typeof service === 'string')
  if (names.length > MAX_SERVICES) throw new Error(`a tunnel has at most ${MAX_SERVICES} services, got ${names.length}`)
  for (const name of names) {
    if (!SERVICE_ID_PATTERN.test(name)) throw new Error(`service ${quoted(name)} is not a service id (1-128 letters, digits, ':', '_' or '-')`)
  }
  const repeated = names.find((name, index) => names.indexOf(name) !== index)
  if (repeated !== undefined) throw new Error(`service ${repeated} is named twice`)
  return {clientAccessToken, clientMode, ...(region !== undefined ? {region} : {}), services: names}
}

export type ServiceMapping =
  | {ok: true; services: Map<string, string>; unmapped: string[]}
  | {ok: false; reason: string}

export function formatTarget(target: DestinationTarget): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
}

/**
 * Which of the tunnel's services this agent serves. None mapped: refused (with
 * the reason). Some: those, with the others listed (their streams get reset).
 * A tunnel without services is served by the only destination, if there is one.
 * `destinations` is a Map: a service named `constructor` must not find Object's.
 */
export function mapServices(notification: TunnelNotification, destinations: ReadonlyMap<string, DestinationTarget>): ServiceMapping {
  const configured = [...destinations.keys()]
  if (notification.clientMode !== 'destination') return {ok: false, reason: `clientMode is ${quoted(notification.clientMode)}, not "destination"`}
  if (notification.services.length === 0) {
    const [only] = [...destinations]
    if (configured.length !== 1 || !only) return {ok: false, reason: `the tunnel has no named service and --destination maps ${configured.length} (${configured.join(', ')}): map exactly one`}
    return {ok: true, services: new Map([[only[0], formatTarget(only[1])]]), unmapped: []}
  }
  const services = new Map<string, string>()
  const unmapped: string[] = []
  for (const service of notification.services) {
    const target = destinations.get(service)
    if (target) services.set(service, formatTarget(target))
    else unmapped.push(service)
  }
  if (services.size === 0) {
    return {ok: false, reason: `no --destination for ${unmapped.join(', ')} (this agent maps ${configured.join(', ')})`}
  }
  return {ok: true, services, unmapped}
}
