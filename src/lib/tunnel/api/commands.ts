// The bodies of `tunnel forward`, `tunnel proxy` and `tunnel agent`, shared by
// the oclif commands and the lean runner (src/lean), which starts them without
// oclif, the config schema or the AWS SDK. Nothing here prints: lines go to the
// caller's `note` and `logger`; the caller sets the exit code (130 when
// interrupted) and renders errors. Each part is imported when it is used, so a
// `tunnel proxy` does not load the agent's MQTT client.
import type {Readable, Writable} from 'node:stream'
import type {AgentResult} from '../agent/index.ts'
import type {TunnelLogger} from '../protocol/index.ts'

/** What a command gives the body: its settings (loaded after its own flags are checked), where lines go, and Ctrl-C. */
export interface TunnelCommandContext {
  /**
   * The stack's settings, as far as these commands use them: the state directory
   * (token files) and the IoT account's region, which is asked for only when neither
   * a flag nor the token file says the region. The oclif command loads iotctl.json here.
   */
  settings: () => {stateDirectory: string; accountRegion: () => Promise<string>}
  /** A progress line for a person (stderr). */
  note: (message: string) => void
  logger: TunnelLogger
  /** Aborted on the first Ctrl-C. */
  signal: AbortSignal
}

export interface ForwardFlags {
  'tunnel-id'?: string
  source?: string
  destination?: string
  'destination-client-type'?: string
  'proxy-endpoint'?: string
  region?: string
}

export interface TunnelForwardResult {
  /** source: --source (localproxy -s); destination: --destination (localproxy -m dst -d). */
  mode: 'source' | 'destination'
  tunnelId?: string
  /** Source mode: service -> the local port it was forwarded on. */
  ports: Record<string, number>
  /** Destination mode: service -> the host:port its connections go to. */
  destinations?: Record<string, string>
  /** Local connections carried over the tunnel. */
  connections: number
  /** Payload bytes sent to / received from the other end (in destination mode, the other end is the source). */
  bytesToDevice: number
  bytesFromDevice: number
  interrupted: boolean
}

/** `tunnel forward`: until the tunnel ends (an error) or Ctrl-C (`interrupted`). */
export async function runForward(flags: ForwardFlags, context: TunnelCommandContext): Promise<TunnelForwardResult> {
  const {checkForwardFlags} = await import('./inputs.ts')
  const plan = checkForwardFlags({source: flags.source, destination: flags.destination, destinationClientType: flags['destination-client-type']})
  const {stateDirectory, accountRegion} = context.settings()
  const common = {proxyEndpoint: flags['proxy-endpoint'], region: flags.region, accountRegion, logger: context.logger, signal: context.signal}
  const {formatTarget} = await import('../agent/notification.ts')
  let started
  if (plan.mode === 'source') {
    const {resolveSourceAccess, startForward} = await import('./source.ts')
    const access = resolveSourceAccess({tunnelId: flags['tunnel-id'], stateDirectory})
    const proxy = await startForward({...common, access, ports: plan.ports, ...(plan.destinationClientType ? {destinationClientType: plan.destinationClientType} : {})})
    const of = access.tunnelId ? ` of tunnel ${access.tunnelId}` : ''
    for (const [service, port] of Object.entries(proxy.ports)) context.note(`forwarding 127.0.0.1:${port} -> ${service || 'the tunnel\'s service'}${of}`)
    started = {access, proxy, ports: proxy.ports, destinations: undefined}
  } else {
    const {resolveDestinationAccess, startDestination} = await import('./destination.ts')
    const access = resolveDestinationAccess({tunnelId: flags['tunnel-id'], stateDirectory})
    const proxy = await startDestination({...common, access, destinations: plan.destinations})
    const destinations = Object.fromEntries(Object.entries(plan.destinations).map(([service, target]) => [service, formatTarget(target)]))
    const of = access.tunnelId ? ` of tunnel ${access.tunnelId}` : ''
    for (const [service, target] of Object.entries(destinations)) context.note(`forwarding ${service}${of} -> ${target}`)
    started = {access, proxy, ports: {}, destinations}
  }
  const {access, proxy} = started
  let connections = 0
  proxy.on('connection-open', () => connections++)
  proxy.on('reconnecting', (info) => context.note(`tunnel connection lost (${info.reason}); reconnecting in ${(info.delayMs / 1000).toFixed(1)} s`))
  await proxy.ready.then(() => context.note(`connected to the tunnel as its ${plan.mode}; Ctrl-C to stop`), () => {})
  const {error} = await proxy.closed
  const interrupted = context.signal.aborted
  if (error && !interrupted) throw error
  const stats = proxy.stats()
  return {
    mode: plan.mode,
    ...(access.tunnelId ? {tunnelId: access.tunnelId} : {}),
    ports: {...started.ports},
    ...(started.destinations ? {destinations: started.destinations} : {}),
    connections,
    bytesToDevice: stats.bytesToPeer,
    bytesFromDevice: stats.bytesFromPeer,
    interrupted,
  }
}

export interface ProxyFlags {
  'tunnel-id'?: string
  service?: string
  'proxy-endpoint'?: string
  region?: string
}

/** `tunnel proxy`: one connection between `stdin` and `stdout` (ssh's ProxyCommand); resolves when it ends. */
export async function runStdioProxy(flags: ProxyFlags, stdio: {stdin: Readable; stdout: Writable}, context: TunnelCommandContext): Promise<{interrupted: boolean}> {
  const {stateDirectory, accountRegion} = context.settings()
  const {resolveSourceAccess, startStdioProxy} = await import('./source.ts')
  if (flags.service !== undefined) {
    const {checkServiceName} = await import('./inputs.ts')
    checkServiceName(flags.service, '--service')
  }
  const access = resolveSourceAccess({tunnelId: flags['tunnel-id'], stateDirectory})
  // The stream's end must not end stdout itself: oclif still writes to it
  // (a flush) after the command returns. ssh sees the end when this process exits.
  const {PassThrough} = await import('node:stream')
  const output = new PassThrough()
  output.pipe(stdio.stdout, {end: false})
  const proxy = await startStdioProxy({
    access,
    input: stdio.stdin,
    output,
    service: flags.service,
    proxyEndpoint: flags['proxy-endpoint'],
    region: flags.region,
    accountRegion,
    logger: context.logger,
    signal: context.signal,
  })
  const {error} = await proxy.closed
  if (context.signal.aborted) return {interrupted: true}
  if (error) throw error
  return {interrupted: false}
}

export interface AgentFlags {
  thing: string
  cert: string
  key: string
  ca?: string
  endpoint?: string
  'client-id'?: string
  destination: string
  'proxy-endpoint'?: string
  'max-tunnels'?: number
  'max-connections'?: number
  'max-reconnects'?: number
  region?: string
}

/**
 * `tunnel agent`: serves tunnels until Ctrl-C, then stops them. Without --endpoint,
 * `describeEndpoint` looks it up in the IoT account (the oclif command's AWS call).
 */
export async function runAgent(flags: AgentFlags, context: Omit<TunnelCommandContext, 'note' | 'settings'> & {describeEndpoint: () => Promise<string>}): Promise<AgentResult> {
  const {startAgent} = await import('../agent/index.ts')
  const {logger, signal} = context
  const running = await startAgent({
    thing: flags.thing,
    cert: flags.cert,
    key: flags.key,
    ca: flags.ca,
    endpoint: flags.endpoint,
    resolveEndpoint: context.describeEndpoint,
    clientId: flags['client-id'],
    destination: flags.destination,
    proxyEndpoint: flags['proxy-endpoint'],
    region: flags.region,
    maxTunnels: flags['max-tunnels'],
    maxConnections: flags['max-connections'],
    maxReconnects: flags['max-reconnects'],
    logger,
  })
  for (const warning of running.warnings) logger('warn', warning)
  logger('info', `subscribed to ${running.subscription.topic} on ${running.subscription.url}; serving ${running.routes}; Ctrl-C to stop`)
  if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), {once: true}))
  const stats = await running.stop()
  return {thing: flags.thing, topic: running.subscription.topic, url: running.subscription.url, ...stats}
}
