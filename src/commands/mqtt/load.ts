import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {numberFlag, oneAccountFlags, twoAccountFlags} from '../../flags/index.ts'
import type {LoadProgress, LoadResult} from '../../lib/mqtt/index.ts'
import {connectionFlags, payloadFlags, qosFlag} from '../../flags/mqtt.ts'

export interface MqttLoadResult extends LoadResult {
  topic: string
  payload: string
  endpointSource: 'flag' | 'DescribeEndpoint'
}

const defaultPayload = '{"device": "{{device}}", "seq": {{seq}}, "temperature": {{random:20.0:30.0}}, "ts": {{timestamp}}}'

export default class MqttLoad extends BaseCommand<MqttLoadResult> {
  static override summary = 'Simulate many devices publishing at an aggregate rate; report sent, acknowledged, failed and latency.'
  static override description = `Opens --devices connections (client ids <prefix>-1 … <prefix>-N), connected gradually over the ramp-up, which together publish --rate messages per second for --duration seconds, each device on its own topic (--topic is a template: {{index}}, {{device}}) with a templated payload. Dropped connections are reconnected (once a second per device, as AWS IoT allows); messages due while a device is offline, or sent and not acknowledged, count as failed.

While it runs: a progress bar on stderr when it is a terminal, else a line every 5 s. At the end: sent / acknowledged / failed, the achieved rate and the publish-to-PUBACK latency p50/p95/p99 (QoS 1); --json gives the same with every count.

Exit codes: 0 when every message due was sent (and, at QoS 1, acknowledged); 1 when any failed (the summary is printed all the same) or when no device could connect; 2 for bad input (nothing sent); 130 after Ctrl-C (the summary of what ran is printed).

With --cert/--key every device presents the same certificate: on AWS IoT its policy must allow iot:Connect for each client id (a \`device create\` policy allows only the thing's name). Over the SigV4 WebSocket, the profile's IAM permissions decide.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --devices 50 --rate 500 --duration 60 --profile iot',
    '<%= config.bin %> <%= command.id %> --devices 10 --rate 100 --duration 30 --qos 0 --topic \'device/{{index}}/data\' --json',
  ]

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    devices: numberFlag({summary: 'Simulated devices, each its own connection.', required: true, helpValue: '<n>'}),
    rate: numberFlag({summary: 'Messages per second, all devices together.', required: true, helpValue: '<msg/s>'}),
    duration: numberFlag({summary: 'Seconds of publishing.', required: true, helpValue: '<s>'}),
    qos: qosFlag,
    topic: Flags.string({char: 't', summary: 'Topic template (default device/{{index}}/data).', default: 'device/{{index}}/data', helpValue: '<topic>'}),
    ...payloadFlags,
    'ramp-up': numberFlag({summary: 'Seconds over which devices connect (default min(duration/4, devices/50)).', helpValue: '<s>'}),
    grace: numberFlag({summary: 'Seconds to wait for the last acknowledgements after the duration (default 5).', helpValue: '<s>'}),
    'client-id-prefix': Flags.string({summary: 'Client ids are <prefix>-1 … <prefix>-N (default iotctl-load).', default: 'iotctl-load', helpValue: '<prefix>'}),
    endpoint: connectionFlags.endpoint,
    cert: connectionFlags.cert,
    key: connectionFlags.key,
    ca: connectionFlags.ca,
  }

  async run(): Promise<MqttLoadResult> {
    const {flags} = await this.parse(MqttLoad)
    const {compileTemplate, runLoad, validatePositive, validatePublishTopic, validateQos} = await import('../../lib/mqtt/index.ts')
    const {InputError} = await import('../../lib/errors.ts')
    const devices = validatePositive('--devices', flags.devices)
    validatePositive('--rate', flags.rate, false)
    validatePositive('--duration', flags.duration, false)
    const qos = validateQos(flags.qos)
    for (const [name, value] of [['--ramp-up', flags['ramp-up']], ['--grace', flags.grace]] as const) {
      if (value !== undefined && (!Number.isFinite(value) || value < 0)) throw new InputError(`${name} must be 0 or more seconds, not ${value}`)
    }
    // The topic of each device, checked like a publish topic.
    const topicTemplate = compileTemplate(flags.topic)
    for (const index of new Set([1, devices])) validatePublishTopic(topicTemplate.render({seq: 1, device: `${flags['client-id-prefix']}-${index}`, index}))
    const {payloadTemplate} = await import('../../lib/mqtt/cli/payload.ts')
    const payload = await payloadTemplate(flags, {fallback: defaultPayload})
    const {resolveConnection} = await import('../../lib/mqtt/cli/connection.ts')
    const stack = this.loadStack(flags)
    const resolved = await resolveConnection(stack, flags, () => this.account(stack, 'iot'), {clientId: `${flags['client-id-prefix']}-1`})
    for (const warning of resolved.connection.warnings) process.stderr.write(`warning: ${warning}\n`)

    const {bar, loadProgressLine, loadSummaryLines} = await import('../../ui/mqtt.ts')
    const tty = Boolean(process.stderr.isTTY) && !process.env.CI
    const quiet = this.jsonEnabled() && !tty
    let lastLine = 0
    const onProgress = (p: LoadProgress) => {
      if (quiet) return
      const line = loadProgressLine(p, {durationSeconds: flags.duration, devices})
      if (tty) process.stderr.write(`\r${bar(p.elapsedSeconds / flags.duration)} ${line}\u001B[K`)
      else if (p.elapsedSeconds - lastLine >= 5) {
        lastLine = p.elapsedSeconds
        process.stderr.write(`${line}\n`)
      }
    }
    this.note(`${devices} devices → ${resolved.connection.url}, ${flags.rate} msg/s for ${flags.duration} s at QoS ${qos}`)
    let loaded: LoadResult
    try {
      loaded = await runLoad({
        connection: resolved.connection,
        clientIdPrefix: flags['client-id-prefix'],
        devices,
        rate: flags.rate,
        durationSeconds: flags.duration,
        topic: flags.topic,
        payload,
        qos,
        ...(flags['ramp-up'] === undefined ? {} : {rampUpSeconds: flags['ramp-up']}),
        ...(flags.grace === undefined ? {} : {graceSeconds: flags.grace}),
        onProgress,
        signal: this.interruption.signal,
      })
    } finally {
      if (tty && !quiet) process.stderr.write('\r\u001B[K')
    }
    for (const warning of loaded.warnings) this.note(`warning: ${warning}`)
    if (!this.jsonEnabled()) for (const line of loadSummaryLines(loaded)) this.log(line)
    if (loaded.interrupted) this.failWith(130)
    else if (loaded.failed > 0) {
      this.failWith(1)
      this.note(`iotctl: ${loaded.failed} of ${loaded.due} messages failed`)
    }
    return {...loaded, topic: flags.topic, payload, endpointSource: resolved.endpointSource}
  }
}
