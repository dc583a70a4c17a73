import {BaseCommand} from '../base-command.ts'
import {destinationFlags, networkFlags, ruleFlags, ruleNameFlag, twoAccountFlags} from '../flags.ts'
import type {DoctorResult} from '../lib/doctor/index.ts'
import {accountOverrides, iotOverrides, networkOverrides} from '../overrides.ts'

export default class Doctor extends BaseCommand<DoctorResult> {
  static override summary = 'Check every link from a device\'s message to the Kafka topic, and say how to fix what is broken.'
  static override description = `One line per check, pass or fail with a fix: both profiles resolve (to different accounts, or a warning), the VPCs do not overlap, the peering is active, routes go both ways, the brokers' security group admits the IoT VPC on the broker port, both AmazonMSK_ secrets exist and hold the same credentials (compared by digest; values are never printed), neither uses the default aws/secretsmanager key, the secret is associated with the cluster, the role trusts AWS IoT (with aws:SourceAccount and aws:SourceArn) and IAM allows it what the destination and get_secret need (asked with iam:SimulatePrincipalPolicy, with the context keys of the documented policy's conditions), the role is a user of the IoT account's key, the destination is ENABLED, and the rule is enabled, uses that destination and its get_secret expressions name an existing secret and that role.

Read-only. Exits 1 when any check fails, so scripts and CI can gate on it; --json for the same as a document.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq \'.checks[] | select(.status == "fail")\'',
  ]

  static override flags = {
    ...twoAccountFlags,
    ...networkFlags,
    ...destinationFlags,
    'rule-name': ruleNameFlag,
    ...ruleFlags,
  }

  async run(): Promise<DoctorResult> {
    const {flags} = await this.parse(Doctor)
    const loaded = this.settings(flags.config, {...accountOverrides(flags), ...networkOverrides(flags), ...iotOverrides(flags)})
    const {runDoctor} = await import('../lib/doctor/index.ts')
    const result = await runDoctor(loaded.settings.stack, () => this.stepContext(loaded, {dryRun: true}))
    if (!this.jsonEnabled()) {
      const {renderChecks} = await import('../ui/checks.ts')
      this.log(renderChecks(result.checks))
    }
    if (!result.healthy) this.failWith(1)
    return result
  }
}
