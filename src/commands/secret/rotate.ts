import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {secretSettings} from '../../settings-flags.ts'
import {changeFlags, twoAccountFlags} from '../../flags/index.ts'
import type {SecretRotateResult} from '../../lib/secrets/index.ts'

export default class SecretRotate extends BaseCommand<SecretRotateResult> {
  static override summary = 'Rotate the SCRAM password without an outage: the user the rule does not read gets it, then the rule switches to that user.'
  static override description = `The stack owns two SCRAM users (alternating users), each with an AmazonMSK_ secret mirrored in both accounts and associated with the cluster: AmazonMSK_<stack> and AmazonMSK_<stack>_b. A rotation writes a new password (generated, or read with --password-stdin) to the secret the rule does not read, in the MSK account then the IoT account (if the IoT account's write fails, the MSK account's is put back and the command exits 1); waits until the brokers accept it (by signing in where they are reachable, else for MSK's propagation time, --wait); then switches the rule's get_secret to it (ReplaceTopicRule). The user the rule read until then stays valid, so what AWS IoT cached keeps working. A stack made with one secret gets its second user first, while the rule keeps reading the first. Without a rule, the secret is rotated in place. Prints secret names and version ids, never a value.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --if-older-than 30d --notify-topic iotctl-rotations',
    'pass show kafka/iot-new | <%= config.bin %> <%= command.id %> --password-stdin --json',
  ]

  static override flags = {
    ...twoAccountFlags,
    name: Flags.string({summary: 'Secret name (default AmazonMSK_<stack>; its alternate is <name>_b).', helpValue: '<AmazonMSK_…>'}),
    username: Flags.string({summary: 'SASL/SCRAM username of the first user (default: the one the secret holds; the alternate is <username>_b).', helpValue: '<name>'}),
    'password-stdin': Flags.boolean({summary: 'Read the new password from stdin instead of generating one.'}),
    'if-older-than': Flags.string({summary: 'Rotate only when the secret the rule reads was last changed longer ago than this (e.g. 30d, 12h); exit 0 either way.', helpValue: '<duration>'}),
    wait: Flags.string({summary: 'How long to wait for the brokers to accept the new password (default 10m, MSK\'s propagation time; checked by signing in where the brokers are reachable).', helpValue: '<duration>'}),
    'notify-topic': Flags.string({summary: 'After the switch, produce a JSON rotation event (names, version ids, time; never a value) to this Kafka topic.', helpValue: '<topic>'}),
    'bootstrap-server': Flags.string({summary: 'Brokers as host:port[,host:port…] instead of GetBootstrapBrokers\' SASL/SCRAM string.', helpValue: '<host:port,…>'}),
    ca: Flags.string({summary: 'CA bundle (PEM) for the brokers\' TLS certificates (default: AWS_CA_BUNDLE, else Node\'s trust store).', helpValue: '<file>'}),
    ...changeFlags,
  }

  async run(): Promise<SecretRotateResult> {
    const {flags} = await this.parse(SecretRotate)
    const loaded = this.loadStack(flags, secretSettings)
    // Bad input before any AWS request.
    const {parseDuration} = await import('../../lib/secrets/durations.ts')
    const {checkNotifyTopic} = await import('../../lib/secrets/rotation.ts')
    const {parseBootstrapServers} = await import('../../lib/msk/kafka-client.ts')
    const ifOlderThan = flags['if-older-than'] === undefined ? undefined : parseDuration(flags['if-older-than'], '--if-older-than')
    const wait = flags.wait === undefined ? undefined : parseDuration(flags.wait, '--wait')
    const notifyTopic = flags['notify-topic'] === undefined ? undefined : checkNotifyTopic(flags['notify-topic'])
    const brokers = flags['bootstrap-server'] === undefined ? undefined : parseBootstrapServers(flags['bootstrap-server'])
    const {secretCommandOptions} = await import('../../lib/secrets/options.ts')
    const options = await secretCommandOptions(loaded.settings, {passwordStdin: flags['password-stdin']})
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], options})
    const {rotateSecrets} = await import('../../lib/secrets/rotation.ts')
    const {renderRotation} = await import('../../ui/rotation.ts')
    const result = await rotateSecrets(ctx, {
      dryRun: flags['dry-run'],
      ...(ifOlderThan ? {ifOlderThan} : {}),
      ...(wait ? {wait} : {}),
      ...(notifyTopic ? {notifyTopic} : {}),
      kafka: {...(brokers ? {brokers} : {}), ...(flags.ca ? {ca: flags.ca} : {})},
      runTask: await this.taskRunner({dryRun: flags['dry-run']}),
      // Waiting lines go to stderr even with --json: a CI log must say why the job is waiting.
      progress: (line) => process.stderr.write(`${line}\n`),
    })
    if (!this.jsonEnabled()) for (const line of renderRotation(result)) this.log(line)
    return result
  }
}
