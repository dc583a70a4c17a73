// Key policies of the stack's KMS keys, as pure functions of the policy
// document. The stack never rewrites a policy wholesale: it keeps the account
// root statement (without it, IAM policies cannot grant use of the key and the
// key can become unmanageable — KMS developer guide, "Default key policy") and
// every statement it did not write, and adds or removes only statements whose
// Sid names the stack (stackSid), so cleanup finds exactly its own.
import {stackSid} from '../plan/tags.ts'

export interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Principal?: unknown
  Action?: string | string[]
  Resource?: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
  [key: string]: unknown
}

export interface KeyPolicy {
  Version: string
  Id?: string
  Statement: PolicyStatement[]
}

export interface KeyPolicyContext {
  stack: string
  accountId: string
  region: string
  /** aws, aws-cn, aws-us-gov… (from the caller's ARN). */
  partition: string
}

/** The Sid of the stack's statement on its keys (the purpose words must stay stable: cleanup matches them). */
export function secretsManagerSid(stack: string): string {
  return stackSid(stack, 'SecretsManagerUse')
}

/** Every Sid this module writes, for removal at cleanup. */
export function stackKeyPolicySids(stack: string): string[] {
  return [secretsManagerSid(stack)]
}

export function partitionOf(arn: string): string {
  return arn.split(':')[1] || 'aws'
}

/** The statement of KMS's default key policy that delegates the key to the account's IAM policies. */
export function rootStatement(context: Pick<KeyPolicyContext, 'accountId' | 'partition'>): PolicyStatement {
  return {
    Sid: 'Enable IAM User Permissions',
    Effect: 'Allow',
    Principal: {AWS: `arn:${context.partition}:iam::${context.accountId}:root`},
    Action: 'kms:*',
    Resource: '*',
  }
}

/**
 * The stack's statement: principals of this account may use the key only
 * through Secrets Manager in this region — the same grant the AWS managed
 * aws/secretsmanager key makes (which MSK refuses), so MSK's service role in
 * account A and the IoT rule's get_secret in account B can decrypt the secret.
 */
export function stackKeyStatements(context: KeyPolicyContext): PolicyStatement[] {
  return [{
    Sid: secretsManagerSid(context.stack),
    Effect: 'Allow',
    Principal: {AWS: '*'},
    Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
    Resource: '*',
    Condition: {
      StringEquals: {
        'kms:CallerAccount': context.accountId,
        'kms:ViaService': `secretsmanager.${context.region}.amazonaws.com`,
      },
    },
  }]
}

/** The policy of a new key: the root statement and the stack's statements. */
export function newKeyPolicy(context: KeyPolicyContext): KeyPolicy {
  return {Version: '2012-10-17', Statement: [rootStatement(context), ...stackKeyStatements(context)]}
}

/** Parses a GetKeyPolicy answer; a missing or malformed one is an empty policy. */
export function parseKeyPolicy(text: string | undefined): KeyPolicy {
  if (!text) return {Version: '2012-10-17', Statement: []}
  const parsed = JSON.parse(text) as Partial<KeyPolicy> & {Statement?: PolicyStatement | PolicyStatement[]}
  const statements = parsed.Statement === undefined ? [] : Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]
  return {...parsed, Version: parsed.Version ?? '2012-10-17', Statement: statements}
}

/** Statements of `wanted` that the policy lacks or holds in another form, by Sid. */
export function missingStatements(policy: KeyPolicy, wanted: PolicyStatement[]): PolicyStatement[] {
  return wanted.filter((statement) => {
    const present = policy.Statement.find((s) => s.Sid === statement.Sid)
    return !present || canonical(present) !== canonical(statement)
  })
}

/** The policy with `statements` added, replacing any of the same Sid; all others kept in place. */
export function withStatements(policy: KeyPolicy, statements: PolicyStatement[]): KeyPolicy {
  const bySid = new Map(statements.map((s) => [s.Sid, s]))
  const kept = policy.Statement.map((s) => (s.Sid !== undefined && bySid.has(s.Sid) ? bySid.get(s.Sid)! : s))
  const added = statements.filter((s) => !policy.Statement.some((p) => p.Sid === s.Sid))
  return {...policy, Statement: [...kept, ...added]}
}

/** The policy without the statements whose Sid is exactly one of `sids` (never a prefix match: stack "a" must not remove stack "ab"'s). */
export function withoutStatements(policy: KeyPolicy, sids: string[]): KeyPolicy {
  const remove = new Set(sids)
  return {...policy, Statement: policy.Statement.filter((s) => s.Sid === undefined || !remove.has(s.Sid))}
}

/** Order-insensitive comparison of two statements (KMS may reorder keys and single-element lists). */
function canonical(statement: PolicyStatement): string {
  const normalise = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.length === 1 ? normalise(value[0]) : value.map(normalise).map((v) => JSON.stringify(v)).sort()
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, normalise(v)]))
    }
    return value
  }
  return JSON.stringify(normalise(statement))
}
