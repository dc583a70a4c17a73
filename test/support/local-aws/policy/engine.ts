// Policy evaluation where an AWS service acts for the customer (issue 13),
// with @cloud-copilot/iam-simulate: a maintained evaluator that implements
// AWS's documented evaluation logic — identity and resource policies, same and
// cross account, permission boundaries, every condition operator, the role
// trust and KMS key-policy rules (a key policy delegating to the account root
// lets IAM policies count) — and validates actions, resource ARNs and context
// keys against the service authorization reference (iam-data). Hand-written
// string matching would miss exactly the conditions the issue is about.
import {getDenialReasons, getGrantReasons, isWildcardOnlyAction, runSimulation, type RequestDenial, type Simulation} from '@cloud-copilot/iam-simulate'
import type {MotoClient} from '../moto-client.ts'
import {keyFacts, parseIamArn, principalDocuments, secretFacts, type NamedPolicy, type PolicyDocument, type PrincipalDocuments, type SourcePolicyType} from './documents.ts'

/** The answer of every question (the shape the other slices rely on). */
export interface Decision {allowed: boolean; reason: string}

/** iam:SimulatePrincipalPolicy's EvalDecision values. */
export type EvalDecision = 'allowed' | 'explicitDeny' | 'implicitDeny'

export interface MatchedStatement {
  sourcePolicyId: string
  sourcePolicyType: SourcePolicyType
  /** 1-based, within the policy's Statement list. */
  statementIndex: number
}

export interface Evaluation extends Decision {
  decision: EvalDecision
  matched: MatchedStatement[]
}

export interface EvaluationRequest {
  /** Who acts: an IAM ARN or a service principal (iot.amazonaws.com). */
  principal: string
  action: string
  resource: string
  /** The account owning the resource (decides same- versus cross-account evaluation). */
  resourceAccount: string
  context?: Record<string, string | string[]>
  identity?: NamedPolicy[]
  boundary?: NamedPolicy
  resourcePolicy?: PolicyDocument
}

export interface PolicyEngineOptions {
  /** The region of the service acting (default us-east-1). */
  region?: string
  /** The stand-in's live settings: with `strictPolicies` false, canReadSecret allows everything (the rest still evaluates). */
  settings?: {strictPolicies: boolean}
}

const denialWords: Record<string, string> = {
  identity: 'identity-based policy',
  resource: 'resource-based policy',
  pb: 'permissions boundary',
  scp: 'service control policy',
  rcp: 'resource control policy',
  vpce: 'VPC endpoint policy',
}

/** AWS's wording of an access denial (IAM User Guide, "Access denied error messages"). */
export function deniedMessage(principal: string, action: string, resource: string, denial?: RequestDenial): string {
  const start = `User: ${principal} is not authorized to perform: ${action} on resource: ${resource}`
  const words = denialWords[denial?.policyType ?? 'identity'] ?? 'identity-based policy'
  if (denial?.denialType === 'Explicit') return `${start} with an explicit deny in a ${words}`
  return `${start} because no ${words} allows the ${action} action`
}

/** One request through iam-simulate, the answer in IAM's terms. */
export async function evaluate(request: EvaluationRequest): Promise<Evaluation> {
  const identity = request.identity ?? []
  // Actions without resource-level permissions are authorized against `*`, whatever resource is named.
  const [prefix, name] = request.action.split(':')
  const resource = prefix && name && !/[*?]/.test(request.action) && (await isWildcardOnlyAction(prefix, name)) ? '*' : request.resource
  const simulation: Simulation = {
    request: {
      principal: request.principal,
      action: request.action,
      resource: {resource, accountId: request.resourceAccount},
      contextVariables: request.context ?? {},
    },
    identityPolicies: identity.map((p) => ({name: p.id, policy: p.policy})),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? {resourcePolicy: request.resourcePolicy} : {}),
    ...(request.boundary ? {permissionBoundaryPolicies: [{name: request.boundary.id, policy: request.boundary.policy}]} : {}),
  }
  const result = await runSimulation(simulation, {})
  if (result.resultType === 'error') {
    return {
      allowed: false,
      decision: 'implicitDeny',
      matched: [],
      reason: `${deniedMessage(request.principal, request.action, request.resource)} (the local AWS could not evaluate it: ${result.errors.message})`,
    }
  }
  const analyses = result.resultType === 'single' ? [result.result.analysis] : result.results.map((r) => r.analysis)
  const decision: EvalDecision = result.overallResult === 'Allowed' ? 'allowed' : result.overallResult === 'ExplicitlyDenied' ? 'explicitDeny' : 'implicitDeny'
  const policyType = (type: string, id: string | undefined): SourcePolicyType => {
    if (type === 'resource') return 'resource'
    return identity.find((p) => p.id === id)?.type ?? request.boundary?.type ?? 'none'
  }
  if (decision === 'allowed') {
    const matched = analyses.flatMap((a) => getGrantReasons(a)).map((g) => ({
      sourcePolicyId: 'policyIdentifier' in g ? g.policyIdentifier : 'ResourcePolicy',
      sourcePolicyType: policyType(g.policyType, 'policyIdentifier' in g ? g.policyIdentifier : undefined),
      statementIndex: g.statementIndex,
    }))
    const first = matched[0]
    const by = first ? ` by statement ${first.statementIndex} of ${first.sourcePolicyType === 'resource' ? 'the resource policy' : first.sourcePolicyId}` : ''
    return {allowed: true, decision, matched, reason: `${request.principal} may perform ${request.action} on ${request.resource}: allowed${by}`}
  }
  const denials = analyses.flatMap((a) => getDenialReasons(a))
  // A service principal has no identity policies: what stops it is the resource's policy.
  const service = !request.principal.startsWith('arn:')
  // No denial reported (a cross-account request with no resource policy at all): the identity side allowed it, the resource side did not.
  const fallback: RequestDenial = {policyType: analyses.length > 0 && analyses.every((a) => a.identityAnalysis?.result === 'Allowed') ? 'resource' : 'identity', denialType: 'Implicit'}
  const denial = denials.find((d) => d.denialType === 'Explicit') ?? (service ? denials.find((d) => d.policyType === 'resource') : undefined) ?? denials[0] ?? fallback
  const matched = denials.flatMap((d) => d.denialType === 'Explicit'
    ? [{sourcePolicyId: d.policyIdentifier ?? 'ResourcePolicy', sourcePolicyType: policyType(d.policyType, d.policyIdentifier), statementIndex: d.statementIndex}]
    : [])
  return {allowed: false, decision, matched, reason: deniedMessage(request.principal, request.action, request.resource, denial)}
}

/** The managed aws/secretsmanager key's policy: the account's principals, through Secrets Manager in the region (KMS developer guide, "AWS managed keys"). */
export function secretsManagerManagedKeyPolicy(account: string, region: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager',
        Effect: 'Allow',
        Principal: {AWS: '*'},
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {StringEquals: {'kms:CallerAccount': account, 'kms:ViaService': `secretsmanager.${region}.amazonaws.com`}},
      },
      {
        Sid: 'Allow access through AWS Secrets Manager for all principals in the account that are authorized to use AWS Secrets Manager',
        Effect: 'Allow',
        Principal: {AWS: '*'},
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: {StringEquals: {'kms:CallerAccount': account}, StringLike: {'kms:ViaService': `secretsmanager.${region}.amazonaws.com`}},
      },
      {
        Sid: 'Allow direct access to key metadata to the account',
        Effect: 'Allow',
        Principal: {AWS: `arn:aws:iam::${account}:root`},
        Action: ['kms:Describe*', 'kms:Get*', 'kms:List*', 'kms:RevokeGrant'],
        Resource: '*',
      },
    ],
  }
}

const isDefaultKey = (keyId: string | undefined): boolean =>
  keyId === undefined || keyId === 'alias/aws/secretsmanager' || /^arn:aws[\w-]*:kms:[^:]+:\d{12}:alias\/aws\/secretsmanager$/.test(keyId)

export class PolicyEngine {
  readonly #moto: MotoClient
  readonly #region: string
  readonly #settings?: {strictPolicies: boolean}

  constructor(moto: MotoClient, options: PolicyEngineOptions = {}) {
    this.#moto = moto
    this.#region = options.region ?? 'us-east-1'
    this.#settings = options.settings
  }

  /** The principal's documents from moto (undefined when it does not exist). */
  principal(arn: string): Promise<PrincipalDocuments | undefined> {
    return principalDocuments(this.#moto, arn)
  }

  /** Whether `servicePrincipal` may assume the role: its trust policy, with the context the service presents (aws:SourceAccount, aws:SourceArn). */
  async mayAssume(roleArn: string, servicePrincipal: string, context: Record<string, string>): Promise<Decision> {
    const role = await this.principal(roleArn)
    const account = parseIamArn(roleArn)?.account ?? ''
    if (role?.kind !== 'role') {
      return {allowed: false, reason: `${deniedMessage(servicePrincipal, 'sts:AssumeRole', roleArn)} (the role does not exist)`}
    }
    const result = await evaluate({
      principal: servicePrincipal,
      action: 'sts:AssumeRole',
      resource: roleArn,
      resourceAccount: account,
      context,
      resourcePolicy: role.trust ?? {Version: '2012-10-17', Statement: []},
    })
    return {allowed: result.allowed, reason: result.reason}
  }

  /** Whether the role's own policies (inline, attached, boundary) let it perform `action` on `resource` in its account. */
  async roleMay(roleArn: string, action: string, resource: string, context: Record<string, string | string[]> = {}): Promise<Decision> {
    const result = await this.principalMay(roleArn, action, resource, context)
    return {allowed: result.allowed, reason: result.reason}
  }

  /** roleMay for a role or user, with the full evaluation (SimulatePrincipalPolicy's answer). */
  async principalMay(
    principalArn: string,
    action: string,
    resource: string,
    context: Record<string, string | string[]> = {},
    extra: {identity?: NamedPolicy[]; resourcePolicy?: PolicyDocument; resourceAccount?: string} = {},
  ): Promise<Evaluation> {
    const principal = await this.principal(principalArn)
    if (!principal) {
      return {allowed: false, decision: 'implicitDeny', matched: [], reason: `${deniedMessage(principalArn, action, resource)} (the principal does not exist)`}
    }
    return PolicyEngine.evaluateAs(principal, action, resource, context, extra)
  }

  /** principalMay with documents already read (several questions about one principal). */
  static evaluateAs(
    principal: PrincipalDocuments,
    action: string,
    resource: string,
    context: Record<string, string | string[]> = {},
    extra: {identity?: NamedPolicy[]; resourcePolicy?: PolicyDocument; resourceAccount?: string} = {},
  ): Promise<Evaluation> {
    const principalArn = principal.arn
    return evaluate({
      principal: principalArn,
      action,
      resource,
      resourceAccount: extra.resourceAccount ?? accountOf(resource) ?? principal.account,
      context: {'aws:PrincipalArn': principalArn, 'aws:PrincipalAccount': principal.account, ...context},
      identity: [...principal.identity, ...(extra.identity ?? [])],
      ...(principal.boundary ? {boundary: principal.boundary} : {}),
      ...(extra.resourcePolicy ? {resourcePolicy: extra.resourcePolicy} : {}),
    })
  }

  /**
   * What get_secret needs, as the role: secretsmanager:GetSecretValue on the
   * secret (its IAM policies, and the secret's resource policy — required when
   * the secret is in another account), and kms:Decrypt on the secret's key
   * through Secrets Manager (the key policy, plus IAM where the key policy
   * delegates to the account root), with the context Secrets Manager presents
   * to KMS (Secrets Manager user guide, "Secret encryption and decryption").
   */
  async canReadSecret(roleArn: string, secretIdOrArn: string, region: string): Promise<Decision> {
    if (this.#settings && !this.#settings.strictPolicies) return {allowed: true, reason: 'strictPolicies is off: not evaluated'}
    const role = await this.principal(roleArn)
    if (!role) return {allowed: false, reason: `${deniedMessage(roleArn, 'secretsmanager:GetSecretValue', secretIdOrArn)} (the role does not exist)`}
    const secret = await secretFacts(this.#moto, secretIdOrArn, role.account, region)
    if (!secret) return {allowed: false, reason: `Secrets Manager can't find the specified secret: ${secretIdOrArn}`}
    const read = await this.principalMay(roleArn, 'secretsmanager:GetSecretValue', secret.arn, {}, {
      resourceAccount: secret.account,
      ...(secret.resourcePolicy ? {resourcePolicy: secret.resourcePolicy} : {}),
    })
    if (!read.allowed) return {allowed: false, reason: read.reason}

    let keyArn: string
    let keyAccount = secret.account
    let keyPolicy: PolicyDocument | undefined
    if (isDefaultKey(secret.kmsKeyId)) {
      const managed = await keyFacts(this.#moto, 'alias/aws/secretsmanager', secret.account, secret.region)
      keyArn = managed?.arn ?? `arn:aws:kms:${secret.region}:${secret.account}:alias/aws/secretsmanager`
      keyPolicy = secretsManagerManagedKeyPolicy(secret.account, secret.region)
    } else {
      const key = await keyFacts(this.#moto, secret.kmsKeyId!, secret.account, secret.region)
      if (!key) return {allowed: false, reason: `Access to KMS is not allowed: the key ${secret.kmsKeyId} of ${secret.arn} does not exist`}
      keyArn = key.arn
      keyAccount = key.account
      keyPolicy = key.policy
    }
    const decrypt = await this.principalMay(roleArn, 'kms:Decrypt', keyArn, {
      'kms:ViaService': `secretsmanager.${secret.region}.amazonaws.com`,
      'kms:CallerAccount': role.account,
      'kms:EncryptionContext:SecretARN': secret.arn,
      ...(secret.currentVersionId ? {'kms:EncryptionContext:SecretVersionId': secret.currentVersionId} : {}),
      'aws:CalledVia': ['secretsmanager.amazonaws.com'],
      'aws:CalledViaFirst': 'secretsmanager.amazonaws.com',
      'aws:CalledViaLast': 'secretsmanager.amazonaws.com',
      'aws:ViaAWSService': 'true',
    }, {resourceAccount: keyAccount, resourcePolicy: keyPolicy ?? {Version: '2012-10-17', Statement: []}})
    if (!decrypt.allowed) return {allowed: false, reason: decrypt.reason}
    return {allowed: true, reason: `${roleArn} may read ${secret.arn} and decrypt it with ${keyArn} through Secrets Manager`}
  }

  get region(): string {
    return this.#region
  }
}

function accountOf(arn: string): string | undefined {
  const account = arn.split(':')[4]
  return account && /^\d{12}$/.test(account) ? account : undefined
}
