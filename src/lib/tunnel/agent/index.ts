// `iotctl tunnel agent`: the device side of Secure Tunneling. Checks every
// input before connecting (exit 2), then subscribes to the thing's notify topic
// and runs a destination proxy per notified tunnel until stopped.
import {readFileSync} from 'node:fs'
import {InputError} from '../../errors.ts'
import {caBundleOf, dataPlanePort} from '../../mqtt/local-endpoint.ts'
import {REGION_PATTERN, tunnelUrl, type TunnelLogger} from '../protocol/index.ts'
import {checkProxyEnvironment} from '../protocol/proxy-env.ts'
import {checkThingName, parseDestinations, parseEndpoint} from '../api/inputs.ts'
import {TunnelAgent, type AgentStats} from './agent.ts'
import {agentLimit, MAX_CONNECTIONS, MAX_RECONNECTS, MAX_TUNNELS} from './limits.ts'
import {formatTarget} from './notification.ts'
import {prepareNotifyConnection, subscribeNotifications, type NotifySubscription} from './notify.ts'

export {TunnelAgent} from './agent.ts'
export type {AgentStats, AgentTunnel, NotificationOutcome, TunnelAgentOptions} from './agent.ts'
export {MAX_NOTIFICATION_BYTES, mapServices, notifyTopic, parseNotification, printable} from './notification.ts'
export {MAX_CONNECTIONS, MAX_RECONNECTS, MAX_TUNNELS, agentLimit, checkAgentLimit} from './limits.ts'

export interface AgentRequest {
  thing: string
  cert: string
  key: string
  ca?: string
  /** The IoT data endpoint, host[:port] (default port 8883). */
  endpoint?: string
  /** Without `endpoint`: finds it (DescribeEndpoint iot:Data-ATS with the profile's credentials). */
  resolveEndpoint?: () => Promise<string>
  clientId?: string
  /** `SSH=localhost:22,HTTP=localhost:8080`. */
  destination: string
  proxyEndpoint?: string
  region?: string
  /** --max-tunnels, --max-connections, --max-reconnects (defaults in limits.ts). */
  maxTunnels?: number
  maxConnections?: number
  maxReconnects?: number
  logger: TunnelLogger
}

export interface RunningAgent {
  agent: TunnelAgent
  subscription: NotifySubscription
  /** `SSH -> localhost:22, …` */
  routes: string
  /** Warnings about the files (a key readable by others). */
  warnings: string[]
  stop(): Promise<AgentStats>
}

export interface AgentResult extends AgentStats {
  thing: string
  topic: string
  url: string
}

export async function startAgent(request: AgentRequest): Promise<RunningAgent> {
  const thing = checkThingName(request.thing)
  const destinations = new Map(Object.entries(parseDestinations(request.destination)))
  const maxTunnels = agentLimit(MAX_TUNNELS, request.maxTunnels)
  const maxConnections = agentLimit(MAX_CONNECTIONS, request.maxConnections)
  const maxReconnects = agentLimit(MAX_RECONNECTS, request.maxReconnects)
  if (request.region !== undefined && !REGION_PATTERN.test(request.region)) throw new InputError(`--region ${JSON.stringify(request.region)} is not an AWS region name such as eu-west-1`)
  if (request.proxyEndpoint !== undefined) {
    try {
      tunnelUrl('destination', request.proxyEndpoint, undefined)
    } catch (error) {
      throw new InputError(`--proxy-endpoint: ${(error as Error).message}`)
    }
  }
  checkProxyEnvironment()
  const ca = caBundleOf(request.ca)
  const files = {thing, cert: request.cert, key: request.key, ...(ca ? {ca} : {}), ...(request.clientId ? {clientId: request.clientId} : {})}
  let endpoint = request.endpoint
  if (endpoint === undefined) {
    if (!request.resolveEndpoint) throw new InputError('give the IoT data endpoint with --endpoint host[:port]')
    // The files are checked before the endpoint is looked up: a certificate that does
    // not match its key is bad input (exit 2), whatever the credentials say.
    await prepareNotifyConnection({...files, host: 'localhost', port: 8883})
    endpoint = await request.resolveEndpoint()
  }
  const parsed = parseEndpoint(endpoint)
  const {host} = parsed
  // No port typed: the local convention's port for this host, else 8883.
  const port = /:\d+$/.test(endpoint.trim()) ? parsed.port : dataPlanePort(host) ?? parsed.port
  const connection = await prepareNotifyConnection({...files, host, port})
  const agent = new TunnelAgent({
    // Read once prepareNotifyConnection has checked the file (a missing one is exit 2 there).
    ...(ca ? {ca: readFileSync(ca, 'utf8')} : {}),
    thing,
    destinations,
    logger: request.logger,
    maxTunnels,
    maxConnections,
    maxReconnects,
    ...(request.proxyEndpoint ? {proxyEndpoint: request.proxyEndpoint} : {}),
    ...(request.region ? {region: request.region} : {}),
  })
  const subscription = await subscribeNotifications({
    connection,
    thing,
    onNotification: (payload) => agent.handle(payload),
    onState: (state) => request.logger(state === 'connected' ? 'info' : 'warn', `MQTT ${state === 'connected' ? 'connected again' : state} (${connection.url})`),
  })
  return {
    agent,
    subscription,
    routes: [...destinations].map(([service, target]) => `${service} -> ${formatTarget(target)}`).join(', '),
    warnings: connection.warnings,
    stop: async () => {
      await subscription.close()
      const stats = agent.stats()
      await agent.close()
      return stats
    },
  }
}
