// The end-to-end benchmark (issue 12): device publish → Kafka through the local
// chain (device → IoT data plane → rules engine → Kafka), beside the two halves
// alone — MQTT only and Kafka only — measured in the same run, with ratios.
//
//   node bench/e2e/run.ts [--latency-messages 1000] [--latency-rate 100]
//                         [--rate-messages 30000] [--in-flight 100] [--size 100]
//                         [--max-seconds 170]
//
// This process hosts the local AWS (moto, the stand-in with its IoT data plane and
// rules engine, the Kafka broker behind MSK) and sets the chain up as a user does,
// with the built CLI: `iotctl up --create-cluster`, `iotctl device create bench1`.
// Each figure runs one publisher process and one receiver process (forked):
//
// * e2e: bench1 publishes (mqtt.js, mutual TLS, QoS 1) to device/bench1/data; the
//   rule (SELECT *, topic(2) AS device_id) writes to Kafka; a @platformatic/kafka
//   consumer (SASL_SSL, SCRAM-SHA-512) reads the rule's topic.
// * mqtt-only: the same publisher to device/bench1/mqtt (no rule matches); an MQTT
//   subscriber with a certificate of its own reads it from the data plane.
// * kafka-only: bench/e2e/kafka-only.ts --bootstrap against the same broker.
//
// Latency: --latency-messages sent one at a time at --latency-rate per second (open
// loop); each carries its send time, the receiver subtracts it from its receive
// time (one machine, one wall clock) → p50/p99/max. Sustained rate: --rate-messages
// sent as fast as QoS 1 acknowledgements allow, at most --in-flight unacknowledged;
// rate = messages received / (last received − first sent).
// One JSON document on stdout; progress and a table on stderr.
import {fork, spawn, type ChildProcess} from 'node:child_process'
import {once} from 'node:events'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {performance} from 'node:perf_hooks'
import {randomBytes} from 'node:crypto'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'

const {values} = parseArgs({
  options: {
    role: {type: 'string', default: 'main'},
    'latency-messages': {type: 'string', default: '1000'},
    'latency-rate': {type: 'string', default: '100'},
    'rate-messages': {type: 'string', default: '30000'},
    'in-flight': {type: 'string', default: '100'},
    size: {type: 'string', default: '100'},
    'max-seconds': {type: 'string', default: '170'},
  },
})

const latencyMessages = Number(values['latency-messages'])
const latencyRate = Number(values['latency-rate'])
const rateMessages = Number(values['rate-messages'])
const inFlightLimit = Number(values['in-flight'])
const size = Number(values.size)
const maxSeconds = Number(values['max-seconds'])
const warmUpMessages = 200

const now = (): number => performance.timeOrigin + performance.now()
const self = fileURLToPath(import.meta.url)
/** The parent's running children, killed when --max-seconds is reached. */
const children = new Set<ChildProcess>()

/** What the parent hands a child (in BENCH_E2E, JSON). */
interface MqttEndpoint {
  host: string
  port: number
  ca: string
  cert: string
  key: string
  clientId: string
  topic: string
}
interface KafkaConnection {bootstrapBrokers: string[]; tls: {ca: string}; sasl: {mechanism: 'SCRAM-SHA-512'; username: string; password: string}}

type Report =
  | {type: 'ready'}
  | {type: 'published'; rateStart: number; latencySent: number; rateSent: number}
  | {type: 'received'; latencies: number[]; warmUp: number; rateFirstReceived: number; rateLastReceived: number; rateReceived: number; complete: boolean}
  | {type: 'error'; message: string}

interface Figure {
  figure: string
  latency: {messages: number; sentPerSecond: number; p50Ms: number; p99Ms: number; maxMs: number}
  sustained: {sent: number; messages: number; seconds: number; messagesPerSecond: number}
  [more: string]: unknown
}

switch (values.role) {
  case 'publisher':
    await publisherSide()
    break
  case 'mqtt-receiver':
  case 'kafka-receiver':
    await receiverSide(values.role)
    break
  default:
    await main()
}

// ───────────────────────────── children ─────────────────────────────

function pad(head: Record<string, unknown>): string {
  const json = JSON.stringify({...head, p: ''})
  return json.length >= size ? json : JSON.stringify({...head, p: 'x'.repeat(size - json.length)})
}

function fail(error: unknown): never {
  process.send?.({type: 'error', message: error instanceof Error ? error.message : String(error)} satisfies Report)
  process.exit(1)
}

/** The device: warm-up, the open-loop latency phase, the QoS 1 rate phase. */
async function publisherSide(): Promise<void> {
  const endpoint = JSON.parse(process.env.BENCH_E2E!) as MqttEndpoint
  const {connectAsync} = await import('mqtt')
  setTimeout(() => fail(`publisher: time limit of ${maxSeconds} s reached`), maxSeconds * 1000).unref()
  const client = await connectAsync({
    protocol: 'mqtts', host: endpoint.host, port: endpoint.port, clientId: endpoint.clientId,
    ca: endpoint.ca, cert: endpoint.cert, key: endpoint.key, reconnectPeriod: 0, clean: true, keepalive: 60,
  }).catch(fail)
  client.on('error', fail)
  client.on('close', () => fail('publisher: the data plane closed the connection'))
  const publish = (payload: string): Promise<void> =>
    new Promise((resolve, reject) => client.publish(endpoint.topic, payload, {qos: 1}, (error) => (error ? reject(error) : resolve())))

  for (let i = 0; i < warmUpMessages; i++) await publish(pad({k: 'w', t: now()}))
  await new Promise((resolve) => setTimeout(resolve, 500))

  const interval = 1000 / latencyRate
  const start = now()
  const acks: Promise<void>[] = []
  for (let i = 0; i < latencyMessages; i++) {
    const wait = start + i * interval - now()
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
    acks.push(publish(pad({k: 'l', t: now()})))
  }
  await Promise.all(acks)
  await new Promise((resolve) => setTimeout(resolve, 500))

  const rateStart = now()
  const inFlight = new Set<Promise<void>>()
  for (let i = 0; i < rateMessages; i++) {
    const sending = publish(pad({k: 'r', t: now()}))
    inFlight.add(sending)
    void sending.finally(() => inFlight.delete(sending)).catch(() => undefined)
    if (inFlight.size >= inFlightLimit) await Promise.race(inFlight)
  }
  await Promise.all(inFlight)
  process.send!({type: 'published', rateStart, latencySent: latencyMessages, rateSent: rateMessages} satisfies Report)
  client.removeAllListeners('close')
  await client.endAsync()
  process.disconnect()
}

/** The receiver: an MQTT subscriber on the data plane, or a Kafka consumer on the rule's topic. */
async function receiverSide(role: 'mqtt-receiver' | 'kafka-receiver'): Promise<void> {
  setTimeout(() => fail(`${role}: time limit of ${maxSeconds} s reached`), maxSeconds * 1000).unref()
  const latencies: number[] = []
  let warmUp = 0
  let rateReceived = 0
  let rateFirstReceived = 0
  let rateLastReceived = 0
  let reported = false
  let close: () => Promise<void> = async () => undefined
  const report = async (complete: boolean): Promise<void> => {
    if (reported) return
    reported = true
    process.send!({type: 'received', latencies, warmUp, rateFirstReceived, rateLastReceived, rateReceived, complete} satisfies Report)
    await close()
    process.disconnect()
  }
  // The parent asks for what arrived so far when the publisher is done and the rest is late.
  process.on('message', (message: {type: string}) => {
    if (message.type === 'stop') void report(false)
  })
  const onMessage = (text: string): void => {
    const received = now()
    const body = JSON.parse(text) as {k: string; t: number}
    if (body.k === 'l') latencies.push(received - body.t)
    else if (body.k === 'r') {
      if (rateReceived === 0) rateFirstReceived = received
      rateReceived++
      rateLastReceived = received
    } else warmUp++
    if (latencies.length >= latencyMessages && rateReceived >= rateMessages) void report(true)
  }

  if (role === 'mqtt-receiver') {
    const endpoint = JSON.parse(process.env.BENCH_E2E!) as MqttEndpoint
    const {connectAsync} = await import('mqtt')
    const client = await connectAsync({
      protocol: 'mqtts', host: endpoint.host, port: endpoint.port, clientId: endpoint.clientId,
      ca: endpoint.ca, cert: endpoint.cert, key: endpoint.key, reconnectPeriod: 0, clean: true, keepalive: 60,
    }).catch(fail)
    client.on('message', (_topic, payload) => onMessage(payload.toString('utf8')))
    const granted = await client.subscribeAsync(endpoint.topic, {qos: 1})
    if (granted.some((g) => g.qos === 128)) fail(`mqtt-receiver: subscription to ${endpoint.topic} refused`)
    close = () => client.endAsync()
  } else {
    const {topic, connection} = JSON.parse(process.env.BENCH_E2E!) as {topic: string; connection: KafkaConnection}
    const {Consumer, MessagesStreamModes, stringDeserializers} = await import('@platformatic/kafka')
    const consumer = new Consumer({clientId: 'bench-e2e-consumer', groupId: `bench-e2e-${process.pid}`, ...connection, deserializers: stringDeserializers})
    const stream = await consumer.consume({topics: [topic], mode: MessagesStreamModes.EARLIEST, maxWaitTime: 100})
    close = async () => {
      await stream.close()
      await consumer.close(true)
    }
    void (async () => {
      for await (const message of stream) onMessage(message.value)
    })().catch(fail)
  }
  process.send!({type: 'ready'} satisfies Report)
}

// ───────────────────────────── the parent ─────────────────────────────

/** A child's reports, awaited by type; an 'error' report or an early exit rejects. */
function reportsOf(child: ChildProcess, name: string): (type: Report['type'], timeoutMs: number) => Promise<Report> {
  const reports: Report[] = []
  let wake: (() => void) | undefined
  child.on('message', (report: Report) => {
    reports.push(report)
    wake?.()
  })
  child.on('exit', () => wake?.())
  return async (type, timeoutMs) => {
    const until = Date.now() + timeoutMs
    for (;;) {
      const found = reports.find((r) => r.type === type || r.type === 'error')
      if (found) {
        if (found.type === 'error') throw new Error(`${name}: ${found.message}`)
        return found
      }
      if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode} before '${type}'`)
      if (Date.now() > until) throw new Error(`${name}: no '${type}' within ${Math.round(timeoutMs / 1000)} s`)
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 200)
      })
    }
  }
}

function percentile(sorted: number[], p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(2))
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child?.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  await once(child, 'exit')
}

/** One figure: a receiver process, then a publisher process; the receiver's counts and times. */
async function measure(name: string, receiver: {role: string; env: unknown}, publisher: MqttEndpoint, remainingMs: () => number, settled?: () => Promise<void>): Promise<Figure> {
  const counts = ['--latency-messages', String(latencyMessages), '--latency-rate', String(latencyRate),
    '--rate-messages', String(rateMessages), '--in-flight', String(inFlightLimit), '--size', String(size),
    '--max-seconds', String(Math.max(1, Math.floor(remainingMs() / 1000)))]
  const forkRole = (role: string, env: unknown): ChildProcess => {
    const child = fork(self, ['--role', role, ...counts], {env: {...process.env, BENCH_E2E: JSON.stringify(env)}, stdio: ['ignore', 'inherit', 'inherit', 'ipc']})
    children.add(child)
    child.on('exit', () => children.delete(child))
    return child
  }
  let receiving: ChildProcess | undefined
  let publishing: ChildProcess | undefined
  try {
    receiving = forkRole(receiver.role, receiver.env)
    const fromReceiver = reportsOf(receiving, `${name} receiver`)
    await fromReceiver('ready', remainingMs())
    publishing = forkRole('publisher', publisher)
    const published = (await reportsOf(publishing, `${name} publisher`)('published', remainingMs())) as Extract<Report, {type: 'published'}>
    // A PUBACK means the data plane took the message, not that a rule has run: wait
    // for the rules engine's backlog first. Whatever has not arrived 10 s later is lost.
    await settled?.()
    let received: Extract<Report, {type: 'received'}>
    try {
      received = (await fromReceiver('received', Math.min(10_000, remainingMs()))) as typeof received
    } catch {
      receiving.send({type: 'stop'})
      received = (await fromReceiver('received', 5000)) as typeof received
    }
    if (received.latencies.length === 0) throw new Error(`${name}: no latency message arrived (warm-up ${received.warmUp}, rate ${received.rateReceived})`)
    const sorted = [...received.latencies].sort((a, b) => a - b)
    const seconds = (received.rateLastReceived - published.rateStart) / 1000
    return {
      figure: name,
      latency: {messages: sorted.length, sentPerSecond: latencyRate, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), maxMs: Number(sorted.at(-1)!.toFixed(2))},
      sustained: {sent: published.rateSent, messages: received.rateReceived, seconds: Number(seconds.toFixed(3)), messagesPerSecond: received.rateReceived > 0 ? Math.round(received.rateReceived / seconds) : 0},
      ...(received.complete ? {} : {lost: {latency: published.latencySent - received.latencies.length, sustained: published.rateSent - received.rateReceived}}),
    }
  } finally {
    await stopChild(publishing)
    await stopChild(receiving)
  }
}

async function main(): Promise<void> {
  const started = Date.now()
  const deadline = started + maxSeconds * 1000
  const remainingMs = (): number => Math.max(0, deadline - Date.now())
  const log = (line: string): void => void process.stderr.write(`${line}\n`)
  const {startLocalAws} = await import('../../test/support/local-aws/index.ts')
  const {binPath} = await import('../../test/support/cli.ts')
  const {IoTClient, CreateKeysAndCertificateCommand, CreatePolicyCommand, AttachPolicyCommand} = await import('@aws-sdk/client-iot')

  const watchdog = setTimeout(() => {
    log(`time limit of ${maxSeconds} s reached: stopping`)
    for (const child of children) child.kill('SIGKILL')
    process.exitCode = 1
    void aws?.stop().finally(() => process.exit(1))
  }, maxSeconds * 1000)

  log('starting the local AWS with its Kafka broker…')
  // The activation delays only stretch the set-up; nothing here measures them.
  let aws: Awaited<ReturnType<typeof startLocalAws>> | undefined = await startLocalAws({kafka: true, clusterActivationDelayMs: 100, destinationActivationDelayMs: 100})
  const workdir = mkdtempSync(join(tmpdir(), 'iotctl-bench-e2e-'))
  try {
    const kafka = aws.kafka!
    // AWS IoT caches a get_secret value up to 15 minutes; the local engine's default
    // (0: read on every message, for tests) would measure Secrets Manager instead.
    aws.standIn.rules.secretCacheMs = 15 * 60_000
    const network = await aws.createNetwork()
    const kafkaTopic = 'device-data'
    const sql = "SELECT *, topic(2) AS device_id FROM 'device/+/data'"
    writeFileSync(join(workdir, 'iotctl.json'), JSON.stringify({
      stack: 'bench',
      iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
      msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId},
      rule: {name: 'bench_device_data', sql, kafkaTopic},
    }, null, 2) + '\n')
    const env = aws.childEnv({CI: 'true'})
    const iotctl = async (args: string[]): Promise<void> => {
      const t0 = Date.now()
      const child = spawn(process.execPath, [binPath, ...args], {cwd: workdir, env, stdio: ['ignore', 'pipe', 'pipe']})
      children.add(child)
      let output = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      const [code] = (await once(child, 'close')) as [number | null]
      children.delete(child)
      if (code !== 0) throw new Error(`iotctl ${args.join(' ')} exited ${code}:\n${output}`)
      log(`$ iotctl ${args.join(' ')}   (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    }
    await iotctl(['up', '--create-cluster'])
    await iotctl(['device', 'create', 'bench1'])

    const iotData = aws.iotData
    const ca = readFileSync(iotData.caFile, 'utf8')
    const device = (topic: string): MqttEndpoint => ({
      host: iotData.host, port: iotData.port, ca, clientId: 'bench1', topic,
      cert: readFileSync(join(workdir, 'bench1.cert.pem'), 'utf8'), key: readFileSync(join(workdir, 'bench1.private.key'), 'utf8'),
    })

    // The MQTT-only receiver: a certificate of its own whose policy may read bench1's topics.
    const iot = new IoTClient(aws.clientConfig('iot'))
    const made = await iot.send(new CreateKeysAndCertificateCommand({setAsActive: true}))
    const arn = (type: string, rest: string): string => `arn:aws:iot:${aws!.region}:${aws!.accounts.iot}:${type}/${rest}`
    await iot.send(new CreatePolicyCommand({policyName: 'bench-receiver', policyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {Effect: 'Allow', Action: ['iot:Connect'], Resource: [arn('client', 'bench-receiver')]},
        {Effect: 'Allow', Action: ['iot:Subscribe'], Resource: [arn('topicfilter', 'device/bench1/*')]},
        {Effect: 'Allow', Action: ['iot:Receive'], Resource: [arn('topic', 'device/bench1/*')]},
      ],
    })}))
    await iot.send(new AttachPolicyCommand({policyName: 'bench-receiver', target: made.certificateArn!}))
    iot.destroy()
    const mqttReceiver: MqttEndpoint = {
      host: iotData.host, port: iotData.port, ca, clientId: 'bench-receiver', topic: 'device/bench1/mqtt',
      cert: made.certificatePem!, key: made.keyPair!.PrivateKey!,
    }

    // A SCRAM user of the bench's own on the broker behind the cluster.
    const password = randomBytes(18).toString('base64url')
    await kafka.upsertScramUser('bench-e2e', password)
    const connection = kafka.clientOptions('bench-e2e', password)

    log(`\nMQTT only: ${latencyMessages} messages at ${latencyRate}/s, then ${rateMessages} at QoS 1 (≤ ${inFlightLimit} in flight)`)
    const mqttOnly = await measure('mqtt-only', {role: 'mqtt-receiver', env: mqttReceiver}, device('device/bench1/mqtt'), remainingMs)

    log(`\nKafka only: bench/e2e/kafka-only.ts --bootstrap ${kafka.bootstrap}`)
    const kafkaOnly = await (async (): Promise<Figure> => {
      const child = spawn(process.execPath, [join(import.meta.dirname, 'kafka-only.ts'),
        '--bootstrap', kafka.bootstrap, '--ca', kafka.caFile, '--username', 'bench-e2e', '--password-env', 'BENCH_KAFKA_PASSWORD',
        '--latency-messages', String(latencyMessages), '--latency-rate', String(latencyRate), '--rate-messages', String(rateMessages),
        '--size', String(size), '--max-seconds', String(Math.max(1, Math.floor(remainingMs() / 1000)))],
      {env: {...process.env, BENCH_KAFKA_PASSWORD: password}, stdio: ['ignore', 'pipe', 'inherit']})
      children.add(child)
      let output = ''
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
      const [code] = (await once(child, 'close')) as [number | null]
      children.delete(child)
      if (code !== 0) throw new Error(`kafka-only.ts exited ${code}`)
      const result = JSON.parse(output) as {latency: Figure['latency']; sustained: {messages: number; seconds: number; messagesPerSecond: number}}
      return {figure: 'kafka-only', latency: result.latency, sustained: {sent: rateMessages, ...result.sustained}}
    })()

    log(`\nend to end: device/bench1/data → rule → Kafka topic ${kafkaTopic}`)
    // One message first, so that the rule's get_secret values are cached before the
    // publisher starts (otherwise every message in flight reads them at once).
    await aws.standIn.iotData.publish(aws.accounts.iot, aws.region, 'device/bench1/data', pad({k: 'w', t: now()}), {qos: 1})
    await aws.standIn.rules.idle()
    if (aws.standIn.rules.errors().length > 0) throw new Error(`the rule failed: ${JSON.stringify(aws.standIn.rules.errors()[0])}`)
    const e2e = await measure('e2e', {role: 'kafka-receiver', env: {topic: kafkaTopic, connection}}, device('device/bench1/data'), remainingMs, () => aws!.standIn.rules.idle()).catch((error: unknown) => {
      const errors = aws!.standIn.rules.errors()
      if (errors.length > 0) log(`rule errors: ${errors.length}, the first: ${JSON.stringify(errors[0])}`)
      throw error
    })
    await aws.standIn.rules.idle()
    const ruleErrors = aws.standIn.rules.errors().length

    const round = (x: number): number => Number(x.toFixed(2))
    const result = {
      benchmark: 'bench/e2e',
      chain: 'device (mqtt.js, mTLS, QoS 1) → local IoT data plane → rules engine → Kafka (SASL_SSL SCRAM-SHA-512) → @platformatic/kafka consumer; loopback',
      rule: {sql, kafkaTopic},
      messageBytes: size,
      wallSeconds: round((Date.now() - started) / 1000),
      e2e: {...e2e, ruleErrors},
      mqttOnly: {...mqttOnly, path: 'device/bench1/mqtt (no rule) → subscriber on the data plane (mTLS, QoS 1)'},
      kafkaOnly: {...kafkaOnly, path: 'producer → broker → consumer (bench/e2e/kafka-only.ts)'},
      ratios: {
        latencyP50: round(e2e.latency.p50Ms / (mqttOnly.latency.p50Ms + kafkaOnly.latency.p50Ms)),
        latencyP99: round(e2e.latency.p99Ms / (mqttOnly.latency.p99Ms + kafkaOnly.latency.p99Ms)),
        rate: round(e2e.sustained.messagesPerSecond / Math.min(mqttOnly.sustained.messagesPerSecond, kafkaOnly.sustained.messagesPerSecond)),
      },
    }
    process.stdout.write(JSON.stringify(result, null, 2) + '\n')

    const rows = [['figure', 'p50 ms', 'p99 ms', 'max ms', 'msg/s', 'received/sent'],
      ...[e2e, mqttOnly, kafkaOnly].map((f) => [f.figure, f.latency.p50Ms, f.latency.p99Ms, f.latency.maxMs, f.sustained.messagesPerSecond, `${f.sustained.messages}/${f.sustained.sent}`].map(String)),
      ['e2e ratio', `${result.ratios.latencyP50}× (mqtt+kafka)`, `${result.ratios.latencyP99}×`, '', `${result.ratios.rate}× (min)`, '']]
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)))
    log('')
    for (const row of rows) log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join('  '))
    log(`latency at ${latencyRate} msg/s open loop (${latencyMessages} messages); rate: ${rateMessages} messages of ${size} bytes; rule errors ${ruleErrors}; ${result.wallSeconds} s`)
  } finally {
    clearTimeout(watchdog)
    await aws.stop()
    aws = undefined
    rmSync(workdir, {recursive: true, force: true})
  }
}
