// The tunnel commands' inputs, checked before anything is opened or bound
// (exit 2). Pure functions, unit-tested with tables of cases.
//
// Limits are the Secure Tunneling API reference's: OpenTunnel's
// destinationConfig.services holds 1-3 names matching [a-zA-Z0-9:_-]+ of at
// most 128 characters ("You can use up to three services per tunnel"),
// timeoutConfig.maxLifetimeTimeoutMinutes is 1-720, a thing name matches
// [a-zA-Z0-9:_-]+ (1-128), and a tunnel id [a-zA-Z0-9_\-+=:]{1,128}.
import {InputError} from '../../errors.ts'
import {parseTarget, type DestinationTarget} from '../protocol/destination.ts'
import {MAX_SERVICES, SERVICE_ID_PATTERN} from '../protocol/message.ts'
import type {DestinationClientType} from '../protocol/source.ts'

export const MIN_TIMEOUT_MINUTES = 1
export const MAX_TIMEOUT_MINUTES = 720

const thingNamePattern = /^[a-zA-Z0-9:_-]{1,128}$/
const tunnelIdPattern = /^[a-zA-Z0-9_\-+=:]{1,128}$/

/** Splits `a,b, c` into its non-empty parts. */
function parts(value: string): string[] {
  return value.split(',').map((part) => part.trim()).filter((part) => part !== '')
}

export function checkServiceName(name: string, flag: string): string {
  if (!SERVICE_ID_PATTERN.test(name)) {
    throw new InputError(`${flag}: service name ${JSON.stringify(name)} must be 1-128 letters, digits, ':', '_' or '-' (e.g. SSH, HTTP, RDP)`)
  }
  return name
}

function checkServiceCount(names: string[], flag: string): void {
  if (names.length === 0) throw new InputError(`${flag}: name at least one service (e.g. SSH)`)
  if (names.length > MAX_SERVICES) throw new InputError(`${flag}: a tunnel carries at most ${MAX_SERVICES} services, got ${names.length} (${names.join(', ')})`)
  const repeated = names.find((name, index) => names.indexOf(name) !== index)
  if (repeated !== undefined) throw new InputError(`${flag}: service ${repeated} is named twice`)
}

/** `--services SSH,HTTP` -> ['SSH', 'HTTP']. */
export function parseServiceList(value: string, flag = '--services'): string[] {
  const names = parts(value)
  for (const name of names) checkServiceName(name, flag)
  checkServiceCount(names, flag)
  return names
}

/**
 * `SERVICE=value,…` entries, each parsed by `parse`; services checked, counted
 * and not repeated. `bare` names the service of an entry without `=` ('' for
 * "the tunnel's only service"), or refuses such entries when undefined.
 */
function serviceMap<T>(value: string, flag: string, parse: (text: string, entry: string, name: string) => T, bare?: string): Record<string, T> {
  const entries = parts(value)
  // A Map, then own properties only: `constructor` or `__proto__` are valid service names.
  const map = new Map<string, T>()
  for (const entry of entries) {
    const at = entry.indexOf('=')
    if (at === -1 && bare === undefined) throw new InputError(`${flag}: ${JSON.stringify(entry)} is not SERVICE=HOST:PORT (e.g. SSH=localhost:22)`)
    const name = at === -1 ? bare! : checkServiceName(entry.slice(0, at).trim(), flag)
    const parsed = parse((at === -1 ? entry : entry.slice(at + 1)).trim(), entry, name)
    if (map.has(name)) throw new InputError(`${flag}: service ${name || 'of the tunnel'} is given twice`)
    map.set(name, parsed)
  }
  checkServiceCount([...map.keys()].map((name) => name || '(the only service)'), flag)
  if (map.has('') && entries.length > 1) throw new InputError(`${flag}: a port without a service name stands for the tunnel's only service; name each service (SSH=5555,HTTP=8080)`)
  return Object.fromEntries(map)
}

/**
 * `--source SSH=5555,HTTP=8080` -> {SSH: 5555, HTTP: 8080}. A bare port (`5555`)
 * means the tunnel's only service (key ''). Port 0 picks a free port.
 */
export function parseSourcePorts(value: string, flag = '--source'): Record<string, number> {
  const ports = serviceMap(value, flag, (text, entry) => {
    if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) throw new InputError(`${flag}: ${JSON.stringify(entry)} is not SERVICE=PORT with a port 0-65535 (e.g. SSH=5555)`)
    return Number(text)
  }, '')
  const used = Object.values(ports).filter((port) => port !== 0)
  const clash = used.find((port, index) => used.indexOf(port) !== index)
  if (clash !== undefined) throw new InputError(`${flag}: port ${clash} is given to two services`)
  return ports
}

/** `--destination SSH=localhost:22,HTTP=8080` -> {SSH: {host, port}, HTTP: {host: 'localhost', port: 8080}}. */
export function parseDestinations(value: string, flag = '--destination'): Record<string, DestinationTarget> {
  return serviceMap(value, flag, (text, _entry, name) => {
    try {
      return parseTarget(text, name)
    } catch (error) {
      throw new InputError(`${flag}: ${(error as Error).message}`)
    }
  })
}

export function checkTimeoutMinutes(minutes: number | undefined, flag = '--timeout-minutes'): number | undefined {
  if (minutes === undefined) return undefined
  if (!Number.isInteger(minutes) || minutes < MIN_TIMEOUT_MINUTES || minutes > MAX_TIMEOUT_MINUTES) {
    throw new InputError(`${flag} ${minutes}: a tunnel lives ${MIN_TIMEOUT_MINUTES} to ${MAX_TIMEOUT_MINUTES} minutes`)
  }
  return minutes
}

export function checkThingName(name: string, flag = '--thing'): string {
  if (!thingNamePattern.test(name)) throw new InputError(`${flag} ${JSON.stringify(name)}: a thing name is 1-128 letters, digits, ':', '_' or '-'`)
  return name
}

/** Tunnel ids also name token files: anything else (a path, a typo with a slash) is refused. */
export function checkTunnelId(id: string, flag = '--tunnel-id'): string {
  if (!tunnelIdPattern.test(id)) throw new InputError(`${flag} ${JSON.stringify(id)} is not a tunnel id (letters, digits, '_', '-', '+', '=', ':')`)
  return id
}

/** `host:port` of an MQTT broker (default port 8883). */
export function parseEndpoint(value: string, flag = '--endpoint'): {host: string; port: number} {
  const text = value.trim()
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text)
  let host = text
  let portText: string | undefined
  if (bracketed) {
    host = bracketed[1]!
    portText = bracketed[2]
  } else if (text.includes(':')) {
    const at = text.lastIndexOf(':')
    host = text.slice(0, at)
    portText = text.slice(at + 1)
  }
  const port = portText === undefined ? 8883 : Number(portText)
  if (!host || /[/\s]/.test(host) || (portText !== undefined && !/^\d{1,5}$/.test(portText)) || port < 1 || port > 65535) {
    throw new InputError(`${flag} ${JSON.stringify(value)}: give the IoT data endpoint as host or host:port (e.g. abc123-ats.iot.eu-west-1.amazonaws.com:8883)`)
  }
  return {host, port}
}

export interface ForwardFlags {
  source?: string
  destination?: string
  destinationClientType?: string
}

export type ForwardPlan =
  | {mode: 'source'; ports: Record<string, number>; destinationClientType?: DestinationClientType}
  | {mode: 'destination'; destinations: Record<string, DestinationTarget>}

/**
 * `tunnel forward`'s mode and maps: --source (localproxy -s, source mode) or
 * --destination (-m dst -d, destination mode), exactly one; -y only with --source.
 */
export function checkForwardFlags(flags: ForwardFlags): ForwardPlan {
  if (flags.source !== undefined && flags.destination !== undefined) {
    throw new InputError('--source and --destination cannot be used together: --source makes this end the source (local ports), --destination its destination (local services)')
  }
  const destinationClientType = parseDestinationClientType(flags.destinationClientType)
  if (flags.source !== undefined) return {mode: 'source', ports: parseSourcePorts(flags.source), ...(destinationClientType ? {destinationClientType} : {})}
  if (flags.destination === undefined) {
    throw new InputError('give --source SERVICE=PORT (this end is the source) or --destination SERVICE=HOST:PORT (this end is the destination)')
  }
  if (destinationClientType) throw new InputError('--destination-client-type names the version of the destination: it goes with --source, not --destination')
  return {mode: 'destination', destinations: parseDestinations(flags.destination)}
}

/** localproxy's -y/--destination-client-type: V1, V2 or V3 (any case). */
export function parseDestinationClientType(value: string | undefined, flag = '--destination-client-type'): DestinationClientType | undefined {
  if (value === undefined) return undefined
  const type = value.trim().toUpperCase()
  if (type === 'V1' || type === 'V2' || type === 'V3') return type
  throw new InputError(`${flag} ${JSON.stringify(value)}: give V1, V2 or V3 (the version of the destination's local proxy)`)
}
