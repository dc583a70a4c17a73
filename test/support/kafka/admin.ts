// The broker's administration as its super user, over the SASL_SSL listener with
// @platformatic/kafka: topics through its Admin client; SCRAM users through the
// AlterUserScramCredentials API (KIP-554), which the client speaks but its Admin
// does not wrap, sent on a connection of our own with the credential salted here.
import {pbkdf2, randomBytes} from 'node:crypto'
import {promisify} from 'node:util'
import {AclOperations, AclPermissionTypes, Admin, AuthenticationError, Connection, ConfigResourceTypes, ConfigSources, ResourcePatternTypes, ResourceTypes, alterUserScramCredentialsV0, findErrorBy, type Acl} from '@platformatic/kafka'

const derive = promisify(pbkdf2)

export interface TopicSettings {
  /** Default 1. */
  partitions?: number
  /** Default 1 (one broker). */
  replicationFactor?: number
  /** Topic configuration (e.g. `{'retention.ms': '60000'}`). */
  configs?: Record<string, string>
}

export interface TopicDescription {
  name: string
  id: string
  partitions: number
  replicationFactor: number
  /** Broker ids holding replicas of the topic's partitions. */
  replicaIds: number[]
  /** Replicas not in their partition's in-sync set. */
  outOfSyncReplicas: number
  /** The topic's own settings (set at creation or since), not the broker defaults. */
  configs: Record<string, string>
}

/** A refusal from the broker, named by Kafka's error id (TOPIC_ALREADY_EXISTS, UNKNOWN_TOPIC_OR_PARTITION, …). */
export class KafkaTopicError extends Error {
  readonly kafkaError: string
  constructor(kafkaError: string, message: string) {
    super(message)
    this.kafkaError = kafkaError
  }
}

// KIP-554: mechanism 2 is SCRAM-SHA-512; Kafka refuses fewer than 4096 iterations.
const SCRAM_SHA_512 = 2
const ITERATIONS = 4096

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export class KafkaAdmin {
  readonly #host: string
  readonly #port: number
  readonly #ca: string
  readonly #user: {username: string; password: string}
  readonly #admin: Admin
  /** Passwords this admin set, to tell when a deletion has reached the broker. */
  readonly #passwords = new Map<string, string>()

  constructor(bootstrap: string, ca: string, user: {username: string; password: string}) {
    const [host, port] = bootstrap.split(':') as [string, string]
    this.#host = host
    this.#port = Number(port)
    this.#ca = ca
    this.#user = user
    this.#admin = new Admin({
      clientId: 'iotctl-local-kafka-admin',
      bootstrapBrokers: [bootstrap],
      tls: {ca},
      sasl: {mechanism: 'SCRAM-SHA-512', username: user.username, password: user.password},
      retries: 3,
      retryDelay: 100,
    })
  }

  /** Resolves once the broker answers an authenticated metadata request. */
  async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      try {
        await this.#admin.listTopics()
        return
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the broker did not answer as ${this.#user.username}: ${(error as Error).message}`, {cause: error})
        await sleep(100)
      }
    }
  }

  async #withConnection<T>(username: string, password: string, work: (connection: Connection) => Promise<T>): Promise<T> {
    const connection = new Connection('iotctl-local-kafka-admin', {
      tls: {ca: this.#ca},
      sasl: {mechanism: 'SCRAM-SHA-512', username, password},
      connectTimeout: 5000,
      requestTimeout: 10_000,
    })
    try {
      await connection.connect(this.#host, this.#port)
      return await work(connection)
    } finally {
      await connection.close().catch(() => undefined)
    }
  }

  async canAuthenticate(username: string, password: string): Promise<boolean> {
    try {
      await this.#withConnection(username, password, async () => undefined)
      return true
    } catch (error) {
      if (isAuthenticationFailure(error)) return false
      throw error
    }
  }

  async #alter(deletions: {name: string; mechanism: number}[], upsertions: {name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer}[]): Promise<void> {
    await this.#withConnection(this.#user.username, this.#user.password, async (connection) => {
      try {
        await alterUserScramCredentialsV0.api.async(connection, deletions, upsertions)
      } catch (error) {
        // Deleting a user that has no credential is not an error here.
        if (deletions.length > 0 && findErrorBy(error as Error, 'apiId', 'RESOURCE_NOT_FOUND')) return
        throw error
      }
    })
  }

  async upsertScramUser(username: string, password: string): Promise<void> {
    const salt = randomBytes(32)
    // RFC 5802 Hi(): PBKDF2 with HMAC-SHA-512, one block of 64 bytes.
    const saltedPassword = await derive(password.normalize('NFKC'), salt, ITERATIONS, 64, 'sha512')
    await this.#alter([], [{name: username, mechanism: SCRAM_SHA_512, iterations: ITERATIONS, salt, saltedPassword}])
    this.#passwords.set(username, password)
    // The controller commits the record; the broker applies it from the metadata log a moment later.
    await this.#until(() => this.canAuthenticate(username, password), `SCRAM user ${username} was not accepted by the broker`)
  }

  async deleteScramUser(username: string): Promise<void> {
    await this.#alter([{name: username, mechanism: SCRAM_SHA_512}], [])
    const password = this.#passwords.get(username)
    this.#passwords.delete(username)
    if (password !== undefined) {
      await this.#until(async () => !(await this.canAuthenticate(username, password)), `SCRAM user ${username} was still accepted by the broker`)
    }
  }

  async #until(check: () => Promise<boolean>, failure: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(failure)
      await sleep(20)
    }
  }

  async createTopic(name: string, settings: TopicSettings = {}): Promise<void> {
    const partitions = settings.partitions ?? 1
    try {
      await this.#admin.createTopics({
        topics: [name],
        partitions,
        replicas: settings.replicationFactor ?? 1,
        configs: Object.entries(settings.configs ?? {}).map(([configName, value]) => ({name: configName, value})),
      })
    } catch (error) {
      throw topicError(error, name)
    }
    // Leaders are elected just after the controller commits the topic: wait, so that
    // a producer right after this call is not told LEADER_NOT_AVAILABLE.
    await this.#until(async () => {
      const described = await this.describeTopic(name).catch(() => undefined)
      return described?.partitions === partitions
    }, `topic ${name} has no leader yet`)
  }

  async deleteTopic(name: string): Promise<void> {
    try {
      await this.#admin.deleteTopics({topics: [name]})
    } catch (error) {
      throw topicError(error, name)
    }
    // The broker's metadata follows the controller a moment later.
    await this.#until(async () => !(await this.listTopics()).includes(name), `topic ${name} is still listed`)
  }

  async listTopics(): Promise<string[]> {
    return (await this.#admin.listTopics({includeInternals: false})).sort()
  }

  async describeTopic(name: string): Promise<TopicDescription | undefined> {
    let topic
    try {
      const metadata = await this.#admin.metadata({topics: [name], forceUpdate: true})
      topic = metadata.topics.get(name)
    } catch (error) {
      // The client answers a topic the broker does not know with its own UserError.
      if (findErrorBy(error as Error, 'apiId', 'UNKNOWN_TOPIC_OR_PARTITION') || (error as Error).message.startsWith('Unknown topic ')) return undefined
      throw error
    }
    if (!topic) return undefined
    const partitions = topic.partitions.filter(Boolean)
    if (partitions.some((p) => p.leader < 0)) return undefined
    const [description] = await this.#admin.describeConfigs({resources: [{resourceType: ConfigResourceTypes.TOPIC, resourceName: name}]})
    const configs: Record<string, string> = {}
    for (const config of description?.configs ?? []) {
      if (config.configSource === ConfigSources.DYNAMIC_TOPIC_CONFIG && typeof config.value === 'string') configs[config.name] = config.value
    }
    return {
      name,
      id: topic.id,
      partitions: topic.partitionsCount,
      replicationFactor: partitions[0]?.replicas.length ?? 0,
      replicaIds: [...new Set(partitions.flatMap((p) => p.replicas))].sort((a, b) => a - b),
      outOfSyncReplicas: partitions.reduce((n, p) => n + p.replicas.filter((r) => !p.isr.includes(r)).length, 0),
      configs,
    }
  }

  /**
   * allow.everyone.if.no.acl.found=false on a running broker. Kafka reads that
   * setting only at start-up (it is not a dynamic broker config), and the one
   * broker serves every local cluster, so the same rule is had with ACLs: an
   * ALLOW for the super user on every resource (literal `*`) of each type means
   * every resource has an ACL, so "no ACL found" never applies and only super
   * users and the principals an ACL names get through — StandardAuthorizer's
   * rule for a resource with ACLs (KAFKA-14435 fixed it for Kafka 3.4+).
   * `true` removes those ACLs again.
   */
  async setAllowEveryoneIfNoAclFound(allow: boolean): Promise<void> {
    const acls = this.#lockAcls()
    if (allow) await this.#admin.deleteAcls({filters: acls})
    else await this.#admin.createAcls({creations: acls})
    // The broker's authorizer follows the controller's metadata a moment later.
    await this.#until(async () => this.#lockAclsInForce().then((inForce) => inForce === !allow), 'the broker\'s ACLs did not follow')
  }

  /** Whether the broker denies by default (the lock-down ACLs are in place). */
  async deniesWithoutAcl(): Promise<boolean> {
    return this.#lockAclsInForce()
  }

  async #lockAclsInForce(): Promise<boolean> {
    const found = await this.#admin.describeAcls({filter: {...this.#lockAcls()[0], host: null}})
    return found.length > 0
  }

  #lockAcls(): Acl[] {
    return [ResourceTypes.TOPIC, ResourceTypes.GROUP, ResourceTypes.TRANSACTIONAL_ID, ResourceTypes.DELEGATION_TOKEN, ResourceTypes.CLUSTER].map((resourceType) => ({
      resourceType,
      resourceName: resourceType === ResourceTypes.CLUSTER ? 'kafka-cluster' : '*',
      resourcePatternType: ResourcePatternTypes.LITERAL,
      principal: `User:${this.#user.username}`,
      host: '*',
      operation: AclOperations.ALL,
      permissionType: AclPermissionTypes.ALLOW,
    }))
  }

  async close(): Promise<void> {
    await this.#admin.close().catch(() => undefined)
  }
}

/** The client wraps a refused login in a NetworkError whose cause is an AuthenticationError. */
function isAuthenticationFailure(error: unknown): boolean {
  for (let e = error as (Error & {cause?: unknown}) | undefined; e; e = e.cause as typeof e) {
    if (e instanceof AuthenticationError || findErrorBy(e, 'apiId', 'SASL_AUTHENTICATION_FAILED')) return true
  }
  return false
}

function topicError(error: unknown, topic: string): Error {
  for (const id of ['TOPIC_ALREADY_EXISTS', 'UNKNOWN_TOPIC_OR_PARTITION', 'INVALID_TOPIC_EXCEPTION', 'INVALID_PARTITIONS', 'INVALID_REPLICATION_FACTOR', 'INVALID_CONFIG', 'POLICY_VIOLATION']) {
    const found = findErrorBy(error as Error, 'apiId', id)
    if (found) return new KafkaTopicError(id, `${topic}: ${found.serverErrorMessage ?? found.message}`)
  }
  return error as Error
}
