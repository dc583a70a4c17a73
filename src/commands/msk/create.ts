import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {clusterSpecSettings} from '../../settings-flags.ts'
import {changeFlags, mskAccountFlags} from '../../flags/index.ts'
import type {MskCreateResult} from '../../lib/msk/index.ts'

export default class MskCreate extends BaseCommand<MskCreateResult> {
  static override summary = 'Create a provisioned MSK cluster with SASL/SCRAM authentication and TLS, and wait until it is ACTIVE.'
  static override description = `Creates, in the MSK account (A), a provisioned cluster with SASL/SCRAM client authentication and TLS between clients and brokers and inside the cluster, tagged with the stack, and waits for it to become ACTIVE with progress (MSK takes 15–30 minutes) unless --no-wait. A cluster the stack already owns is adopted, so running it again (or after --no-wait) just waits.

\`iotctl cleanup\` keeps the cluster unless --include-cluster.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --msk-profile msk --subnets subnet-0a…,subnet-0b… --security-group sg-0c…',
    '<%= config.bin %> <%= command.id %> --broker-type kafka.m5.large --brokers 4 --kafka-version 3.9.x --no-wait',
  ]

  static override flags = {
    ...mskAccountFlags,
    'cluster-name': Flags.string({summary: 'Cluster name: letters, digits and hyphens (default iotctl-<stack>).', helpValue: '<name>'}),
    subnets: Flags.string({summary: 'Two or three subnets of the MSK VPC, in different Availability Zones (comma-separated).', helpValue: '<subnet-id,…>'}),
    'security-group': Flags.string({summary: 'Security group of the brokers (default: the VPC\'s default group).', helpValue: '<sg-id>'}),
    'msk-vpc': Flags.string({summary: 'VPC the subnets must belong to.', helpValue: '<vpc-id>'}),
    'kafka-version': Flags.string({summary: 'Apache Kafka version (default 3.8.x, the line MSK recommends; the topic API needs 3.6.0 or later).', helpValue: '<version>'}),
    'broker-type': Flags.string({summary: 'Broker instance type (default kafka.t3.small).', helpValue: '<kafka.…>'}),
    brokers: Flags.integer({summary: 'Number of brokers: a multiple of the number of subnets (default: one per subnet).', min: 1, helpValue: '<n>'}),
    'no-wait': Flags.boolean({summary: 'Return once the cluster is being created, without waiting for ACTIVE.'}),
    ...changeFlags,
  }

  async run(): Promise<MskCreateResult> {
    const {flags} = await this.parse(MskCreate)
    const loaded = this.loadStack(flags, clusterSpecSettings)
    const {clusterSpecOf} = await import('../../lib/msk/cluster-spec.ts')
    const {createCluster} = await import('../../lib/msk/index.ts')
    const {noWaitOption} = await import('../../lib/msk/steps.ts')
    clusterSpecOf(loaded.settings)
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], options: {[noWaitOption]: flags['no-wait']}, mskOnly: true})
    const result = await createCluster(ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    await this.finishSteps({...result, dryRun: flags['dry-run']}, {rerun: 'iotctl msk create', done: () => `cluster ${result.clusterName} is ${result.state}: ${result.clusterArn}`})
    return result
  }
}
