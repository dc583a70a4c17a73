// The message AWS IoT publishes to `$aws/things/<thing>/tunnels/notify` when a
// tunnel is opened for the thing (and when its destination token is rotated),
// from the Secure Tunneling developer guide ("IoT agent snippet"):
//   {"clientAccessToken": "...", "clientMode": "destination", "region": "us-east-1", "services": ["SSH"]}
// Pure: parsing and the mapping of the tunnel's services to local destinations.
import type {DestinationTarget} from '../protocol/index.ts'

export function notifyTopic(thing: string): string {
  return `$aws/things/${thing}/tunnels/notify`
}

export interface TunnelNotification {
  clientAccessToken: string
  clientMode: string
  region?: string
  /** Empty for a tunnel opened without services (one unnamed stream). */
  services: string[]
}

/** Parses a notification; throws an Error saying what is wrong (the agent logs it and goes on). */
export function parseNotification(payload: Buffer | string): TunnelNotification {
  let document: unknown
  try {
    document = JSON.parse(payload.toString())
  } catch {
    throw new Error('the notification is not JSON')
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new Error('the notification is not a JSON object')
  const {clientAccessToken, clientMode, region, services} = document as Record<string, unknown>
  if (typeof clientAccessToken !== 'string' || clientAccessToken === '') throw new Error('the notification has no clientAccessToken')
  if (typeof clientMode !== 'string') throw new Error('the notification has no clientMode')
  if (region !== undefined && typeof region !== 'string') throw new Error('the notification\'s region is not a string')
  if (services !== undefined && (!Array.isArray(services) || services.some((service) => typeof service !== 'string'))) {
    throw new Error('the notification\'s services are not a list of names')
  }
  return {clientAccessToken, clientMode, ...(region ? {region} : {}), services: (services as string[] | undefined) ?? []}
}

export type ServiceMapping =
  | {ok: true; services: Record<string, string>; unmapped: string[]}
  | {ok: false; reason: string}

export function formatTarget(target: DestinationTarget): string {
  return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`
}

/**
 * Which of the tunnel's services this agent serves. None mapped: refused (with
 * the reason). Some: those, with the others listed (their streams get reset).
 * A tunnel without services is served by the only destination, if there is one.
 */
export function mapServices(notification: TunnelNotification, destinations: Readonly<Record<string, DestinationTarget>>): ServiceMapping {
  const configured = Object.keys(destinations)
  if (notification.clientMode !== 'destination') return {ok: false, reason: `clientMode is ${JSON.stringify(notification.clientMode)}, not "destination"`}
  if (notification.services.length === 0) {
    if (configured.length !== 1) return {ok: false, reason: `the tunnel has no named service and --destination maps ${configured.length} (${configured.join(', ')}): map exactly one`}
    return {ok: true, services: {[configured[0]]: formatTarget(destinations[configured[0]])}, unmapped: []}
  }
  const services: Record<string, string> = {}
  const unmapped: string[] = []
  for (const service of notification.services) {
    const target = destinations[service]
    if (target) services[service] = formatTarget(target)
    else unmapped.push(service)
  }
  if (Object.keys(services).length === 0) {
    return {ok: false, reason: `no --destination for ${unmapped.join(', ')} (this agent maps ${configured.join(', ')})`}
  }
  return {ok: true, services, unmapped}
}
