// `doctor --probe`: one real message through the chain. Publishes a probe to a
// topic the rule's FROM matches (MQTT over a SigV4-signed WebSocket with the
// IoT account's credentials, so it works from anywhere), having first
// subscribed to the rule's error topic: a failure document about the probe
// within the wait fails the check with AWS's own error text. Where the brokers
// are reachable (--bootstrap-server, or the cluster's own from inside its VPC
// or a peered one) it also reads the probe back from Kafka, matched by its id,
// and reports the end-to-end latency. Findings are values (ProbeReport).
import {randomBytes} from 'node:crypto'
import type {MqttClient} from 'mqtt'
import {topicFilterOf} from '../iot/names.ts'
import {ruleSettingsOf} from '../iot/inputs.ts'
import {connectClient, describeIotDataEndpoint, prepareConnection} from '../mqtt/index.ts'
import {caBundleOf, dataPlanePort} from '../mqtt/local-endpoint.ts'
import {disconnect} from '../mqtt/publish.ts'
import {kafkaConnectionOf, TopicReader, type KafkaMessage} from '../msk/consume.ts'
import type {Broker} from '../msk/kafka-client.ts'
import type {StepContext} from '../plan/types.ts'
import {fail, pass, warn, type Verdict} from './check.ts'
import {isAboutProbe, newProbeId, parseFailureDocument, probePlan, type RuleFailure} from './probe-message.ts'

export const defaultProbeWaitSeconds = 10

export interface ProbeOptions {
  waitSeconds: number
  /** --bootstrap-server: brokers reachable from here (else the cluster's own, tried briefly). */
  brokers?: Broker[]
  /** --kafka-ca: for the brokers (else AWS_CA_BUNDLE, else Node's store); the IoT data endpoint takes AWS_CA_BUNDLE or Node's store. */
  kafkaCa?: string
  signal?: AbortSignal
}

export type KafkaHalf =
  | {state: 'received'; latencyMs: number; partition: number; offset: string; value: string | null}
  | {state: 'not-received'; detail: string}
  | {state: 'cannot-match'; detail: string}
  | {state: 'unreachable'; detail: string}

/** What the probe found: the --json document's `probe`. */
export interface ProbeReport {
  probeId: string
  topic: string
  errorTopic?: string
  publishedAt?: string
  /** The error action's failures for the probe (AWS's error text in errorMessage). */
  failures: RuleFailure[]
  kafka: KafkaHalf
}

async function openKafka(ctx: StepContext, options: ProbeOptions, topic: string): Promise<TopicReader | {state: 'unreachable'; detail: string}> {
  try {
    const connection = await kafkaConnectionOf(ctx, {...(options.brokers ? {brokers: options.brokers} : {}), ...(options.kafkaCa ? {ca: options.kafkaCa} : {})})
    // The cluster's own brokers answer only inside its VPC (or a peered one): do not wait long for them.
    return await TopicReader.open({...connection, connectTimeoutSeconds: options.brokers ? 15 : 5}, topic, {fromBeginning: false})
  } catch (error) {
    return {state: 'unreachable', detail: (error as Error).message.split('\n')[0]}
  }
}

function subscribeTo(client: MqttClient, topic: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.subscribe(topic, {qos: 1}, (error, granted) => {
      if (error) reject(error)
      else if (granted?.[0]?.qos === 128) reject(new Error(`the broker refused the subscription to ${topic}`))
      else resolve()
    })
  })
}

export async function runProbe(ctx: StepContext, options: ProbeOptions): Promise<{verdict: Verdict; report: ProbeReport}> {
  const settings = ruleSettingsOf(ctx.settings)
  const filter = topicFilterOf(settings.sql) ?? ''
  const probeId = newProbeId()
  const plan = probePlan(settings.sql, filter, probeId)
  const report: ProbeReport = {probeId, topic: plan.topic, ...(settings.errorTopic ? {errorTopic: settings.errorTopic} : {}), failures: [], kafka: {state: 'unreachable', detail: 'not tried'}}

  const account = ctx.accounts.iot
  const host = await describeIotDataEndpoint(await account.iot())
  const port = dataPlanePort(host)
  const ca = caBundleOf(undefined)
  const clientId = `iotctl-probe-${randomBytes(4).toString('hex')}`
  const connection = await prepareConnection({
    kind: 'websocket', endpoint: host, region: account.region, clientId,
    credentials: async () => (await account.credentials())(),
    ...(port === undefined ? {} : {port}), ...(ca ? {ca} : {}),
  })
  const reader = await openKafka(ctx, options, settings.kafkaTopic)
  const client = await connectClient(connection)
  const failures: RuleFailure[] = []
  let kafkaMessage: KafkaMessage | undefined
  let receivedAt = 0
  try {
    // Subscribe before publishing: the error comes back within milliseconds.
    let errorArrived: () => void = () => {}
    const errorPromise = new Promise<void>((resolve) => { errorArrived = resolve })
    if (settings.errorTopic) {
      client.on('message', (topic, payload) => {
        if (topic !== settings.errorTopic) return
        const document = parseFailureDocument(payload)
        if (document && isAboutProbe(document, probeId, clientId)) {
          failures.push(...document.failures)
          errorArrived()
        }
      })
      await subscribeTo(client, settings.errorTopic)
    }
    const publishedAt = Date.now()
    await new Promise<void>((resolve, reject) => client.publish(plan.topic, plan.payload, {qos: 1}, (error) => (error ? reject(error) : resolve())))
    report.publishedAt = new Date(publishedAt).toISOString()
    const deadline = publishedAt + options.waitSeconds * 1000
    const stop = new AbortController()
    const kafkaPromise = reader instanceof TopicReader && plan.traceable
      ? reader.next({deadline, signal: stop.signal, accept: (m) => (m.value ?? '').includes(probeId) || (m.key ?? '').includes(probeId)}).then((m) => {
        if (m) {
          kafkaMessage = m
          receivedAt = Date.now()
        }
      }).catch((error: Error) => { report.kafka = {state: 'unreachable', detail: error.message} })
      : new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
        stop.signal.addEventListener('abort', () => { clearTimeout(timer); resolve() }, {once: true})
      })
    const onAbort = () => stop.abort()
    options.signal?.addEventListener('abort', onAbort, {once: true})
    await Promise.race([errorPromise, kafkaPromise, new Promise<void>((resolve) => stop.signal.addEventListener('abort', () => resolve(), {once: true}))])
    stop.abort()
    options.signal?.removeEventListener('abort', onAbort)
    if (kafkaMessage) report.kafka = {state: 'received', latencyMs: receivedAt - publishedAt, partition: kafkaMessage.partition, offset: kafkaMessage.offset, value: kafkaMessage.value}
    else if (!(reader instanceof TopicReader)) report.kafka = reader
    else if (!plan.traceable) report.kafka = {state: 'cannot-match', detail: `${plan.reason}: the Kafka half cannot tell the probe from other messages`}
    else if (report.kafka.state !== 'unreachable' || report.kafka.detail === 'not tried') report.kafka = {state: 'not-received', detail: `the probe did not reach Kafka topic ${settings.kafkaTopic} within ${options.waitSeconds} s`}
  } finally {
    if (!(await disconnect(client))) client.end(true)
    if (reader instanceof TopicReader) await reader.close()
  }
  report.failures = failures
  return {verdict: verdictOf(report, settings.kafkaTopic, options.waitSeconds), report}
}

/** A fix for the errors AWS IoT reports for a Kafka action, from the error's text. */
function fixFor(message: string): string {
  if (/topic|UNKNOWN_TOPIC/i.test(message)) return 'create the Kafka topic: `iotctl up` (or the kafka-topics.sh command it prints)'
  if (/authenticat|SASL|SCRAM|credential/i.test(message)) return 'the brokers refused the rule\'s SCRAM credentials: `iotctl secret mirror` and `iotctl msk associate-secret` (or `iotctl up`), then allow MSK a few minutes'
  if (/secret|get_secret|AccessDenied|not authorized|kms/i.test(message)) return 'the rule\'s role cannot read the secret: `iotctl iot role` (or `iotctl up`), then `iotctl doctor`'
  if (/destination/i.test(message)) return 'the VPC destination is not ENABLED: `iotctl iot destination` (or `iotctl up`)'
  return 'see the error above; `iotctl doctor` checks each link'
}

export function verdictOf(report: ProbeReport, kafkaTopic: string, waitSeconds: number): Verdict {
  if (report.failures.length > 0) {
    const text = report.failures.map((f) => `${f.failedAction ?? 'action'}${f.failedResource ? ` (${f.failedResource})` : ''}: ${f.errorMessage}`).join('; ')
    return fail(`the rule republished an error for probe ${report.probeId}: ${text}`, fixFor(text))
  }
  const kafka = report.kafka
  if (kafka.state === 'received') return pass(`probe ${report.probeId} on ${report.topic} reached Kafka topic ${kafkaTopic} in ${kafka.latencyMs} ms (partition ${kafka.partition}, offset ${kafka.offset})`)
  const errorWatch = report.errorTopic ? `no error republished to ${report.errorTopic} within ${waitSeconds} s` : 'the rule has no error action, so its failures are not visible'
  if (kafka.state === 'not-received') {
    return fail(`${kafka.detail}, and ${errorWatch}`, report.errorTopic ? 'the rule\'s WHERE may have dropped the probe, or delivery is slower than --probe-wait; `iotctl doctor` checks each link' : 'set rule.errorTopic (--error-topic) and run `iotctl up` to see why delivery fails')
  }
  if (!report.errorTopic) return warn(`cannot tell: ${errorWatch}, and Kafka ${kafka.state === 'cannot-match' ? 'cannot match the probe' : `is not reachable from here (${kafka.detail})`}`, 'set rule.errorTopic (--error-topic) and run `iotctl up`')
  return pass(`probe ${report.probeId} published to ${report.topic}: ${errorWatch} (Kafka ${kafka.state === 'cannot-match' ? `not checked: ${kafka.detail}` : `not reachable from here: ${kafka.detail}; run where the brokers are reachable, or with --bootstrap-server, to see it arrive`})`)
}
