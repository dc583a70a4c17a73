import {BaseCommand} from '../../base-command.ts'
import {networkSettings} from '../../settings-flags.ts'
import {twoAccountFlags} from '../../flags/index.ts'
import {Flags} from '@oclif/core'
import type {PeerStatusResult} from '../../lib/peering/index.ts'

export default class PeerStatus extends BaseCommand<PeerStatusResult> {
  static override summary = 'Show each link of the peering: the connection, every route, the broker ingress rule.'
  static override description = 'Reads both accounts and prints one row per link. Exits 1 when a link is missing or broken, naming it, so scripts can gate on it.'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq \'.links[] | select(.state != "ok")\'',
  ]

  static override flags = {
    ...twoAccountFlags,
    'iot-vpc': Flags.string({summary: 'VPC of the IoT account.', helpValue: '<vpc-id>'}),
    'msk-vpc': Flags.string({summary: 'VPC of the MSK cluster.', helpValue: '<vpc-id>'}),
    'msk-security-group': Flags.string({summary: 'Security group of the MSK brokers.', helpValue: '<sg-id>'}),
    port: Flags.integer({summary: 'Broker port.', min: 1, max: 65535, helpValue: '<port>'}),
  }

  async run(): Promise<PeerStatusResult> {
    const {flags} = await this.parse(PeerStatus)
    const loaded = this.loadStack(flags, networkSettings)
    const ctx = await this.stepContext(loaded, {dryRun: true})
    const {peeringStatus} = await import('../../lib/peering/index.ts')
    const result = await peeringStatus(ctx)
    if (!this.jsonEnabled()) {
      const {renderLinks} = await import('../../ui/report.ts')
      this.log(await renderLinks(result.links))
      const bad = result.links.filter((l) => l.state !== 'ok')
      this.log(bad.length === 0 ? 'all links are in place' : `${bad.length} link(s) missing or broken: ${bad.map((l) => l.link).join('; ')}`)
    }
    if (!result.healthy) this.failWith(1)
    return result
  }
}
