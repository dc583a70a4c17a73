// AWS IoT operations moto 5.2.5 lacks or gets wrong:
// - topic rule destinations (Create/Get/List/Update/DeleteTopicRuleDestination),
//   VPC destinations only meaningfully (HTTP ones stay IN_PROGRESS: nobody confirms them);
// - TagResource/UntagResource/ListTagsForResource (moto has none), plus the tags
//   given at creation (CreateTopicRule's x-amz-tagging header, `tags` of CreatePolicy & co);
// - CreateTopicRule/ReplaceTopicRule referring to a VPC destination that does not
//   exist or is not ENABLED (moto accepts anything);
// - a deleted VPC destination is DELETING, still returned by Get/ListTopicRuleDestinations,
//   for `destinationDeletionDelayMs` while AWS removes its network interfaces (IoT developer
//   guide, "Virtual private cloud (VPC) destinations"), then gone.
// Request and response shapes follow the IoT API reference (REST-JSON, epoch-second timestamps).
import {randomUUID} from 'node:crypto'
import {AwsServiceError, jsonReply} from './aws-errors.ts'
import {epochSeconds, relay, type CallContext, type Handler} from './context.ts'
import {parseJson, xmlText, xmlTexts, type MotoClient} from './moto-client.ts'
import {destinationPermissionsOutcome, unsupportedZoneRefusal} from './policy/vpc-destination.ts'

type DestinationStatus = 'ENABLED' | 'IN_PROGRESS' | 'DISABLED' | 'ERROR' | 'DELETING'

interface VpcProperties {
  subnetIds: string[]
  securityGroups: string[]
  vpcId: string
  roleArn: string
}

interface Destination {
  arn: string
  account: string
  region: string
  status: DestinationStatus
  statusReason?: string
  createdAt: number
  lastUpdatedAt: number
  /** Until when provisioning (IN_PROGRESS) lasts, and what it ends in. */
  readyAt?: number
  /** Until when deletion (DELETING) lasts. */
  goneAt?: number
  outcome?: {status: DestinationStatus; reason?: string}
  vpc?: VpcProperties
  httpUrl?: {confirmationUrl: string}
}

export interface IotSettings {
  /** How long a VPC destination stays IN_PROGRESS before ENABLED (or ERROR). */
  destinationActivationDelayMs: number
  /**
   * IAM is eventually consistent: IoT cannot assume a role younger than this
   * (the destination is refused as for a missing role). Default 0.
   */
  rolePropagationDelayMs: number
  /** How long a deleted VPC destination stays DELETING before it is gone. Default 0. */
  destinationDeletionDelayMs: number
  /** Evaluate the role's trust and permissions and refuse unsupported zones (policy/vpc-destination.ts). */
  strictPolicies: boolean
}

const invalid = (message: string): AwsServiceError => new AwsServiceError('InvalidRequestException', 400, message)
const conflict = (message: string): AwsServiceError => new AwsServiceError('ConflictingResourceUpdateException', 409, message)

export class IotStandIn {
  readonly #destinations = new Map<string, Destination>()
  /** Tags by resource ARN (moto keeps none for IoT). */
  readonly #tags = new Map<string, Map<string, string>>()
  readonly settings: IotSettings

  constructor(settings: IotSettings) {
    this.settings = settings
  }

  reset(): void {
    this.#destinations.clear()
    this.#tags.clear()
  }

  handlers(): Record<string, Handler> {
    return {
      CreateTopicRuleDestination: (c) => this.#create(c),
      GetTopicRuleDestination: async (c) => jsonReply('rest-json', {topicRuleDestination: this.#view(this.#find(c, c.facts.uriParams.arn))}),
      ListTopicRuleDestinations: async (c) => this.#list(c),
      UpdateTopicRuleDestination: async (c) => this.#update(c),
      DeleteTopicRuleDestination: (c) => this.#delete(c),
      TagResource: (c) => this.#tagResource(c),
      UntagResource: (c) => this.#untagResource(c),
      ListTagsForResource: (c) => this.#listTags(c),
      CreateTopicRule: (c) => this.#putRule(c, true),
      ReplaceTopicRule: (c) => this.#putRule(c, false),
      DeleteTopicRule: (c) => this.#forgetOnSuccess(c, this.#ruleArn(c, c.facts.uriParams.ruleName)),
      CreatePolicy: (c) => this.#createTagged(c),
      CreateRoleAlias: (c) => this.#createTagged(c),
      CreateThingType: (c) => this.#createTagged(c),
      CreateThingGroup: (c) => this.#createTagged(c),
      CreateBillingGroup: (c) => this.#createTagged(c),
      DeletePolicy: (c) => this.#forgetOnSuccess(c, `arn:aws:iot:${c.region}:${c.account}:policy/${c.facts.uriParams.policyName}`),
    }
  }

  // --- topic rule destinations --------------------------------------------

  async #create(c: CallContext) {
    const config = c.input.destinationConfiguration as Record<string, unknown> | undefined
    if (!config || typeof config !== 'object') {
      throw invalid("1 validation error detected: Value null at 'destinationConfiguration' failed to satisfy constraint: Member must not be null")
    }
    const kinds = Object.keys(config).filter((k) => config[k] !== undefined && config[k] !== null)
    if (kinds.length !== 1) throw invalid('Exactly one destination configuration must be specified')
    const now = c.now()
    const id = randomUUID()
    if (kinds[0] === 'httpUrlConfiguration') {
      const confirmationUrl = (config.httpUrlConfiguration as {confirmationUrl?: unknown}).confirmationUrl
      if (typeof confirmationUrl !== 'string' || !confirmationUrl.startsWith('https://')) throw invalid('confirmationUrl must be an https URL')
      const destination: Destination = {
        arn: `arn:aws:iot:${c.region}:${c.account}:ruledestination/http/${id}`,
        account: c.account,
        region: c.region,
        status: 'IN_PROGRESS',
        createdAt: now,
        lastUpdatedAt: now,
        httpUrl: {confirmationUrl},
      }
      this.#destinations.set(destination.arn, destination)
      return jsonReply('rest-json', {topicRuleDestination: this.#view(destination)})
    }
    if (kinds[0] !== 'vpcConfiguration') throw invalid(`Unsupported destination configuration ${kinds[0]}`)
    const vpc = config.vpcConfiguration as Partial<VpcProperties>
    const subnetIds = vpc.subnetIds
    if (!Array.isArray(subnetIds) || subnetIds.length === 0) {
      throw invalid("1 validation error detected: Value null at 'destinationConfiguration.vpcConfiguration.subnetIds' failed to satisfy constraint: Member must not be null")
    }
    if (typeof vpc.vpcId !== 'string' || !vpc.vpcId) {
      throw invalid("1 validation error detected: Value null at 'destinationConfiguration.vpcConfiguration.vpcId' failed to satisfy constraint: Member must not be null")
    }
    if (typeof vpc.roleArn !== 'string' || !vpc.roleArn) {
      throw invalid("1 validation error detected: Value null at 'destinationConfiguration.vpcConfiguration.roleArn' failed to satisfy constraint: Member must not be null")
    }
    const securityGroups = Array.isArray(vpc.securityGroups) ? vpc.securityGroups : []
    await checkRole(c.moto, c.account, c.region, vpc.roleArn, c.now() - this.settings.rolePropagationDelayMs)
    const arn = `arn:aws:iot:${c.region}:${c.account}:ruledestination/vpc/${id}`
    const refusal = this.settings.strictPolicies ? await unsupportedZoneRefusal(c.moto, c.account, c.region, subnetIds) : undefined
    if (refusal) throw invalid(refusal)
    let outcome = await provisioningOutcome(c.moto, c.account, c.region, vpc.vpcId, subnetIds, securityGroups)
    if (outcome.status === 'ENABLED' && this.settings.strictPolicies) {
      const facts = {account: c.account, region: c.region, destinationArn: arn, roleArn: vpc.roleArn, vpcId: vpc.vpcId, subnetIds, securityGroups}
      outcome = await destinationPermissionsOutcome(c.moto, facts)
    }
    const destination: Destination = {
      arn,
      account: c.account,
      region: c.region,
      status: 'IN_PROGRESS',
      createdAt: now,
      lastUpdatedAt: now,
      readyAt: now + this.settings.destinationActivationDelayMs,
      outcome,
      vpc: {subnetIds: [...subnetIds], securityGroups: [...securityGroups], vpcId: vpc.vpcId, roleArn: vpc.roleArn},
    }
    this.#destinations.set(destination.arn, destination)
    return jsonReply('rest-json', {topicRuleDestination: this.#view(destination)})
  }

  #list(c: CallContext) {
    const maxResults = Number(c.url.searchParams.get('maxResults') ?? 100)
    if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 1000) throw invalid('maxResults must be between 1 and 1000')
    this.#sweep()
    const all = [...this.#destinations.values()]
      .filter((d) => d.account === c.account && d.region === c.region)
      .map((d) => this.#refresh(d))
    const token = c.url.searchParams.get('nextToken')
    const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
    if (!Number.isInteger(start) || start < 0 || start > all.length) throw invalid('The nextToken is not valid')
    const page = all.slice(start, start + maxResults)
    return jsonReply('rest-json', {
      destinationSummaries: page.map((d) => {
        const view = this.#view(d)
        return {
          arn: view.arn,
          status: view.status,
          createdAt: view.createdAt,
          lastUpdatedAt: view.lastUpdatedAt,
          ...(view.statusReason ? {statusReason: view.statusReason} : {}),
          ...(d.vpc ? {vpcDestinationSummary: view.vpcProperties} : {}),
          ...(d.httpUrl ? {httpUrlSummary: view.httpUrlProperties} : {}),
        }
      }),
      ...(start + maxResults < all.length ? {nextToken: Buffer.from(String(start + maxResults)).toString('base64url')} : {}),
    })
  }

  #update(c: CallContext) {
    const destination = this.#find(c, c.input.arn)
    if (destination.status === 'DELETING') throw conflict(`Topic rule destination ${destination.arn} is being deleted`)
    const status = c.input.status
    if (!['ENABLED', 'DISABLED', 'IN_PROGRESS'].includes(status as string)) {
      throw invalid(`1 validation error detected: Value '${String(status)}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED, IN_PROGRESS]`)
    }
    if (destination.status === 'IN_PROGRESS' && destination.vpc) throw conflict(`Topic rule destination ${destination.arn} is still being provisioned`)
    if (destination.status === 'ERROR') throw invalid(`Topic rule destination ${destination.arn} is in ERROR state: ${destination.statusReason ?? ''}`)
    if (status === 'IN_PROGRESS' && destination.vpc) throw invalid('Only an HTTP destination can be set to IN_PROGRESS (to resend its confirmation)')
    if (status === 'ENABLED' && destination.httpUrl && destination.status === 'IN_PROGRESS') {
      throw invalid('An HTTP destination can only be enabled after it is confirmed')
    }
    destination.status = status as DestinationStatus
    destination.lastUpdatedAt = c.now()
    return jsonReply('rest-json', {})
  }

  async #delete(c: CallContext) {
    const destination = this.#find(c, c.facts.uriParams.arn)
    if (destination.status === 'DELETING') return jsonReply('rest-json', {})
    const users = await rulesUsingDestination(c.moto, c.account, c.region, destination.arn)
    if (users.length) throw conflict(`Topic rule destination ${destination.arn} is in use by topic rule(s) ${users.join(', ')}`)
    const delay = destination.vpc ? this.settings.destinationDeletionDelayMs : 0
    if (delay > 0) {
      destination.status = 'DELETING'
      destination.statusReason = undefined
      destination.readyAt = undefined
      destination.lastUpdatedAt = c.now()
      destination.goneAt = c.now() + delay
    } else {
      this.#destinations.delete(destination.arn)
      this.#tags.delete(destination.arn)
    }
    return jsonReply('rest-json', {})
  }

  #find(c: CallContext, arn: unknown): Destination {
    if (typeof arn !== 'string' || !arn) throw invalid("1 validation error detected: Value null at 'arn' failed to satisfy constraint: Member must not be null")
    this.#sweep()
    const destination = this.#destinations.get(arn)
    if (destination?.account !== c.account || destination.region !== c.region) {
      throw invalid(`Topic rule destination ${arn} does not exist`)
    }
    return this.#refresh(destination)
  }

  /** Destinations whose deletion has ended are gone; read lazily, no timers. */
  #sweep(): void {
    const now = Date.now()
    for (const [arn, destination] of this.#destinations) {
      if (destination.goneAt !== undefined && now >= destination.goneAt) {
        this.#destinations.delete(arn)
        this.#tags.delete(arn)
      }
    }
  }

  /** Provisioning ends (ENABLED or ERROR) once its delay has passed; read lazily, no timers. */
  #refresh(destination: Destination): Destination {
    if (destination.status === 'IN_PROGRESS' && destination.readyAt !== undefined && destination.outcome && Date.now() >= destination.readyAt) {
      destination.status = destination.outcome.status
      destination.statusReason = destination.outcome.reason
      destination.lastUpdatedAt = destination.readyAt
      destination.readyAt = undefined
    }
    return destination
  }

  #view(destination: Destination) {
    return {
      arn: destination.arn,
      status: destination.status,
      createdAt: epochSeconds(destination.createdAt),
      lastUpdatedAt: epochSeconds(destination.lastUpdatedAt),
      ...(destination.statusReason ? {statusReason: destination.statusReason} : {}),
      ...(destination.vpc ? {vpcProperties: destination.vpc} : {}),
      ...(destination.httpUrl ? {httpUrlProperties: destination.httpUrl} : {}),
    }
  }

  /** The destination as other stand-in parts see it (undefined when unknown). */
  destination(arn: string): {status: DestinationStatus; account: string; region: string} | undefined {
    this.#sweep()
    const destination = this.#destinations.get(arn)
    return destination ? this.#refresh(destination) : undefined
  }

  // --- topic rules ----------------------------------------------------------

  #ruleArn(c: CallContext, name: string): string {
    return `arn:aws:iot:${c.region}:${c.account}:rule/${name}`
  }

  async #putRule(c: CallContext, creating: boolean) {
    const payload = (c.input.topicRulePayload ?? c.input) as {actions?: unknown[]; errorAction?: unknown}
    const actions = [...(Array.isArray(payload.actions) ? payload.actions : []), ...(payload.errorAction ? [payload.errorAction] : [])]
    for (const action of actions) {
      const arn = (action as {kafka?: {destinationArn?: unknown}})?.kafka?.destinationArn
      if (arn === undefined) continue
      const destination = typeof arn === 'string' ? this.destination(arn) : undefined
      if (destination?.account !== c.account || destination.region !== c.region) {
        throw invalid(`The destination ${String(arn)} of the Kafka action does not exist`)
      }
      if (destination.status !== 'ENABLED') {
        throw invalid(`The destination ${String(arn)} of the Kafka action is ${destination.status}, not ENABLED`)
      }
    }
    const answer = await c.forward()
    if (creating && answer.status === 200) {
      const tagging = c.headers['x-amz-tagging']
      if (typeof tagging === 'string' && tagging) {
        this.#setTags(this.#ruleArn(c, c.facts.uriParams.ruleName), [...new URLSearchParams(tagging)].map(([Key, Value]) => ({Key, Value})))
      }
    }
    return relay(answer)
  }

  async #forgetOnSuccess(c: CallContext, arn: string) {
    const answer = await c.forward()
    if (answer.status === 200) this.#tags.delete(arn)
    return relay(answer)
  }

  /** Create* calls whose `tags` moto drops: keep them under the ARN moto answers with. */
  async #createTagged(c: CallContext) {
    const answer = await c.forward()
    const tags = c.input.tags
    if (answer.status === 200 && Array.isArray(tags) && tags.length) {
      const arn = Object.entries(parseJson(answer.body)).find(([key, value]) => key.endsWith('Arn') && typeof value === 'string')?.[1]
      if (typeof arn === 'string') this.#setTags(arn, tags as {Key: string; Value?: string}[])
    }
    return relay(answer)
  }

  // --- tags -----------------------------------------------------------------

  async #checkTaggable(c: CallContext, arn: unknown): Promise<string> {
    if (typeof arn !== 'string' || !arn) throw invalid("1 validation error detected: Value null at 'resourceArn' failed to satisfy constraint: Member must not be null")
    const parts = /^arn:aws[\w-]*:iot:([^:]+):(\d{12}):([a-z]+)\/(.+)$/.exec(arn)
    if (!parts) throw invalid(`Invalid resource ARN ${arn}`)
    const [, region, account, type, rest] = parts
    const missing = (): AwsServiceError => new AwsServiceError('ResourceNotFoundException', 404, `Resource ${arn} does not exist`)
    if (region !== c.region || account !== c.account) throw missing()
    if (type === 'ruledestination') {
      this.#find(c, arn)
    } else if (type === 'rule') {
      const rule = await c.moto.rest('iot', 'GET', `/rules/${encodeURIComponent(rest)}`, c.account, c.region)
      if (rule.status !== 200) throw missing()
    } else if (type === 'policy') {
      const policy = await c.moto.rest('iot', 'GET', `/policies/${encodeURIComponent(rest)}`, c.account, c.region)
      if (policy.status !== 200) throw missing()
    }
    return arn
  }

  /** Tags given at creation by a resource another part of the stand-in answers (provisioning templates). */
  readonly tagStore = {
    set: (arn: string, tags: {Key: string; Value?: string}[]): void => this.#setTags(arn, tags),
    forget: (arn: string): void => void this.#tags.delete(arn),
  }

  #setTags(arn: string, tags: {Key: string; Value?: string}[]): void {
    const current = this.#tags.get(arn) ?? new Map<string, string>()
    for (const tag of tags) current.set(tag.Key, tag.Value ?? '')
    if (current.size > 50) throw new AwsServiceError('LimitExceededException', 410, 'A resource can have at most 50 tags')
    this.#tags.set(arn, current)
  }

  async #tagResource(c: CallContext) {
    const arn = await this.#checkTaggable(c, c.input.resourceArn)
    const tags = c.input.tags
    if (!Array.isArray(tags)) throw invalid("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
    for (const tag of tags as {Key?: unknown; Value?: unknown}[]) {
      if (typeof tag?.Key !== 'string' || !tag.Key || tag.Key.length > 128 || tag.Key.startsWith('aws:')) throw invalid(`Invalid tag key ${JSON.stringify(tag?.Key)}`)
      if (tag.Value !== undefined && (typeof tag.Value !== 'string' || tag.Value.length > 256)) throw invalid(`Invalid value for tag ${tag.Key}`)
    }
    this.#setTags(arn, tags as {Key: string; Value?: string}[])
    return jsonReply('rest-json', {})
  }

  async #untagResource(c: CallContext) {
    const arn = await this.#checkTaggable(c, c.input.resourceArn)
    if (!Array.isArray(c.input.tagKeys)) throw invalid("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
    const current = this.#tags.get(arn)
    for (const key of c.input.tagKeys) current?.delete(String(key))
    return jsonReply('rest-json', {})
  }

  async #listTags(c: CallContext) {
    const arn = await this.#checkTaggable(c, c.url.searchParams.get('resourceArn'))
    const tags = [...(this.#tags.get(arn) ?? new Map()).entries()].map(([Key, Value]) => ({Key, Value}))
    return jsonReply('rest-json', {tags})
  }
}

/**
 * IoT assumes the destination's role to create network interfaces: the role
 * must exist in the caller's account and trust iot.amazonaws.com.
 */
async function checkRole(moto: MotoClient, account: string, region: string, roleArn: string, createdBefore: number): Promise<void> {
  const parts = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn)
  if (!parts) throw invalid(`The role ARN ${roleArn} is not valid`)
  const [, roleAccount, roleName] = parts
  const refusal = `IoT cannot assume role ${roleArn}: it does not exist or does not trust iot.amazonaws.com`
  if (roleAccount !== account) throw invalid(refusal)
  const answer = await moto.query('iam', account, region, {Action: 'GetRole', Version: '2010-05-08', RoleName: roleName})
  if (answer.status !== 200) throw invalid(refusal)
  const xml = answer.body.toString('utf8')
  if (xmlText(xml, 'Arn') !== roleArn) throw invalid(refusal)
  const document = decodeURIComponent(xmlText(xml, 'AssumeRolePolicyDocument') ?? '')
  if (!trusts(document, 'iot.amazonaws.com')) throw invalid(refusal)
  const created = Date.parse(xmlText(xml, 'CreateDate') ?? '')
  if (Number.isFinite(created) && created > createdBefore) throw invalid(refusal)
}

function trusts(document: string, service: string): boolean {
  try {
    const policy = JSON.parse(document) as {Statement?: unknown}
    const statements = Array.isArray(policy.Statement) ? policy.Statement : [policy.Statement]
    return statements.some((s: {Effect?: string; Principal?: {Service?: string | string[]}; Action?: string | string[]}) => {
      const services = [s?.Principal?.Service ?? []].flat()
      const actions = [s?.Action ?? []].flat()
      return s?.Effect === 'Allow' && services.includes(service) && actions.some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*')
    })
  } catch {
    return false
  }
}

/** What creating the destination's network interfaces will end in. */
async function provisioningOutcome(
  moto: MotoClient,
  account: string,
  region: string,
  vpcId: string,
  subnetIds: string[],
  securityGroups: string[],
): Promise<{status: DestinationStatus; reason?: string}> {
  const params: Record<string, string> = {Action: 'DescribeSubnets', Version: '2016-11-15', 'Filter.1.Name': 'vpc-id', 'Filter.1.Value.1': vpcId}
  const subnets = await moto.query('ec2', account, region, params)
  const found = new Set(xmlTexts(subnets.body.toString('utf8'), 'subnetId'))
  const missingSubnets = subnetIds.filter((id) => !found.has(id))
  if (missingSubnets.length) return {status: 'ERROR', reason: `Subnets ${missingSubnets.join(', ')} do not exist in ${vpcId}`}
  if (securityGroups.length) {
    const groups = await moto.query('ec2', account, region, {
      Action: 'DescribeSecurityGroups',
      Version: '2016-11-15',
      'Filter.1.Name': 'vpc-id',
      'Filter.1.Value.1': vpcId,
    })
    const known = new Set(xmlTexts(groups.body.toString('utf8'), 'groupId'))
    const missing = securityGroups.filter((id) => !known.has(id))
    if (missing.length) return {status: 'ERROR', reason: `Security groups ${missing.join(', ')} do not exist in ${vpcId}`}
  }
  return {status: 'ENABLED'}
}

async function rulesUsingDestination(moto: MotoClient, account: string, region: string, arn: string): Promise<string[]> {
  const list = await moto.rest('iot', 'GET', '/rules', account, region)
  const names = ((list.value.rules as {ruleName: string}[] | undefined) ?? []).map((r) => r.ruleName)
  const users: string[] = []
  for (const name of names) {
    const rule = await moto.rest('iot', 'GET', `/rules/${encodeURIComponent(name)}`, account, region)
    const body = rule.value.rule as {actions?: unknown[]; errorAction?: unknown} | undefined
    const actions = [...(body?.actions ?? []), ...(body?.errorAction ? [body.errorAction] : [])]
    if (actions.some((a) => (a as {kafka?: {destinationArn?: string}})?.kafka?.destinationArn === arn)) users.push(name)
  }
  return users
}
