import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags} from '../../flags/index.ts'
import type {AgentResult} from '../../lib/tunnel/agent/index.ts'
import {maxConnectionsFlag, maxReconnectsFlag, maxTunnelsFlag, proxyEndpointFlag} from '../../flags/tunnel.ts'

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

  static override flags = {
    thing: Flags.string({summary: 'The thing this device is.', required: true, helpValue: '<thing>'}),
    cert: Flags.string({summary: 'The thing\'s certificate (PEM).', required: true, helpValue: '<file>'}),
    key: Flags.string({summary: 'The certificate\'s private key (PEM).', required: true, helpValue: '<file>'}),
    ca: Flags.string({summary: 'CA bundle (PEM) for the MQTT endpoint, where it is the only trust, and for the tunnels\' TLS, where it is added to Node\'s roots and NODE_EXTRA_CA_CERTS (default: Node\'s roots, which include Amazon Root CA 1).', helpValue: '<file>'}),
    endpoint: Flags.string({summary: 'The IoT data endpoint, host[:port] (port 8883 by default); without it, DescribeEndpoint (iot:Data-ATS) with --profile\'s credentials.', helpValue: '<host[:port]>'}),
    'client-id': Flags.string({summary: 'MQTT client id (default: the thing name).', helpValue: '<id>'}),
    destination: Flags.string({summary: 'Service=local host:port, comma-separated, at most 3.', required: true, helpValue: '<SSH=localhost:22[,HTTP=localhost:8080]>'}),
    'proxy-endpoint': proxyEndpointFlag,
    'max-tunnels': maxTunnelsFlag,
    'max-connections': maxConnectionsFlag,
    'max-reconnects': maxReconnectsFlag,
    ...oneAccountFlags,
  }

  async run(): Promise<AgentResult> {
    const {flags} = await this.parse(TunnelAgent)
    const {startAgent} = await import('../../lib/tunnel/agent/index.ts')
    const {lineLogger} = await import('../../ui/tunnel.ts')
    const logger = lineLogger((line) => process.stderr.write(line), {debug: Boolean(process.env.DEBUG), prefix: 'iotctl agent'})
    const running = await startAgent({
      thing: flags.thing,
      cert: flags.cert,
      key: flags.key,
      ca: flags.ca,
      endpoint: flags.endpoint,
      resolveEndpoint: async () => {
        const {describeIotDataEndpoint} = await import('../../lib/mqtt/endpoint.ts')
        const account = await this.account(this.loadStack(flags), 'iot')
        return describeIotDataEndpoint(await account.iot())
      },
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
    const signal = this.interruption.signal
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), {once: true}))
    const stats = await running.stop()
    this.failWith(130)
    return {thing: flags.thing, topic: running.subscription.topic, url: running.subscription.url, ...stats}
  }
}
