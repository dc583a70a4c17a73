// iot-role and iot-key-user (walkthrough step 5): the role AWS IoT assumes for
// the VPC destination and get_secret, and that role as a user of B's stack key
// through a key-policy statement whose Sid names the stack.
import type {IAMClient, Role} from '@aws-sdk/client-iam'
import * as iamapi from '../aws/iam.ts'
import * as kmsapi from '../aws/kms.ts'
import {AwsError, InputError, aws, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import {hasStackTag, stackMark, stackTags} from '../plan/tags.ts'
import type {ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {missingStatements, parseKeyPolicy, withStatements, withoutStatements, type KeyPolicy} from '../secrets/key-policy.ts'
import {checkErrorTopic, checkS3Bucket} from './names.ts'
import {errorTopicArnOf, s3ObjectsArnOf, foreignRoleFact, iotKeyIdOf, iotRoleArnOf, iotSecretOf, keyUserFact, namerOf, propagationSeconds, recordsOf, requireInputs, roleArnFact, ruleSettingsOf} from './inputs.ts'
import {stackKeyFact} from '../secrets/keys.ts'
import {secretFact, secretStepId} from '../secrets/secret-steps.ts'
import {
  iotRolePolicy, iotRolePolicyName, iotRoleName, iotSourceArnPattern, iotTrustPolicy, keyUserSid, keyUserStatement, parsePolicy, partitionOf, policyChanges, samePolicy,
  type IotAccount, type PolicyDocument,
} from './policies.ts'
import {isPrincipalNotKnownYet, retryWhileIamPropagates} from './propagation.ts'

/** The stack's role as the role step's read found it (trust policy included), or null when there is none: doctor reads it instead of asking IAM again. */
export const foundRoleFact = factKey<Role | null>('iot.role.found')

export const getRole = (iam: IAMClient, name: string): Promise<Role | undefined> => iamapi.findRole(iam, name, 'IoT')

export async function getInlinePolicy(iam: IAMClient, roleName: string, policyName: string): Promise<PolicyDocument | undefined> {
  try {
    const answer = await iamapi.getRolePolicy(iam, {RoleName: roleName, PolicyName: policyName})
    return answer.PolicyDocument ? parsePolicy(answer.PolicyDocument) : undefined
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading policy ${policyName} of ${roleName} (IoT account)`, error)
  }
}

function roleRecord(ctx: StepContext, role: Role): ResourceRecord {
  return {
    step: 'iot-role', kind: 'iam:role', id: role.RoleName!, ...recordBase(ctx, 'iot'),
    attrs: {arn: role.Arn!, policyName: iotRolePolicyName},
  }
}

/** The IoT account as the role's documents name it. */
export function iotAccountOf(ctx: StepContext): IotAccount {
  return {partition: partitionOf(ctx.identities.iot.arn), region: ctx.accounts.iot.region, accountId: ctx.identities.iot.accountId}
}

function wantedRolePolicy(ctx: StepContext): PolicyDocument | undefined {
  const secret = iotSecretOf(ctx)
  // Both users' secrets (alternating users): the rule may be switched to either without a policy change.
  const alternate = recordsOf(ctx, secretStepId('iot', 'b'))[0]?.id
  return secret ? iotRolePolicy({...iotAccountOf(ctx), secretArn: alternate ? [secret.arn, alternate] : secret.arn, errorTopicArn: errorTopicArnOf(ctx), s3ObjectsArn: s3ObjectsArnOf(ctx)}) : undefined
}

/** Whether the role's trust policy is the one iotctl writes (same meaning, whatever the spelling). */
function trustIsCurrent(ctx: StepContext, role: Role): boolean {
  const trust = role.AssumeRolePolicyDocument ? parsePolicy(role.AssumeRolePolicyDocument) : undefined
  return trust !== undefined && samePolicy(trust, iotTrustPolicy(iotAccountOf(ctx)))
}

function trustDescription(ctx: StepContext): string {
  return `iot.amazonaws.com with aws:SourceAccount ${ctx.identities.iot.accountId} and aws:SourceArn ${iotSourceArnPattern(iotAccountOf(ctx))}`
}

export const iotRoleStep: Step = {
  id: 'iot-role',
  title: 'IAM role for AWS IoT (VPC destination and get_secret)',
  account: 'iot',
  // Its policy names B's secret and key.
  needs: [stackKeyFact('iot'), secretFact('iot'), secretFact('iot', 'b')],
  provides: [roleArnFact],

  check(settings) {
    const errorTopic = ruleSettingsOf(settings).errorTopic
    if (errorTopic !== undefined) checkErrorTopic(errorTopic, namerOf(settings)('rule.errorTopic', '--error-topic'))
    const s3 = ruleSettingsOf(settings).s3
    if (s3?.bucket) checkS3Bucket(s3.bucket, namerOf(settings)('rule.s3Bucket', '--s3-bucket'))
  },

  async validate(ctx) {
    requireInputs(ctx, ['secret:iot'])
    const name = iotRoleName(ctx.stack)
    const role = await getRole(await ctx.accounts.iot.iam(), name)
    if (role && !hasStackTag(role.Tags, ctx.stack)) {
      throw new InputError(`IAM role ${name} already exists in account ${ctx.identities.iot.accountId} without the tag ${stackMark(ctx.stack)}: iotctl did not create it; delete or rename it, or use another --stack`)
    }
  },

  async read(ctx) {
    const iam = await ctx.accounts.iot.iam()
    const name = iotRoleName(ctx.stack)
    const secret = iotSecretOf(ctx)
    const secretText = secret ? `secret ${secret.name}` : 'the IoT account\'s AmazonMSK_ secret'
    const role = await getRole(iam, name)
    ctx.facts.set(foundRoleFact, role && hasStackTag(role.Tags, ctx.stack) ? role : null)
    ctx.facts.set(foreignRoleFact, role !== undefined && !hasStackTag(role.Tags, ctx.stack))
    const policyLine = `put inline policy ${iotRolePolicyName}: the VPC destination's network interfaces (with the VPCDestinationENI tag conditions), get_secret on ${secretText}`
    if (!role) return {resources: [], missing: [`create IAM role ${name} trusted by ${trustDescription(ctx)}`, policyLine]}
    if (!hasStackTag(role.Tags, ctx.stack)) return {resources: [], missing: [], notes: [`IAM role ${name} exists but is not the stack's`]}
    const missing: string[] = []
    // An older iotctl wrote the trust without aws:SourceArn: updated in place, saying so.
    if (!trustIsCurrent(ctx, role)) missing.push(`update the trust policy of ${name} to ${trustDescription(ctx)}`)
    const policy = await getInlinePolicy(iam, name, iotRolePolicyName)
    const wanted = wantedRolePolicy(ctx)
    if (!policy) missing.push(policyLine)
    else if (!wanted) missing.push(`update inline policy ${iotRolePolicyName} of ${name} (get_secret on ${secretText})`)
    else if (!samePolicy(policy, wanted)) missing.push(`update inline policy ${iotRolePolicyName} of ${name}: ${policyChanges(policy, wanted).join('; ')}`)
    if (missing.length === 0 && role.Arn) ctx.facts.set(roleArnFact, role.Arn)
    return {resources: [roleRecord(ctx, role)], missing}
  },

  async create(ctx, observed) {
    const iam = await ctx.accounts.iot.iam()
    const name = iotRoleName(ctx.stack)
    const wanted = wantedRolePolicy(ctx)
    if (!wanted) throw new InputError('the IoT account has no AmazonMSK_ secret of this stack yet: run `iotctl secret mirror` (or `iotctl up`) first')
    let record = observed.resources[0]
    const trust = JSON.stringify(iotTrustPolicy(iotAccountOf(ctx)))
    if (!record) {
      const created = await iamapi.createRole(iam, {
        RoleName: name,
        AssumeRolePolicyDocument: trust,
        Description: `${stackMark(ctx.stack)} assumed by AWS IoT for the VPC rule destination and get_secret`,
        Tags: stackTags(ctx.stack),
      }, `creating IAM role ${name} (IoT account)`)
      record = roleRecord(ctx, created.Role!)
      ctx.ledger.put(record)
      ctx.checkpoint()
    } else {
      const role = await getRole(iam, name)
      if (role && !trustIsCurrent(ctx, role)) {
        await iamapi.updateAssumeRolePolicy(iam, {RoleName: name, PolicyDocument: trust}, `updating the trust policy of ${name}`)
        ctx.checkpoint()
      }
    }
    const current = await getInlinePolicy(iam, name, iotRolePolicyName)
    if (!current || !samePolicy(current, wanted)) {
      ctx.checkpoint()
      await iamapi.putRolePolicy(iam, {
        RoleName: name, PolicyName: iotRolePolicyName, PolicyDocument: JSON.stringify(wanted),
      }, `putting inline policy ${iotRolePolicyName} on ${name}`)
      ctx.checkpoint()
    }
    ctx.facts.set(roleArnFact, record.attrs?.arn ?? iotRoleArnOf(ctx))
    return [record]
  },

  async delete(ctx, resources) {
    const iam = await ctx.accounts.iot.iam()
    for (const record of resources) {
      const name = record.id
      await iamapi.deleteRoleAndPolicies(iam, name, 'IoT')
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

// iot-key-user: a statement in B's stack key policy, found by its Sid.

/** The key's policy as KMS has it (Id and every other statement kept for writing it back). */
async function getKeyPolicy(ctx: StepContext, keyId: string): Promise<KeyPolicy | undefined> {
  const kms = await ctx.accounts.iot.kms()
  try {
    const answer = await kmsapi.getKeyPolicy(kms, {KeyId: keyId, PolicyName: 'default'})
    return answer.Policy ? parseKeyPolicy(answer.Policy) : undefined
  } catch (error) {
    // A key pending deletion is going away with its policy.
    if (isNotFound(error) || awsErrorCode(error) === 'KMSInvalidStateException') return undefined
    throw toAwsError(`reading the key policy of ${keyId} (IoT account)`, error)
  }
}

function keyUserRecord(ctx: StepContext, keyId: string): ResourceRecord {
  return {step: 'iot-key-user', kind: 'kms:key-policy-statement', id: `${keyId}/${keyUserSid(ctx.stack)}`, ...recordBase(ctx, 'iot')}
}

export const iotKeyUserStep: Step = {
  id: 'iot-key-user',
  title: 'the IoT role as a user of the IoT account\'s stack key',
  account: 'iot',
  needs: [stackKeyFact('iot'), roleArnFact],
  provides: [keyUserFact],

  async validate(ctx) {
    requireInputs(ctx, ['kms-key:iot'])
  },

  async read(ctx) {
    const sid = keyUserSid(ctx.stack)
    const keyId = iotKeyIdOf(ctx)
    const keyIds = new Set([keyId, ...ctx.ledger.forStep('iot-key-user').map((r) => r.id.split('/')[0])].filter((k): k is string => Boolean(k)))
    const wanted = keyUserStatement({stack: ctx.stack, roleArn: iotRoleArnOf(ctx), region: ctx.accounts.iot.region})
    const resources: ResourceRecord[] = []
    let current: KeyPolicy | undefined
    for (const id of keyIds) {
      const policy = await getKeyPolicy(ctx, id)
      if (id === keyId) current = policy
      if (policy?.Statement.some((s) => s.Sid === sid)) resources.push(keyUserRecord(ctx, id))
    }
    const what = (key: string) => `key-policy statement ${sid} on ${key}: ${iotRoleName(ctx.stack)} may decrypt through Secrets Manager`
    if (!keyId) return {resources, missing: [`add ${what('the IoT account\'s stack key')}`]}
    if (!current?.Statement.some((s) => s.Sid === sid)) return {resources, missing: [`add ${what(`key ${keyId}`)}`]}
    if (missingStatements(current, [wanted]).length > 0) return {resources, missing: [`update ${what(`key ${keyId}`)}`]}
    ctx.facts.set(keyUserFact, keyId)
    return {resources, missing: []}
  },

  async create(ctx, observed) {
    const kms = await ctx.accounts.iot.kms()
    const keyId = iotKeyIdOf(ctx)
    if (!keyId) throw new InputError('the IoT account has no KMS key of this stack yet: run `iotctl secret mirror` (or `iotctl up`) first')
    const statement = keyUserStatement({stack: ctx.stack, roleArn: iotRoleArnOf(ctx), region: ctx.accounts.iot.region})
    const policy = await getKeyPolicy(ctx, keyId)
    if (!policy) throw new AwsError(`reading the key policy of ${keyId} (IoT account)`, 'NotFoundException', 'the key has no default policy')
    ctx.checkpoint()
    await aws(`adding ${statement.Sid} to the policy of key ${keyId} (IoT account)`, () => retryWhileIamPropagates(
      () => kmsapi.putKeyPolicy(kms, {KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(withStatements(policy, [statement]))}),
      {transient: isPrincipalNotKnownYet, what: `IAM to make ${iotRoleName(ctx.stack)} known to KMS`, progress: ctx.progress, checkpoint: ctx.checkpoint, timeoutSeconds: propagationSeconds(ctx)},
    ))
    const record = keyUserRecord(ctx, keyId)
    ctx.ledger.put(record)
    ctx.facts.set(keyUserFact, keyId)
    ctx.checkpoint()
    return [record, ...observed.resources.filter((r) => r.id !== record.id)]
  },

  async delete(ctx, resources) {
    const kms = await ctx.accounts.iot.kms()
    for (const record of resources) {
      const [keyId, sid] = record.id.split('/')
      try {
        const policy = await getKeyPolicy(ctx, keyId)
        if (policy?.Statement.some((s) => s.Sid === sid)) {
          await kmsapi.putKeyPolicy(kms, {KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(withoutStatements(policy, [sid]))})
        }
      } catch (error) {
        // A key pending deletion refuses policy changes; its policy goes with it.
        if (!isNotFound(error) && awsErrorCode(error) !== 'KMSInvalidStateException') throw toAwsError(`removing ${sid} from the policy of key ${keyId}`, error)
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}
