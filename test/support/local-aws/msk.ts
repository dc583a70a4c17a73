// Amazon MSK operations moto 5.2.5 lacks or gets wrong (REST-JSON, after the
// MSK API reference):
// - BatchAssociateScramSecret / BatchDisassociateScramSecret / ListScramSecrets,
//   with MSK's checks of each secret (same account, name prefix AmazonMSK_,
//   encrypted with a customer managed KMS key, not scheduled for deletion);
// - GetBootstrapBrokers, built from the cluster's broker count and authentication;
// - clusters that never leave CREATING (shown ACTIVE after a configurable delay),
//   CreateClusterV2 dropping provisioned.clientAuthentication, and a 500 instead of
//   NotFoundException for an unknown cluster ARN;
// - MSK configurations (msk-configurations.ts), and CreateCluster's ConfigurationInfo:
//   a cluster whose configuration sets allow.everyone.if.no.acl.found=false locks the
//   broker down (msk-kafka.ts) until it is deleted;
// - UpdateClusterConfiguration (moto has none), as MSK answers it: configurationInfo
//   and currentVersion required, the cluster ACTIVE and its CurrentVersion matched
//   (BadRequestException otherwise); then UPDATING for the cluster delay, and ACTIVE
//   with the new configuration and a new CurrentVersion. The broker locks down when
//   the configuration sets allow.everyone.if.no.acl.found=false, and opens again once
//   no cluster uses such a configuration (MSK developer guide, "Configuration operations",
//   https://docs.aws.amazon.com/msk/latest/developerguide/msk-configuration-operations.html).
import {randomBytes} from 'node:crypto'
import {AwsServiceError, jsonReply} from './aws-errors.ts'
import {relay, type CallContext, type Handler} from './context.ts'
import {parseJson, type MotoClient} from './moto-client.ts'
import {MskConfigurations} from './msk-configurations.ts'
import {MskKafkaLink, type MskKafkaSettings} from './msk-kafka.ts'
import {checkProvisionedCluster, mskPage} from './msk-strict.ts'

export interface MskSettings extends MskKafkaSettings {
  /** How long a new cluster shows CREATING before ACTIVE. */
  clusterActivationDelayMs: number
}

interface ClusterNotes {
  createdAt: number
  clientAuthentication?: Record<string, unknown>
  /** Set by UpdateClusterConfiguration: what DescribeCluster shows instead of moto's. */
  currentVersion?: string
  configuration?: {arn: string; revision: number}
  updatingUntil?: number
}

interface ClientAuthentication {
  sasl?: {scram?: {enabled?: boolean}; iam?: {enabled?: boolean}}
  tls?: {enabled?: boolean; certificateAuthorityArnList?: string[]}
  unauthenticated?: {enabled?: boolean}
}

interface ClusterView {
  clusterArn: string
  clusterName: string
  state: string
  numberOfBrokerNodes: number
  clientAuthentication: ClientAuthentication
  clientBroker: string
  kafkaVersion?: string
  currentVersion: string
  clusterType?: string
}

const notFound = (arn: string): AwsServiceError =>
  new AwsServiceError('NotFoundException', 404, `The specified cluster was not found: ${arn}`, {invalidParameter: 'clusterArn'})
const badRequest = (message: string, parameter?: string): AwsServiceError =>
  new AwsServiceError('BadRequestException', 400, message, parameter ? {invalidParameter: parameter} : {})

export class MskStandIn {
  readonly settings: MskSettings
  readonly #clusters = new Map<string, ClusterNotes>()
  /** Associated secret ARNs by cluster ARN. */
  readonly #scram = new Map<string, Set<string>>()
  /** SCRAM users and topics on the real broker, when there is one (msk-kafka.ts). */
  readonly kafka: MskKafkaLink
  readonly configurations = new MskConfigurations()

  constructor(settings: MskSettings) {
    this.settings = settings
    this.kafka = new MskKafkaLink(settings)
  }

  reset(): void {
    this.#clusters.clear()
    this.#scram.clear()
    this.configurations.reset()
    this.kafka.reset()
  }

  handlers(): Record<string, Handler> {
    return {
      CreateCluster: async (c) => {
        await checkProvisionedCluster(c, c.input)
        const configuration = this.configurations.check(c, c.input.configurationInfo, c.input.kafkaVersion)
        return this.#noteCreation(c, (c.input.clientAuthentication as Record<string, unknown>) ?? undefined, configuration)
      },
      CreateClusterV2: async (c) => {
        const provisioned = c.input.provisioned as Record<string, unknown> | undefined
        await checkProvisionedCluster(c, provisioned)
        const configuration = provisioned ? this.configurations.check(c, provisioned.configurationInfo, provisioned.kafkaVersion) : undefined
        return this.#noteCreation(c, (provisioned?.clientAuthentication as Record<string, unknown>) ?? undefined, configuration)
      },
      ...this.configurations.handlers(),
      UpdateClusterConfiguration: async (c) => this.#updateConfiguration(c),
      DescribeCluster: (c) => this.#describe(c, 'v1'),
      DescribeClusterV2: (c) => this.#describe(c, 'v2'),
      ListClusters: (c) => this.#listClusters(c, 'clusterInfoList'),
      ListClustersV2: (c) => this.#listClusters(c, 'clusterInfoList'),
      DeleteCluster: (c) => this.#deleteCluster(c),
      BatchAssociateScramSecret: (c) => this.#associate(c),
      BatchDisassociateScramSecret: (c) => this.#disassociate(c),
      ListScramSecrets: (c) => this.#listSecrets(c),
      GetBootstrapBrokers: (c) => this.#bootstrapBrokers(c),
      ...this.kafka.topicHandlers((c) => this.#cluster(c)),
    }
  }

  #state(arn: string, motoState: unknown, now: number): unknown {
    const notes = this.#clusters.get(arn)
    if (motoState === 'CREATING' && notes && now < notes.createdAt + this.settings.clusterActivationDelayMs) return 'CREATING'
    if (motoState !== 'CREATING' && motoState !== 'ACTIVE') return motoState
    return notes?.updatingUntil !== undefined && now < notes.updatingUntil ? 'UPDATING' : 'ACTIVE'
  }

  /** What UpdateClusterConfiguration changed, over moto's cluster info (v1 or v2's provisioned part). */
  #overlay(arn: string, info: Record<string, unknown>): void {
    const notes = this.#clusters.get(arn)
    const part = (info.provisioned as Record<string, unknown> | undefined) ?? info
    const software = part.currentBrokerSoftwareInfo as Record<string, unknown> | undefined
    // moto fills a cluster on MSK's default configuration with the placeholder "string"; MSK leaves both out.
    if (software?.configurationArn === 'string') {
      delete software.configurationArn
      delete software.configurationRevision
    }
    if (!notes?.currentVersion) return
    info.currentVersion = notes.currentVersion
    if (notes.configuration) part.currentBrokerSoftwareInfo = {...software, configurationArn: notes.configuration.arn, configurationRevision: notes.configuration.revision}
  }

  async #updateConfiguration(c: CallContext) {
    const info = c.input.configurationInfo
    const currentVersion = c.input.currentVersion
    if (info === null || typeof info !== 'object') throw badRequest('configurationInfo is a required parameter.', 'configurationInfo')
    if (typeof currentVersion !== 'string' || currentVersion === '') throw badRequest('currentVersion is a required parameter.', 'currentVersion')
    const cluster = await this.#cluster(c)
    if (cluster.state !== 'ACTIVE') throw badRequest(`The cluster is in ${cluster.state} state. You can update the configuration of ACTIVE clusters only.`, 'clusterArn')
    if (currentVersion !== cluster.currentVersion) {
      throw badRequest(`The currentVersion ${currentVersion} does not match the cluster's current version ${cluster.currentVersion}. Describe the cluster and try again.`, 'currentVersion')
    }
    const configuration = this.configurations.check(c, info, cluster.kafkaVersion)!
    const notes = this.#clusters.get(cluster.clusterArn) ?? {createdAt: 0}
    notes.currentVersion = `K${randomBytes(7).toString('hex').toUpperCase().slice(0, 13)}`
    notes.configuration = {arn: configuration.arn, revision: Number((info as {revision?: unknown}).revision)}
    notes.updatingUntil = c.now() + this.settings.clusterActivationDelayMs
    this.#clusters.set(cluster.clusterArn, notes)
    this.configurations.clusterCreated(cluster.clusterArn, configuration.arn)
    // The brokers take the setting while the cluster is UPDATING; done before answering, so ACTIVE means applied.
    await this.kafka.clusterConfigured(cluster.clusterArn, configuration.deniesWithoutAcl)
    const clusterOperationArn = cluster.clusterArn.replace(':cluster/', ':cluster-operation/').replace(/-\d+$/, '') + `/${randomBytes(16).toString('hex')}`
    return jsonReply('rest-json', {clusterArn: cluster.clusterArn, clusterOperationArn})
  }

  async #noteCreation(c: CallContext, clientAuthentication: Record<string, unknown> | undefined, configuration?: {arn: string; deniesWithoutAcl: boolean}) {
    const answer = await c.forward()
    const arn = parseJson(answer.body).clusterArn
    if (answer.status === 200 && typeof arn === 'string') {
      this.#clusters.set(arn, {createdAt: c.now(), clientAuthentication})
      if (configuration) {
        this.configurations.clusterCreated(arn, configuration.arn)
        if (configuration.deniesWithoutAcl) await this.kafka.clusterLockedDown(arn)
      }
    }
    return relay(answer)
  }

  async #describe(c: CallContext, version: 'v1' | 'v2') {
    const arn = c.facts.uriParams.clusterArn
    const answer = await c.forward()
    if (answer.status >= 500 || answer.status === 404) throw notFound(arn)
    if (answer.status !== 200) return relay(answer)
    const value = parseJson(answer.body) as {clusterInfo?: Record<string, unknown>}
    const info = value.clusterInfo
    if (info) {
      info.state = this.#state(arn, info.state, c.now())
      info.creationTime = rfc3339(info.creationTime)
      this.#overlay(arn, info)
      const remembered = this.#clusters.get(arn)?.clientAuthentication
      const provisioned = info.provisioned as Record<string, unknown> | undefined
      if (version === 'v2' && provisioned && remembered && isEmpty(provisioned.clientAuthentication)) provisioned.clientAuthentication = remembered
      if (version === 'v1' && remembered && isEmpty(info.clientAuthentication)) info.clientAuthentication = remembered
    }
    return relay(answer, JSON.stringify(value))
  }

  async #listClusters(c: CallContext, key: string) {
    const answer = await c.forward()
    if (answer.status !== 200) return relay(answer)
    const value = parseJson(answer.body)
    const list = value[key]
    if (Array.isArray(list)) {
      for (const info of list as Record<string, unknown>[]) {
        info.state = this.#state(String(info.clusterArn), info.state, c.now())
        info.creationTime = rfc3339(info.creationTime)
        this.#overlay(String(info.clusterArn), info)
      }
    }
    return relay(answer, JSON.stringify(value))
  }

  async #deleteCluster(c: CallContext) {
    const arn = c.facts.uriParams.clusterArn
    const answer = await c.forward()
    if (answer.status >= 500 || answer.status === 404) throw notFound(arn)
    if (answer.status === 200) {
      this.#clusters.delete(arn)
      this.#scram.delete(arn)
      this.configurations.clusterDeleted(arn)
      await this.kafka.clusterDeleted(arn)
    }
    return relay(answer)
  }

  /** The cluster through moto's DescribeCluster, in the caller's account; NotFoundException when absent. */
  async #cluster(c: CallContext): Promise<ClusterView> {
    const arn = c.facts.uriParams.clusterArn
    const answer = await c.moto.rest('kafka', 'GET', `/v1/clusters/${encodeURIComponent(arn)}`, c.account, c.region)
    const info = answer.value.clusterInfo as Record<string, unknown> | undefined
    if (answer.status !== 200 || !info) throw notFound(arn)
    const remembered = this.#clusters.get(arn)?.clientAuthentication
    const clientAuthentication = (isEmpty(info.clientAuthentication) ? remembered : info.clientAuthentication) ?? {}
    const encryption = info.encryptionInfo as {encryptionInTransit?: {clientBroker?: string}} | undefined
    const software = info.currentBrokerSoftwareInfo as {kafkaVersion?: string} | undefined
    return {
      clusterArn: arn,
      clusterName: String(info.clusterName ?? 'cluster'),
      state: String(this.#state(arn, info.state, c.now())),
      numberOfBrokerNodes: Number(info.numberOfBrokerNodes ?? 0) || 1,
      clientAuthentication,
      clientBroker: encryption?.encryptionInTransit?.clientBroker ?? 'TLS',
      kafkaVersion: software?.kafkaVersion,
      currentVersion: this.#clusters.get(arn)?.currentVersion ?? String(info.currentVersion ?? ''),
      clusterType: typeof info.clusterType === 'string' ? info.clusterType : undefined,
    }
  }

  async #secretArns(c: CallContext): Promise<string[]> {
    const list = c.input.secretArnList
    if (!Array.isArray(list) || list.length === 0) throw badRequest('secretArnList must hold at least one secret ARN', 'secretArnList')
    if (list.length > 10) throw badRequest('secretArnList can hold at most 10 secret ARNs', 'secretArnList')
    return list.map(String)
  }

  async #associate(c: CallContext) {
    const cluster = await this.#cluster(c)
    const secrets = await this.#secretArns(c)
    if (cluster.state !== 'ACTIVE') throw badRequest(`The cluster is in ${cluster.state} state. Try again when it is ACTIVE.`, 'clusterArn')
    if (!cluster.clientAuthentication.sasl?.scram?.enabled) {
      throw badRequest('SASL/SCRAM authentication is not enabled on this cluster.', 'clusterArn')
    }
    const associated = this.#scram.get(cluster.clusterArn) ?? new Set<string>()
    const unprocessed: {errorCode: string; errorMessage: string; secretArn: string}[] = []
    for (const secretArn of secrets) {
      const refusal = await checkScramSecret(c.moto, c.account, c.region, secretArn)
      if (refusal) unprocessed.push({errorCode: 'InvalidSecretArn', errorMessage: refusal, secretArn})
      else {
        associated.add(secretArn)
        this.#scram.set(cluster.clusterArn, associated)
        await this.kafka.associated(c.moto, c.account, c.region, cluster.clusterArn, secretArn)
      }
    }
    this.#scram.set(cluster.clusterArn, associated)
    return jsonReply('rest-json', {clusterArn: cluster.clusterArn, unprocessedScramSecrets: unprocessed})
  }

  async #disassociate(c: CallContext) {
    const cluster = await this.#cluster(c)
    const secrets = await this.#secretArns(c)
    const associated = this.#scram.get(cluster.clusterArn) ?? new Set<string>()
    const unprocessed: {errorCode: string; errorMessage: string; secretArn: string}[] = []
    for (const secretArn of secrets) {
      if (associated.delete(secretArn)) {
        await this.kafka.disassociated(cluster.clusterArn, secretArn)
        continue
      }
      unprocessed.push({errorCode: 'InvalidSecretArn', errorMessage: 'The provided secret is not associated with the cluster.', secretArn})
    }
    return jsonReply('rest-json', {clusterArn: cluster.clusterArn, unprocessedScramSecrets: unprocessed})
  }

  async #listSecrets(c: CallContext) {
    const cluster = await this.#cluster(c)
    const page = mskPage(c, [...(this.#scram.get(cluster.clusterArn) ?? [])])
    return jsonReply('rest-json', {secretArnList: page.items, ...(page.nextToken ? {nextToken: page.nextToken} : {})})
  }

  async #bootstrapBrokers(c: CallContext) {
    const cluster = await this.#cluster(c)
    if (cluster.state !== 'ACTIVE' && cluster.state !== 'UPDATING') {
      throw badRequest(`Bootstrap brokers are available once the cluster is ACTIVE; it is ${cluster.state}.`, 'clusterArn')
    }
    return jsonReply('rest-json', bootstrapBrokers(cluster, c.region))
  }

  /** Secret ARNs associated with a cluster (for tests). */
  scramSecrets(clusterArn: string): string[] {
    return [...(this.#scram.get(clusterArn) ?? [])]
  }
}

/** moto writes datetime.now().isoformat(): local time without a zone, which the SDK rejects. */
function rfc3339(value: unknown): unknown {
  if (typeof value !== 'string' || /(Z|[+-]\d\d:\d\d)$/.test(value)) return value
  const parsed = new Date(value)
  return Number.isNaN(parsed.getTime()) ? value : parsed.toISOString()
}

const isEmpty = (value: unknown): boolean => !value || (typeof value === 'object' && Object.keys(value).length === 0)

/**
 * MSK's checks, in the order a user meets them (MSK developer guide, "Set up
 * SASL/SCRAM authentication": the name must start with AmazonMSK_, and a secret
 * encrypted with the default AWS managed key cannot be used). The first message
 * is the one MSK returns when it cannot read the secret at all.
 */
async function checkScramSecret(moto: MotoClient, account: string, region: string, secretArn: string): Promise<string | undefined> {
  const unreadable = "Amazon MSK wasn't able to access the provided secret."
  const arn = /^arn:aws[\w-]*:secretsmanager:([^:]+):(\d{12}):secret:(.+)$/.exec(secretArn)
  if (arn?.[1] !== region || arn[2] !== account) return unreadable
  const described = await moto.json('secretsmanager', 'secretsmanager.DescribeSecret', account, region, {SecretId: secretArn})
  if (described.status !== 200 || described.value.ARN !== secretArn || described.value.DeletedDate != null) return unreadable
  const name = String(described.value.Name ?? '')
  if (!name.startsWith('AmazonMSK_')) {
    return "The provided secret arn cannot be used with Amazon MSK. Secret names must have the prefix 'AmazonMSK_'."
  }
  const defaultKey =
    'The provided secret is encrypted with the default AWS managed key (aws/secretsmanager). Amazon MSK requires a secret encrypted with a customer managed AWS KMS key.'
  const keyId = described.value.KmsKeyId
  if (typeof keyId !== 'string' || !keyId || keyId === 'alias/aws/secretsmanager' || keyId.endsWith(':alias/aws/secretsmanager')) return defaultKey
  const key = await moto.json('kms', 'TrentService.DescribeKey', account, region, {KeyId: keyId})
  const metadata = key.value.KeyMetadata as {KeyManager?: string; KeyState?: string; Enabled?: boolean} | undefined
  if (key.status !== 200 || !metadata) return unreadable
  if (metadata.KeyManager === 'AWS') return defaultKey
  if (metadata.KeyState !== 'Enabled') return unreadable
  return undefined
}

/** Broker endpoints the way MSK names them: b-N.<cluster>.<id>.c2.kafka.<region>.amazonaws.com:<port>. */
export function bootstrapBrokers(cluster: ClusterView, region: string): Record<string, string> {
  const id = /\/([0-9a-f]{6})[0-9a-f-]*$/.exec(cluster.clusterArn)?.[1] ?? 'abc123'
  const name = cluster.clusterName.toLowerCase().replace(/[^a-z0-9-]/g, '-')
  const hosts = (port: number): string =>
    Array.from({length: cluster.numberOfBrokerNodes}, (_, i) => `b-${i + 1}.${name}.${id}.c2.kafka.${region}.amazonaws.com:${port}`).join(',')
  const auth = cluster.clientAuthentication
  const noAuthConfigured = !auth.sasl?.scram?.enabled && !auth.sasl?.iam?.enabled && !auth.tls?.enabled
  const tlsAllowed = cluster.clientBroker !== 'PLAINTEXT'
  const plaintextAllowed = cluster.clientBroker !== 'TLS'
  const unauthenticated = auth.unauthenticated?.enabled === true || noAuthConfigured
  const brokers: Record<string, string> = {}
  if (plaintextAllowed && unauthenticated) brokers.bootstrapBrokerString = hosts(9092)
  if (tlsAllowed && (unauthenticated || auth.tls?.enabled)) brokers.bootstrapBrokerStringTls = hosts(9094)
  if (tlsAllowed && auth.sasl?.scram?.enabled) brokers.bootstrapBrokerStringSaslScram = hosts(9096)
  if (tlsAllowed && auth.sasl?.iam?.enabled) brokers.bootstrapBrokerStringSaslIam = hosts(9098)
  return brokers
}
