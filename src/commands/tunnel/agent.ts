import {BaseCommand} from '../../base-command.ts'
import {oclifFlags} from '../../flags/index.ts'
import {agentFlagTable} from '../../flags/table.ts'
import type {AgentResult} from '../../lib/tunnel/agent/index.ts'

export default class TunnelAgent extends BaseCommand<AgentResult> {
  static override summary = 'Device side: wait for tunnel notifications and connect them to local services.'
  static override description = `Connects to AWS IoT (--endpoint, or the account's iot:Data-ATS endpoint found with --profile) with the thing's certificate (mutual TLS), subscribes to $aws/things/<thing>/tunnels/notify and, for each tunnel opened to the thing, runs a destination proxy that connects the tunnel's services to local ones (SSH=localhost:22). Serves several tunnels at once (--max-tunnels); a tunnel for a service that is not mapped, a notification over 8 KiB, one whose region is not an AWS region name or whose services are not service ids is refused with a log line. The destination token is sent only to the region's tunneling endpoint (or --proxy-endpoint). Each tunnel opens at most --max-connections local connections at once; a tunnel whose connection fails (network, 5xx, a TLS certificate refused, e.g. while the clock is not set) is retried with backoff up to 30 s and given up after --max-reconnects failed attempts; a 4xx (closed tunnel, used token) ends it at once. The tunnel's WebSocket goes through HTTPS_PROXY or ALL_PROXY (http://, socks5://, socks5h://) except for hosts in NO_PROXY. Logs go to stderr. Runs until Ctrl-C (exit 130).

The thing's policy must allow iot:Connect (client id = the thing name, or --client-id), iot:Subscribe on topicfilter/$aws/things/<thing>/tunnels/notify and iot:Receive on topic/$aws/things/<thing>/tunnels/notify.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --thing dev1 --cert dev1.cert.pem --key dev1.private.key --endpoint abc123-ats.iot.eu-west-1.amazonaws.com --destination SSH=localhost:22',
    '<%= config.bin %> <%= command.id %> --thing dev1 --cert dev1.pem --key dev1.key --endpoint abc123-ats.iot.eu-west-1.amazonaws.com:443 --destination SSH=22,HTTP=localhost:8080',
    '<%= config.bin %> <%= command.id %> --thing dev1 --cert dev1.pem --key dev1.key --profile iot --destination SSH=localhost:22',
    '<%= config.bin %> <%= command.id %> --thing dev1 --cert dev1.pem --key dev1.key --profile iot --destination SSH=localhost:22 --max-tunnels 2 --max-connections 16 --max-reconnects 5',
  ]

  // One table with the lean runner (src/lean), which serves this command without oclif when --endpoint is given.
  static override flags = oclifFlags(agentFlagTable)

  async run(): Promise<AgentResult> {
    const {flags} = await this.parse(TunnelAgent)
    const {runAgent} = await import('../../lib/tunnel/api/commands.ts')
    const {tunnelLogger} = await import('../../ui/tunnel.ts')
    const result = await runAgent(flags, {
      describeEndpoint: async () => {
        const {describeIotDataEndpoint} = await import('../../lib/mqtt/endpoint.ts')
        const account = await this.account(this.loadStack(flags), 'iot')
        return describeIotDataEndpoint(await account.iot())
      },
      logger: tunnelLogger('agent'),
      signal: this.interruption.signal,
    })
    this.failWith(130)
    return result
  }
}
