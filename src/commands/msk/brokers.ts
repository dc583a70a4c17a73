import {BaseCommand} from '../../base-command.ts'
import {clusterSettings} from '../../settings-flags.ts'
import {mskAccountFlags, ruleFlags} from '../../flags/index.ts'
import type {MskBrokersResult} from '../../lib/msk/index.ts'

export default class MskBrokers extends BaseCommand<MskBrokersResult> {
  static override summary = 'Print the cluster\'s SASL/SCRAM bootstrap brokers (port 9096).'
  static override description = 'Prints the SASL/SCRAM bootstrap broker string of the cluster (--cluster-arn, msk.clusterArn, or the stack\'s own), the value the IoT rule\'s bootstrap.servers needs. --json prints the whole GetBootstrapBrokers answer. Exits 1 when the cluster has no SASL/SCRAM brokers (not ACTIVE yet, or SCRAM not enabled).'

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'BOOTSTRAP=$(<%= config.bin %> <%= command.id %> --msk-profile msk)',
    '<%= config.bin %> <%= command.id %> --json | jq -r .BootstrapBrokerStringTls',
  ]

  static override flags = {
    ...mskAccountFlags,
    'cluster-arn': ruleFlags['cluster-arn'],
  }

  async run(): Promise<MskBrokersResult> {
    const {flags} = await this.parse(MskBrokers)
    const loaded = this.loadStack(flags, clusterSettings)
    const {checkClusterArn} = await import('../../lib/msk/cluster-spec.ts')
    const {bootstrapBrokers} = await import('../../lib/msk/index.ts')
    if (loaded.settings.msk?.clusterArn) checkClusterArn(loaded.settings.msk.clusterArn)
    const ctx = await this.stepContext(loaded, {dryRun: true, mskOnly: true})
    const result = await bootstrapBrokers(ctx)
    if (!this.jsonEnabled()) this.log(result.BootstrapBrokerStringSaslScram as string)
    return result
  }
}
