import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags} from '../../flags/index.ts'
import type {TunnelListResult} from '../../lib/tunnel/api/index.ts'

export default class TunnelList extends BaseCommand<TunnelListResult> {
  static override summary = 'List the stack\'s secure tunnels (or every tunnel of the account with --all).'
  static override description = 'Lists tunnels (ListTunnels, newest first) with their thing, services, status, the connection state of each side and when they end. By default only tunnels tagged with the stack; --all shows every tunnel of the account and region, with its stack.'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --all --thing dev1',
    '<%= config.bin %> <%= command.id %> --json | jq -r \'.tunnels[] | select(.status == "OPEN") | .tunnelId\'',
  ]

  static override flags = {
    ...oneAccountFlags,
    all: Flags.boolean({summary: 'Every tunnel of the account and region, not only the stack\'s.'}),
    thing: Flags.string({summary: 'Only tunnels to this thing.', helpValue: '<thing>'}),
    open: Flags.boolean({summary: 'Only OPEN tunnels.'}),
  }

  async run(): Promise<TunnelListResult> {
    const {flags} = await this.parse(TunnelList)
    const {checkThingName} = await import('../../lib/tunnel/api/inputs.ts')
    if (flags.thing !== undefined) checkThingName(flags.thing)
    const {listStackTunnels, tunnelScope} = await import('../../lib/tunnel/api/index.ts')
    const loaded = this.loadStack(flags)
    const scope = tunnelScope(loaded, await this.account(loaded, 'iot'))
    const result = await listStackTunnels(scope, {all: flags.all, thing: flags.thing, openOnly: flags.open})
    if (!this.jsonEnabled()) {
      const {renderTunnelList} = await import('../../ui/tunnel.ts')
      this.log(await renderTunnelList(result))
    }
    return result
  }
}
