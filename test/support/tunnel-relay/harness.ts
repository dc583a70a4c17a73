// A relay, a tunnel and a pair of proxies in one call, for integration tests.
import {
  startDestinationProxy, startSourceProxy,
  type DestinationProxy, type DestinationProxyOptions, type SourceProxy, type SourceProxyOptions,
} from '../../../src/lib/tunnel/protocol/index.ts'
import {createTunnelRegistry, type OpenedTunnel, type TunnelRegistry} from './registry.ts'
import {startTunnelRelay, type RelayOptions, type TunnelRelay} from './relay.ts'
import {startEchoServer, type TestServer} from './tcp.ts'

export interface PairOptions {
  /** OpenTunnel services (default ['SSH']). */
  services?: string[]
  /** Destination mapping, service -> host:port. */
  targets: Record<string, string | number>
  /** Source listening ports (default 0 for each target). */
  ports?: Record<string, number>
  relay?: Partial<RelayOptions>
  /** Reuse a relay (and its registry) instead of starting one. */
  shared?: {relay: TunnelRelay; registry: TunnelRegistry}
  source?: Partial<SourceProxyOptions>
  destination?: Partial<DestinationProxyOptions>
}

export interface TunnelPair {
  relay: TunnelRelay
  registry: TunnelRegistry
  tunnel: OpenedTunnel
  source: SourceProxy
  destination: DestinationProxy
  /** Closes the proxies (and the relay unless it was shared). */
  close(): Promise<void>
}

export async function startTunnelRelayWithRegistry(options: Partial<RelayOptions> = {}): Promise<{relay: TunnelRelay; registry: TunnelRegistry}> {
  const registry = createTunnelRegistry()
  const relay = await startTunnelRelay({authorize: token => registry.authorize(token), ...options})
  return {relay, registry}
}

export interface RelayAndEcho {
  shared: {relay: TunnelRelay; registry: TunnelRegistry}
  echo: TestServer
  close(): Promise<void>
}

/** A relay with its registry and an echo server, for a describe() whose tests start their own pairs. */
export async function startRelayAndEcho(options: Partial<RelayOptions> = {}): Promise<RelayAndEcho> {
  const shared = await startTunnelRelayWithRegistry(options)
  const echo = await startEchoServer()
  return {shared, echo, close: async () => {
    await shared.relay.close()
    await echo.close()
  }}
}

/** Starts destination then source, and waits until both have their services and the relay paired them. */
export async function startTunnelPair(options: PairOptions): Promise<TunnelPair> {
  const {relay, registry} = options.shared ?? await startTunnelRelayWithRegistry(options.relay)
  const tunnel = registry.openTunnel({services: options.services ?? ['SSH']})
  const destination = startDestinationProxy({
    endpoint: relay.url, ca: relay.ca, token: tunnel.destinationAccessToken, services: options.targets, ...options.destination,
  })
  const ports = options.ports ?? Object.fromEntries(Object.keys(options.targets).map(name => [name, 0]))
  let source: SourceProxy | undefined
  try {
    await destination.ready
    source = await startSourceProxy({endpoint: relay.url, ca: relay.ca, token: tunnel.sourceAccessToken, services: ports, ...options.source})
    await source.ready
    await relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')
  } catch (error) {
    await Promise.all([destination.close(), source?.close()])
    if (!options.shared) await relay.close()
    throw error
  }
  const started = source
  return {
    relay, registry, tunnel, source: started, destination,
    async close() {
      await Promise.all([started.close(), destination.close()])
      if (!options.shared) await relay.close()
    },
  }
}

/** Resolves with the first event of `name` that satisfies `test`. */
export function nextEvent<T>(emitter: {on(name: string, listener: (value: T) => void): unknown; off(name: string, listener: (value: T) => void): unknown}, name: string, test: (value: T) => boolean = () => true): Promise<T> {
  return new Promise(resolve => {
    const listener = (value: T): void => {
      if (!test(value)) return
      emitter.off(name, listener)
      resolve(value)
    }
    emitter.on(name, listener)
  })
}
