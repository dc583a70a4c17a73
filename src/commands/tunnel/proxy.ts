import {PassThrough} from 'node:stream'
import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags} from '../../flags/index.ts'
import {proxyEndpointFlag, tunnelIdFlag} from '../../flags/tunnel.ts'

export default class TunnelProxy extends BaseCommand<void> {
  static override summary = 'Carry one connection between stdin/stdout and a tunnel\'s service, for ssh -o ProxyCommand.'
  static override description = `A source proxy for exactly one connection, on this process's stdin and stdout: what ssh's ProxyCommand expects. Nothing but tunnel bytes is written to stdout; diagnostics go to stderr only with DEBUG set (errors always, one line). The source token comes from the token file of --tunnel-id, or from AWSIOT_TUNNEL_ACCESS_TOKEN.`

  static override examples = [
    'ssh -o ProxyCommand=\'<%= config.bin %> <%= command.id %> --tunnel-id 4f6b1c7e-…\' root@dev1',
    'ssh -o ProxyCommand=\'<%= config.bin %> <%= command.id %> --tunnel-id %n --service SSH\' root@4f6b1c7e-…',
  ]

  // stdout belongs to the tunnel: no JSON document after the bytes.
  static override enableJsonFlag = false

  static override flags = {
    ...oneAccountFlags,
    'tunnel-id': tunnelIdFlag,
    service: Flags.string({summary: 'The service to reach (default: the tunnel\'s only service).', helpValue: '<SSH>'}),
    'proxy-endpoint': proxyEndpointFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(TunnelProxy)
    const loaded = this.loadStack(flags)
    const {resolveSourceAccess, startStdioProxy} = await import('../../lib/tunnel/api/source.ts')
    const {lineLogger} = await import('../../ui/tunnel.ts')
    if (flags.service !== undefined) {
      const {checkServiceName} = await import('../../lib/tunnel/api/inputs.ts')
      checkServiceName(flags.service, '--service')
    }
    const access = resolveSourceAccess({tunnelId: flags['tunnel-id'], stateDirectory: loaded.stateDirectory})
    const debug = Boolean(process.env.DEBUG)
    // The stream's end must not end process.stdout itself: oclif still writes to it
    // (a flush) after the command returns. ssh sees the end when this process exits.
    const output = new PassThrough()
    output.pipe(process.stdout, {end: false})
    const proxy = await startStdioProxy({
      access,
      input: process.stdin,
      output,
      service: flags.service,
      proxyEndpoint: flags['proxy-endpoint'],
      region: flags.region,
      accountRegion: async () => (await this.account(loaded, 'iot')).region,
      logger: lineLogger((line) => process.stderr.write(line), {debug, quiet: !debug}),
      signal: this.interruption.signal,
    })
    const {error} = await proxy.closed
    if (this.interruption.signal.aborted) {
      this.failWith(130)
      return
    }
    if (error) throw error
  }
}
