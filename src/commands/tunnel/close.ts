import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {changeFlags, oneAccountFlags} from '../../flags/index.ts'
import type {TunnelCloseResult} from '../../lib/tunnel/api/index.ts'

export default class TunnelClose extends BaseCommand<TunnelCloseResult> {
  static override summary = 'Close a secure tunnel and remove its token file.'
  static override description = 'Calls CloseTunnel (both sides are disconnected and the tokens stop working), removes .iotctl/tunnels/<id>.json and the ledger record. Idempotent: closing a closed tunnel, or one AWS no longer knows, succeeds. --delete also deletes the tunnel\'s record at AWS.'

  static override examples = [
    '<%= config.bin %> <%= command.id %> 4f6b1c7e-…',
    '<%= config.bin %> <%= command.id %> "$TUNNEL" --delete',
  ]

  static override args = {
    id: Args.string({description: 'The tunnel id (see `iotctl tunnel list`).', required: true}),
  }

  static override flags = {
    ...oneAccountFlags,
    delete: Flags.boolean({summary: 'Also delete the tunnel\'s record at AWS (it then disappears from ListTunnels).'}),
    'dry-run': changeFlags['dry-run'],
  }

  async run(): Promise<TunnelCloseResult> {
    const {args, flags} = await this.parse(TunnelClose)
    const {checkTunnelId} = await import('../../lib/tunnel/api/inputs.ts')
    checkTunnelId(args.id, 'tunnel id')
    const {closeStackTunnel, tunnelScope} = await import('../../lib/tunnel/api/index.ts')
    const loaded = this.loadStack(flags)
    const scope = tunnelScope(loaded, await this.account(loaded, 'iot'))
    const result = await closeStackTunnel(scope, args.id, {delete: flags.delete, dryRun: flags['dry-run']})
    if (!this.jsonEnabled()) {
      const {tunnelCloseLine} = await import('../../ui/tunnel.ts')
      this.log(tunnelCloseLine(result, {delete: flags.delete}))
    }
    return result
  }
}
