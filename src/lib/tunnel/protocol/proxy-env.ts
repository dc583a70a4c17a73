// HTTPS_PROXY / ALL_PROXY / NO_PROXY for the tunnel's WebSocket: an HTTP CONNECT
// proxy (http://, https://) or a SOCKS5 proxy (socks5:// resolves the tunnel's
// host here, socks5h:// lets the proxy resolve it), with user:password in the URL.
// The agents are the maintained https-proxy-agent and socks-proxy-agent, each
// loaded only when a proxy of its kind is used.
import type {Agent} from 'node:http'
import {BlockList, isIP} from 'node:net'
import {InputError} from '../../errors.ts'
import {TunnelUnreachableError} from './errors.ts'

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

/** Where a `wss:` URL's proxy is read, first set wins (curl's order: the scheme's variable, then ALL_PROXY). */
const PROXY_VARIABLES = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'] as const
const PROXY_SCHEMES = ['http:', 'https:', 'socks5:', 'socks5h:']

/** The proxy URL as it may be printed: scheme, user and host, never the password. */
export function displayProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.username ? `${decodeURIComponent(proxy.username)}@` : ''}${proxy.host}`
}

function parseProxy(name: string, value: string): URL {
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
  } catch {
    throw new InputError(`${name} is not a proxy URL (e.g. http://proxy:3128 or socks5h://user:password@proxy:1080)`)
  }
  if (!PROXY_SCHEMES.includes(url.protocol.toLowerCase())) {
    throw new InputError(`${name}=${displayProxy(url)}: the tunnel goes through http://, https://, socks5:// or socks5h:// proxies, not ${url.protocol}//`)
  }
  if (!url.hostname) throw new InputError(`${name}=${displayProxy(url)} names no proxy host`)
  return url
}

/**
 * Checks the proxy variables before anything connects (InputError, exit 2): a
 * scheme the tunnel cannot use is refused even when NO_PROXY would bypass it,
 * so that a typo is not found only on the network that needs the proxy.
 */
export function checkProxyEnvironment(env: Env = process.env): void {
  for (const name of PROXY_VARIABLES) {
    const value = env[name]
    if (value !== undefined && value.trim() !== '') parseProxy(name, value.trim())
  }
}

/** The proxy for a `wss:` URL from HTTPS_PROXY, else ALL_PROXY (either case), and NO_PROXY/no_proxy; undefined for a direct connection. */
export function proxyForUrl(target: URL, env: Env = process.env): URL | undefined {
  const name = PROXY_VARIABLES.find((variable) => (env[variable] ?? '').trim() !== '')
  if (!name) return undefined
  const port = target.port ? Number(target.port) : target.protocol === 'ws:' || target.protocol === 'http:' ? 80 : 443
  if (bypassesProxy(target.hostname, port, firstSet(env, ['NO_PROXY', 'no_proxy']))) return undefined
  return parseProxy(name, env[name]!.trim())
}

function isSocks(proxy: URL): boolean {
  return proxy.protocol === 'socks5:' || proxy.protocol === 'socks5h:'
}

/** The agent that opens the WebSocket's TCP connection through `proxy`. */
export async function proxyAgent(proxy: URL): Promise<Agent> {
  if (isSocks(proxy)) {
    const {SocksProxyAgent} = await import('socks-proxy-agent')
    return new SocksProxyAgent(proxy)
  }
  const {HttpsProxyAgent} = await import('https-proxy-agent')
  return new HttpsProxyAgent(proxy)
}

/**
 * A connection error that retrying will not mend: the SOCKS5 proxy refused the
 * user name and password (RFC 1929 status other than 0). Undefined otherwise.
 */
export function proxyFailure(error: Error, proxy: URL): Error | undefined {
  if (isSocks(proxy) && /Socks5 Authentication failed|no accepted authentication type/i.test(error.message)) {
    return new TunnelUnreachableError(`the SOCKS5 proxy ${displayProxy(proxy)} refused ${proxy.username ? 'the user name and password in the proxy URL' : 'to connect without a user name and password'} (${error.message})`)
  }
  return undefined
}
