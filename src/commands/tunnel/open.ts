import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {changeFlags, oneAccountFlags} from '../../flags/index.ts'
import type {TunnelOpenResult} from '../../lib/tunnel/api/index.ts'
import {timeoutMinutesFlag} from '../../flags/tunnel.ts'

export default class TunnelOpen extends BaseCommand<TunnelOpenResult> {
  static override summary = 'Open a secure tunnel to a thing and keep its tokens in .iotctl/tunnels/<id>.json.'
  static override description = `Calls OpenTunnel in the IoT account with the thing and its services (at most 3) as destination and the stack's tags. AWS IoT sends the destination token to the device on $aws/things/<thing>/tunnels/notify. Both tokens are written to .iotctl/tunnels/<tunnel-id>.json (mode 0600, beside the ledger), where \`tunnel forward\`, \`tunnel proxy\` and \`tunnel ssh\` find them.

Prints the tunnel id. The tokens appear on stdout only with --show-tokens (also in the --json document, which otherwise names the token file but not the tokens, so that logged JSON holds no credential). OpenTunnel allows one call per second per account: throttled calls are retried with backoff.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --thing dev1 --services SSH',
    'TUNNEL=$(<%= config.bin %> <%= command.id %> --thing dev1 --services SSH,HTTP --timeout-minutes 30)',
    '<%= config.bin %> <%= command.id %> --thing dev1 --json --show-tokens | jq -r .sourceAccessToken',
  ]

  static override flags = {
    ...oneAccountFlags,
    thing: Flags.string({summary: 'The thing the tunnel leads to (its agent gets the destination token).', required: true, helpValue: '<thing>'}),
    services: Flags.string({summary: 'Services on the device, comma-separated, at most 3 (default SSH).', default: 'SSH', helpValue: '<SSH[,HTTP…]>'}),
    'timeout-minutes': timeoutMinutesFlag,
    'show-tokens': Flags.boolean({summary: 'Also print the source and destination access tokens.'}),
    'dry-run': changeFlags['dry-run'],
  }

  async run(): Promise<TunnelOpenResult> {
    const {flags} = await this.parse(TunnelOpen)
    const {checkOpenRequest, openStackTunnel, tunnelScope} = await import('../../lib/tunnel/api/index.ts')
    const request = {thing: flags.thing, services: flags.services, timeoutMinutes: flags['timeout-minutes']}
    checkOpenRequest(request)
    const loaded = this.loadStack(flags)
    const scope = tunnelScope(loaded, await this.account(loaded, 'iot'))
    const result = await openStackTunnel(scope, request, {
      dryRun: flags['dry-run'],
      signal: this.interruption.signal,
      onRetry: ({delayMs}) => this.note(`OpenTunnel is throttled (1 call per second per account); retrying in ${(delayMs / 1000).toFixed(1)} s`),
    })
    if (!this.jsonEnabled()) {
      const {tunnelOpenLines} = await import('../../ui/tunnel.ts')
      const lines = tunnelOpenLines(result, {showTokens: flags['show-tokens']})
      for (const line of lines.log) this.log(line)
      for (const line of lines.notes) this.note(line)
    }
    if (flags['show-tokens']) return result
    const {sourceAccessToken: _source, destinationAccessToken: _destination, ...withoutTokens} = result
    return withoutTokens
  }
}
