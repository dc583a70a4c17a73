// The source side of `tunnel forward` and `tunnel proxy`: where the access token
// comes from (the tunnel's token file, or AWSIOT_TUNNEL_ACCESS_TOKEN as the C++
// localproxy reads it), which endpoint and region to use, and the proxies.
import type {Readable, Writable} from 'node:stream'
import {InputError} from '../../errors.ts'
import {
  openSourceStream, resolveSourceServices, startSourceProxy,
  type CommonProxyOptions, type DestinationClientType, type SourceProxy, type TunnelLogger,
} from '../protocol/index.ts'
import {checkProxyEnvironment} from '../protocol/proxy-env.ts'
import {checkTunnelId} from './inputs.ts'
import {readTokenFile} from './token-file.ts'
import {TOKEN_ENVIRONMENT_VARIABLE} from './token-variable.ts'

export interface SourceAccess {
  token: string
  /** The token file's client token: the same on every connection made from it. */
  clientToken?: string
  region?: string
  tunnelId?: string
  /** The tunnel's services, when known (token file). */
  services?: string[]
  /** For messages: the token file, or the environment variable. */
  origin: string
}

/**
 * The source token: the token file of --tunnel-id, else AWSIOT_TUNNEL_ACCESS_TOKEN.
 * InputError when neither is there, or the file is missing or unreadable.
 */
export function resolveSourceAccess(options: {tunnelId?: string; stateDirectory: string; env?: NodeJS.ProcessEnv}): SourceAccess {
  if (options.tunnelId !== undefined) {
    const file = readTokenFile(options.stateDirectory, checkTunnelId(options.tunnelId))
    return {
      token: file.sourceAccessToken,
      clientToken: file.sourceClientToken,
      region: file.region,
      tunnelId: file.tunnelId,
      services: file.services,
      origin: file.path,
    }
  }
  const token = (options.env ?? process.env)[TOKEN_ENVIRONMENT_VARIABLE]
  if (token === undefined || token.trim() === '') {
    throw new InputError(`give --tunnel-id <id> (a tunnel opened with \`iotctl tunnel open\`), or the source access token in ${TOKEN_ENVIRONMENT_VARIABLE}`)
  }
  return {token: token.trim(), origin: TOKEN_ENVIRONMENT_VARIABLE}
}

/** Where the region comes from when neither --region nor the token file says it. */
export interface RegionOptions {
  /** --region: wins over the token file's. */
  region?: string
  /** The IoT account's region from the settings (iotctl.json, then the profile); asked only when needed. */
  accountRegion: () => Promise<string>
}

/**
 * Endpoint and region for the proxy: --proxy-endpoint wins; otherwise --region,
 * else the region of the token file, else the IoT account's region.
 */
export async function sourceConnection(access: SourceAccess, options: RegionOptions & {proxyEndpoint?: string}): Promise<Pick<CommonProxyOptions, 'endpoint' | 'region'>> {
  // A proxy URL that cannot be used is bad input (exit 2), found before the region is looked up.
  checkProxyEnvironment()
  if (options.proxyEndpoint) return {endpoint: options.proxyEndpoint}
  const region = options.region ?? access.region ?? await options.accountRegion()
  return {region}
}

/** Checks the --source services against the tunnel's (when the token file says them) before any port is bound. */
export function checkSourceServices(names: string[], access: SourceAccess): void {
  if (access.services) resolveSourceServices(names, access.services)
}

export interface ForwardOptions extends RegionOptions {
  access: SourceAccess
  /** Service -> local port (0: a free one). */
  ports: Record<string, number>
  proxyEndpoint?: string
  bindAddress?: string
  /** localproxy's -y: V1/V2 for an older destination (one connection per service). */
  destinationClientType?: DestinationClientType
  logger?: TunnelLogger
  signal?: AbortSignal
}

/** Binds the local ports (InputError naming a port in use), then connects to the tunnel. */
export async function startForward(options: ForwardOptions): Promise<SourceProxy> {
  checkSourceServices(Object.keys(options.ports), options.access)
  const connection = await sourceConnection(options.access, options)
  return startSourceProxy({
    ...connection,
    token: options.access.token,
    ...(options.access.clientToken ? {clientToken: options.access.clientToken} : {}),
    services: options.ports,
    ...(options.bindAddress ? {bindAddress: options.bindAddress} : {}),
    ...(options.destinationClientType ? {destinationClientType: options.destinationClientType} : {}),
    ...(options.logger ? {logger: options.logger} : {}),
    ...(options.signal ? {signal: options.signal} : {}),
  })
}

export interface StdioProxyOptions extends RegionOptions {
  access: SourceAccess
  /** The connection's local end: the command's stdin and stdout. */
  input: Readable
  output: Writable
  /** The service to reach; default the tunnel's only one. */
  service?: string
  proxyEndpoint?: string
  logger?: TunnelLogger
  signal?: AbortSignal
}

/** One connection over `input`/`output` (stdin/stdout); the proxy closes when it ends. */
export async function startStdioProxy(options: StdioProxyOptions): Promise<SourceProxy> {
  if (options.service !== undefined) checkSourceServices([options.service], options.access)
  const connection = await sourceConnection(options.access, options)
  return openSourceStream({
    input: options.input,
    output: options.output,
    ...connection,
    token: options.access.token,
    ...(options.access.clientToken ? {clientToken: options.access.clientToken} : {}),
    ...(options.service !== undefined ? {serviceId: options.service} : {}),
    ...(options.logger ? {logger: options.logger} : {}),
    ...(options.signal ? {signal: options.signal} : {}),
    // No reconnection for a single stream: a lost tunnel ends it anyway.
    retry: {maxAttempts: 3},
  })
}
