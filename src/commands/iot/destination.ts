import {BaseCommand} from '../../base-command.ts'
import {destinationSettings} from '../../settings-flags.ts'
import {changeFlags, destinationFlags, twoAccountFlags} from '../../flags/index.ts'
import type {IotSetupResult} from '../../lib/iot/index.ts'

export default class IotDestination extends BaseCommand<IotSetupResult> {
  static override summary = 'Create the VPC topic rule destination in the IoT account and wait until it is ENABLED.'
  static override description = `CreateTopicRuleDestination with a vpcConfiguration: the IoT VPC, its subnets (default: all of them but those in use1-az3, where AWS IoT does not accept destination subnets — skipped, saying so; a named one there is refused before any change; they must route to the peering), security groups (default: the VPC's default group) and the role of \`iotctl iot role\`. Waits, with progress, while it goes IN_PROGRESS → ENABLED.

IAM is eventually consistent: right after the role is created AWS IoT may refuse it for some seconds; that refusal is retried with backoff for a bounded time, saying it is waiting for IAM. Idempotent: the stack's destination is the one using the stack's role.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --iot-vpc vpc-0b2c… --iot-subnets subnet-01…,subnet-02… --iot-security-groups sg-0d4e…',
    '<%= config.bin %> <%= command.id %> --dry-run',
  ]

  static override flags = {
    ...twoAccountFlags,
    ...destinationFlags,
    ...changeFlags,
  }

  async run(): Promise<IotSetupResult> {
    const {flags} = await this.parse(IotDestination)
    const loaded = this.loadStack(flags, destinationSettings)
    const {iotSliceChecks, setupIot} = await import('../../lib/iot/index.ts')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], steps: iotSliceChecks('destination')})
    const result = await setupIot('destination', ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    await this.finishSteps(result, {rerun: 'iotctl iot destination', done: () => result.changed ? `destination ${result.destinationArn} is ENABLED` : `nothing to change: destination ${result.destinationArn} is ENABLED`})
    return result
  }
}
