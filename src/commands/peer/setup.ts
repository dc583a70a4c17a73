import {BaseCommand} from '../../base-command.ts'
import {networkSettings} from '../../settings-flags.ts'
import {changeFlags, networkFlags, twoAccountFlags} from '../../flags/index.ts'
import type {PeerSetupResult} from '../../lib/peering/index.ts'

export default class PeerSetup extends BaseCommand<PeerSetupResult> {
  static override summary = 'Peer the IoT VPC with the MSK VPC across the two accounts, with routes and broker ingress.'
  static override description = `Requests a VPC peering from the IoT account's VPC (B) to the MSK account's VPC (A), accepts it with A's credentials, waits until it is active, adds routes to the other VPC's CIDR blocks in both VPCs' route tables (default: the tables associated with each VPC's subnets, else the main table), and allows inbound TCP on the broker port (9096, SASL/SCRAM) into A's MSK security group from B's CIDR. With --dns-resolution, both VPCs must have DNS hostnames and DNS support on (enableDnsHostnames, enableDnsSupport): checked before any change, naming the VPC, the attribute and the modify-vpc-attribute command that turns it on.

Idempotent: a second run finds everything in place and changes nothing. Every resource carries the stack's tags or construction mark and is recorded in .iotctl/<stack>.json, so \`iotctl cleanup\` can remove exactly what this created.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --iot-profile iot --msk-profile msk --iot-vpc vpc-0b2c… --msk-vpc vpc-0a1b… --msk-security-group sg-0c3d…',
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --msk-route-tables rtb-01…,rtb-02… --port 9094 --dns-resolution',
  ]

  static override flags = {
    ...twoAccountFlags,
    ...networkFlags,
    ...changeFlags,
  }

  async run(): Promise<PeerSetupResult> {
    const {flags} = await this.parse(PeerSetup)
    const loaded = this.loadStack(flags, networkSettings)
    const {peeringGraph, setupPeering} = await import('../../lib/peering/index.ts')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], steps: peeringGraph()})
    const result = await setupPeering(ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    await this.finishSteps(result, {
      rerun: 'iotctl peer setup',
      done: () => result.changed ? `peering ${result.peeringId} is ready` : `nothing to change: peering ${result.peeringId} and its routes and ingress are in place`,
    })
    return result
  }
}
