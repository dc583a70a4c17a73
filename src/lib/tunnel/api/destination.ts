// The standalone destination side of `tunnel forward --destination`: what
// `localproxy -m dst -d SSH=localhost:22` does on a device that received its
// destination token by other means (AWSIOT_TUNNEL_ACCESS_TOKEN, or the token file
// of a tunnel opened here). The proxy is the one `tunnel agent` runs per notification.
import {InputError} from '../../errors.ts'
import {formatTarget} from '../agent/notification.ts'
import {startDestinationProxy, type DestinationProxy, type DestinationTarget, type TunnelLogger} from '../protocol/index.ts'
import {checkTunnelId} from './inputs.ts'
import {sourceConnection, type RegionOptions, type SourceAccess} from './source.ts'
import {TOKEN_ENVIRONMENT_VARIABLE} from './token-variable.ts'
import {readTokenFile} from './token-file.ts'

/**
 * The destination token: the token file of --tunnel-id (its destinationAccessToken),
 * else AWSIOT_TUNNEL_ACCESS_TOKEN. InputError when neither is there.
 */
export function resolveDestinationAccess(options: {tunnelId?: string; stateDirectory: string; env?: NodeJS.ProcessEnv}): SourceAccess {
  if (options.tunnelId !== undefined) {
    const file = readTokenFile(options.stateDirectory, checkTunnelId(options.tunnelId))
    if (!file.destinationAccessToken) {
      throw new InputError(`token file ${file.path} holds no destination token (it was rotated elsewhere); pass it in ${TOKEN_ENVIRONMENT_VARIABLE}`)
    }
    return {token: file.destinationAccessToken, region: file.region, tunnelId: file.tunnelId, services: file.services, origin: file.path}
  }
  const token = (options.env ?? process.env)[TOKEN_ENVIRONMENT_VARIABLE]
  if (token === undefined || token.trim() === '') {
    throw new InputError(`give the destination access token in ${TOKEN_ENVIRONMENT_VARIABLE}, or --tunnel-id <id> (a tunnel opened with \`iotctl tunnel open\` here)`)
  }
  return {token: token.trim(), origin: TOKEN_ENVIRONMENT_VARIABLE}
}

export interface DestinationOptions extends RegionOptions {
  access: SourceAccess
  /** Service -> local target (parseDestinations of --destination). */
  destinations: Record<string, DestinationTarget>
  proxyEndpoint?: string
  logger?: TunnelLogger
  signal?: AbortSignal
}

/** Connects as the tunnel's destination; every stream the source starts opens a TCP connection to its service's target. */
export async function startDestination(options: DestinationOptions): Promise<DestinationProxy> {
  const names = Object.keys(options.destinations)
  const known = options.access.services
  // The token file says the tunnel's services: a typo is bad input before connecting.
  const unknown = known && known.length > 0 ? names.filter((name) => !known.includes(name)) : []
  if (unknown.length > 0) throw new InputError(`--destination: service ${unknown.join(', ')} is not one of the tunnel's services (${known!.join(', ')})`)
  const connection = await sourceConnection(options.access, options)
  return startDestinationProxy({
    ...connection,
    token: options.access.token,
    services: new Map(Object.entries(options.destinations).map(([name, target]) => [name, formatTarget(target)])),
    ...(options.logger ? {logger: options.logger} : {}),
    ...(options.signal ? {signal: options.signal} : {}),
  })
}
