import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.ts'
import {destinationSettings, networkSettings, ruleSettings} from '../settings-flags.ts'
import {destinationFlags, networkFlags, ruleFlags, ruleNameFlag, twoAccountFlags} from '../flags/index.ts'
import type {DoctorResult} from '../lib/doctor/index.ts'

export default class Doctor extends BaseCommand<DoctorResult> {
  static override summary = 'Check every link from a device\'s message to the Kafka topic, and say how to fix what is broken.'
  static override description = `One line per check, pass or fail with a fix: both profiles resolve (to different accounts, or a warning), the VPCs do not overlap, the peering is active, routes go both ways, the brokers' security group admits the IoT VPC on the broker port, both AmazonMSK_ secrets exist and hold the same credentials (compared by digest; values are never printed), neither uses the default aws/secretsmanager key, the secret is associated with the cluster, the role trusts AWS IoT (with aws:SourceAccount and aws:SourceArn) and IAM allows it what the destination and get_secret need (asked with iam:SimulatePrincipalPolicy, with the context keys of the documented policy's conditions), the role is a user of the IoT account's key, the destination is ENABLED, the rule's Kafka topic exists on the cluster (or doctor says it cannot tell), and the rule is enabled, uses that destination and its get_secret expressions name an existing secret and that role.

With --probe it also sends one message through the chain: it subscribes to the rule's error topic, publishes a probe (MQTT over a SigV4-signed WebSocket with the IoT profile, so it works from anywhere) to a topic the rule's FROM matches, and fails when the rule republishes an error for it within --probe-wait seconds, quoting AWS's error. Where the brokers are reachable (--bootstrap-server, or the cluster's own brokers from a host in the MSK VPC or a peered one) it also reads the probe back from Kafka, matched by the probe id it carries in the topic and the fields the rule selects, and reports the end-to-end latency.

Read-only. Exits 1 when any check fails, so scripts and CI can gate on it; --json for the same as a document.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --json | jq \'.checks[] | select(.status == "fail")\'',
    '<%= config.bin %> <%= command.id %> --probe',
    '<%= config.bin %> <%= command.id %> --probe --probe-wait 20 --bootstrap-server b-1.demo.abc123.c2.kafka.eu-west-1.amazonaws.com:9096',
  ]

  static override flags = {
    ...twoAccountFlags,
    ...networkFlags,
    ...destinationFlags,
    'rule-name': ruleNameFlag,
    ...ruleFlags,
    probe: Flags.boolean({summary: 'Also send one probe message through the rule and watch its error topic (and Kafka, where reachable).', helpGroup: 'PROBE'}),
    'probe-wait': Flags.integer({summary: 'Seconds to wait for the probe\'s error or its arrival in Kafka (default 10).', min: 1, max: 600, helpValue: '<s>', helpGroup: 'PROBE'}),
    'bootstrap-server': Flags.string({summary: 'Brokers reachable from here as host:port[,…] for the probe\'s Kafka half (default: the cluster\'s own).', helpValue: '<host:port,…>', helpGroup: 'PROBE'}),
    'kafka-ca': Flags.string({summary: 'CA bundle (PEM) for the brokers\' TLS certificates (default: AWS_CA_BUNDLE, else Node\'s trust store; the IoT data endpoint always uses those).', helpValue: '<file>', helpGroup: 'PROBE'}),
  }

  async run(): Promise<DoctorResult> {
    const {flags} = await this.parse(Doctor)
    const loaded = this.loadStack(flags, [...networkSettings, ...destinationSettings, ...ruleSettings])
    const {runDoctor} = await import('../lib/doctor/index.ts')
    let probe
    if (flags.probe) {
      const {parseBootstrapServers} = await import('../lib/msk/kafka-client.ts')
      const {defaultProbeWaitSeconds} = await import('../lib/doctor/probe.ts')
      const brokers = flags['bootstrap-server'] === undefined ? undefined : parseBootstrapServers(flags['bootstrap-server'])
      probe = {waitSeconds: flags['probe-wait'] ?? defaultProbeWaitSeconds, signal: this.interruption.signal, ...(brokers ? {brokers} : {}), ...(flags['kafka-ca'] ? {kafkaCa: flags['kafka-ca']} : {})}
    } else if (flags['probe-wait'] !== undefined || flags['bootstrap-server'] !== undefined || flags['kafka-ca'] !== undefined) {
      const {InputError} = await import('../lib/errors.ts')
      throw new InputError(`${flags['probe-wait'] === undefined ? (flags['bootstrap-server'] === undefined ? '--kafka-ca' : '--bootstrap-server') : '--probe-wait'} is for --probe: add --probe`)
    }
    const result = await runDoctor(loaded.settings.stack, () => this.stepContext(loaded, {dryRun: true}), {...(probe ? {probe} : {})})
    if (!this.jsonEnabled()) {
      const {renderChecks} = await import('../ui/checks.ts')
      this.log(renderChecks(result.checks))
    }
    if (!result.healthy) this.failWith(1)
    return result
  }
}
