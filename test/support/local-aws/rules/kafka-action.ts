// The Apache Kafka rule action's producer side: the action's clientProperties
// (IoT developer guide, Apache Kafka rule action, Parameters) turned into a
// @platformatic/kafka producer, one per distinct client configuration, kept
// until the engine is reset. Broker names are the MSK-shaped ones the rule
// holds, mapped to the local broker by the stand-in's resolveBroker.
import {readFileSync} from 'node:fs'
import {Producer, stringSerializers} from '@platformatic/kafka'

export interface KafkaAccess {
  /** 'b-1.<cluster>…amazonaws.com:9096' → 'localhost:<port>', or undefined when no broker stands behind that name. */
  resolveBroker(hostPort: string): string | undefined
  /** PEM file of the CA that signed the broker's certificate. */
  caFile?: string
}

export interface KafkaClientConfig {
  brokers: string[]
  securityProtocol: 'SSL' | 'SASL_SSL'
  mechanism?: 'SCRAM-SHA-512' | 'PLAIN'
  username?: string
  password?: string
  acks: number
}

export interface KafkaRecord {
  topic: string
  value: Buffer
  key?: string
  partition?: number
  headers?: Record<string, string>
}

/** A failure worded the way the Java producer behind the AWS action words it (what the error action reports). */
export class KafkaActionError extends Error {}

/** Reads the action's clientProperties (after substitution); throws KafkaActionError for what IoT would refuse to connect with. */
export function clientConfig(properties: Record<string, string>, kafka: KafkaAccess): KafkaClientConfig {
  const servers = (properties['bootstrap.servers'] ?? '').split(',').map((s) => s.trim()).filter(Boolean)
  if (!servers.length) throw new KafkaActionError('Invalid Kafka client properties: bootstrap.servers is missing')
  const brokers = servers.map((server) => {
    const local = kafka.resolveBroker(server)
    if (!local) throw new KafkaActionError(`org.apache.kafka.common.errors.TimeoutException: Failed to connect to bootstrap server ${server}: no broker reachable at that address`)
    return local
  })
  const protocol = properties['security.protocol'] ?? 'SSL'
  if (protocol !== 'SSL' && protocol !== 'SASL_SSL') throw new KafkaActionError(`Invalid Kafka client properties: security.protocol must be SSL or SASL_SSL, not ${protocol}`)
  const acksText = properties.acks ?? '1'
  const acks = acksText === 'all' ? -1 : Number(acksText)
  if (![-1, 0, 1].includes(acks)) throw new KafkaActionError(`Invalid Kafka client properties: acks must be -1, 0, 1 or all, not ${acksText}`)
  if (protocol === 'SSL') return {brokers, securityProtocol: 'SSL', acks}
  const mechanism = properties['sasl.mechanism']
  if (mechanism === 'SCRAM-SHA-512') {
    return {brokers, securityProtocol: 'SASL_SSL', mechanism, username: properties['sasl.scram.username'], password: properties['sasl.scram.password'], acks}
  }
  if (mechanism === 'PLAIN') {
    return {brokers, securityProtocol: 'SASL_SSL', mechanism, username: properties['sasl.plain.username'], password: properties['sasl.plain.password'], acks}
  }
  throw new KafkaActionError(`Invalid Kafka client properties: sasl.mechanism ${mechanism ?? '(missing)'} is not supported by the local broker (SCRAM-SHA-512)`)
}

type StringProducer = Producer<string, Buffer, string, string>

export class KafkaProducers {
  readonly #producers = new Map<string, StringProducer>()
  readonly #kafka: () => KafkaAccess | undefined

  constructor(kafka: () => KafkaAccess | undefined) {
    this.#kafka = kafka
  }

  async send(config: KafkaClientConfig, record: KafkaRecord): Promise<void> {
    const key = JSON.stringify(config)
    let producer = this.#producers.get(key)
    if (!producer) {
      const caFile = this.#kafka()?.caFile
      producer = new Producer({
        clientId: 'aws-iot-rules-engine',
        bootstrapBrokers: config.brokers,
        tls: {ca: caFile ? readFileSync(caFile) : undefined, servername: 'localhost'},
        ...(config.mechanism ? {sasl: {mechanism: config.mechanism, username: config.username ?? '', password: config.password ?? ''}} : {}),
        serializers: {...stringSerializers, value: (v?: Buffer) => v},
        // MSK's default auto.create.topics.enable=false: a missing topic fails the action.
        autocreateTopics: false,
        connectTimeout: 5000,
        timeout: 5000,
        retries: 1,
        retryDelay: 200,
      })
      this.#producers.set(key, producer)
    }
    try {
      await producer.send({
        acks: config.acks,
        messages: [{topic: record.topic, key: record.key, value: record.value, partition: record.partition, headers: record.headers}],
      })
    } catch (error) {
      // A producer that failed to authenticate or connect is not reused: the next message retries from scratch.
      this.#producers.delete(key)
      producer.close().catch(() => undefined)
      throw new KafkaActionError(describeKafkaError(error as Error, record.topic, config))
    }
  }

  async closeAll(): Promise<void> {
    const producers = [...this.#producers.values()]
    this.#producers.clear()
    await Promise.allSettled(producers.map((p) => p.close()))
  }
}

/** Every message of an error and of its causes, flattened (platformatic wraps errors in MultipleErrors). */
function messages(error: unknown, seen = new Set<unknown>()): string[] {
  if (!error || typeof error !== 'object' || seen.has(error)) return []
  seen.add(error)
  const e = error as {message?: string; errors?: unknown[]; cause?: unknown; code?: string; apiCode?: number}
  return [`${e.code ?? ''} ${e.message ?? ''}`, ...(e.errors ?? []).flatMap((x) => messages(x, seen)), ...messages(e.cause, seen)]
}

/** The Java client's wording of the failures a user meets, so the error action names the cause. */
export function describeKafkaError(error: Error, topic: string, config: KafkaClientConfig): string {
  const text = messages(error).join(' | ')
  // An ACL refusal (a locked-down cluster: allow.everyone.if.no.acl.found=false) is authorization, not authentication.
  if (/TOPIC_AUTHORIZATION_FAILED|Topic authorization failed/i.test(text)) return `org.apache.kafka.common.errors.TopicAuthorizationException: Not authorized to access topics: [${topic}]`
  if (/CLUSTER_AUTHORIZATION_FAILED|Cluster authorization failed/i.test(text)) return 'org.apache.kafka.common.errors.ClusterAuthorizationException: Cluster authorization failed.'
  if (/TRANSACTIONAL_ID_AUTHORIZATION_FAILED|Transactional Id authorization failed/i.test(text)) return 'org.apache.kafka.common.errors.TransactionalIdAuthorizationException: Transactional Id authorization failed.'
  if (/auth|sasl|scram|credential/i.test(text)) {
    return `org.apache.kafka.common.errors.SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism ${config.mechanism ?? 'SCRAM-SHA-512'}`
  }
  if (/UNKNOWN_TOPIC_OR_PARTITION|unknown topic|does not host this topic|topic.*not.*(exist|found)/i.test(text)) {
    return `org.apache.kafka.common.errors.TimeoutException: Topic ${topic} not present in metadata after 5000 ms.`
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|connect|network|socket/i.test(text)) {
    return `org.apache.kafka.common.errors.TimeoutException: Failed to update metadata: no broker of ${config.brokers.join(',')} is reachable (${text.trim().slice(0, 300)})`
  }
  return `org.apache.kafka.common.KafkaException: ${text.trim().slice(0, 500)}`
}
