// `iotctl tunnel agent`: the device side of Secure Tunneling. Checks every
// input before connecting (exit 2), then subscribes to the thing's notify topic
// and runs a destination proxy per notified tunnel until stopped.
import type {TunnelLogger} from '../tunnel/index.ts'
import {checkThingName, parseDestinations, parseEndpoint} from '../tunnels/inputs.ts'
import {TunnelAgent, type AgentStats} from './agent.ts'
import {formatTarget} from './notification.ts'
import {prepareNotifyConnection, subscribeNotifications, type NotifySubscription} from './notify.ts'

export {TunnelAgent} from './agent.ts'
export type {AgentStats, AgentTunnel, NotificationOutcome, TunnelAgentOptions} from './agent.ts'
export {mapServices, notifyTopic, parseNotification} from './notification.ts'

export interface AgentRequest {
  thing: string
  cert: string
  key: string
  ca?: string
  /** The IoT data endpoint, host[:port] (default port 8883). */
  endpoint: string
  clientId?: string
  /** `SSH=localhost:22,HTTP=localhost:8080`. */
  destination: string
  proxyEndpoint?: string
  region?: string
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
  const destinations = parseDestinations(request.destination)
  const {host, port} = parseEndpoint(request.endpoint)
  const connection = await prepareNotifyConnection({thing, host, port, cert: request.cert, key: request.key, ...(request.ca ? {ca: request.ca} : {}), ...(request.clientId ? {clientId: request.clientId} : {})})
  const agent = new TunnelAgent({
    thing,
    destinations,
    logger: request.logger,
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
    routes: Object.entries(destinations).map(([service, target]) => `${service} -> ${formatTarget(target)}`).join(', '),
    warnings: connection.warnings,
    stop: async () => {
      await subscription.close()
      const stats = agent.stats()
      await agent.close()
      return stats
    },
  }
}
