import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {clusterSettings} from '../../settings-flags.ts'
import {mskAccountFlags, ruleFlags, numberFlag} from '../../flags/index.ts'
import type {ConsumeOutcome, KafkaMessage} from '../../lib/msk/consume.ts'
import {} from '../../flags/mqtt.ts'

export type MskConsumeResult = ConsumeOutcome

/** One --json line per message. */
export type MessageLine = KafkaMessage

export default class MskConsume extends BaseCommand<MskConsumeResult> {
  static override summary = 'Read messages from a Kafka topic of the cluster (SASL/SCRAM over TLS) and print each one.'
  static override description = `Connects to the cluster's SASL/SCRAM brokers (GetBootstrapBrokers, or --bootstrap-server) as the user in the stack's AmazonMSK_ secret, read with the MSK account's profile (the password is never printed), and prints each message of --topic (default: the rule's Kafka topic) as "<partition>:<offset> <timestamp> [key=<key>] <value>", or with --json one JSON object per line ({topic, partition, offset, timestamp, key, value}) followed by a last line with the counts. Starts at the end of the topic (new messages only) unless --from-beginning.

MSK brokers are reachable only inside the cluster's VPC: on AWS run this from wherever they are — a host in the MSK VPC or in a peered VPC (such as the IoT VPC of this stack). The CA is --ca, else AWS_CA_BUNDLE, else Node's trust store (which trusts MSK's certificates).

Exit codes: 0 once --count messages arrived (or, without --count, when --timeout ends after at least one); 1 when --timeout runs out with fewer than --count (or none), when the topic does not exist, or when the brokers refuse the credentials; 2 for bad input such as a --bootstrap-server that is not host:port.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --topic device-data --count 1 --timeout 30',
    '<%= config.bin %> <%= command.id %> --topic device-data --from-beginning --json',
    '<%= config.bin %> <%= command.id %> --topic device-data --bootstrap-server b-1.demo.abc123.c2.kafka.eu-west-1.amazonaws.com:9096',
  ]

  static override flags = {
    ...mskAccountFlags,
    'cluster-arn': ruleFlags['cluster-arn'],
    topic: Flags.string({char: 't', summary: 'Kafka topic to read (default: the rule\'s, rule.kafkaTopic or device-data).', helpValue: '<topic>'}),
    'from-beginning': Flags.boolean({summary: 'Start at the oldest message still kept, not at the end.'}),
    count: numberFlag({summary: 'Exit 0 after this many messages.', helpValue: '<n>'}),
    timeout: numberFlag({summary: 'Seconds to wait: with --count, exit 1 if they have not all arrived; without, stop reading.', helpValue: '<s>'}),
    'bootstrap-server': Flags.string({summary: 'Brokers as host:port[,host:port…] instead of GetBootstrapBrokers\' SASL/SCRAM string.', helpValue: '<host:port,…>'}),
    ca: Flags.string({summary: 'CA bundle (PEM) for the brokers\' TLS certificates (default: AWS_CA_BUNDLE, else Node\'s trust store).', helpValue: '<file>'}),
  }

  // One JSON document per line: the messages, then the result.
  protected override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`)
  }

  async run(): Promise<MskConsumeResult> {
    const {flags} = await this.parse(MskConsume)
    const {validatePositive} = await import('../../lib/mqtt/index.ts')
    const {consumeTopic, kafkaConnectionOf, parseBootstrapServers} = await import('../../lib/msk/consume.ts')
    const {checkKafkaTopic, defaultKafkaTopic} = await import('../../lib/iot/names.ts')
    // Every input is checked before any AWS call or connection (exit 2).
    if (flags.count !== undefined) validatePositive('--count', flags.count)
    if (flags.timeout !== undefined) validatePositive('--timeout', flags.timeout, false)
    const brokers = flags['bootstrap-server'] === undefined ? undefined : parseBootstrapServers(flags['bootstrap-server'])
    const loaded = this.loadStack(flags, clusterSettings)
    const topic = checkKafkaTopic(flags.topic ?? loaded.settings.rule?.kafkaTopic ?? defaultKafkaTopic, '--topic')
    const ctx = await this.stepContext(loaded, {dryRun: true, mskOnly: true})
    const connection = await kafkaConnectionOf(ctx, {...(brokers ? {brokers} : {}), ...(flags.ca ? {ca: flags.ca} : {})})
    const json = this.jsonEnabled()
    const {kafkaMessageText} = await import('../../ui/msk.ts')
    const outcome = await consumeTopic({
      connection,
      topic,
      fromBeginning: flags['from-beginning'],
      ...(flags.count === undefined ? {} : {count: flags.count}),
      ...(flags.timeout === undefined ? {} : {timeoutSeconds: flags.timeout}),
      signal: this.interruption.signal,
      onMessage: (message) => {
        if (json) process.stdout.write(`${JSON.stringify(message satisfies MessageLine)}\n`)
        else process.stdout.write(`${kafkaMessageText(message)}\n`)
      },
    })
    this.note(`received ${outcome.received} message${outcome.received === 1 ? '' : 's'} from ${topic} (${outcome.stoppedBy === 'count' ? 'count reached' : outcome.stoppedBy === 'timeout' ? 'timeout' : 'stopped'})`)
    if (outcome.stoppedBy === 'signal') this.failWith(130)
    if (outcome.stoppedBy === 'timeout' && (flags.count !== undefined || outcome.received === 0)) {
      if (!json) process.stderr.write(`iotctl: ${outcome.received} of ${flags.count ?? 'at least 1'} message(s) arrived on Kafka topic ${topic} within ${flags.timeout} s\n`)
      this.failWith(1)
    }
    return outcome
  }
}
