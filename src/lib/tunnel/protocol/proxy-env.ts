// HTTPS_PROXY / NO_PROXY for the tunnel's WebSocket (an HTTP CONNECT proxy).
import {BlockList, isIP} from 'node:net'

type Env = Record<string, string | undefined>

function firstSet(env: Env, names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = env[name]
    if (value !== undefined && value.trim() !== '') return value.trim()
  }
  return undefined
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** Splits `host`, `host:port`, `[v6]:port`, `v6` of one NO_PROXY entry. */
function parseEntry(entry: string): {host: string; port?: number} {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']')
    const port = entry.slice(close + 1).replace(/^:/, '')
    return port ? {host: entry.slice(1, close), port: Number(port)} : {host: entry.slice(1, close)}
  }
  const colons = entry.split(':').length - 1
  if (colons === 1) {
    const [host, port] = entry.split(':') as [string, string]
    return {host, port: Number(port)}
  }
  return {host: entry}
}

function matchesCidr(host: string, cidr: string): boolean {
  const [network, bits] = cidr.split('/') as [string, string]
  const family = isIP(network)
  if (family === 0 || isIP(host) !== family) return false
  const list = new BlockList()
  const type = family === 4 ? 'ipv4' : 'ipv6'
  list.addSubnet(network, Number(bits), type)
  return list.check(host, type)
}

/**
 * True when NO_PROXY says to reach `hostname:port` directly. Entries are
 * separated by commas or spaces; `*` matches everything; `example.com` and
 * `.example.com` match the domain and its subdomains; an IP matches itself, a
 * CIDR its network; `:port` restricts an entry to one port.
 */
export function bypassesProxy(hostname: string, port: number, noProxy: string | undefined): boolean {
  if (!noProxy) return false
  const host = stripBrackets(hostname).toLowerCase()
  for (const raw of noProxy.split(/[\s,]+/)) {
    const entry = raw.trim().toLowerCase()
    if (!entry) continue
    if (entry === '*') return true
    if (entry.includes('/')) {
      if (matchesCidr(host, entry)) return true
      continue
    }
    const parsed = parseEntry(entry)
    if (parsed.port !== undefined && parsed.port !== port) continue
    const domain = parsed.host.replace(/^\*?\./, '')
    if (host === domain || host.endsWith(`.${domain}`)) return true
  }
  return false
}

/** The HTTP proxy to use for a `wss:` URL, from HTTPS_PROXY/https_proxy and NO_PROXY/no_proxy; undefined for a direct connection. */
export function proxyForUrl(target: URL, env: Env = process.env): URL | undefined {
  const proxy = firstSet(env, ['HTTPS_PROXY', 'https_proxy'])
  if (!proxy) return undefined
  const port = target.port ? Number(target.port) : target.protocol === 'ws:' || target.protocol === 'http:' ? 80 : 443
  if (bypassesProxy(target.hostname, port, firstSet(env, ['NO_PROXY', 'no_proxy']))) return undefined
  return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(proxy) ? proxy : `http://${proxy}`)
}
