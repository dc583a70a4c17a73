import {BaseCommand} from '../../base-command.ts'
import {oclifFlags} from '../../flags/index.ts'
import {proxyFlagTable} from '../../flags/table.ts'

export default class TunnelProxy extends BaseCommand<void> {
  static override summary = 'Carry one connection between stdin/stdout and a tunnel\'s service, for ssh -o ProxyCommand.'
  static override description = `A source proxy for exactly one connection, on this process's stdin and stdout: what ssh's ProxyCommand expects. Nothing but tunnel bytes is written to stdout; diagnostics go to stderr only with DEBUG set (errors always, one line). The source token comes from the token file of --tunnel-id, or from AWSIOT_TUNNEL_ACCESS_TOKEN.`

  static override examples = [
    'ssh -o ProxyCommand=\'<%= config.bin %> <%= command.id %> --tunnel-id 4f6b1c7e-…\' root@dev1',
    'ssh -o ProxyCommand=\'<%= config.bin %> <%= command.id %> --tunnel-id %n --service SSH\' root@4f6b1c7e-…',
  ]

  // stdout belongs to the tunnel: no JSON document after the bytes.
  static override enableJsonFlag = false

  // One table with the lean runner (src/lean), which serves this command without oclif when it can.
  static override flags = oclifFlags(proxyFlagTable)

  async run(): Promise<void> {
    const {flags} = await this.parse(TunnelProxy)
    const {runStdioProxy} = await import('../../lib/tunnel/api/commands.ts')
    const {tunnelLogger} = await import('../../ui/tunnel.ts')
    const {interrupted} = await runStdioProxy(flags, {stdin: process.stdin, stdout: process.stdout}, {
      settings: () => {
        const loaded = this.loadStack(flags)
        return {stateDirectory: loaded.stateDirectory, accountRegion: async () => (await this.account(loaded, 'iot')).region}
      },
      note: (message) => this.note(message),
      logger: tunnelLogger('proxy'),
      signal: this.interruption.signal,
    })
    if (interrupted) this.failWith(130)
  }
}
