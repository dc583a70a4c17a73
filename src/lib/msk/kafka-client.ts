// Reading a Kafka topic of the stack's cluster over SASL/SCRAM-SHA-512 and TLS
// (MSK's port 9096 listener), for `msk consume` and `doctor --probe`.
//
// The client is @platformatic/kafka, not kafkajs: kafkajs has had no release
// since early 2023 and its maintainers have stepped back, while
// @platformatic/kafka is maintained, supports Kafka 3.5–4.x, and is pure
// JavaScript — no native build, so `npx iotctl` keeps working everywhere
// (node-rdkafka and confluent-kafka-javascript need librdkafka compiled).
import {randomBytes} from 'node:crypto'
import type {Admin, Consumer, MessagesStream} from '@platformatic/kafka'
import {CheckFailed, InputError} from '../errors.ts'
import {readCaBundle} from '../mqtt/connection.ts'
import type {ScramCredentials} from '../secrets/credentials.ts'

export interface Broker {
  host: string
  port: number
}

/** `host:port[,host:port…]` (--bootstrap-server, or GetBootstrapBrokers' string); InputError (exit 2) naming the bad entry. */
export function parseBootstrapServers(text: string, flag = '--bootstrap-server'): Broker[] {
  const entries = text.split(',').map((e) => e.trim())
  if (entries.length === 0 || entries.every((e) => e === '')) throw new InputError(`${flag} is empty: give host:port[,host:port…]`)
  return entries.map((entry) => {
    const match = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry)
    const port = Number(match?.[2])
    if (!match || port < 1 || port > 65535) throw new InputError(`${flag} '${entry}': expected host:port (e.g. b-1.mycluster.abc123.c2.kafka.us-east-1.amazonaws.com:9096)`)
    return {host: match[1].replace(/^\[|\]$/g, ''), port}
  })
}

export function brokersLabel(brokers: Broker[]): string {
  return brokers.map((b) => `${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`).join(',')
}

export interface KafkaConnection {
  brokers: Broker[]
  credentials: ScramCredentials
  /** CA bundle file: --ca, else AWS_CA_BUNDLE, else undefined (Node's store, which trusts MSK's Amazon certificates). */
  caFile?: string
  /** Seconds to wait for a broker connection or answer. */
  connectTimeoutSeconds?: number
}

/** One message as iotctl prints it: --json writes exactly this object per line. */
export interface KafkaMessage {
  topic: string
  partition: number
  offset: string
  /** The record's timestamp (CreateTime, set by the producer), ISO 8601. */
  timestamp: string
  key: string | null
  value: string | null
}

type RawConsumer = Consumer<Buffer, Buffer, Buffer, Buffer>

let loggersQuieted = false

/**
 * @platformatic/kafka logs every request and answer under DEBUG=plt:kafka:*
 * (and so under DEBUG=*), SCRAM exchanges included: those loggers stay off,
 * so no debug output carries a SCRAM proof or nonce.
 */
async function loadClient(): Promise<typeof import('@platformatic/kafka')> {
  const kafka = await import('@platformatic/kafka')
  if (!loggersQuieted) {
    for (const logger of Object.values(kafka.loggers)) logger.enabled = false
    loggersQuieted = true
  }
  return kafka
}

function describeKafkaError(error: unknown): string {
  const e = error as {message?: string; errors?: unknown[]; cause?: unknown}
  const inner = [...(e.errors ?? []), ...(e.cause ? [e.cause] : [])].map((x) => (x as Error).message).filter(Boolean)
  return [e.message, ...new Set(inner)].filter(Boolean).join(': ')
}

function hasProtocolError(error: unknown, id: string): boolean {
  const seen = new Set<unknown>()
  const visit = (e: unknown): boolean => {
    if (!e || typeof e !== 'object' || seen.has(e)) return false
    seen.add(e)
    const value = e as {apiId?: string; errors?: unknown[]; cause?: unknown}
    return value.apiId === id || (value.errors ?? []).some(visit) || visit(value.cause)
  }
  return visit(error)
}

/**
 * A reader of one topic from a fixed starting point (its end when opened, or
 * its beginning), so that nothing produced after `open` returns is missed:
 * `doctor --probe` publishes only once the reader is positioned.
 */
export class TopicReader {
  readonly topic: string
  readonly brokers: string
  readonly #consumer: RawConsumer
  readonly #stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>
  readonly #queue: KafkaMessage[] = []
  #wake: (() => void) | undefined
  #failure: Error | undefined

  private constructor(topic: string, brokers: string, consumer: RawConsumer, stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>) {
    this.topic = topic
    this.brokers = brokers
    this.#consumer = consumer
    this.#stream = stream
    stream.on('data', (message) => {
      this.#queue.push({
        topic: message.topic,
        partition: message.partition,
        offset: message.offset.toString(),
        timestamp: new Date(Number(message.timestamp)).toISOString(),
        key: message.key && message.key.length > 0 ? message.key.toString('utf8') : null,
        value: message.value ? message.value.toString('utf8') : null,
      })
      this.#wake?.()
    })
    stream.on('error', (error: Error) => {
      this.#failure = new CheckFailed(`reading Kafka topic ${topic} from ${brokers}: ${describeKafkaError(error)}`)
      this.#wake?.()
    })
  }

  /** Connects, checks the topic exists (CheckFailed naming it otherwise), and positions at its end or beginning. */
  static async open(connection: KafkaConnection, topic: string, options: {fromBeginning: boolean}): Promise<TopicReader> {
    const ca = await readCaBundle(connection.caFile)
    const label = brokersLabel(connection.brokers)
    const {Consumer} = await loadClient()
    const consumer: RawConsumer = new Consumer({
      ...clientOptions(connection, ca),
      // A group of its own: iotctl reads, it never takes partitions from the users' consumers.
      groupId: `iotctl-consume-${randomBytes(6).toString('hex')}`,
      autocommit: false,
      autocreateTopics: false,
      maxWaitTime: 500,
    })
    try {
      await consumer.metadata({topics: [topic], autocreateTopics: false})
    } catch (error) {
      await consumer.close(true).catch(() => {})
      if (hasProtocolError(error, 'UNKNOWN_TOPIC_OR_PARTITION') || ((error as Error).message ?? '').startsWith('Unknown topic ')) throw new CheckFailed(`Kafka topic '${topic}' does not exist on ${label}`)
      if (hasProtocolError(error, 'SASL_AUTHENTICATION_FAILED') || /authenticat/i.test(describeKafkaError(error))) {
        throw new CheckFailed(`Kafka at ${label} refused the SCRAM credentials of user '${connection.credentials.username}': ${describeKafkaError(error)}`)
      }
      throw new CheckFailed(`connecting to Kafka at ${label}: ${describeKafkaError(error)}`)
    }
    try {
      const offsets = await consumer.listOffsets({topics: [topic], timestamp: options.fromBeginning ? -2n : -1n})
      const starts = (offsets.get(topic) ?? []).map((offset, partition) => ({topic, partition, offset}))
      const stream = await consumer.consume({topics: [topic], mode: 'manual', offsets: starts, autocommit: false, maxWaitTime: 500, sessionTimeout: 10_000, heartbeatInterval: 1000})
      return new TopicReader(topic, label, consumer, stream)
    } catch (error) {
      await consumer.close(true).catch(() => {})
      throw new CheckFailed(`reading Kafka topic ${topic} from ${label}: ${describeKafkaError(error)}`)
    }
  }

  /**
   * Waits for the next message that `accept` takes (all, by default) until
   * `deadline` (epoch ms) or `signal`; undefined when time ran out or it was stopped.
   */
  async next(options: {deadline?: number; signal?: AbortSignal; accept?: (message: KafkaMessage) => boolean} = {}): Promise<KafkaMessage | undefined> {
    for (;;) {
      if (this.#failure) throw this.#failure
      while (this.#queue.length > 0) {
        const message = this.#queue.shift()!
        if (!options.accept || options.accept(message)) return message
      }
      if (options.signal?.aborted) return undefined
      const left = options.deadline === undefined ? undefined : options.deadline - Date.now()
      if (left !== undefined && left <= 0) return undefined
      await new Promise<void>((resolve) => {
        // Whatever comes first (a message, the deadline, the signal) ends the wait and clears the others.
        const done = () => {
          if (timer) clearTimeout(timer)
          options.signal?.removeEventListener('abort', done)
          this.#wake = undefined
          resolve()
        }
        const timer = left === undefined ? undefined : setTimeout(done, left)
        options.signal?.addEventListener('abort', done, {once: true})
        this.#wake = done
      })
    }
  }

  async close(): Promise<void> {
    await this.#stream.close().catch(() => {})
    await this.#consumer.close(true).catch(() => {})
  }
}

export interface ConsumeRequest {
  connection: KafkaConnection
  topic: string
  fromBeginning: boolean
  /** Stop after this many messages. */
  count?: number
  timeoutSeconds?: number
  signal?: AbortSignal
  onMessage(message: KafkaMessage): void
}

export interface ConsumeOutcome {
  topic: string
  brokers: string
  received: number
  stoppedBy: 'count' | 'timeout' | 'signal'
}

/** Reads until `count` messages, the timeout, or the signal. */
export async function consumeTopic(request: ConsumeRequest): Promise<ConsumeOutcome> {
  const reader = await TopicReader.open(request.connection, request.topic, {fromBeginning: request.fromBeginning})
  const deadline = request.timeoutSeconds === undefined ? undefined : Date.now() + request.timeoutSeconds * 1000
  let received = 0
  let stoppedBy: ConsumeOutcome['stoppedBy'] = 'count'
  try {
    while (request.count === undefined || received < request.count) {
      const message = await reader.next({deadline, signal: request.signal})
      if (!message) {
        stoppedBy = request.signal?.aborted ? 'signal' : 'timeout'
        break
      }
      received++
      request.onMessage(message)
    }
  } finally {
    await reader.close()
  }
  return {topic: request.topic, brokers: reader.brokers, received, stoppedBy}
}

/** What every client of a connection shares: the user over SASL/SCRAM-SHA-512 and TLS, timeouts and retries. */
function clientOptions(connection: KafkaConnection, ca: string | undefined) {
  const timeout = (connection.connectTimeoutSeconds ?? 15) * 1000
  const credentials = connection.credentials
  return {
    clientId: `iotctl-${randomBytes(4).toString('hex')}`,
    bootstrapBrokers: connection.brokers,
    // The password stays in ScramCredentials' private field until the SCRAM exchange asks for it.
    sasl: {mechanism: 'SCRAM-SHA-512' as const, username: credentials.username, password: () => credentials.revealPassword()},
    tls: {...(ca ? {ca} : {})},
    tlsServerName: true,
    connectTimeout: timeout,
    timeout,
    retries: 2,
  }
}

/** An admin client as the connection's user (the ACL calls of `msk acl` and doctor); close() when done. */
export async function openAdmin(connection: KafkaConnection): Promise<{admin: Admin; brokers: string; close: () => Promise<void>}> {
  const ca = await readCaBundle(connection.caFile)
  const {Admin} = await loadClient()
  const admin = new Admin(clientOptions(connection, ca))
  return {admin, brokers: brokersLabel(connection.brokers), close: () => admin.close().catch(() => {})}
}

/** What the connection's user may do on a topic, as the broker's authorizer answers for that user. */
export type TopicAuthorization =
  | {state: 'authorized'; operations: string[]}
  /** Not even Describe: the broker answers TOPIC_AUTHORIZATION_FAILED. */
  | {state: 'denied'}
  | {state: 'missing'}

// AclOperation codes (Kafka protocol), the bit positions of topicAuthorizedOperations (KIP-430).
const topicOperations: [number, string][] = [[3, 'Read'], [4, 'Write'], [5, 'Create'], [6, 'Delete'], [7, 'Alter'], [8, 'Describe'], [10, 'DescribeConfigs'], [11, 'AlterConfigs']]

/** One connection (not yet connected) to the first broker as the connection's SCRAM user: for single requests outside a client. */
async function brokerConnection(connection: KafkaConnection) {
  const ca = await readCaBundle(connection.caFile)
  const {Connection} = await loadClient()
  const timeout = (connection.connectTimeoutSeconds ?? 15) * 1000
  const credentials = connection.credentials
  const client = new Connection(`iotctl-${randomBytes(4).toString('hex')}`, {
    tls: {...(ca ? {ca} : {})},
    tlsServerName: true,
    sasl: {mechanism: 'SCRAM-SHA-512', username: credentials.username, password: () => credentials.revealPassword()},
    connectTimeout: timeout,
    requestTimeout: timeout,
  })
  return {client, broker: connection.brokers[0], credentials}
}

/**
 * Asks the brokers, as the connection's user, which operations it may perform on
 * the topic: a Metadata request with includeTopicAuthorizedOperations (KIP-430),
 * so no ACL administration right is needed to know.
 */
export async function topicAuthorization(connection: KafkaConnection, topic: string): Promise<TopicAuthorization> {
  const {metadataV12} = await loadClient()
  const {client, broker, credentials} = await brokerConnection(connection)
  try {
    await client.connect(broker.host, broker.port)
    let answer
    try {
      answer = await metadataV12.api.async(client, [{name: topic}], false, true)
    } catch (error) {
      if (hasProtocolError(error, 'TOPIC_AUTHORIZATION_FAILED')) return {state: 'denied'}
      if (hasProtocolError(error, 'UNKNOWN_TOPIC_OR_PARTITION')) return {state: 'missing'}
      throw new CheckFailed(`asking ${brokersLabel(connection.brokers)} what user '${credentials.username}' may do on topic ${topic}: ${describeKafkaError(error)}`)
    }
    const bits = answer.topics.find((t) => t.name === topic)?.topicAuthorizedOperations ?? 0
    return {state: 'authorized', operations: topicOperations.filter(([bit]) => (bits & (1 << bit)) !== 0).map(([, name]) => name)}
  } catch (error) {
    if (error instanceof CheckFailed) throw error
    throw new CheckFailed(`connecting to Kafka at ${brokersLabel(connection.brokers)}: ${describeKafkaError(error)}`)
  } finally {
    await client.close().catch(() => {})
  }
}

/** What the brokers answer a SCRAM sign-in with the connection's user. */
export type ScramLoginState = 'accepted' | 'refused' | 'unreachable'

/**
 * Signs in to the first broker as the connection's user (a connection and its SASL
 * exchange, nothing else): `refused` when the broker does not know the user or its
 * password yet, `unreachable` when no connection could be made at all.
 */
export async function scramLogin(connection: KafkaConnection): Promise<ScramLoginState> {
  const {client, broker} = await brokerConnection(connection)
  try {
    await client.connect(broker.host, broker.port)
    return 'accepted'
  } catch (error) {
    return hasProtocolError(error, 'SASL_AUTHENTICATION_FAILED') || /auth/i.test(describeKafkaError(error)) ? 'refused' : 'unreachable'
  } finally {
    await client.close().catch(() => {})
  }
}

/** Produces one record (a JSON event) to a topic as the connection's user; CheckFailed naming the topic when the brokers refuse it. */
export async function produceRecord(connection: KafkaConnection, topic: string, key: string, value: string): Promise<void> {
  const ca = await readCaBundle(connection.caFile)
  const {Producer, stringSerializers} = await loadClient()
  const producer = new Producer({...clientOptions(connection, ca), serializers: stringSerializers, autocreateTopics: false})
  try {
    await producer.send({messages: [{topic, key, value}]})
  } catch (error) {
    throw new CheckFailed(`producing to Kafka topic ${topic} on ${brokersLabel(connection.brokers)} as user '${connection.credentials.username}': ${describeKafkaError(error)}`)
  } finally {
    await producer.close().catch(() => {})
  }
}
