// `iotctl msk acl` and doctor's ACL check: the Kafka ACLs a locked-down cluster
// (allow.everyone.if.no.acl.found=false, configuration.ts) needs so that the
// stack's SCRAM users can produce to the rule's topic, and a named consumer can
// read it with its group. Idempotent: the broker's ACLs are described first and
// only what is missing is created.
//
// Which operations each client needs: a producer Write (and Describe, for
// metadata) on the topic — since Kafka 3.0 Write on a topic also allows the
// idempotent producer (KIP-679); a consumer Read on the topic and Read on its
// group (Apache Kafka documentation, "Authorization and ACLs", operations and
// resources table). MSK principals of SASL/SCRAM users are `User:<username>`
// (MSK developer guide, "Apache Kafka ACLs",
// https://docs.aws.amazon.com/msk/latest/developerguide/msk-acls.html).
import type {Acl, AclFilter, AclPermission, AclTarget} from '@platformatic/kafka'
import {CheckFailed, InputError} from '../errors.ts'
import {checkKafkaTopic} from '../iot/names.ts'

/** One resource pattern of a DescribeAcls answer, with its ACLs. */
export interface DescribeAclsResponseResource extends AclTarget {
  acls: AclPermission[]
}

/** The part of @platformatic/kafka's Admin this module uses (a fake in unit tests). */
export interface AclAdmin {
  describeAcls(options: {filter: AclFilter}): Promise<DescribeAclsResponseResource[]>
  createAcls(options: {creations: Acl[]}): Promise<void>
}

export type AclResource = 'topic' | 'group' | 'cluster'
export type AclOperation = 'Write' | 'Describe' | 'Read' | 'Create' | 'Alter' | 'AlterConfigs' | 'DescribeConfigs'

/** One ALLOW the stack wants: principal User:<user> may <operation> the literal <resource> <name>, from any host. */
export interface AclGrant {
  user: string
  resource: AclResource
  name: string
  operation: AclOperation
  /** Why the stack wants it. */
  role: 'producer' | 'consumer' | 'admin'
}

export interface AclGrantState extends AclGrant {
  /** present: the broker has it; added: created now; missing: a --dry-run would create it; denied: a DENY ACL overrides any grant (Kafka: DENY wins), left for the user to remove. */
  state: 'present' | 'added' | 'missing' | 'denied'
}

// Kafka's numeric codes (the protocol's ResourceType, PatternType, AclOperation, PermissionType).
const RESOURCE = {topic: 2, group: 3, cluster: 4} as const
const LITERAL = 3
const OPERATION = {Read: 3, Write: 4, Create: 5, Alter: 7, Describe: 8, DescribeConfigs: 10, AlterConfigs: 11} as const
/** The one cluster resource's name in Kafka's ACLs. */
export const CLUSTER_RESOURCE = 'kafka-cluster'
/**
 * What the managing principal needs on the cluster to keep managing ACLs (Alter, Describe) and
 * topics (Create, AlterConfigs, DescribeConfigs) once no ACL means no access. Never ClusterAction:
 * that is the brokers' own (MSK developer guide, "Apache Kafka ACLs").
 */
export const adminClusterOperations = ['Alter', 'Describe', 'Create', 'AlterConfigs', 'DescribeConfigs'] as const satisfies readonly AclOperation[]
const ALL = 2
const ALLOW = 3
const DENY = 2

// SCRAM user names as MSK takes them from the secret: no spaces, no ',' or '=' (RFC 5802 escapes
// them) and none of the characters Kafka's principal syntax gives meaning ('*', ':' ).
const USER = /^[A-Za-z0-9._@+-]{1,256}$/
// Consumer group ids: any string to Kafka; here, as topic names, so an ACL names exactly one group.
const GROUP = /^[A-Za-z0-9._-]{1,249}$/

export function checkKafkaUser(user: string, flag: string): string {
  if (!USER.test(user)) throw new InputError(`${flag} '${user}': a SCRAM user name has 1 to 256 letters, digits, '.', '_', '@', '+' or '-'`)
  return user
}

export function checkConsumerGroup(group: string, flag = '--group'): string {
  if (!GROUP.test(group) || group === '.' || group === '..') throw new InputError(`${flag} '${group}': a consumer group for an ACL has 1 to 249 letters, digits, '.', '_' or '-'`)
  return group
}

/** A topic to grant on: a Kafka topic name, not a rule template (`${…}` names many topics). */
export function checkAclTopic(topic: string, flag: string): string {
  checkKafkaTopic(topic, flag)
  if (topic.includes('${')) throw new InputError(`${flag} '${topic}': the topic is a substitution template; pass the topic to grant on with --topic`)
  return topic
}

export interface AclPlanRequest {
  /** The stack's SCRAM users (the rule's producers). */
  producers: string[]
  topic: string
  consumer?: {user: string; group: string}
  /** `--lock-down`: the user that manages ACLs and topics, granted what it needs on the cluster before it is locked. */
  admin?: string
}

/** What the stack wants on the broker, in a stable order. */
export function wantedGrants(request: AclPlanRequest): AclGrant[] {
  const grants: AclGrant[] = []
  for (const user of [...new Set(request.producers)]) {
    grants.push({user, resource: 'topic', name: request.topic, operation: 'Write', role: 'producer'})
    grants.push({user, resource: 'topic', name: request.topic, operation: 'Describe', role: 'producer'})
  }
  if (request.consumer) {
    const {user, group} = request.consumer
    grants.push({user, resource: 'topic', name: request.topic, operation: 'Read', role: 'consumer'})
    grants.push({user, resource: 'topic', name: request.topic, operation: 'Describe', role: 'consumer'})
    grants.push({user, resource: 'group', name: group, operation: 'Read', role: 'consumer'})
  }
  if (request.admin !== undefined) {
    for (const operation of adminClusterOperations) grants.push({user: request.admin, resource: 'cluster', name: CLUSTER_RESOURCE, operation, role: 'admin'})
  }
  return grants
}

function toAcl(grant: AclGrant): Acl {
  return {
    resourceType: RESOURCE[grant.resource],
    resourceName: grant.name,
    resourcePatternType: LITERAL,
    principal: `User:${grant.user}`,
    host: '*',
    operation: OPERATION[grant.operation],
    permissionType: ALLOW,
  }
}

/** Whether an ACL pattern of the broker applies to the grant's resource and principal. */
function applies(grant: AclGrant, resource: DescribeAclsResponseResource, acl: AclPermission): boolean {
  if (resource.resourceType !== RESOURCE[grant.resource]) return false
  const name = resource.resourceName
  const matches = resource.resourcePatternType === LITERAL ? name === grant.name || name === '*' : resource.resourcePatternType === 4 && grant.name.startsWith(name)
  return matches && (acl.principal === `User:${grant.user}` || acl.principal === 'User:*')
}

/**
 * How the broker's ACLs stand for the grant: an ALLOW on that literal resource or a
 * wildcard/prefix pattern matching it, for the user or User:*, from any host, with the
 * operation or All (Read and Write imply Describe, as Kafka's authorizer says) gives
 * it; a DENY of the operation (or All) from any host takes it away whatever allows it.
 */
function standing(grant: AclGrant, resources: DescribeAclsResponseResource[]): 'present' | 'missing' | 'denied' {
  // Kafka's implied operations: Read, Write, Delete and Alter imply Describe; AlterConfigs implies DescribeConfigs.
  const gives = (acl: AclPermission): boolean =>
    acl.operation === ALL || acl.operation === OPERATION[grant.operation] ||
    (grant.operation === 'Describe' && (acl.operation === OPERATION.Read || acl.operation === OPERATION.Write || acl.operation === 6 || acl.operation === OPERATION.Alter)) ||
    (grant.operation === 'DescribeConfigs' && acl.operation === OPERATION.AlterConfigs)
  const pairs = resources.flatMap((resource) => resource.acls.filter((acl) => applies(grant, resource, acl)))
  if (pairs.some((acl) => acl.permissionType === DENY && (acl.operation === ALL || acl.operation === OPERATION[grant.operation]))) return 'denied'
  return pairs.some((acl) => acl.permissionType === ALLOW && acl.host === '*' && gives(acl)) ? 'present' : 'missing'
}

/** The broker's ACLs for the resources of these grants (literal, wildcard and prefixed patterns: filter type MATCH). */
async function describeFor(admin: AclAdmin, grants: AclGrant[]): Promise<DescribeAclsResponseResource[]> {
  const resources = new Map<string, AclGrant>()
  for (const grant of grants) resources.set(`${grant.resource} ${grant.name}`, grant)
  const found: DescribeAclsResponseResource[] = []
  for (const grant of resources.values()) {
    // MATCH (2): every pattern that matches the resource, literal, '*' and prefixed.
    const filter: AclFilter = {resourceType: RESOURCE[grant.resource], resourceName: grant.name, resourcePatternType: 2, principal: null, host: null, operation: 1, permissionType: 1}
    found.push(...await admin.describeAcls({filter}))
  }
  return found
}

/** Reads which of the wanted grants the broker already has. */
export async function readGrants(admin: AclAdmin, grants: AclGrant[], brokers: string): Promise<AclGrantState[]> {
  let resources: DescribeAclsResponseResource[]
  try {
    resources = await describeFor(admin, grants)
  } catch (error) {
    throw aclFailure('reading the Kafka ACLs', brokers, error)
  }
  return grants.map((grant) => ({...grant, state: standing(grant, resources)}))
}

export interface AclResult {
  brokers: string
  topic: string
  dryRun: boolean
  changed: boolean
  grants: AclGrantState[]
}

/** Describes first, then creates only what is missing (nothing with dryRun). */
export async function grantAcls(admin: AclAdmin, request: AclPlanRequest & {brokers: string; dryRun: boolean}): Promise<AclResult> {
  const states = await readGrants(admin, wantedGrants(request), request.brokers)
  const missing = states.filter((s) => s.state === 'missing')
  if (missing.length > 0 && !request.dryRun) {
    try {
      await admin.createAcls({creations: missing.map(toAcl)})
    } catch (error) {
      throw aclFailure('creating Kafka ACLs', request.brokers, error)
    }
    for (const state of missing) state.state = 'added'
  }
  return {brokers: request.brokers, topic: request.topic, dryRun: request.dryRun, changed: missing.length > 0 && !request.dryRun, grants: states}
}

function errorText(error: unknown): string {
  const e = error as {message?: string; errors?: unknown[]; cause?: unknown}
  const inner = [...(e.errors ?? []), ...(e.cause ? [e.cause] : [])].map((x) => errorText(x)).filter(Boolean)
  return [...new Set([e.message, ...inner].filter(Boolean))].join(': ')
}

function aclFailure(what: string, brokers: string, error: unknown): CheckFailed {
  const text = errorText(error)
  if (/CLUSTER_AUTHORIZATION_FAILED|not authorized|authorization/i.test(text)) {
    return new CheckFailed(`${what} at ${brokers}: the user is not allowed to administer ACLs (${text}); use an admin user's secret with --admin-secret (a user with Alter and Describe on the cluster, or a super user)`)
  }
  if (/SECURITY_DISABLED|No Authorizer/i.test(text)) return new CheckFailed(`${what} at ${brokers}: the brokers run no authorizer (${text})`)
  return new CheckFailed(`${what} at ${brokers}: ${text}`)
}

/** `User:alice may Write topic device-data` for lines and findings. */
export function grantLabel(grant: AclGrant): string {
  return `User:${grant.user} ${grant.operation} on ${grant.resource} ${grant.name}`
}
