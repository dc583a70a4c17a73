import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags} from '../../flags/index.ts'
import {proxyEndpointFlag, tunnelIdFlag} from '../../flags/tunnel.ts'

export interface TunnelForwardResult {
  tunnelId?: string
  /** Service -> the local port it was forwarded on. */
  ports: Record<string, number>
  /** Local connections carried over the tunnel. */
  connections: number
  bytesToDevice: number
  bytesFromDevice: number
  interrupted: boolean
}

export default class TunnelForward extends BaseCommand<TunnelForwardResult> {
  static override summary = 'Forward local ports to a tunnel\'s services (source proxy) until Ctrl-C.'
  static override description = `Listens on 127.0.0.1 for each service (SSH=5555 forwards connections to 127.0.0.1:5555 to the device's SSH service) and carries every connection over the tunnel; several connections per service at once. The source token comes from the token file of --tunnel-id, or from AWSIOT_TUNNEL_ACCESS_TOKEN (as the C++ localproxy reads it). Port 0 picks a free port (printed). Reconnects after network failures. Ctrl-C closes the listeners and connections and exits 130.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --tunnel-id "$TUNNEL" --source SSH=5555',
    '<%= config.bin %> <%= command.id %> --tunnel-id "$TUNNEL" --source SSH=5555,HTTP=8080',
    'AWSIOT_TUNNEL_ACCESS_TOKEN=… <%= config.bin %> <%= command.id %> --source 5555 --region eu-west-1',
  ]

  static override flags = {
    ...oneAccountFlags,
    'tunnel-id': tunnelIdFlag,
    source: Flags.string({summary: 'Service=local port, comma-separated (a bare port: the tunnel\'s only service).', required: true, helpValue: '<SSH=5555[,HTTP=8080]>'}),
    'proxy-endpoint': proxyEndpointFlag,
  }

  async run(): Promise<TunnelForwardResult> {
    const {flags} = await this.parse(TunnelForward)
    const {parseSourcePorts} = await import('../../lib/tunnel/api/inputs.ts')
    const ports = parseSourcePorts(flags.source)
    const loaded = this.loadStack(flags)
    const {resolveSourceAccess, startForward} = await import('../../lib/tunnel/api/source.ts')
    const {lineLogger} = await import('../../ui/tunnel.ts')
    const access = resolveSourceAccess({tunnelId: flags['tunnel-id'], stateDirectory: loaded.stateDirectory})
    const proxy = await startForward({
      access,
      ports,
      proxyEndpoint: flags['proxy-endpoint'],
      region: flags.region,
      accountRegion: async () => (await this.account(loaded, 'iot')).region,
      logger: lineLogger((line) => process.stderr.write(line), {debug: Boolean(process.env.DEBUG), quiet: !process.env.DEBUG}),
      signal: this.interruption.signal,
    })
    let connections = 0
    proxy.on('connection-open', () => connections++)
    proxy.on('reconnecting', (info) => this.note(`tunnel connection lost (${info.reason}); reconnecting in ${(info.delayMs / 1000).toFixed(1)} s`))
    for (const [service, port] of Object.entries(proxy.ports)) this.note(`forwarding 127.0.0.1:${port} -> ${service || 'the tunnel\'s service'}${access.tunnelId ? ` of tunnel ${access.tunnelId}` : ''}`)
    await proxy.ready.then(() => this.note('connected to the tunnel; Ctrl-C to stop'), () => {})
    const {error} = await proxy.closed
    const interrupted = this.interruption.signal.aborted
    if (error && !interrupted) throw error
    const stats = proxy.stats()
    if (interrupted) this.failWith(130)
    return {
      ...(access.tunnelId ? {tunnelId: access.tunnelId} : {}),
      ports: {...proxy.ports},
      connections,
      bytesToDevice: stats.bytesToPeer,
      bytesFromDevice: stats.bytesFromPeer,
      interrupted,
    }
  }
}
