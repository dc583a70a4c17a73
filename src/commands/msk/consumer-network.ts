import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {clusterSettings, consumerNetworkSettings} from '../../settings-flags.ts'
import {changeFlags, mskAccountFlags, ruleFlags} from '../../flags/index.ts'
import type {ConsumerNetworkResult} from '../../lib/msk/consumer-network.ts'

export default class MskConsumerNetwork extends BaseCommand<ConsumerNetworkResult> {
  static override summary = 'The network a Lambda event source mapping (or any consumer) in the MSK cluster\'s VPC needs.'
  static override description = `Security-group rules on the cluster's group: itself admitted on the broker port of the cluster's authentication (9096 SASL/SCRAM, 9094 TLS, 9098 IAM, read from the cluster), or all traffic with --self-referencing, and 443 out. Then a way to STS, Lambda and Secrets Manager for an on-demand event source mapping: --via endpoints (interface VPC endpoints in the cluster's subnets, private DNS, a group admitting 443 from the cluster's group, policies limited to the account), --via nat (a NAT gateway with an Elastic IP in a public subnet of each zone of the cluster, and 0.0.0.0/0 routes to it from the cluster's subnets), or --via none (a provisioned-mode mapping needs neither). Lambda developer guide, "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda". Idempotent; everything tagged, so cleanup finds it. Set msk.consumerNetwork in iotctl.json and \`iotctl up\` makes it too.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --via endpoints',
    '<%= config.bin %> <%= command.id %> --via nat --cluster-arn arn:aws:kafka:eu-west-1:111122223333:cluster/demo/…',
    '<%= config.bin %> <%= command.id %> --via none --self-referencing --dry-run',
  ]

  static override flags = {
    ...mskAccountFlags,
    'cluster-arn': ruleFlags['cluster-arn'],
    via: Flags.option({options: ['endpoints', 'nat', 'none'] as const, summary: 'How an on-demand event source mapping reaches STS, Lambda and Secrets Manager (msk.consumerNetwork.via).'})(),
    'self-referencing': Flags.boolean({summary: 'Admit all traffic from the cluster\'s group to itself instead of the broker port only (msk.consumerNetwork.selfReferencing).'}),
    ...changeFlags,
  }

  async run(): Promise<ConsumerNetworkResult> {
    const {flags} = await this.parse(MskConsumerNetwork)
    const loaded = this.loadStack(flags, [...clusterSettings, ...consumerNetworkSettings])
    const {checkClusterArn} = await import('../../lib/msk/cluster-spec.ts')
    const {checkConsumerNetwork, setUpConsumerNetwork} = await import('../../lib/msk/consumer-network.ts')
    if (loaded.settings.msk?.clusterArn) checkClusterArn(loaded.settings.msk.clusterArn)
    checkConsumerNetwork(loaded.settings)
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], mskOnly: true})
    const result = await setUpConsumerNetwork(ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    await this.finishSteps(result, {
      rerun: `iotctl msk consumer-network --via ${result.via}`,
      done: () => `${result.changed ? '' : 'nothing to change: '}consumers of ${result.clusterArn} (${result.brokerPorts.map((p) => `${p.port} ${p.auth}`).join(', ')}) ` +
        `reach ${result.via === 'none' ? 'the brokers' : result.via === 'nat' ? 'AWS through a NAT gateway' : 'STS, Lambda and Secrets Manager through VPC endpoints'} in ${result.zones.map((z) => `${z.zone}${z.through.length ? ` (${z.through.join(', ')})` : ''}`).join(', ')}`,
    })
    return result
  }
}
