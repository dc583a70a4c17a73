// Steps 5–7 of the walkthrough, in the IoT account (B): the role AWS IoT
// assumes, that role as a user of B's stack key, the VPC rule destination and
// the Kafka topic rule. They consume the secrets/KMS steps only through the
// registry's records: secret:iot (id = secret ARN, attrs.name), kms-key:iot
// (id = key id), and the cluster of msk-cluster / msk.clusterArn.
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
  type IAMClient,
  type Role,
} from '@aws-sdk/client-iam'
import {
  CreateTopicRuleCommand,
  CreateTopicRuleDestinationCommand,
  DeleteTopicRuleCommand,
  DeleteTopicRuleDestinationCommand,
  EnableTopicRuleCommand,
  GetTopicRuleCommand,
  GetTopicRuleDestinationCommand,
  ListTopicRuleDestinationsCommand,
  ListTopicRulesCommand,
  ReplaceTopicRuleCommand,
  UpdateTopicRuleDestinationCommand,
  type IoTClient,
  type TopicRule,
  type TopicRuleDestinationSummary,
  type TopicRulePayload,
} from '@aws-sdk/client-iot'
import {GetKeyPolicyCommand, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {DescribeSecurityGroupsCommand, DescribeSubnetsCommand} from '@aws-sdk/client-ec2'
import {waitFor} from '../aws/wait.ts'
import {AwsError, InputError, aws, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {checkSecurityGroup} from '../peering/network.ts'
import {recordBase} from '../plan/context.ts'
import {hasStackTag, stackMark, stackTagMap, stackTags} from '../plan/tags.ts'
import type {ResourceRecord, StackSettings, Step, StepContext} from '../plan/types.ts'
import {missingStatements, parseKeyPolicy, withStatements, withoutStatements, type KeyPolicy} from '../secrets/key-policy.ts'
import {clusterArnOf, scramBootstrapBrokers} from './brokers.ts'
import {checkErrorTopic, checkKafkaTopic, checkRuleName, checkSql, defaultKafkaTopic, defaultRuleName, defaultSql} from './names.ts'
import {
  iotRoleName, iotRolePolicy, iotRolePolicyName, iotTrustPolicy, keyUserSid, keyUserStatement, parsePolicy, partitionOf,
  roleArn, samePolicy, topicArn, type PolicyDocument,
} from './policies.ts'
import {isPrincipalNotKnownYet, isRoleNotUsableYet, retryWhileIamPropagates} from './propagation.ts'
import {isStackRuleDescription, kafkaRulePayload, ruleChanges, ruleTags} from './rule.ts'

// ---------------------------------------------------------------------------
// What the IoT steps read from the settings and from earlier steps.

/** Records of an earlier step: from this run, else from the ledger. */
function recordsOf(ctx: StepContext, step: string): ResourceRecord[] {
  return ctx.outputs.get(step) ?? ctx.ledger.forStep(step)
}

export function iotRoleArnOf(ctx: StepContext): string {
  return roleArn(partitionOf(ctx.identities.iot.arn), ctx.identities.iot.accountId, iotRoleName(ctx.stack))
}

/** B's mirrored secret (secret:iot): the role may read it and the rule's get_secret names it. */
export function iotSecretOf(ctx: StepContext): {arn: string; name: string} | undefined {
  const record = recordsOf(ctx, 'secret:iot')[0]
  return record ? {arn: record.id, name: record.attrs?.name ?? record.id.split(':').at(-1)?.replace(/-[A-Za-z0-9]{6}$/, '') ?? ''} : undefined
}

/** B's stack key (kms-key:iot), which encrypts that secret. */
export function iotKeyIdOf(ctx: StepContext): string | undefined {
  return recordsOf(ctx, 'kms-key:iot')[0]?.id
}

export function destinationArnOf(ctx: StepContext): string | undefined {
  return ctx.outputs.get('iot-destination')?.[0]?.id
}

const makers: Record<string, string> = {
  'secret:iot': 'the IoT account has no AmazonMSK_ secret of this stack yet: run `iotctl secret mirror` first',
  'kms-key:iot': 'the IoT account has no KMS key of this stack yet: run `iotctl secret mirror` first',
  'iot-role': 'the stack has no IoT role yet: run `iotctl iot role` first',
  'iot-destination': 'the stack has no VPC topic rule destination yet: run `iotctl iot destination` first',
}

/**
 * When a step runs on its own (`iot destination`, …; ctx.options.requireInputs),
 * what earlier steps make must exist already: bad input naming the command
 * that makes it. Under `up` the earlier steps make it in the same run.
 */
function requireInputs(ctx: StepContext, steps: string[]): void {
  if (ctx.options.requireInputs !== true) return
  for (const step of steps) {
    if (recordsOf(ctx, step).length === 0) throw new InputError(makers[step])
  }
}

export interface RuleSettings {
  name: string
  sql: string
  kafkaTopic: string
  errorTopic?: string
}

export function ruleSettingsOf(settings: StackSettings): RuleSettings {
  const rule = settings.rule
  return {
    name: rule?.name ?? defaultRuleName(settings.stack),
    sql: rule?.sql ?? defaultSql,
    kafkaTopic: rule?.kafkaTopic ?? defaultKafkaTopic,
    ...(rule?.errorTopic ? {errorTopic: rule.errorTopic} : {}),
  }
}

/** Checks the rule's names and SQL (pure, no AWS call): InputError naming the bad value. */
export function checkRuleSettings(settings: RuleSettings): void {
  checkRuleName(settings.name, '--name (rule.name)')
  checkSql(settings.sql, '--sql (rule.sql)')
  checkKafkaTopic(settings.kafkaTopic, '--kafka-topic (rule.kafkaTopic)')
  if (settings.errorTopic !== undefined) checkErrorTopic(settings.errorTopic, '--error-topic (rule.errorTopic)')
}

function errorTopicArnOf(ctx: StepContext): string | undefined {
  const topic = ruleSettingsOf(ctx.settings).errorTopic
  return topic ? topicArn(partitionOf(ctx.identities.iot.arn), ctx.accounts.iot.region, ctx.identities.iot.accountId, topic) : undefined
}

// ---------------------------------------------------------------------------
// iot-role: the role AWS IoT assumes for the destination and get_secret.

export async function getRole(iam: IAMClient, name: string): Promise<Role | undefined> {
  try {
    return (await iam.send(new GetRoleCommand({RoleName: name}))).Role
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchEntity' || awsErrorCode(error) === 'NoSuchEntityException') return undefined
    throw toAwsError(`reading IAM role ${name} (IoT account)`, error)
  }
}

export async function getInlinePolicy(iam: IAMClient, roleName: string, policyName: string): Promise<PolicyDocument | undefined> {
  try {
    const answer = await iam.send(new GetRolePolicyCommand({RoleName: roleName, PolicyName: policyName}))
    return answer.PolicyDocument ? parsePolicy(answer.PolicyDocument) : undefined
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading policy ${policyName} of ${roleName} (IoT account)`, error)
  }
}

function roleRecord(ctx: StepContext, role: Role): ResourceRecord {
  return {
    step: 'iot-role', kind: 'iam:role', id: role.RoleName as string, ...recordBase(ctx, 'iot'),
    attrs: {arn: role.Arn as string, policyName: iotRolePolicyName},
  }
}

function wantedRolePolicy(ctx: StepContext): PolicyDocument | undefined {
  const secret = iotSecretOf(ctx)
  return secret ? iotRolePolicy({secretArn: secret.arn, errorTopicArn: errorTopicArnOf(ctx)}) : undefined
}

export const iotRoleStep: Step = {
  id: 'iot-role',
  title: 'IAM role for AWS IoT (VPC destination and get_secret)',
  account: 'iot',

  async validate(ctx) {
    const errorTopic = ruleSettingsOf(ctx.settings).errorTopic
    if (errorTopic !== undefined) checkErrorTopic(errorTopic, '--error-topic (rule.errorTopic)')
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
    const accountId = ctx.identities.iot.accountId
    const secret = iotSecretOf(ctx)
    const secretText = secret ? `secret ${secret.name}` : 'the IoT account\'s AmazonMSK_ secret'
    const role = await getRole(iam, name)
    if (!role) {
      return {resources: [], missing: [
        `create IAM role ${name} trusted by iot.amazonaws.com (aws:SourceAccount ${accountId})`,
        `put inline policy ${iotRolePolicyName}: EC2 network interfaces for the VPC destination, get_secret on ${secretText}`,
      ]}
    }
    if (!hasStackTag(role.Tags, ctx.stack)) return {resources: [], missing: [], notes: [`IAM role ${name} exists but is not the stack's`]}
    const missing: string[] = []
    const trust = role.AssumeRolePolicyDocument ? parsePolicy(role.AssumeRolePolicyDocument) : undefined
    if (!trust || !samePolicy(trust, iotTrustPolicy(accountId))) missing.push(`restore the trust policy of ${name} (iot.amazonaws.com, aws:SourceAccount ${accountId})`)
    const policy = await getInlinePolicy(iam, name, iotRolePolicyName)
    const wanted = wantedRolePolicy(ctx)
    if (!policy) missing.push(`put inline policy ${iotRolePolicyName}: EC2 network interfaces for the VPC destination, get_secret on ${secretText}`)
    else if (!wanted || !samePolicy(policy, wanted)) {
      const errorTopic = ruleSettingsOf(ctx.settings).errorTopic
      missing.push(`update inline policy ${iotRolePolicyName} of ${name} (get_secret on ${secretText}${errorTopic ? `; publish to '${errorTopic}' for the error action` : ''})`)
    }
    return {resources: [roleRecord(ctx, role)], missing}
  },

  async create(ctx, observed) {
    const iam = await ctx.accounts.iot.iam()
    const name = iotRoleName(ctx.stack)
    const accountId = ctx.identities.iot.accountId
    const wanted = wantedRolePolicy(ctx)
    if (!wanted) throw new InputError('the IoT account has no AmazonMSK_ secret of this stack yet: run `iotctl secret mirror` (or `iotctl up`) first')
    let record = observed.resources[0]
    const trust = JSON.stringify(iotTrustPolicy(accountId))
    if (!record) {
      const created = await aws(`creating IAM role ${name} (IoT account)`, () => iam.send(new CreateRoleCommand({
        RoleName: name,
        AssumeRolePolicyDocument: trust,
        Description: `${stackMark(ctx.stack)} assumed by AWS IoT for the VPC rule destination and get_secret`,
        Tags: stackTags(ctx.stack),
      })))
      record = roleRecord(ctx, created.Role as Role)
      ctx.ledger.put(record)
      ctx.checkpoint()
    } else if (observed.missing.some((m) => m.startsWith('restore the trust policy'))) {
      await aws(`restoring the trust policy of ${name}`, () => iam.send(new UpdateAssumeRolePolicyCommand({RoleName: name, PolicyDocument: trust})))
      ctx.checkpoint()
    }
    const current = await getInlinePolicy(iam, name, iotRolePolicyName)
    if (!current || !samePolicy(current, wanted)) {
      await aws(`putting inline policy ${iotRolePolicyName} on ${name}`, () => iam.send(new PutRolePolicyCommand({
        RoleName: name, PolicyName: iotRolePolicyName, PolicyDocument: JSON.stringify(wanted),
      })))
      ctx.checkpoint()
    }
    return [record]
  },

  async delete(ctx, resources) {
    const iam = await ctx.accounts.iot.iam()
    for (const record of resources) {
      const name = record.id
      try {
        // IAM refuses to delete a role that still has policies (DeleteConflict).
        for (const policyName of (await iam.send(new ListRolePoliciesCommand({RoleName: name}))).PolicyNames ?? []) {
          await iam.send(new DeleteRolePolicyCommand({RoleName: name, PolicyName: policyName}))
        }
        for (const attached of (await iam.send(new ListAttachedRolePoliciesCommand({RoleName: name}))).AttachedPolicies ?? []) {
          await iam.send(new DetachRolePolicyCommand({RoleName: name, PolicyArn: attached.PolicyArn}))
        }
        await iam.send(new DeleteRoleCommand({RoleName: name}))
      } catch (error) {
        if (!isNotFound(error)) throw toAwsError(`deleting IAM role ${name} (IoT account)`, error)
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

// ---------------------------------------------------------------------------
// iot-key-user: a statement in B's stack key policy, found by its Sid.

/** The key's policy as KMS has it (Id and every other statement kept for writing it back). */
async function getKeyPolicy(ctx: StepContext, keyId: string): Promise<KeyPolicy | undefined> {
  const kms = await ctx.accounts.iot.kms()
  try {
    const answer = await kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))
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
    return {resources, missing: []}
  },

  async create(ctx, observed) {
    const kms = await ctx.accounts.iot.kms()
    const keyId = iotKeyIdOf(ctx)
    if (!keyId) throw new InputError('the IoT account has no KMS key of this stack yet: run `iotctl secret mirror` (or `iotctl up`) first')
    const statement = keyUserStatement({stack: ctx.stack, roleArn: iotRoleArnOf(ctx), region: ctx.accounts.iot.region})
    const policy = await getKeyPolicy(ctx, keyId)
    if (!policy) throw new AwsError(`reading the key policy of ${keyId} (IoT account)`, 'NotFoundException', 'the key has no default policy')
    await aws(`adding ${statement.Sid} to the policy of key ${keyId} (IoT account)`, () => retryWhileIamPropagates(
      () => kms.send(new PutKeyPolicyCommand({KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(withStatements(policy, [statement]))})),
      {transient: isPrincipalNotKnownYet, what: `IAM to make ${iotRoleName(ctx.stack)} known to KMS`, progress: ctx.progress, checkpoint: ctx.checkpoint, timeoutSeconds: propagationSeconds(ctx)},
    ))
    const record = keyUserRecord(ctx, keyId)
    ctx.ledger.put(record)
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
          await kms.send(new PutKeyPolicyCommand({KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(withoutStatements(policy, [sid]))}))
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

function propagationSeconds(ctx: StepContext): number {
  return Number(ctx.options.iamPropagationSeconds ?? 120)
}

// ---------------------------------------------------------------------------
// iot-destination: the VPC topic rule destination; the stack's are the ones
// whose role is the stack's role (destinations cannot be tagged).

const destinationFacts = {subnets: 'iot.destination.subnets', securityGroups: 'iot.destination.securityGroups'}

export async function listDestinations(iot: IoTClient): Promise<TopicRuleDestinationSummary[]> {
  const all: TopicRuleDestinationSummary[] = []
  let nextToken: string | undefined
  do {
    const page = await aws('listing topic rule destinations (IoT account)', () => iot.send(new ListTopicRuleDestinationsCommand({nextToken})))
    all.push(...(page.destinationSummaries ?? []))
    nextToken = page.nextToken
  } while (nextToken)
  return all
}

/** The stack's destinations, best first (ENABLED, then IN_PROGRESS, DISABLED, ERROR). */
export async function stackDestinations(ctx: StepContext): Promise<TopicRuleDestinationSummary[]> {
  const role = iotRoleArnOf(ctx)
  const rank = ['ENABLED', 'IN_PROGRESS', 'DISABLED', 'ERROR']
  const ours = (await listDestinations(await ctx.accounts.iot.iot())).filter((d) => d.vpcDestinationSummary?.roleArn === role && d.status !== 'DELETING')
  return ours.sort((a, b) => rank.indexOf(a.status ?? '') - rank.indexOf(b.status ?? ''))
}

function sameSet(a: string[] | undefined, b: string[] | undefined): boolean {
  const [x, y] = [[...(a ?? [])].sort(), [...(b ?? [])].sort()]
  return x.length === y.length && x.every((v, i) => v === y[i])
}

function destinationRecord(ctx: StepContext, arn: string): ResourceRecord {
  return {step: 'iot-destination', kind: 'iot:topic-rule-destination', id: arn, ...recordBase(ctx, 'iot')}
}

function requireIotVpc(ctx: StepContext): string {
  const vpcId = ctx.settings.iot?.vpcId
  if (!vpcId) throw new InputError('missing --iot-vpc (or iot.vpcId in the config file): the VPC the rule destination reaches the brokers from')
  return vpcId
}

/** The subnets named (each must be in the IoT VPC), else all subnets of the IoT VPC. */
async function destinationSubnets(ctx: StepContext, vpcId: string): Promise<string[]> {
  const ec2 = await ctx.accounts.iot.ec2()
  const named = ctx.settings.iot?.subnetIds
  if (named && named.length > 0) {
    for (const id of named) {
      let vpcOfSubnet: string | undefined
      try {
        vpcOfSubnet = (await ec2.send(new DescribeSubnetsCommand({SubnetIds: [id]}))).Subnets?.[0]?.VpcId
      } catch (error) {
        if (!/InvalidSubnetID\.(NotFound|Malformed)/.test(awsErrorCode(error) ?? '')) throw toAwsError(`reading subnet ${id} (IoT account)`, error)
      }
      if (!vpcOfSubnet) throw new InputError(`--iot-subnets ${id}: no such subnet in ${ctx.accounts.iot.label} (${ctx.accounts.iot.region})`)
      if (vpcOfSubnet !== vpcId) throw new InputError(`--iot-subnets ${id}: subnet belongs to ${vpcOfSubnet}, not to the IoT VPC ${vpcId}`)
    }
    return named
  }
  const answer = await aws(`listing subnets of ${vpcId} (IoT account)`, () => ec2.send(new DescribeSubnetsCommand({Filters: [{Name: 'vpc-id', Values: [vpcId]}]})))
  const subnets = (answer.Subnets ?? []).map((s) => s.SubnetId as string).sort()
  if (subnets.length === 0) throw new InputError(`the IoT VPC ${vpcId} has no subnets; create one or pass --iot-subnets`)
  return subnets
}

/** The security groups named (each must be in the IoT VPC), else the VPC's default group. */
async function destinationSecurityGroups(ctx: StepContext, vpcId: string): Promise<string[]> {
  const named = ctx.settings.iot?.securityGroupIds
  if (named && named.length > 0) {
    for (const id of named) await checkSecurityGroup(ctx.accounts.iot, id, vpcId, '--iot-security-groups')
    return named
  }
  const ec2 = await ctx.accounts.iot.ec2()
  const answer = await aws(`finding the default security group of ${vpcId} (IoT account)`, () => ec2.send(new DescribeSecurityGroupsCommand({
    Filters: [{Name: 'vpc-id', Values: [vpcId]}, {Name: 'group-name', Values: ['default']}],
  })))
  const id = answer.SecurityGroups?.[0]?.GroupId
  if (!id) throw new InputError(`the IoT VPC ${vpcId} has no default security group; pass --iot-security-groups`)
  return [id]
}

export const iotDestinationStep: Step = {
  id: 'iot-destination',
  title: 'IoT VPC topic rule destination',
  account: 'iot',

  async validate(ctx) {
    const vpcId = requireIotVpc(ctx)
    ctx.facts.set(destinationFacts.subnets, await destinationSubnets(ctx, vpcId))
    ctx.facts.set(destinationFacts.securityGroups, await destinationSecurityGroups(ctx, vpcId))
    requireInputs(ctx, ['iot-role'])
  },

  async read(ctx) {
    const ours = await stackDestinations(ctx)
    const vpcId = ctx.settings.iot?.vpcId
    const subnets = ctx.facts.get(destinationFacts.subnets) as string[] | undefined
    const groups = ctx.facts.get(destinationFacts.securityGroups) as string[] | undefined
    const fits = (d: TopicRuleDestinationSummary) => (!vpcId || d.vpcDestinationSummary?.vpcId === vpcId) &&
      (!subnets || sameSet(d.vpcDestinationSummary?.subnetIds, subnets)) && (!groups || sameSet(d.vpcDestinationSummary?.securityGroups, groups))
    const current = ours.find((d) => fits(d) && d.status !== 'ERROR')
    const resources = [...(current ? [current] : []), ...ours.filter((d) => d !== current)].map((d) => destinationRecord(ctx, d.arn as string))
    const notes = ours.filter((d) => d !== current).map((d) => `the stack also owns ${d.arn} (${d.status}${d.statusReason ? `: ${d.statusReason}` : ''}, other settings); cleanup removes it`)
    const missing: string[] = []
    if (!current) {
      missing.push(`create a VPC topic rule destination in ${vpcId ?? 'the IoT VPC'} (subnets ${subnets?.join(', ') ?? '?'}; security groups ${groups?.join(', ') ?? '?'}) with role ${iotRoleName(ctx.stack)}`, 'wait until it is ENABLED')
    } else if (current.status === 'IN_PROGRESS') {
      missing.push(`wait for ${current.arn} to become ENABLED`)
    } else if (current.status === 'DISABLED') {
      missing.push(`enable ${current.arn}`)
    } else if (current.status === 'ENABLED') {
      notes.unshift(`${current.arn} is ENABLED`)
    }
    return {resources, missing, notes}
  },

  async create(ctx, observed) {
    const iot = await ctx.accounts.iot.iot()
    const current = observed.resources[0] && !observed.missing.some((m) => m.startsWith('create ')) ? observed.resources[0] : undefined
    let arn = current?.id
    const resources = [...observed.resources]
    if (!arn) {
      const vpcConfiguration = {
        vpcId: requireIotVpc(ctx),
        subnetIds: ctx.facts.get(destinationFacts.subnets) as string[],
        securityGroups: ctx.facts.get(destinationFacts.securityGroups) as string[],
        roleArn: iotRoleArnOf(ctx),
      }
      const created = await aws('creating the VPC topic rule destination (IoT account)', () => retryWhileIamPropagates(
        () => iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration}})),
        {transient: isRoleNotUsableYet, what: `IAM to let AWS IoT assume ${iotRoleName(ctx.stack)}`, progress: ctx.progress, checkpoint: ctx.checkpoint, timeoutSeconds: propagationSeconds(ctx)},
      ))
      arn = created.topicRuleDestination?.arn as string
      const record = destinationRecord(ctx, arn)
      resources.unshift(record)
      ctx.ledger.put(record)
      ctx.checkpoint()
    } else if (observed.missing.some((m) => m.startsWith('enable '))) {
      const target = arn
      await aws(`enabling ${target}`, () => iot.send(new UpdateTopicRuleDestinationCommand({arn: target, status: 'ENABLED'})))
      ctx.checkpoint()
    }
    await waitUntilEnabled(ctx, iot, arn)
    return resources
  },

  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    for (const record of resources) {
      try {
        await iot.send(new DeleteTopicRuleDestinationCommand({arn: record.id}))
        // Its network interfaces are removed with the role's permissions: wait
        // until it is gone before the role can be deleted (reverse order).
        await waitFor(async () => ((await describeDestination(iot, record.id)) === undefined ? true : undefined),
          {what: `${record.id} to be deleted`, timeoutSeconds: 600, progress: ctx.progress, checkpoint: ctx.checkpoint})
      } catch (error) {
        if (!isDestinationGone(error)) throw toAwsError(`deleting ${record.id}`, error)
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

/**
 * The destination APIs have no ResourceNotFoundException (IoT API reference,
 * GetTopicRuleDestination "Errors"): an unknown ARN is an InvalidRequestException.
 */
function isDestinationGone(error: unknown): boolean {
  return isNotFound(error) || (awsErrorCode(error) === 'InvalidRequestException' && /does not exist|not found/i.test((error as Error).message ?? ''))
}

export async function describeDestination(iot: IoTClient, arn: string) {
  try {
    return (await iot.send(new GetTopicRuleDestinationCommand({arn}))).topicRuleDestination
  } catch (error) {
    if (isDestinationGone(error)) return undefined
    throw toAwsError(`reading ${arn}`, error)
  }
}

async function waitUntilEnabled(ctx: StepContext, iot: IoTClient, arn: string): Promise<void> {
  await waitFor(async () => {
    const destination = await describeDestination(iot, arn)
    if (!destination) throw new AwsError(`waiting for ${arn}`, 'ResourceNotFoundException', 'the destination disappeared')
    if (destination.status === 'ERROR') {
      throw new AwsError(`waiting for ${arn} to become ENABLED`, 'DestinationError', `${destination.statusReason ?? 'no reason given'}; check the role's EC2 permissions, the subnets and the security groups, then run again`)
    }
    return destination.status === 'ENABLED' ? true : undefined
  }, {what: `${arn} to become ENABLED`, timeoutSeconds: 900, intervalMs: 1000, progress: ctx.progress, checkpoint: ctx.checkpoint})
}

// ---------------------------------------------------------------------------
// iot-rule: the topic rule with the Kafka action; the stack's are the ones
// whose description carries the stack's mark (moto and older accounts cannot
// list rule tags, and the mark survives a lost ledger).

export interface StackRule {
  name: string
  arn: string
  rule: TopicRule
}

export async function getTopicRule(iot: IoTClient, name: string): Promise<StackRule | undefined> {
  try {
    const answer = await iot.send(new GetTopicRuleCommand({ruleName: name}))
    return answer.rule ? {name, arn: answer.ruleArn as string, rule: answer.rule} : undefined
  } catch (error) {
    if (isNotFound(error) || awsErrorCode(error) === 'UnauthorizedException') return undefined
    throw toAwsError(`reading topic rule ${name} (IoT account)`, error)
  }
}

export async function stackRules(ctx: StepContext): Promise<StackRule[]> {
  const iot = await ctx.accounts.iot.iot()
  const names: string[] = []
  let nextToken: string | undefined
  do {
    const page = await aws('listing topic rules (IoT account)', () => iot.send(new ListTopicRulesCommand({nextToken})))
    names.push(...(page.rules ?? []).map((r) => r.ruleName as string))
    nextToken = page.nextToken
  } while (nextToken)
  const rules: StackRule[] = []
  for (const name of names) {
    const found = await getTopicRule(iot, name)
    if (found && isStackRuleDescription(found.rule.description, ctx.stack)) rules.push(found)
  }
  return rules
}

function ruleRecord(ctx: StepContext, name: string, arn: string): ResourceRecord {
  return {step: 'iot-rule', kind: 'iot:topic-rule', id: name, ...recordBase(ctx, 'iot'), attrs: {arn}}
}

/** The rule's payload from the settings and earlier steps; `strict` demands every input (create), else placeholders stand in (plans). */
async function wantedRulePayload(ctx: StepContext, strict: boolean): Promise<{payload: TopicRulePayload; notes: string[]}> {
  const settings = ruleSettingsOf(ctx.settings)
  const notes: string[] = []
  const secret = iotSecretOf(ctx)
  const destinationArn = destinationArnOf(ctx)
  const clusterArn = clusterArnOf(ctx)
  let brokers: string | undefined
  if (clusterArn) {
    try {
      brokers = await scramBootstrapBrokers(ctx.accounts.msk, clusterArn)
    } catch (error) {
      if (strict) throw error
      notes.push(`could not read the bootstrap brokers of ${clusterArn}: ${(error as Error).message}`)
    }
  }
  if (strict) {
    if (!secret) throw new InputError('the IoT account has no AmazonMSK_ secret of this stack yet: run `iotctl secret mirror` (or `iotctl up`) first')
    if (!destinationArn) throw new InputError('no VPC topic rule destination of this stack yet: run `iotctl iot destination` (or `iotctl up`) first')
    if (!clusterArn) throw new InputError('no MSK cluster: set msk.clusterArn (or --cluster-arn), or create one with `iotctl msk create` / `iotctl up --create-cluster`')
  }
  const payload = kafkaRulePayload({
    stack: ctx.stack,
    sql: settings.sql,
    kafkaTopic: settings.kafkaTopic,
    errorTopic: settings.errorTopic,
    destinationArn: destinationArn ?? '(the stack\'s VPC destination)',
    secretName: secret?.name ?? '(the IoT account\'s AmazonMSK_ secret)',
    bootstrapServers: brokers ?? '(the cluster\'s SASL/SCRAM bootstrap brokers)',
    roleArn: iotRoleArnOf(ctx),
  })
  return {payload, notes}
}

function asPayload(rule: TopicRule): TopicRulePayload {
  return {sql: rule.sql, description: rule.description, actions: rule.actions, errorAction: rule.errorAction, awsIotSqlVersion: rule.awsIotSqlVersion, ruleDisabled: rule.ruleDisabled}
}

export const iotRuleStep: Step = {
  id: 'iot-rule',
  title: 'IoT topic rule with the Apache Kafka action',
  account: 'iot',

  async validate(ctx) {
    const settings = ruleSettingsOf(ctx.settings)
    checkRuleSettings(settings)
    const existing = await getTopicRule(await ctx.accounts.iot.iot(), settings.name)
    if (existing && !isStackRuleDescription(existing.rule.description, ctx.stack)) {
      throw new InputError(`--name (rule.name) '${settings.name}': a topic rule of that name exists in account ${ctx.identities.iot.accountId} and was not created by stack '${ctx.stack}'; choose another name`)
    }
    requireInputs(ctx, ['iot-destination', 'secret:iot'])
    if (ctx.options.requireInputs === true && !clusterArnOf(ctx)) {
      throw new InputError('no MSK cluster: pass --cluster-arn (or set msk.clusterArn), or create one with `iotctl msk create`')
    }
  },

  async read(ctx) {
    const settings = ruleSettingsOf(ctx.settings)
    const ours = await stackRules(ctx)
    const current = ours.find((r) => r.name === settings.name)
    const resources = [...(current ? [current] : []), ...ours.filter((r) => r !== current)].map((r) => ruleRecord(ctx, r.name, r.arn))
    const notes = ours.filter((r) => r !== current).map((r) => `the stack also owns rule ${r.name}; cleanup removes it`)
    const {payload, notes: inputNotes} = await wantedRulePayload(ctx, false)
    notes.push(...inputNotes)
    const kafka = payload.actions?.[0]?.kafka
    if (!current) {
      return {resources, missing: [`create rule ${settings.name}: ${settings.sql} → Kafka topic '${kafka?.topic}' through the VPC destination${settings.errorTopic ? `, errors republished to '${settings.errorTopic}'` : ''}`], notes}
    }
    const missing: string[] = []
    const changes = ruleChanges(asPayload(current.rule), payload)
    if (changes.length > 0) missing.push(`replace rule ${settings.name}: ${changes.join('; ')}`)
    if (current.rule.ruleDisabled) missing.push(`enable rule ${settings.name} (it is disabled)`)
    return {resources, missing, notes}
  },

  async create(ctx, observed) {
    const iot = await ctx.accounts.iot.iot()
    const settings = ruleSettingsOf(ctx.settings)
    const {payload} = await wantedRulePayload(ctx, true)
    const existing = observed.resources.find((r) => r.id === settings.name)
    const retry = <T>(call: () => Promise<T>) => retryWhileIamPropagates(call, {
      transient: isRoleNotUsableYet, what: `IAM to let AWS IoT assume ${iotRoleName(ctx.stack)}`, progress: ctx.progress, checkpoint: ctx.checkpoint, timeoutSeconds: propagationSeconds(ctx),
    })
    if (!existing) {
      await aws(`creating topic rule ${settings.name} (IoT account)`, () => retry(() => iot.send(new CreateTopicRuleCommand({
        ruleName: settings.name, topicRulePayload: payload, tags: ruleTags(stackTagMap(ctx.stack)),
      }))))
      const arn = `arn:${partitionOf(ctx.identities.iot.arn)}:iot:${ctx.accounts.iot.region}:${ctx.identities.iot.accountId}:rule/${settings.name}`
      const record = ruleRecord(ctx, settings.name, arn)
      ctx.ledger.put(record)
      ctx.checkpoint()
      return [record, ...observed.resources]
    }
    const current = await getTopicRule(iot, settings.name)
    if (current && ruleChanges(asPayload(current.rule), payload).length > 0) {
      await aws(`replacing topic rule ${settings.name} (IoT account)`, () => retry(() => iot.send(new ReplaceTopicRuleCommand({ruleName: settings.name, topicRulePayload: payload}))))
    } else if (current?.rule.ruleDisabled) {
      await aws(`enabling topic rule ${settings.name} (IoT account)`, () => iot.send(new EnableTopicRuleCommand({ruleName: settings.name})))
    }
    ctx.checkpoint()
    return observed.resources
  },

  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    for (const record of resources) {
      try {
        await iot.send(new DeleteTopicRuleCommand({ruleName: record.id}))
      } catch (error) {
        if (!isNotFound(error)) throw toAwsError(`deleting topic rule ${record.id}`, error)
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

/** Steps 5–7 in order; they follow the secrets and KMS steps in the registry. */
export const iotSteps: Step[] = [iotRoleStep, iotKeyUserStep, iotDestinationStep, iotRuleStep]
