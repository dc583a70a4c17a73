import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {numberFlag, oneAccountFlags, ruleNameFlag, twoAccountFlags} from '../../flags/index.ts'
import type {LatencySummary, PublishAck, PublishResult} from '../../lib/mqtt/index.ts'
import type {RuleCheck} from '../../lib/mqtt/cli/rules.ts'
import {connectionFlags, payloadFlags, qosFlag} from '../../flags/mqtt.ts'

export interface MqttPublishResult extends Omit<PublishResult, 'acks'> {
  /** The payload template as given (rendered per message). */
  payload: string
  endpointSource: 'flag' | 'DescribeEndpoint'
  /** QoS 1, at most 100 messages: one entry per PUBACK. */
  acks?: PublishAck[]
  /** QoS 1: publish-to-PUBACK latency. */
  latencyMs?: LatencySummary
  /** The account's topic rules and which the topic reaches (absent when they could not be read or no profile is configured). */
  rules?: RuleCheck
}

const perMessageLines = 10
const acksInJson = 100

export default class MqttPublish extends BaseCommand<MqttPublishResult> {
  static override summary = 'Publish test messages to AWS IoT Core (mutual TLS with a device certificate, or a SigV4-signed WebSocket).'
  static override description = `Connects to the account's IoT data endpoint (DescribeEndpoint iot:Data-ATS, or --endpoint): with --cert/--key by mutual TLS on port 8883, otherwise MQTT over WebSocket (wss, port 443) presigned with SigV4 from the profile's credentials. Sends --count messages (one every --interval ms, or as fast as the connection takes them) and waits for the broker's PUBACKs at QoS 1.

The payload (--message, --file, or stdin) is a template, rendered for each message: {{seq}} (1, 2, …), {{timestamp}} (epoch ms), {{iso}}, {{random:MIN:MAX}} (as many decimals as the bounds), {{uuid}}, {{device}} (the client id), {{index}}.

Prints one line per message for up to ${perMessageLines} messages and a summary line (sent, acknowledged, latency, rate). When a profile is configured and can read the account's topic rules, it also says which rule's topic filter the topic matches, or warns that none does (a typo in the topic). Bad input — a topic with + or #, an empty topic, QoS 2, a certificate and key that do not match, a payload file that does not exist, --count ≤ 0 — is exit 2 with nothing sent. Exit 1 when the broker refuses, drops the connection or does not acknowledge within 10 s.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --topic device/1/data --message \'{"temperature": 21.5}\' --profile iot',
    '<%= config.bin %> <%= command.id %> --cert sensor-1.cert.pem --key sensor-1.private.key --topic device/sensor-1/data --count 100 --interval 100 --message \'{"seq": {{seq}}, "temperature": {{random:20.0:30.0}}, "ts": {{timestamp}}}\'',
    'echo \'{"temperature": 22}\' | <%= config.bin %> <%= command.id %> --topic device/1/data --json',
  ]

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    topic: Flags.string({char: 't', summary: 'Topic to publish to (no wildcards), e.g. device/1/data.', required: true, helpValue: '<topic>'}),
    ...payloadFlags,
    qos: qosFlag,
    'basic-ingest': Flags.boolean({summary: 'Publish with Basic Ingest: to $aws/rules/<rule>/<topic>, straight to the rule (--rule-name, rule.name in iotctl.json, or the stack\'s), no subscriber gets it.'}),
    'rule-name': ruleNameFlag,
    count: numberFlag({summary: 'How many messages (default 1).', default: 1, helpValue: '<n>'}),
    interval: numberFlag({summary: 'Milliseconds between messages (default 0: as fast as possible).', default: 0, helpValue: '<ms>'}),
    ...connectionFlags,
  }

  async run(): Promise<MqttPublishResult> {
    const {flags} = await this.parse(MqttPublish)
    const {publish, validatePositive, validatePublishTopic, validateQos} = await import('../../lib/mqtt/index.ts')
    const {InputError} = await import('../../lib/errors.ts')
    validatePublishTopic(flags.topic)
    const qos = validateQos(flags.qos)
    const count = validatePositive('--count', flags.count)
    if (!Number.isFinite(flags.interval) || flags.interval < 0) throw new InputError(`--interval must be 0 or more milliseconds, not ${flags.interval}`)
    const {payloadTemplate} = await import('../../lib/mqtt/cli/payload.ts')
    const payload = await payloadTemplate(flags)
    const {resolveConnection} = await import('../../lib/mqtt/cli/connection.ts')
    const loaded = this.loadStack(flags)
    let topic = flags.topic
    if (flags['basic-ingest']) {
      const {basicIngestTopic} = await import('../../lib/mqtt/basic-ingest.ts')
      const {defaultRuleName} = await import('../../lib/iot/names.ts')
      topic = basicIngestTopic(flags['rule-name'] ?? loaded.settings.rule?.name ?? defaultRuleName(loaded.settings.stack), flags.topic)
    } else if (flags['rule-name'] !== undefined) {
      throw new InputError('--rule-name is for --basic-ingest: add --basic-ingest, or leave --rule-name out')
    }
    const resolved = await resolveConnection(loaded, flags, () => this.account(loaded, 'iot'))
    for (const warning of resolved.connection.warnings) process.stderr.write(`warning: ${warning}\n`)

    let rules: RuleCheck | undefined
    if (resolved.account && resolved.profileConfigured) {
      const {checkTopicAgainstRules} = await import('../../lib/mqtt/cli/rules.ts')
      const {describeRuleCheck} = await import('../../ui/mqtt.ts')
      rules = await checkTopicAgainstRules(await resolved.account.iot(), flags.topic, (why) => this.debug(`topic rules not checked: ${why}`))
      if (rules) for (const line of describeRuleCheck(flags.topic, rules)) process.stderr.write(`${line}\n`)
    }

    const published = await publish({connection: resolved.connection, topic, payload, qos, count, intervalMs: flags.interval, signal: this.interruption.signal})
    const {latencySummary} = await import('../../lib/mqtt/index.ts')
    const {acks, ...rest} = published
    const latency = acks ? latencySummary(acks.map((a) => a.latencyMs)) : undefined
    const result: MqttPublishResult = {
      ...rest,
      payload,
      endpointSource: resolved.endpointSource,
      ...(acks && acks.length <= acksInJson ? {acks} : {}),
      ...(latency ? {latencyMs: latency} : {}),
      ...(rules ? {rules} : {}),
    }
    if (!this.jsonEnabled()) {
      const {payloadNote, publishLines} = await import('../../ui/mqtt.ts')
      for (const line of publishLines(published, latency, {topic, qos, perMessage: count <= perMessageLines})) this.log(line)
      this.note(payloadNote(payload))
    }
    return result
  }
}
