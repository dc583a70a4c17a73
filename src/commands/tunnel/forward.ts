import {BaseCommand} from '../../base-command.ts'
import {oclifFlags} from '../../flags/index.ts'
import {forwardFlagTable} from '../../flags/table.ts'
import type {TunnelForwardResult} from '../../lib/tunnel/api/commands.ts'

export type {TunnelForwardResult} from '../../lib/tunnel/api/commands.ts'

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

  // One table with the lean runner (src/lean), which serves this command without oclif when it can.
  static override flags = oclifFlags(forwardFlagTable)

  async run(): Promise<TunnelForwardResult> {
    const {flags} = await this.parse(TunnelForward)
    const {runForward} = await import('../../lib/tunnel/api/commands.ts')
    const {tunnelLogger} = await import('../../ui/tunnel.ts')
    const result = await runForward(flags, {
      settings: () => {
        const loaded = this.loadStack(flags)
        return {stateDirectory: loaded.stateDirectory, accountRegion: async () => (await this.account(loaded, 'iot')).region}
      },
      note: (message) => this.note(message),
      logger: tunnelLogger('forward'),
      signal: this.interruption.signal,
    })
    if (result.interrupted) this.failWith(130)
    return result
  }
}
