// The IAM and KMS documents of walkthrough step 5, as pure functions: the role
// IoT assumes, what it may do, and the key-policy statement that lets it
// decrypt B's secret. What the role is allowed is asked of IAM (./simulate.ts),
// not worked out here; doctor only reads the trust and key policies' shape.
import {stackSid} from '../plan/tags.ts'
import {stackPrefix} from '../config/stack-names.ts'

// eslint-disable-next-line @typescript-eslint/consistent-type-definitions -- a type alias stays assignable to an index signature (key-policy's statements); an interface does not
export type PolicyStatement = {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Principal?: '*' | Record<string, string | string[]>
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface PolicyDocument {
  Version: string
  Statement: PolicyStatement[]
}

/** The role's name: IAM allows 64 characters; stack names have at most 40. */
export function iotRoleName(stack: string): string {
  return `${stackPrefix(stack)}-iot-to-msk`
}

export const iotRolePolicyName = 'iotctl-vpc-destination-and-secret'

export {partitionOf} from '../secrets/key-policy.ts'

export function roleArn(partition: string, accountId: string, name: string): string {
  return `arn:${partition}:iam::${accountId}:role/${name}`
}

/** Where the role is used: the IoT account, its partition and region. */
export interface IotAccount {
  partition: string
  region: string
  accountId: string
}

/**
 * The aws:SourceArn AWS IoT presents when it assumes the role: the rule (for
 * get_secret and the error action) or the rule destination (for its network
 * interfaces). The IoT developer guide's confused-deputy page gives the
 * pattern `arn:aws:iot:region:account-id:*` for both
 * (https://docs.aws.amazon.com/iot/latest/developerguide/cross-service-confused-deputy-prevention.html).
 */
export function iotSourceArnPattern(account: IotAccount): string {
  return `arn:${account.partition}:iot:${account.region}:${account.accountId}:*`
}

/**
 * Trusted by AWS IoT, and only on behalf of B's own rules and destinations:
 * aws:SourceAccount and aws:SourceArn together are the confused-deputy
 * protection the IoT developer guide recommends (same page as above; its
 * example uses StringEquals for the account and ArnLike for the ARN).
 */
export function iotTrustPolicy(account: IotAccount): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: {Service: 'iot.amazonaws.com'},
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: {'aws:SourceAccount': account.accountId},
        ArnLike: {'aws:SourceArn': iotSourceArnPattern(account)},
      },
    }],
  }
}

/**
 * What a VPC rule destination needs to place its network interfaces, as the
 * IoT developer guide's "Apache Kafka Virtual Private Cloud (VPC) destinations"
 * page documents the role's policy
 * (https://docs.aws.amazon.com/iot/latest/developerguide/kafka-vpc-destination.html):
 * these actions on any resource, plus the two conditional statements below.
 */
export const vpcDestinationActions = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeVpcs',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeSecurityGroups',
]

/** The tag AWS IoT puts on the interfaces it creates; the conditions of the documented policy key on it. */
export const destinationEniTag = 'VPCDestinationENI'

/** What get_secret needs, on the exact secret, not on `AmazonMSK_*`. */
export const getSecretActions = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']

export interface RolePolicyInput extends IotAccount {
  /** The secret(s) get_secret reads: both users' under alternating users. */
  secretArn: string | string[]
  /** The republish error action's topic ARN, when the rule has one. */
  errorTopicArn?: string
  /** `arn:aws:s3:::<bucket>/*` when the rule has an S3 action: s3:PutObject there only (IoT developer guide, "S3 action"). */
  s3ObjectsArn?: string
}

/** The network interfaces of the account and region (what CreateTags is scoped to). */
export function networkInterfaceArns(account: IotAccount): string {
  return `arn:${account.partition}:ec2:${account.region}:${account.accountId}:network-interface/*`
}

/** The context keys EC2 evaluates when IoT creates an interface with its tag (tags given at creation are a CreateTags action). */
export function createTagsContext(): Record<string, string> {
  return {'ec2:CreateAction': 'CreateNetworkInterface', [`aws:RequestTag/${destinationEniTag}`]: 'true'}
}

/** Statement ids of the role's policy, and what each grants (for the line that says what an update changes). */
export const rolePolicySids = {
  networkInterfaces: 'VpcDestinationNetworkInterfaces',
  interfacePermission: 'VpcDestinationInterfacePermission',
  interfaceTags: 'VpcDestinationInterfaceTags',
  secret: 'ReadKafkaCredentials',
  errorTopic: 'RepublishRuleErrors',
  s3Objects: 'WriteRuleObjects',
} as const

export function iotRolePolicy(input: RolePolicyInput): PolicyDocument {
  const statements: PolicyStatement[] = [
    {Sid: rolePolicySids.networkInterfaces, Effect: 'Allow', Action: vpcDestinationActions, Resource: '*'},
    {
      Sid: rolePolicySids.interfacePermission, Effect: 'Allow', Action: 'ec2:CreateNetworkInterfacePermission', Resource: '*',
      Condition: {StringEquals: {[`ec2:ResourceTag/${destinationEniTag}`]: 'true'}},
    },
    // EC2 authorizes tags given at creation as a separate CreateTags action on the new interface.
    {Sid: rolePolicySids.interfaceTags, Effect: 'Allow', Action: 'ec2:CreateTags', Resource: networkInterfaceArns(input), Condition: {StringEquals: createTagsContext()}},
    {Sid: rolePolicySids.secret, Effect: 'Allow', Action: getSecretActions, Resource: input.secretArn},
  ]
  if (input.errorTopicArn) statements.push({Sid: rolePolicySids.errorTopic, Effect: 'Allow', Action: 'iot:Publish', Resource: input.errorTopicArn})
  if (input.s3ObjectsArn) statements.push({Sid: rolePolicySids.s3Objects, Effect: 'Allow', Action: 's3:PutObject', Resource: input.s3ObjectsArn})
  return {Version: '2012-10-17', Statement: statements}
}

/** What one statement of the role's policy is for, in the words of a change line. */
function grantOf(sid: string | undefined, statement: PolicyStatement | undefined): string {
  switch (sid) {
    case rolePolicySids.networkInterfaces: return 'the EC2 network-interface calls of the VPC destination'
    case rolePolicySids.interfacePermission: return `ec2:CreateNetworkInterfacePermission on interfaces tagged ${destinationEniTag}=true`
    case rolePolicySids.interfaceTags: return `ec2:CreateTags of the ${destinationEniTag}=true tag on new interfaces`
    case rolePolicySids.secret: return `get_secret on ${list(statement?.Resource).join(', ') || 'the secret'}`
    case rolePolicySids.errorTopic: return `iot:Publish to ${list(statement?.Resource).join(', ') || 'the error topic'} for the error action`
    case rolePolicySids.s3Objects: return `s3:PutObject on ${list(statement?.Resource).join(', ') || 'the bucket'} for the S3 action`
    default: return sid ? `statement ${sid}` : 'a statement without Sid'
  }
}

/**
 * What putting `wanted` in place of `current` changes, one phrase per
 * statement (matched by Sid): "add …", "change …", "remove …".
 */
export function policyChanges(current: PolicyDocument, wanted: PolicyDocument): string[] {
  const changes: string[] = []
  const bySid = new Map(current.Statement.map((s, i) => [s.Sid ?? `#${i}`, s]))
  for (const statement of wanted.Statement) {
    const before = bySid.get(statement.Sid ?? '')
    if (!before) changes.push(`add ${grantOf(statement.Sid, statement)}`)
    else if (!samePolicy({Version: '', Statement: [before]}, {Version: '', Statement: [statement]})) changes.push(`change ${grantOf(statement.Sid, statement)}`)
    bySid.delete(statement.Sid ?? '')
  }
  for (const [sid, statement] of bySid) changes.push(`remove ${grantOf(sid.startsWith('#') ? undefined : sid, statement)}`)
  return changes
}

export function topicArn(partition: string, region: string, accountId: string, topic: string): string {
  return `arn:${partition}:iot:${region}:${accountId}:topic/${topic}`
}

export function keyUserSid(stack: string): string {
  return stackSid(stack, 'IotRuleRoleKeyUser')
}

/**
 * The role as a user of B's key, for decrypting only through Secrets Manager
 * in this region (kms:ViaService), which is all get_secret does.
 */
export function keyUserStatement(input: {stack: string; roleArn: string; region: string}): PolicyStatement {
  return {
    Sid: keyUserSid(input.stack),
    Effect: 'Allow',
    Principal: {AWS: input.roleArn},
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
    Condition: {StringEquals: {'kms:ViaService': `secretsmanager.${input.region}.amazonaws.com`}},
  }
}

/** Parses a policy as IAM returns it (URL-encoded JSON) or as KMS returns it (JSON); a single Statement becomes a list. */
export function parsePolicy(text: string): PolicyDocument {
  const json = text.trimStart().startsWith('{') ? text : decodeURIComponent(text)
  const parsed = JSON.parse(json) as {Version?: string; Statement?: PolicyStatement | PolicyStatement[]}
  const statements = parsed.Statement === undefined ? [] : Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]
  return {Version: parsed.Version ?? '2012-10-17', Statement: statements}
}

/** True when two policies say the same, regardless of key order and of `x` versus `[x]`. */
export function samePolicy(a: PolicyDocument, b: PolicyDocument): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b))
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical)
    return items.length === 1 && typeof items[0] === 'string' ? items[0] : items
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical((value as Record<string, unknown>)[k])]))
  }
  return value
}

function list(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

/** IAM's wildcard match: `*` any run of characters, `?` one; actions case-insensitively. */
function matches(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value)
}

function statementCovers(statement: PolicyStatement, action: string, resource: string): boolean {
  const actionMatches = statement.NotAction !== undefined
    ? !list(statement.NotAction).some((p) => matches(p, action, true))
    : list(statement.Action).some((p) => matches(p, action, true))
  return actionMatches && list(statement.Resource ?? '*').some((p) => matches(p, resource))
}

/** Whether a trust policy lets `service` assume the role. */
export function trustsService(trust: PolicyDocument, service: string): boolean {
  return trust.Statement.some((s) => s.Effect === 'Allow' &&
    list(s.Action).some((a) => matches(a, 'sts:AssumeRole', true)) &&
    typeof s.Principal === 'object' && list(s.Principal.Service).includes(service))
}

/** Whether a key policy has an Allow statement for `principalArn` covering `action`. */
export function keyPolicyAllows(policy: PolicyDocument, principalArn: string, action: string): boolean {
  return policy.Statement.some((s) => s.Effect === 'Allow' &&
    typeof s.Principal === 'object' && list(s.Principal.AWS).includes(principalArn) &&
    statementCovers({...s, Resource: s.Resource ?? '*'}, action, '*'))
}
