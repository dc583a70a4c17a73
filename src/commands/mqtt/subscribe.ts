import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {numberFlag, oneAccountFlags, twoAccountFlags} from '../../flags/index.ts'
import type {SubscribeResult} from '../../lib/mqtt/index.ts'
import {connectionFlags, qosFlag} from '../../flags/mqtt.ts'

export interface MqttSubscribeResult extends SubscribeResult {
  endpointSource: 'flag' | 'DescribeEndpoint'
}

/** One --json line per message. */
export interface MessageLine {
  topic: string
  /** The payload as text when it is valid UTF-8 … */
  payload?: string
  /** … else base64. */
  payloadBase64?: string
  qos: number
  retain: boolean
  receivedAt: string
}

export default class MqttSubscribe extends BaseCommand<MqttSubscribeResult> {
  static override summary = 'Watch a topic or topic filter and print each message.'
  static override description = `Subscribes (mutual TLS with --cert/--key, else a SigV4-signed WebSocket with the profile's credentials) and prints each message as "<topic> <payload>", or with --json one JSON object per line ({topic, payload | payloadBase64, qos, retain, receivedAt}) followed by a last line with the counts.

Exit codes: with --count, 0 once that many messages arrived and 1 when --timeout runs out first; without --count, it watches until --timeout (or Ctrl-C) and exits 0 if at least one message arrived, 1 if none did. Rides out dropped connections (reconnects and subscribes again).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --topic \'device/+/data\' --profile iot',
    '<%= config.bin %> <%= command.id %> --topic \'device/#\' --count 10 --timeout 30 --json',
    '<%= config.bin %> <%= command.id %> --cert sensor-1.cert.pem --key sensor-1.private.key --topic \'device/sensor-1/#\'',
  ]

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    topic: Flags.string({char: 't', summary: 'Topic or filter: + matches one level, # the rest (e.g. device/+/data).', required: true, helpValue: '<filter>'}),
    count: numberFlag({summary: 'Exit 0 after this many messages.', helpValue: '<n>'}),
    timeout: numberFlag({summary: 'Seconds to wait: with --count, exit 1 if they have not all arrived; without, stop watching.', helpValue: '<s>'}),
    qos: qosFlag,
    ...connectionFlags,
  }

  // One JSON document per line: the messages, then the result.
  protected override logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json)}\n`)
  }

  async run(): Promise<MqttSubscribeResult> {
    const {flags} = await this.parse(MqttSubscribe)
    const {subscribe, validatePositive, validateQos, validateTopicFilter} = await import('../../lib/mqtt/index.ts')
    validateTopicFilter(flags.topic)
    const qos = validateQos(flags.qos)
    if (flags.count !== undefined) validatePositive('--count', flags.count)
    if (flags.timeout !== undefined) validatePositive('--timeout', flags.timeout, false)
    const {defaultClientId, resolveConnection} = await import('../../lib/mqtt/cli/connection.ts')
    const {messageText, utf8Text} = await import('../../ui/mqtt.ts')
    const loaded = this.loadStack(flags)
    const resolved = await resolveConnection(loaded, flags, () => this.account(loaded, 'iot'), {clientId: flags.cert ? undefined : defaultClientId(undefined, 'iotctl-sub')})
    for (const warning of resolved.connection.warnings) process.stderr.write(`warning: ${warning}\n`)
    const json = this.jsonEnabled()
    this.note(`watching ${flags.topic} on ${resolved.connection.url} as ${resolved.connection.clientId}`)
    const watched = await subscribe({
      connection: resolved.connection,
      filter: flags.topic,
      qos,
      ...(flags.count === undefined ? {} : {count: flags.count}),
      ...(flags.timeout === undefined ? {} : {timeoutSeconds: flags.timeout}),
      signal: this.interruption.signal,
      onMessage: (message) => {
        if (json) {
          const text = utf8Text(message.payload)
          const line: MessageLine = {
            topic: message.topic,
            ...(text === undefined ? {payloadBase64: message.payload.toString('base64')} : {payload: text}),
            qos: message.qos,
            retain: message.retain,
            receivedAt: new Date(message.receivedAt).toISOString(),
          }
          process.stdout.write(`${JSON.stringify(line)}\n`)
        } else {
          process.stdout.write(`${messageText(message)}\n`)
        }
      },
    })
    this.note(`received ${watched.received} message${watched.received === 1 ? '' : 's'} on ${flags.topic} (${watched.stoppedBy === 'count' ? 'count reached' : watched.stoppedBy === 'timeout' ? 'timeout' : 'stopped'})`)
    if (watched.received === 0 && watched.stoppedBy === 'timeout') {
      if (!json) process.stderr.write(`iotctl: no message arrived on ${flags.topic} within ${flags.timeout} s\n`)
      this.failWith(1)
    }
    if (watched.stoppedBy === 'signal') this.failWith(130)
    return {...watched, endpointSource: resolved.endpointSource}
  }
}
