// The policy documents an AWS service would weigh, read from moto as the
// owning account: a principal's trust, inline and attached managed policies
// (IAM answers them URL-encoded), a secret's resource policy and its KMS key's
// policy. Nothing here decides anything; engine.ts does.
import {xmlText, xmlTexts, type MotoClient} from '../moto-client.ts'

export interface PolicyDocument {Version?: string; Statement?: unknown; [key: string]: unknown}

/** SimulatePrincipalPolicy's SourcePolicyType values (IAM API reference, Statement). */
export type SourcePolicyType = 'user' | 'group' | 'role' | 'aws-managed' | 'user-managed' | 'resource' | 'none'

export interface NamedPolicy {
  /** The inline policy's name or the managed policy's ARN. */
  id: string
  type: SourcePolicyType
  policy: PolicyDocument
}

export interface PrincipalDocuments {
  arn: string
  account: string
  kind: 'role' | 'user'
  name: string
  /** The role's trust policy (none for a user). */
  trust?: PolicyDocument
  identity: NamedPolicy[]
  boundary?: NamedPolicy
  createdAt?: number
}

const IAM_VERSION = '2010-05-08'

/** `arn:aws:iam::123456789012:role/path/name` → its parts; undefined for anything else. */
export function parseIamArn(arn: string): {partition: string; account: string; kind: 'role' | 'user'; name: string} | undefined {
  const match = /^arn:(aws[\w-]*):iam::(\d{12}):(role|user)\/(?:[^]*\/)?([\w+=,.@-]+)$/.exec(arn)
  if (!match) return undefined
  return {partition: match[1], account: match[2], kind: match[3] as 'role' | 'user', name: match[4]}
}

/** A policy as IAM returns it (URL-encoded JSON) or as KMS and Secrets Manager do (JSON). */
export function parseDocument(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined
  const trimmed = text.trim()
  try {
    return JSON.parse(trimmed.startsWith('{') ? trimmed : decodeURIComponent(trimmed)) as PolicyDocument
  } catch {
    return undefined
  }
}

async function iam(moto: MotoClient, account: string, params: Record<string, string>): Promise<{status: number; xml: string}> {
  const answer = await moto.query('iam', account, 'us-east-1', {Version: IAM_VERSION, ...params})
  return {status: answer.status, xml: answer.body.toString('utf8')}
}

async function managedPolicy(moto: MotoClient, account: string, policyArn: string): Promise<NamedPolicy | undefined> {
  const policy = await iam(moto, account, {Action: 'GetPolicy', PolicyArn: policyArn})
  const version = xmlText(policy.xml, 'DefaultVersionId')
  if (policy.status !== 200 || !version) return undefined
  const answer = await iam(moto, account, {Action: 'GetPolicyVersion', PolicyArn: policyArn, VersionId: version})
  const document = parseDocument(xmlText(answer.xml, 'Document'))
  if (!document) return undefined
  return {id: policyArn, type: /^arn:aws[\w-]*:iam::aws:policy\//.test(policyArn) ? 'aws-managed' : 'user-managed', policy: document}
}

/** Everything IAM holds for a role or user; undefined when it does not exist. */
export async function principalDocuments(moto: MotoClient, arn: string): Promise<PrincipalDocuments | undefined> {
  const parts = parseIamArn(arn)
  if (!parts) return undefined
  const {account, kind, name} = parts
  const Kind = kind === 'role' ? 'Role' : 'User'
  const nameParam = {[`${Kind}Name`]: name}
  const got = await iam(moto, account, {Action: `Get${Kind}`, ...nameParam})
  if (got.status !== 200 || xmlText(got.xml, 'Arn') !== arn) return undefined
  const identity: NamedPolicy[] = []
  const inline = await iam(moto, account, {Action: `List${Kind}Policies`, ...nameParam, MaxItems: '1000'})
  for (const policyName of xmlTexts(xmlText(inline.xml, 'PolicyNames') ?? '', 'member')) {
    const answer = await iam(moto, account, {Action: `Get${Kind}Policy`, ...nameParam, PolicyName: policyName})
    const document = parseDocument(xmlText(answer.xml, 'PolicyDocument'))
    if (document) identity.push({id: policyName, type: kind, policy: document})
  }
  const attached = await iam(moto, account, {Action: `ListAttached${Kind}Policies`, ...nameParam, MaxItems: '1000'})
  for (const policyArn of xmlTexts(attached.xml, 'PolicyArn')) {
    const policy = await managedPolicy(moto, account, policyArn)
    if (policy) identity.push(policy)
  }
  const boundaryArn = xmlText(xmlText(got.xml, 'PermissionsBoundary') ?? '', 'PermissionsBoundaryArn')
  const boundary = boundaryArn ? await managedPolicy(moto, account, boundaryArn) : undefined
  const created = Date.parse(xmlText(got.xml, 'CreateDate') ?? '')
  return {
    arn,
    account,
    kind,
    name,
    trust: kind === 'role' ? parseDocument(xmlText(got.xml, 'AssumeRolePolicyDocument')) : undefined,
    identity,
    ...(boundary ? {boundary} : {}),
    ...(Number.isFinite(created) ? {createdAt: created} : {}),
  }
}

/** Whether an IAM role or user ARN names one that exists (in whichever account it names). */
export async function iamPrincipalExists(moto: MotoClient, arn: string): Promise<boolean> {
  const parts = parseIamArn(arn)
  if (!parts) return false
  const Kind = parts.kind === 'role' ? 'Role' : 'User'
  const got = await iam(moto, parts.account, {Action: `Get${Kind}`, [`${Kind}Name`]: parts.name})
  return got.status === 200 && xmlText(got.xml, 'Arn') === arn
}

export interface SecretFacts {
  arn: string
  account: string
  region: string
  resourcePolicy?: PolicyDocument
  /** As the secret holds it: key id, key ARN, alias name or alias ARN; undefined for the default aws/secretsmanager key. */
  kmsKeyId?: string
  currentVersionId?: string
}

/** The secret (by name or ARN; an ARN names its own account and region), or undefined when it does not exist. */
export async function secretFacts(moto: MotoClient, secretIdOrArn: string, account: string, region: string): Promise<SecretFacts | undefined> {
  const arnParts = /^arn:aws[\w-]*:secretsmanager:([^:]+):(\d{12}):secret:/.exec(secretIdOrArn)
  const secretAccount = arnParts ? arnParts[2] : account
  const secretRegion = arnParts ? arnParts[1] : region
  const described = await moto.json('secretsmanager', 'secretsmanager.DescribeSecret', secretAccount, secretRegion, {SecretId: secretIdOrArn})
  if (described.status !== 200 || typeof described.value.ARN !== 'string') return undefined
  const policy = await moto.json('secretsmanager', 'secretsmanager.GetResourcePolicy', secretAccount, secretRegion, {SecretId: secretIdOrArn})
  const stages = (described.value.VersionIdsToStages ?? {}) as Record<string, string[]>
  const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0]
  const resourcePolicy = parseDocument(typeof policy.value.ResourcePolicy === 'string' ? policy.value.ResourcePolicy : undefined)
  return {
    arn: described.value.ARN,
    account: secretAccount,
    region: secretRegion,
    ...(resourcePolicy ? {resourcePolicy} : {}),
    ...(typeof described.value.KmsKeyId === 'string' && described.value.KmsKeyId ? {kmsKeyId: described.value.KmsKeyId} : {}),
    ...(current ? {currentVersionId: current} : {}),
  }
}

export interface KeyFacts {
  arn: string
  account: string
  policy?: PolicyDocument
}

/** A KMS key by id, ARN, alias name or alias ARN, with its key policy; undefined when moto knows no such key. */
export async function keyFacts(moto: MotoClient, keyId: string, account: string, region: string): Promise<KeyFacts | undefined> {
  const arnParts = /^arn:aws[\w-]*:kms:([^:]+):(\d{12}):/.exec(keyId)
  const keyAccount = arnParts ? arnParts[2] : account
  const keyRegion = arnParts ? arnParts[1] : region
  const described = await moto.json('kms', 'TrentService.DescribeKey', keyAccount, keyRegion, {KeyId: keyId})
  const metadata = described.value.KeyMetadata as {Arn?: string; KeyId?: string} | undefined
  if (described.status !== 200 || !metadata?.Arn) return undefined
  const got = await moto.json('kms', 'TrentService.GetKeyPolicy', keyAccount, keyRegion, {KeyId: metadata.KeyId ?? metadata.Arn, PolicyName: 'default'})
  const policy = parseDocument(typeof got.value.Policy === 'string' ? got.value.Policy : undefined)
  return {arn: metadata.Arn, account: keyAccount, ...(policy ? {policy} : {})}
}
