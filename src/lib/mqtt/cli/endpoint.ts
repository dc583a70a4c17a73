// --endpoint as typed: `host`, `host:port`, `[v6]:port`, or a URL for other
// transports: `mqtts://host:port`, `wss://host:port/path`, and, for local test
// brokers only, `ws://host:port/path` and `mqtt://host:port`. Pure.
import {InputError} from '../../errors.ts'

export type EndpointScheme = 'mqtts' | 'wss' | 'ws' | 'mqtt'

export interface ParsedEndpoint {
  /** Absent when only a host (and port) was given: the credentials decide. */
  scheme?: EndpointScheme
  host: string
  port?: number
  path?: string
}

const schemes: EndpointScheme[] = ['mqtts', 'wss', 'ws', 'mqtt']

export function parseEndpoint(text: string): ParsedEndpoint {
  const value = text.trim()
  if (value === '') throw new InputError('--endpoint is empty: give the IoT data endpoint host, e.g. abc123-ats.iot.eu-west-1.amazonaws.com')
  const schemeMatch = /^([a-z]+):\/\//i.exec(value)
  if (schemeMatch) {
    const scheme = schemeMatch[1].toLowerCase() as EndpointScheme
    if (!schemes.includes(scheme)) throw new InputError(`--endpoint ${value}: use a host name, host:port, or one of ${schemes.map((s) => `${s}://`).join(', ')}`)
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new InputError(`--endpoint ${value} is not a valid URL`)
    }
    const port = url.port === '' ? undefined : Number(url.port)
    const path = url.pathname === '' || url.pathname === '/' ? undefined : url.pathname
    if (path && (scheme === 'mqtts' || scheme === 'mqtt')) throw new InputError(`--endpoint ${value}: ${scheme}:// takes no path`)
    return {scheme, host: url.hostname, ...(port === undefined ? {} : {port}), ...(path ? {path} : {})}
  }
  const hostPort = /^(\[[0-9a-f:.]+\]|[^:/\s[\]]+)(?::(\d+))?$/i.exec(value)
  if (!hostPort) throw new InputError(`--endpoint ${value}: give host or host:port (no path), e.g. abc123-ats.iot.eu-west-1.amazonaws.com:8883`)
  const port = hostPort[2] === undefined ? undefined : Number(hostPort[2])
  if (port !== undefined && (port < 1 || port > 65535)) throw new InputError(`--endpoint ${value}: port ${port} is not a TCP port (1-65535)`)
  return {host: hostPort[1], ...(port === undefined ? {} : {port})}
}
