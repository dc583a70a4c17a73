import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags} from '../../flags/index.ts'
import {proxyEndpointFlag, tunnelIdFlag} from '../../flags/tunnel.ts'

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

export default class TunnelForward extends BaseCommand<TunnelForwardResult> {
  static override summary = 'Forward local ports to a tunnel (source), or a tunnel to local services (destination), until Ctrl-C.'
  static override description = `Source mode (--source, localproxy -s): listens on 127.0.0.1 for each service (SSH=5555 forwards connections to 127.0.0.1:5555 to the device's SSH service) and carries every connection over the tunnel; several connections per service at once (--destination-client-type V1 or V2: one at a time, for a device running an older local proxy). Destination mode (--destination, localproxy -m dst -d): the device end; each connection the source opens goes to the service's host:port (SSH=localhost:22). The token comes from the token file of --tunnel-id (its source or destination token), or from AWSIOT_TUNNEL_ACCESS_TOKEN (as the C++ localproxy reads it). Port 0 picks a free port (printed). The tunnel's WebSocket goes through HTTPS_PROXY or ALL_PROXY (http://, https://, socks5://, socks5h:// with user:password), except for hosts in NO_PROXY. Reconnects after network failures. Ctrl-C closes the listeners and connections and exits 130.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --tunnel-id "$TUNNEL" --source SSH=5555',
    '<%= config.bin %> <%= command.id %> --tunnel-id "$TUNNEL" --source SSH=5555,HTTP=8080',
    'AWSIOT_TUNNEL_ACCESS_TOKEN=… <%= config.bin %> <%= command.id %> --source 5555 --region eu-west-1',
    'AWSIOT_TUNNEL_ACCESS_TOKEN=… <%= config.bin %> <%= command.id %> --destination SSH=localhost:22,HTTP=localhost:8080 --region eu-west-1',
    'ALL_PROXY=socks5h://user:password@proxy:1080 <%= config.bin %> <%= command.id %> --tunnel-id "$TUNNEL" --source SSH=5555',
  ]

  static override flags = {
    ...oneAccountFlags,
    'tunnel-id': tunnelIdFlag,
    source: Flags.string({summary: 'Source mode: service=local port, comma-separated (a bare port: the tunnel\'s only service).', helpValue: '<SSH=5555[,HTTP=8080]>'}),
    destination: Flags.string({summary: 'Destination mode: service=host:port to connect to, comma-separated, at most 3 (a bare port: localhost).', helpValue: '<SSH=localhost:22[,HTTP=host:port]>'}),
    'destination-client-type': Flags.string({summary: 'Source mode, for a device running an older local proxy: V1 or V2 keep one connection per service at a time (default V3).', helpValue: '<V1|V2|V3>'}),
    'proxy-endpoint': proxyEndpointFlag,
  }

  async run(): Promise<TunnelForwardResult> {
    const {flags} = await this.parse(TunnelForward)
    const {checkForwardFlags} = await import('../../lib/tunnel/api/inputs.ts')
    const plan = checkForwardFlags({source: flags.source, destination: flags.destination, destinationClientType: flags['destination-client-type']})
    const loaded = this.loadStack(flags)
    const {lineLogger} = await import('../../ui/tunnel.ts')
    const common = {
      proxyEndpoint: flags['proxy-endpoint'],
      region: flags.region,
      accountRegion: async () => (await this.account(loaded, 'iot')).region,
      logger: lineLogger((line) => process.stderr.write(line), {debug: Boolean(process.env.DEBUG), quiet: !process.env.DEBUG}),
      signal: this.interruption.signal,
    }
    const {formatTarget} = await import('../../lib/tunnel/agent/notification.ts')
    let started
    if (plan.mode === 'source') {
      const {resolveSourceAccess, startForward} = await import('../../lib/tunnel/api/source.ts')
      const access = resolveSourceAccess({tunnelId: flags['tunnel-id'], stateDirectory: loaded.stateDirectory})
      const proxy = await startForward({...common, access, ports: plan.ports, ...(plan.destinationClientType ? {destinationClientType: plan.destinationClientType} : {})})
      const of = access.tunnelId ? ` of tunnel ${access.tunnelId}` : ''
      for (const [service, port] of Object.entries(proxy.ports)) this.note(`forwarding 127.0.0.1:${port} -> ${service || 'the tunnel\'s service'}${of}`)
      started = {access, proxy, ports: proxy.ports, destinations: undefined}
    } else {
      const {resolveDestinationAccess, startDestination} = await import('../../lib/tunnel/api/destination.ts')
      const access = resolveDestinationAccess({tunnelId: flags['tunnel-id'], stateDirectory: loaded.stateDirectory})
      const proxy = await startDestination({...common, access, destinations: plan.destinations})
      const destinations = Object.fromEntries(Object.entries(plan.destinations).map(([service, target]) => [service, formatTarget(target)]))
      const of = access.tunnelId ? ` of tunnel ${access.tunnelId}` : ''
      for (const [service, target] of Object.entries(destinations)) this.note(`forwarding ${service}${of} -> ${target}`)
      started = {access, proxy, ports: {}, destinations}
    }
    const {access, proxy} = started
    let connections = 0
    proxy.on('connection-open', () => connections++)
    proxy.on('reconnecting', (info) => this.note(`tunnel connection lost (${info.reason}); reconnecting in ${(info.delayMs / 1000).toFixed(1)} s`))
    await proxy.ready.then(() => this.note(`connected to the tunnel as its ${plan.mode}; Ctrl-C to stop`), () => {})
    const {error} = await proxy.closed
    const interrupted = this.interruption.signal.aborted
    if (error && !interrupted) throw error
    const stats = proxy.stats()
    if (interrupted) this.failWith(130)
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
}
