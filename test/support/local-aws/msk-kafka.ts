// The link between the emulated MSK and the one real Kafka broker of
// test/support/kafka (when startLocalAws({kafka: true}) started it):
// - SCRAM users follow BatchAssociateScramSecret / BatchDisassociateScramSecret:
//   the user and password are the associated secret's current value
//   ({"username", "password"}, MSK developer guide, "Sign-in credentials
//   authentication with AWS Secrets Manager"); a changed value reaches the broker
//   after `scramPropagationDelayMs`.
// - MSK's topic operations (CreateTopic, DescribeTopic, ListTopics, DeleteTopic)
//   act on the broker. Every local cluster is backed by that one broker, so topics
//   are per broker by name: two clusters see the same topics.
// - resolveBroker() maps MSK broker names (b-N.<cluster>.<id>.c2.kafka.<region>.amazonaws.com:<port>)
//   to localhost:<port of the broker>.
import {AwsServiceError, jsonReply} from './aws-errors.ts'
import {relay, type CallContext, type Handler} from './context.ts'
import type {MotoClient} from './moto-client.ts'
import type {LocalKafka, TopicDescription} from '../kafka/index.ts'

export interface MskKafkaSettings {
  /** How long a changed value of an associated SCRAM secret takes to reach the broker (MSK: minutes). Default 0. */
  scramPropagationDelayMs: number
}

/** What the topic operations need to know of a cluster (MskStandIn's view of moto's). */
export interface TopicCluster {
  clusterArn: string
  clusterName: string
  state: string
  numberOfBrokerNodes: number
  kafkaVersion?: string
  clusterType?: string
}

interface Association {
  account: string
  region: string
  clusterArn: string
  secretArn: string
  /** The credential last given to the broker for this association. */
  username?: string
  password?: string
}

const MSK_BROKER = /^b-\d+\.[a-z0-9-]+\.[a-z0-9]+\.c\d+\.kafka\.[a-z0-9-]+\.amazonaws\.com(?::\d+)?$/i

// Kafka's legal topic names (Topic.java): at most 249 of [a-zA-Z0-9._-], not "." or "..".
const LEGAL_TOPIC = /^[a-zA-Z0-9._-]{1,249}$/

const badRequest = (message: string, parameter?: string): AwsServiceError =>
  new AwsServiceError('BadRequestException', 400, message, parameter ? {invalidParameter: parameter} : {})

export class MskKafkaLink {
  readonly settings: MskKafkaSettings
  #kafka: LocalKafka | undefined
  /** By `<clusterArn> <secretArn>`. */
  readonly #associations = new Map<string, Association>()
  /** Requested replication factors by topic name: the one broker holds a single replica. */
  readonly #replicationFactors = new Map<string, number>()
  readonly #timers = new Set<NodeJS.Timeout>()
  /** Users given to the broker and not removed since (kept across reset(), for clear()). */
  readonly #users = new Set<string>()
  /** Clusters whose MSK configuration says allow.everyone.if.no.acl.found=false: while any exists, the broker denies by default. */
  readonly #lockedClusters = new Set<string>()
  /** Broker changes one after the other, in the order they were asked for. */
  #queue: Promise<void> = Promise.resolve()

  constructor(settings: MskKafkaSettings) {
    this.settings = settings
  }

  attach(kafka: LocalKafka | undefined): void {
    this.#kafka = kafka
  }

  get kafka(): LocalKafka | undefined {
    return this.#kafka
  }

  /** An MSK broker name (host:port) → the local broker's `localhost:<port>`; anything else unchanged. */
  resolveBroker(hostPort: string): string {
    if (!this.#kafka || !MSK_BROKER.test(hostPort.trim())) return hostPort
    return this.#kafka.bootstrap
  }

  /** Forgets associations and pending changes (the stand-in's reset); clear() also empties the broker. */
  reset(): void {
    const kafka = this.#kafka
    if (this.#lockedClusters.size > 0 && kafka) {
      this.#serially(() => kafka.setAllowEveryoneIfNoAclFound(true)).catch((error: Error) => process.stderr.write(`local-aws: opening the Kafka broker again failed: ${error.message}\n`))
    }
    this.#lockedClusters.clear()
    for (const timer of this.#timers) clearTimeout(timer)
    this.#timers.clear()
    this.#associations.clear()
    this.#replicationFactors.clear()
  }

  /** Removes every topic and every SCRAM user the link made (the local AWS's reset()). */
  async clear(): Promise<void> {
    this.reset()
    const kafka = this.#kafka
    if (!kafka) return
    await this.#serially(async () => {
      for (const user of [...this.#users]) {
        await kafka.deleteScramUser(user)
        this.#users.delete(user)
      }
      for (const topic of await kafka.listTopics()) await kafka.deleteTopic(topic).catch(() => undefined)
    })
  }

  #serially(work: () => Promise<void>): Promise<void> {
    const next = this.#queue.then(work)
    this.#queue = next.catch(() => undefined)
    return next
  }

  // --- SCRAM ----------------------------------------------------------------

  /** After BatchAssociateScramSecret accepted the secret: its user can log in. */
  async associated(moto: MotoClient, account: string, region: string, clusterArn: string, secretArn: string): Promise<void> {
    const key = `${clusterArn} ${secretArn}`
    const association = this.#associations.get(key) ?? {account, region, clusterArn, secretArn}
    this.#associations.set(key, association)
    await this.#sync(moto, association)
  }

  /** After BatchDisassociateScramSecret: the user is removed unless another association still gives it. */
  async disassociated(clusterArn: string, secretArn: string): Promise<void> {
    const key = `${clusterArn} ${secretArn}`
    const association = this.#associations.get(key)
    this.#associations.delete(key)
    if (association?.username) await this.#dropUnlessUsed(association.username)
  }

  /**
   * A cluster created with an MSK configuration that sets allow.everyone.if.no.acl.found=false:
   * the broker (shared by every local cluster) denies whatever no ACL allows, before CreateCluster answers.
   */
  async clusterLockedDown(clusterArn: string): Promise<void> {
    const kafka = this.#kafka
    const first = this.#lockedClusters.size === 0
    this.#lockedClusters.add(clusterArn)
    if (first && kafka) await this.#serially(() => kafka.setAllowEveryoneIfNoAclFound(false))
  }

  /**
   * UpdateClusterConfiguration: a configuration that denies without an ACL locks the broker down;
   * one that does not opens it again once no other cluster is locked.
   */
  async clusterConfigured(clusterArn: string, deniesWithoutAcl: boolean): Promise<void> {
    if (deniesWithoutAcl) return this.clusterLockedDown(clusterArn)
    const kafka = this.#kafka
    if (this.#lockedClusters.delete(clusterArn) && this.#lockedClusters.size === 0 && kafka) await this.#serially(() => kafka.setAllowEveryoneIfNoAclFound(true))
  }

  async clusterDeleted(clusterArn: string): Promise<void> {
    const kafka = this.#kafka
    if (this.#lockedClusters.delete(clusterArn) && this.#lockedClusters.size === 0 && kafka) await this.#serially(() => kafka.setAllowEveryoneIfNoAclFound(true))
    for (const [key, association] of [...this.#associations]) {
      if (association.clusterArn !== clusterArn) continue
      this.#associations.delete(key)
      if (association.username) await this.#dropUnlessUsed(association.username)
    }
  }

  async #dropUnlessUsed(username: string): Promise<void> {
    const kafka = this.#kafka
    if (!kafka || [...this.#associations.values()].some((a) => a.username === username)) return
    await this.#serially(async () => {
      await kafka.deleteScramUser(username)
      this.#users.delete(username)
    })
  }

  /** Reads the secret's current value and gives the broker that user and password. */
  async #sync(moto: MotoClient, association: Association): Promise<void> {
    const kafka = this.#kafka
    if (!kafka) return
    const credential = await readCredential(moto, association)
    if (!this.#associations.has(`${association.clusterArn} ${association.secretArn}`)) return
    const previous = association.username
    // A value MSK cannot read as {"username", "password"} gives no user: the broker keeps what it had.
    if (!credential) return
    if (credential.username === previous && credential.password === association.password) return
    association.username = credential.username
    association.password = credential.password
    await this.#serially(async () => {
      await kafka.upsertScramUser(credential.username, credential.password)
      this.#users.add(credential.username)
    })
    if (previous !== undefined && previous !== credential.username) await this.#dropUnlessUsed(previous)
  }

  /** Secrets Manager calls that change a secret's current value, forwarded, then followed to the broker. */
  secretHandlers(): Record<string, Handler> {
    const follow: Handler = async (c) => {
      const answer = await c.forward()
      if (answer.status === 200) await this.#secretChanged(c)
      return relay(answer)
    }
    return {PutSecretValue: follow, UpdateSecret: follow, UpdateSecretVersionStage: follow}
  }

  async #secretChanged(c: CallContext): Promise<void> {
    if (!this.#kafka) return
    const secretId = String(c.input.SecretId ?? '')
    const described = await c.moto.json('secretsmanager', 'secretsmanager.DescribeSecret', c.account, c.region, {SecretId: secretId})
    const arn = described.value.ARN
    const affected = [...this.#associations.values()].filter((a) => a.secretArn === arn && a.account === c.account)
    if (affected.length === 0) return
    const apply = async (): Promise<void> => {
      for (const association of affected) await this.#sync(c.moto, association)
    }
    const delay = this.settings.scramPropagationDelayMs
    if (delay <= 0) {
      await apply()
      return
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      apply().catch((error: Error) => process.stderr.write(`local-aws: applying the new value of ${String(arn)} to Kafka failed: ${error.message}\n`))
    }, delay)
    timer.unref()
    this.#timers.add(timer)
  }

  // --- topics ---------------------------------------------------------------

  /**
   * CreateTopic / DescribeTopic / ListTopics / DeleteTopic, shaped as the MSK API
   * reference gives them (https://docs.aws.amazon.com/msk/1.0/apireference/clusters-clusterarn-topics.html,
   * …/clusters-clusterarn-topics-topicname.html), with the requirements of
   * https://docs.aws.amazon.com/msk/latest/developerguide/msk-topic-operations-information.html:
   * a Provisioned cluster, Apache Kafka 3.6.0 or later, ACTIVE.
   */
  topicHandlers(cluster: (c: CallContext) => Promise<TopicCluster>): Record<string, Handler> {
    const usable = async (c: CallContext): Promise<TopicCluster> => {
      const found = await cluster(c)
      if (found.clusterType === 'SERVERLESS') throw badRequest('Topic operations are not available for MSK Serverless clusters.', 'clusterArn')
      if (found.kafkaVersion && !atLeast(found.kafkaVersion, [3, 6, 0])) {
        throw badRequest(`Topic operations require Apache Kafka version 3.6.0 or later; the cluster runs ${found.kafkaVersion}.`, 'clusterArn')
      }
      if (found.state !== 'ACTIVE') throw badRequest(`The cluster is in ${found.state} state. Try again when it is ACTIVE.`, 'clusterArn')
      return found
    }
    return {
      CreateTopic: async (c) => this.#createTopic(c, await usable(c)),
      DescribeTopic: async (c) => this.#describeTopic(c, await usable(c)),
      ListTopics: async (c) => this.#listTopics(c, await usable(c)),
      DeleteTopic: async (c) => this.#deleteTopic(c, await usable(c)),
    }
  }

  /** The broker, or the answer AWS gives when it cannot reach the cluster's brokers. */
  #broker(operation: string): LocalKafka {
    if (this.#kafka) return this.#kafka
    // Without kafka: true there is no broker: each operation fails with the error its
    // model lists for an unreachable cluster (DescribeTopic lists none: a 500).
    const message = 'Amazon MSK could not connect to the brokers of the cluster. (local AWS: started without kafka: true)'
    if (operation === 'ListTopics') throw new AwsServiceError('ServiceUnavailableException', 503, message)
    if (operation === 'DescribeTopic') throw new AwsServiceError('InternalServerErrorException', 500, message)
    throw new AwsServiceError('ClusterConnectivityException', 409, message)
  }

  async #createTopic(c: CallContext, cluster: TopicCluster) {
    const kafka = this.#broker('CreateTopic')
    const name = c.input.topicName
    const partitions = c.input.partitionCount
    const replicationFactor = c.input.replicationFactor
    if (typeof name !== 'string' || !name) throw badRequest('topicName is required.', 'topicName')
    if (!LEGAL_TOPIC.test(name) || name === '.' || name === '..') {
      throw badRequest(`Topic name "${name}" is illegal: use at most 249 of the characters [a-zA-Z0-9._-].`, 'topicName')
    }
    if (!Number.isInteger(partitions) || (partitions as number) < 1) throw badRequest('partitionCount must be a whole number, at least 1.', 'partitionCount')
    if (!Number.isInteger(replicationFactor) || (replicationFactor as number) < 1) {
      throw badRequest('replicationFactor must be a whole number, at least 1.', 'replicationFactor')
    }
    if ((replicationFactor as number) > cluster.numberOfBrokerNodes) {
      throw badRequest(
        `Replication factor: ${String(replicationFactor)} larger than available brokers: ${cluster.numberOfBrokerNodes}.`,
        'replicationFactor',
      )
    }
    const configs = decodeConfigs(c.input.configs)
    try {
      // One broker: one replica, whatever the cluster's replication factor (remembered for Describe/List).
      await kafka.createTopic(name, {partitions: partitions as number, replicationFactor: 1, configs})
    } catch (error) {
      throw topicFailure(error, name)
    }
    this.#replicationFactors.set(name, replicationFactor as number)
    return jsonReply('rest-json', {topicArn: topicArn(cluster, c, name), topicName: name, status: 'CREATING'})
  }

  async #describeTopic(c: CallContext, cluster: TopicCluster) {
    const kafka = this.#broker('DescribeTopic')
    const name = c.facts.uriParams.topicName ?? ''
    const topic = await kafka.describeTopic(name)
    if (!topic) throw new AwsServiceError('NotFoundException', 404, `The topic ${name} does not exist in the cluster.`, {invalidParameter: 'topicName'})
    const view = this.#view(topic)
    return jsonReply('rest-json', {
      topicArn: topicArn(cluster, c, name),
      topicName: name,
      replicationFactor: view.replicationFactor,
      partitionCount: topic.partitions,
      configs: Buffer.from(JSON.stringify(topic.configs)).toString('base64'),
      status: 'ACTIVE',
      replicaIds: view.replicaIds,
    })
  }

  async #listTopics(c: CallContext, cluster: TopicCluster) {
    const kafka = this.#broker('ListTopics')
    const params = c.url.searchParams
    const maxResults = Number(params.get('maxResults') ?? 100)
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) throw badRequest('maxResults must be between 1 and 100.', 'maxResults')
    const prefix = params.get('topicNameFilter') ?? ''
    const names = (await kafka.listTopics()).filter((name) => name.startsWith(prefix))
    const token = params.get('nextToken')
    const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
    if (!Number.isInteger(start) || start < 0 || start > names.length) throw badRequest('The nextToken is not valid.', 'nextToken')
    const page = names.slice(start, start + maxResults)
    const topics = []
    for (const name of page) {
      const topic = await kafka.describeTopic(name)
      if (!topic) continue
      const view = this.#view(topic)
      topics.push({
        topicArn: topicArn(cluster, c, name),
        topicName: name,
        replicationFactor: view.replicationFactor,
        partitionCount: topic.partitions,
        outOfSyncReplicaCount: topic.outOfSyncReplicas,
        replicaIds: view.replicaIds,
      })
    }
    return jsonReply('rest-json', {
      topics,
      ...(start + maxResults < names.length ? {nextToken: Buffer.from(String(start + maxResults)).toString('base64url')} : {}),
    })
  }

  async #deleteTopic(c: CallContext, cluster: TopicCluster) {
    const kafka = this.#broker('DeleteTopic')
    const name = c.facts.uriParams.topicName ?? ''
    try {
      await kafka.deleteTopic(name)
    } catch (error) {
      throw topicFailure(error, name)
    }
    this.#replicationFactors.delete(name)
    return jsonReply('rest-json', {topicArn: topicArn(cluster, c, name), topicName: name, status: 'DELETING'})
  }

  /** A topic created through the API shows the replication factor it was asked for, on brokers 1..RF. */
  #view(topic: TopicDescription): {replicationFactor: number; replicaIds: number[]} {
    const asked = this.#replicationFactors.get(topic.name)
    if (asked === undefined) return {replicationFactor: topic.replicationFactor, replicaIds: topic.replicaIds}
    return {replicationFactor: asked, replicaIds: Array.from({length: asked}, (_, i) => i + 1)}
  }
}

async function readCredential(moto: MotoClient, a: Association): Promise<{username: string; password: string} | undefined> {
  const answer = await moto.json('secretsmanager', 'secretsmanager.GetSecretValue', a.account, a.region, {SecretId: a.secretArn})
  if (answer.status !== 200 || typeof answer.value.SecretString !== 'string') return undefined
  try {
    const value = JSON.parse(answer.value.SecretString) as {username?: unknown; password?: unknown}
    if (typeof value.username === 'string' && value.username && typeof value.password === 'string' && value.password) {
      return {username: value.username, password: value.password}
    }
  } catch {
    // not JSON
  }
  return undefined
}

/** Topic ARNs as MSK writes them: arn:aws:kafka:<region>:<account>:topic/<cluster name>/<cluster uuid>/<topic>. */
function topicArn(cluster: TopicCluster, c: CallContext, topic: string): string {
  const uuid = cluster.clusterArn.split('/').at(-1)
  return `arn:aws:kafka:${c.region}:${c.account}:topic/${cluster.clusterName}/${uuid}/${topic}`
}

/** `configs`: topic configurations as Base64 of a JSON object, e.g. {"retention.ms": "60000"}. */
function decodeConfigs(value: unknown): Record<string, string> {
  if (value === undefined || value === null || value === '') return {}
  const invalid = badRequest('configs must be a Base64-encoded JSON object of topic configuration names and values.', 'configs')
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw invalid
  let parsed: unknown
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64').toString('utf8'))
  } catch {
    throw invalid
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]))
}

/** Kafka's refusals as the MSK errors of the same name (the topic operations' error list). */
function topicFailure(error: unknown, topic: string): Error {
  const kafkaError = (error as {kafkaError?: string}).kafkaError
  const message = (error as Error).message
  switch (kafkaError) {
    case 'TOPIC_ALREADY_EXISTS':
      return new AwsServiceError('TopicExistsException', 409, `Topic '${topic}' already exists.`, {invalidParameter: 'topicName'})
    case 'UNKNOWN_TOPIC_OR_PARTITION':
      return new AwsServiceError('UnknownTopicOrPartitionException', 404, `The topic ${topic} does not exist in the cluster.`, {invalidParameter: 'topicName'})
    case 'INVALID_CONFIG':
    case 'POLICY_VIOLATION':
      return new AwsServiceError('BadRequestException', 400, message, {invalidParameter: 'configs'})
    case 'INVALID_TOPIC_EXCEPTION':
    case 'INVALID_PARTITIONS':
    case 'INVALID_REPLICATION_FACTOR':
      return new AwsServiceError('KafkaRequestException', 400, message)
    default:
      return error as Error
  }
}

function atLeast(version: string, minimum: number[]): boolean {
  const parts = version.split('.').map((p) => Number.parseInt(p, 10))
  for (let i = 0; i < minimum.length; i++) {
    const part = Number.isNaN(parts[i]) || parts[i] === undefined ? 0 : parts[i]
    if (part !== minimum[i]) return part > minimum[i]
  }
  return true
}
