// The Kafka-only figure of the end-to-end benchmark: produce → consume latency
// (p50/p99) and sustained rate through the local Kafka broker, over SASL_SSL
// (SCRAM-SHA-512) with @platformatic/kafka, a producer and a consumer in two
// processes (as devices and `msk consume` are). Loopback only; bounded in count
// and in time. Prints one JSON document on stdout, progress on stderr.
//
//   node bench/e2e/kafka-only.ts [--latency-messages 2000] [--latency-rate 200]
//                                [--rate-messages 50000] [--size 100] [--max-seconds 120]
//                                [--bootstrap localhost:P --ca ca.pem --username U --password-env VAR]
//
// Without --bootstrap it starts its own broker (test/support/kafka) and user.
// Latency: messages sent one by one at --latency-rate per second (open loop, so the
// figure is transit, not queueing); each carries its send time, the consumer
// subtracts it from its receive time (same machine, same wall clock).
// Sustained rate: --rate-messages sent as fast as the producer is acknowledged
// (batches of 100, 4 in flight); rate = messages / (last received − first sent).
import {fork} from 'node:child_process'
import {once} from 'node:events'
import {readFileSync} from 'node:fs'
import {performance} from 'node:perf_hooks'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {Admin, Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers} from '@platformatic/kafka'

const {values} = parseArgs({
  options: {
    role: {type: 'string', default: 'producer'},
    'latency-messages': {type: 'string', default: '2000'},
    'latency-rate': {type: 'string', default: '200'},
    'rate-messages': {type: 'string', default: '50000'},
    size: {type: 'string', default: '100'},
    'max-seconds': {type: 'string', default: '120'},
    bootstrap: {type: 'string'},
    ca: {type: 'string'},
    username: {type: 'string'},
    'password-env': {type: 'string'},
    topic: {type: 'string'},
  },
})

interface Connection {
  bootstrapBrokers: string[]
  tls: {ca: string}
  sasl: {mechanism: 'SCRAM-SHA-512'; username: string; password: string}
}

type ConsumerReport =
  | {type: 'ready'}
  | {type: 'done'; latencies: number[]; rateFirstReceived: number; rateLastReceived: number; rateReceived: number}
  | {type: 'error'; message: string}

const now = (): number => performance.timeOrigin + performance.now()
const maxSeconds = Number(values['max-seconds'])

if (values.role === 'consumer') await consumerSide()
else await producerSide()

/** The consumer process: counts and times what arrives, reports to the parent over IPC. */
async function consumerSide(): Promise<void> {
  const connection = JSON.parse(process.env.KAFKA_BENCH_CONNECTION!) as Connection
  const topic = values.topic!
  const latencyMessages = Number(values['latency-messages'])
  const rateMessages = Number(values['rate-messages'])
  const consumer = new Consumer({clientId: 'bench-consumer', groupId: `bench-${process.pid}`, ...connection, deserializers: stringDeserializers})
  const stream = await consumer.consume({topics: [topic], mode: MessagesStreamModes.EARLIEST, maxWaitTime: 100})
  const latencies: number[] = []
  let rateReceived = 0
  let rateFirstReceived = 0
  let rateLastReceived = 0
  process.send!({type: 'ready'} satisfies ConsumerReport)
  const timer = setTimeout(() => {
    process.send!({type: 'error', message: `consumer: time limit of ${maxSeconds} s reached`} satisfies ConsumerReport)
    process.exit(1)
  }, maxSeconds * 1000)
  for await (const message of stream) {
    const received = now()
    const value = message.value
    // "w" warm-up, "l<sent>" latency, "r" rate (the value is padded to --size).
    if (value.startsWith('l')) latencies.push(received - Number(value.slice(1, value.indexOf(' '))))
    else if (value.startsWith('r')) {
      if (rateReceived === 0) rateFirstReceived = received
      rateReceived++
      rateLastReceived = received
    }
    if (latencies.length >= latencyMessages && rateReceived >= rateMessages) break
  }
  clearTimeout(timer)
  process.send!({type: 'done', latencies, rateFirstReceived, rateLastReceived, rateReceived} satisfies ConsumerReport)
  await stream.close()
  await consumer.close(true)
  process.disconnect()
}

/** The producer process (the parent): the broker, the consumer child, both phases, the JSON. */
async function producerSide(): Promise<void> {
  const deadline = Date.now() + maxSeconds * 1000
  const latencyMessages = Number(values['latency-messages'])
  const latencyRate = Number(values['latency-rate'])
  const rateMessages = Number(values['rate-messages'])
  const size = Number(values.size)
  const topic = values.topic ?? `bench-kafka-only-${Date.now()}`

  let broker: Awaited<ReturnType<typeof import('../../test/support/kafka/index.ts').startKafka>> | undefined
  let connection: Connection
  if (values.bootstrap) {
    const password = values['password-env'] ? process.env[values['password-env']] : undefined
    if (!values.ca || !values.username || !password) throw new Error('--bootstrap needs --ca, --username and --password-env (the name of a variable holding the password)')
    connection = {bootstrapBrokers: [values.bootstrap], tls: {ca: readFileSync(values.ca, 'utf8')}, sasl: {mechanism: 'SCRAM-SHA-512', username: values.username, password}}
    // Topics are not created on first use (auto.create.topics.enable=false, as on MSK).
    if (!values.topic) {
      const admin = new Admin({clientId: 'bench-admin', ...connection})
      try {
        await admin.createTopics({topics: [topic], partitions: 1, replicas: 1})
      } finally {
        await admin.close()
      }
    }
  } else {
    const {startKafka} = await import('../../test/support/kafka/index.ts')
    process.stderr.write('starting a Kafka broker…\n')
    broker = await startKafka()
    await broker.upsertScramUser('bench-user', 'bench-password')
    connection = broker.clientOptions('bench-user', 'bench-password')
    await broker.createTopic(topic, {partitions: 1})
  }

  const child = fork(fileURLToPath(import.meta.url), [
    '--role', 'consumer', '--topic', topic,
    '--latency-messages', String(latencyMessages), '--rate-messages', String(rateMessages), '--max-seconds', String(maxSeconds),
  ], {env: {...process.env, KAFKA_BENCH_CONNECTION: JSON.stringify(connection)}, stdio: ['ignore', 'inherit', 'inherit', 'ipc']})
  const reports: ConsumerReport[] = []
  let wake: (() => void) | undefined
  child.on('message', (report: ConsumerReport) => {
    reports.push(report)
    wake?.()
  })
  const next = async (type: ConsumerReport['type']): Promise<ConsumerReport> => {
    for (;;) {
      const found = reports.find((r) => r.type === type || r.type === 'error')
      if (found) {
        if (found.type === 'error') throw new Error(found.message)
        return found
      }
      if (Date.now() > deadline) throw new Error(`time limit of ${maxSeconds} s reached waiting for the consumer`)
      if (child.exitCode !== null) throw new Error(`the consumer exited with ${child.exitCode}`)
      await new Promise<void>((resolve) => {
        wake = resolve
        setTimeout(resolve, 200)
      })
    }
  }

  const producer = new Producer({clientId: 'bench-producer', ...connection, serializers: stringSerializers, acks: 1})
  const pad = (head: string): string => (head.length >= size ? head : head + ' ' + 'x'.repeat(size - head.length - 1))
  try {
    await next('ready')
    // Warm-up: connections, metadata, JIT, the consumer's first fetch.
    for (let i = 0; i < 200; i++) await producer.send({messages: [{topic, value: pad('w')}]})

    process.stderr.write(`latency: ${latencyMessages} messages at ${latencyRate}/s\n`)
    const interval = 1000 / latencyRate
    const start = now()
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < latencyMessages; i++) {
      const due = start + i * interval
      const wait = due - now()
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait))
      sends.push(producer.send({messages: [{topic, value: pad(`l${now()}`)}]}))
      if (Date.now() > deadline) throw new Error('time limit reached in the latency phase')
    }
    await Promise.all(sends)

    process.stderr.write(`sustained rate: ${rateMessages} messages\n`)
    const batch = 100
    const inFlight = new Set<Promise<unknown>>()
    const rateStart = now()
    for (let sent = 0; sent < rateMessages; sent += batch) {
      const messages = Array.from({length: Math.min(batch, rateMessages - sent)}, () => ({topic, value: pad('r')}))
      const sending = producer.send({messages})
      inFlight.add(sending)
      void sending.finally(() => inFlight.delete(sending))
      if (inFlight.size >= 4) await Promise.race(inFlight)
      if (Date.now() > deadline) throw new Error('time limit reached in the rate phase')
    }
    await Promise.all(inFlight)
    const done = (await next('done')) as Extract<ConsumerReport, {type: 'done'}>
    const sorted = [...done.latencies].sort((a, b) => a - b)
    const percentile = (p: number): number => Number(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)].toFixed(2))
    const seconds = (done.rateLastReceived - rateStart) / 1000
    const result = {
      figure: 'kafka-only',
      transport: 'SASL_SSL SCRAM-SHA-512, loopback',
      client: '@platformatic/kafka, producer and consumer in separate processes',
      broker: broker
        ? {version: broker.version, startupMs: broker.startupMs, rssMB: Math.round(broker.rssBytes() / 1e6)}
        : {bootstrap: connection.bootstrapBrokers[0]},
      messageBytes: size,
      latency: {messages: sorted.length, sentPerSecond: latencyRate, p50Ms: percentile(50), p99Ms: percentile(99), maxMs: Number(sorted.at(-1)!.toFixed(2))},
      sustained: {messages: done.rateReceived, seconds: Number(seconds.toFixed(3)), messagesPerSecond: Math.round(done.rateReceived / seconds)},
    }
    process.stdout.write(JSON.stringify(result, null, 2) + '\n')
  } finally {
    await producer.close()
    if (child.exitCode === null) {
      child.kill('SIGTERM')
      await once(child, 'exit')
    }
    await broker?.stop()
  }
}
