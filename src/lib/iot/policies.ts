// The IAM and KMS documents of walkthrough step 5, as pure functions: the role
// IoT assumes, what it may do, and the key-policy statement that lets it
// decrypt B's secret. Also a small evaluator `doctor` uses to say whether a
// set of policies allows what the destination and get_secret need.
import {stackSid} from '../plan/tags.ts'

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
  return `iotctl-${stack}-iot-to-msk`
}

export const iotRolePolicyName = 'iotctl-vpc-destination-and-secret'

export {partitionOf} from '../secrets/key-policy.ts'

export function roleArn(partition: string, accountId: string, name: string): string {
  return `arn:${partition}:iam::${accountId}:role/${name}`
}

/**
 * Trusted by AWS IoT, and only on behalf of B's own account: the
 * aws:SourceAccount condition is the confused-deputy protection the IoT
 * developer guide recommends for rule roles.
 */
export function iotTrustPolicy(accountId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: {Service: 'iot.amazonaws.com'},
      Action: 'sts:AssumeRole',
      Condition: {StringEquals: {'aws:SourceAccount': accountId}},
    }],
  }
}

/**
 * What a VPC rule destination needs to create and use its network interfaces
 * (IoT developer guide, "VPC destinations": the console's generated policy).
 */
export const vpcDestinationActions = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:CreateNetworkInterfacePermission',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeSubnets',
  'ec2:DescribeVpcs',
  'ec2:DescribeVpcAttribute',
  'ec2:DescribeSecurityGroups',
]

/** What get_secret needs, on the exact secret, not on `AmazonMSK_*`. */
export const getSecretActions = ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']

export interface RolePolicyInput {
  secretArn: string
  /** The republish error action's topic ARN, when the rule has one. */
  errorTopicArn?: string
}

export function iotRolePolicy(input: RolePolicyInput): PolicyDocument {
  const statements: PolicyStatement[] = [
    {Sid: 'VpcDestinationNetworkInterfaces', Effect: 'Allow', Action: vpcDestinationActions, Resource: '*'},
    {Sid: 'ReadKafkaCredentials', Effect: 'Allow', Action: getSecretActions, Resource: input.secretArn},
  ]
  if (input.errorTopicArn) statements.push({Sid: 'RepublishRuleErrors', Effect: 'Allow', Action: 'iot:Publish', Resource: input.errorTopicArn})
  return {Version: '2012-10-17', Statement: statements}
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

/**
 * Whether identity policies allow `action` on `resource`: some Allow covers
 * it and no Deny does. Conditions are taken as met (doctor asks "is it
 * granted at all", not a full simulation).
 */
export function policiesAllow(policies: PolicyDocument[], action: string, resource: string): boolean {
  const statements = policies.flatMap((p) => p.Statement)
  if (statements.some((s) => s.Effect === 'Deny' && statementCovers(s, action, resource))) return false
  return statements.some((s) => s.Effect === 'Allow' && statementCovers(s, action, resource))
}

/** The actions of `wanted` that the policies do not allow on `resource`. */
export function deniedActions(policies: PolicyDocument[], wanted: string[], resource: string): string[] {
  return wanted.filter((action) => !policiesAllow(policies, action, resource))
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
