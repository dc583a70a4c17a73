import {BaseCommand} from '../../base-command.ts'
import {ruleSettings} from '../../settings-flags.ts'
import {changeFlags, ruleFlags, ruleNameFlag, twoAccountFlags} from '../../flags/index.ts'
import type {IotSetupResult} from '../../lib/iot/index.ts'

export default class IotRule extends BaseCommand<IotSetupResult> {
  static override summary = 'Create the topic rule that sends matching MQTT messages to the Kafka topic on MSK.'
  static override description = `A topic rule in the IoT account (B) with an Apache Kafka action through the stack's VPC destination: bootstrap.servers from the cluster's SASL/SCRAM brokers, security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, and the SCRAM username and password read at run time with get_secret from B's AmazonMSK_ secret, using the role of \`iotctl iot role\`. --error-topic adds an error action that republishes failed deliveries, so you can see why delivery fails.

Rule names allow letters, digits and underscores only. Run again with another --sql or --kafka-topic and the rule is replaced (ReplaceTopicRule), saying what changed; a disabled rule is enabled again.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --name device_data_to_kafka --kafka-topic device-data',
    `<%= config.bin %> <%= command.id %> --sql "SELECT topic(2) as device_id, temperature, humidity FROM 'device/+/data'" --error-topic iotctl/errors`,
    '<%= config.bin %> <%= command.id %> --cluster-arn arn:aws:kafka:eu-west-1:111111111111:cluster/demo/… --dry-run',
  ]

  static override flags = {
    ...twoAccountFlags,
    name: ruleNameFlag,
    ...ruleFlags,
    ...changeFlags,
  }

  async run(): Promise<IotSetupResult> {
    const {flags} = await this.parse(IotRule)
    const loaded = this.loadStack(flags, ruleSettings)
    const {iotSliceChecks, setupIot} = await import('../../lib/iot/index.ts')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], steps: iotSliceChecks('rule')})
    const result = await setupIot('rule', ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    const rule = `rule ${result.rule?.name} (${result.rule?.topicFilter} → Kafka topic '${result.rule?.kafkaTopic}')`
    await this.finishSteps(result, {rerun: 'iotctl iot rule', done: () => result.changed ? `${rule} is enabled` : `nothing to change: ${rule} is in place and enabled`})
    return result
  }
}
