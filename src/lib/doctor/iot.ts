// Doctor checks of steps 5–7: what the role is trusted for and allowed to do,
// the role as a user of B's key, the destination, and the rule's payload.
import type {Role} from '@aws-sdk/client-iam'
import type {TopicRuleDestinationSummary} from '@aws-sdk/client-iot'
import {describeKey, getKeyPolicy} from '../aws/kms.ts'
import {clusterArnOf, scramBootstrapBrokers} from '../iot/brokers.ts'
import {topicFilterOf} from '../iot/names.ts'
import {iotRoleName, iotRolePolicyName, iotSourceArnPattern, keyPolicyAllows, parsePolicy, partitionOf, topicArn, trustsService} from '../iot/policies.ts'
import {isStackRuleDescription, parseGetSecret} from '../iot/rule.ts'
import {foundDestinationsFact, stackDestinations} from '../iot/destination-step.ts'
import {iotRoleArnOf, ruleSettingsOf} from '../iot/inputs.ts'
import {foundRoleFact, getRole, iotAccountOf} from '../iot/role-steps.ts'
import {describeCheck, rolePermissionChecks, simulateRole} from '../iot/simulate.ts'
import {foundRuleFact, getTopicRule, type StackRule} from '../iot/rule-step.ts'
import type {StepContext} from '../plan/types.ts'
import {describeSecret} from '../secrets/store.ts'
import {fail, pass, warn, type CheckDefinition} from './check.ts'
import type {Registry} from './registry.ts'

const roleFix = 'run `iotctl iot role` (or `iotctl up`)'

// What the registry's reads found (./registry.ts) — asked again only when a read did not get that far.

async function stackRole(ctx: StepContext): Promise<Role | undefined> {
  return ctx.facts.get(foundRoleFact) ?? getRole(await ctx.accounts.iot.iam(), iotRoleName(ctx.stack))
}

async function destinationsOf(ctx: StepContext): Promise<TopicRuleDestinationSummary[]> {
  return ctx.facts.get(foundDestinationsFact) ?? stackDestinations(ctx)
}

async function configuredRule(ctx: StepContext, name: string): Promise<StackRule | undefined> {
  return ctx.facts.get(foundRuleFact) ?? getTopicRule(await ctx.accounts.iot.iot(), name)
}

function iotSecretArn(registry: Registry): string | undefined {
  return registry.observed.get('secret:iot')?.resources[0]?.id
}

/** The key B's secret is encrypted with (what get_secret decrypts with), else the stack's key record. */
async function iotKeyId(ctx: StepContext, registry: Registry): Promise<string | undefined> {
  const secretArn = iotSecretArn(registry)
  if (secretArn) {
    const secret = await describeSecret(await ctx.accounts.iot.secrets(), secretArn, 'describing the IoT account\'s secret')
    if (secret?.KmsKeyId) {
      const kms = await ctx.accounts.iot.kms()
      const key = await describeKey(kms, {KeyId: secret.KmsKeyId}, `describing key ${secret.KmsKeyId} (IoT account)`)
      if (key.KeyMetadata?.KeyId) return key.KeyMetadata.KeyId
    }
  }
  return registry.observed.get('kms-key:iot')?.resources[0]?.id
}

export const iotChecks: CheckDefinition[] = [
  {
    id: 'role-trust',
    step: 'iot-role',
    title: 'AWS IoT may assume the stack\'s role, for the IoT account\'s rules and destinations only',
    async run(ctx) {
      const name = iotRoleName(ctx.stack)
      const role = await stackRole(ctx)
      if (!role) return fail(`IAM role ${name} does not exist in the IoT account ${ctx.identities.iot.accountId}`, roleFix)
      const trust = parsePolicy(role.AssumeRolePolicyDocument ?? '{}')
      if (!trustsService(trust, 'iot.amazonaws.com')) return fail(`${name} does not trust iot.amazonaws.com`, `${roleFix}: it restores the trust policy`)
      const accountId = ctx.identities.iot.accountId
      const conditionValues = (operators: string[], key: string) => trust.Statement.flatMap((s) => operators.flatMap((op) => [s.Condition?.[op]?.[key] ?? []].flat()))
      const sourceAccounts = conditionValues(['StringEquals'], 'aws:SourceAccount')
      const sourceArns = conditionValues(['ArnLike', 'ArnEquals', 'StringLike', 'StringEquals'], 'aws:SourceArn')
      if (sourceAccounts.length > 0 && !sourceAccounts.includes(accountId)) {
        return fail(`${name} trusts iot.amazonaws.com only for account ${sourceAccounts.join(', ')}, not ${accountId}`, `${roleFix}: it restores the trust policy`)
      }
      const wantedArn = iotSourceArnPattern(iotAccountOf(ctx))
      const missing = [...(sourceAccounts.length === 0 ? ['aws:SourceAccount'] : []), ...(sourceArns.length === 0 ? ['aws:SourceArn'] : [])]
      if (missing.length > 0) {
        return warn(`${name} trusts iot.amazonaws.com without ${missing.join(' and ')}`, `${roleFix}: it updates the trust policy to aws:SourceAccount ${accountId} and aws:SourceArn ${wantedArn} (the confused-deputy protection of the IoT developer guide)`)
      }
      return pass(`${role.Arn} trusts iot.amazonaws.com (aws:SourceAccount ${sourceAccounts.join(', ')}; aws:SourceArn ${sourceArns.join(', ')})`)
    },
  },
  {
    id: 'role-permissions',
    step: 'iot-role',
    title: 'IAM allows the role what the destination\'s network interfaces and get_secret need (iam:SimulatePrincipalPolicy)',
    async run(ctx, registry) {
      const name = iotRoleName(ctx.stack)
      const iam = await ctx.accounts.iot.iam()
      if (!(await stackRole(ctx))) return fail(`IAM role ${name} does not exist`, roleFix)
      const secretArn = iotSecretArn(registry)
      const errorTopic = ruleSettingsOf(ctx.settings).errorTopic
      const errorTopicArn = errorTopic ? topicArn(partitionOf(ctx.identities.iot.arn), ctx.accounts.iot.region, ctx.identities.iot.accountId, errorTopic) : undefined
      const checks = rolePermissionChecks({account: iotAccountOf(ctx), secretArn, errorTopicArn})
      const verdicts = await simulateRole(iam, iotRoleArnOf(ctx), checks)
      const denied = verdicts.filter((v) => v.decision !== 'allowed')
      if (denied.length > 0) {
        return fail(`IAM denies ${name} ${denied.map((v) => `${describeCheck(v)} (${v.decision})`).join('; ')}`,
          `run \`iotctl iot role\` (or \`iotctl up\`): it re-applies the inline policy ${iotRolePolicyName}${denied.some((v) => v.decision === 'explicitDeny') ? ', but remove the explicit Deny (another policy or a permissions boundary) yourself' : ''}`)
      }
      if (!secretArn) return fail(`${name} may do what the destination needs, but the stack has no secret in the IoT account to check get_secret against`, 'run `iotctl secret mirror`')
      return pass(`IAM allows ${name} the ${verdicts.filter((v) => v.action.startsWith('ec2:')).length} EC2 calls of the VPC destination (with their VPCDestinationENI conditions) and get_secret on ${secretArn}`)
    },
  },
  {
    id: 'key-user',
    step: 'iot-key-user',
    title: 'the role may decrypt the IoT account\'s secret with its key',
    async run(ctx, registry) {
      const keyId = await iotKeyId(ctx, registry)
      if (!keyId) return fail('the IoT account has no KMS key of this stack', 'run `iotctl secret mirror`, then `iotctl iot role`')
      const kms = await ctx.accounts.iot.kms()
      const answer = await getKeyPolicy(kms, {KeyId: keyId, PolicyName: 'default'}, `reading the policy of key ${keyId} (IoT account)`)
      const roleArn = iotRoleArnOf(ctx)
      if (!keyPolicyAllows(parsePolicy(answer.Policy ?? '{}'), roleArn, 'kms:Decrypt')) {
        return fail(`the policy of key ${keyId} does not let ${iotRoleName(ctx.stack)} decrypt`, `${roleFix}: it adds the key-policy statement`)
      }
      return pass(`key ${keyId} lets ${iotRoleName(ctx.stack)} decrypt through Secrets Manager`)
    },
  },
  {
    id: 'destination',
    step: 'iot-destination',
    title: 'the VPC topic rule destination is ENABLED',
    async run(ctx) {
      const fix = 'run `iotctl iot destination` (or `iotctl up`)'
      const destinations = await destinationsOf(ctx)
      if (destinations.length === 0) return fail(`no VPC topic rule destination uses ${iotRoleName(ctx.stack)}`, fix)
      const best = destinations[0]
      if (best.status !== 'ENABLED') return fail(`${best.arn} is ${best.status}${best.statusReason ? `: ${best.statusReason}` : ''}`, fix)
      const vpc = best.vpcDestinationSummary
      const vpcId = ctx.settings.iot?.vpcId
      if (vpcId && vpc?.vpcId !== vpcId) return fail(`${best.arn} is in ${vpc?.vpcId}, not in the IoT VPC ${vpcId}`, fix)
      return pass(`${best.arn} is ENABLED in ${vpc?.vpcId} (subnets ${vpc?.subnetIds?.join(', ')}; security groups ${vpc?.securityGroups?.join(', ') || 'none'})`)
    },
  },
  {
    id: 'rule',
    step: 'iot-rule',
    title: 'the topic rule is enabled and sends to Kafka through the destination with get_secret',
    async run(ctx) {
      const settings = ruleSettingsOf(ctx.settings)
      const fix = 'run `iotctl iot rule` (or `iotctl up`): it replaces the payload and enables the rule'
      const found = await configuredRule(ctx, settings.name)
      if (!found) return fail(`topic rule ${settings.name} does not exist in the IoT account`, 'run `iotctl iot rule` (or `iotctl up`)')
      if (!isStackRuleDescription(found.rule.description, ctx.stack)) return fail(`topic rule ${settings.name} was not created by stack '${ctx.stack}'`, 'set rule.name to the stack\'s rule')
      const problems: string[] = []
      if (found.rule.ruleDisabled) problems.push(`rule ${settings.name} is disabled`)
      const kafka = found.rule.actions?.find((a) => a.kafka)?.kafka
      if (!kafka) problems.push(`rule ${settings.name} has no Apache Kafka action`)
      else {
        const enabled = (await destinationsOf(ctx)).find((d) => d.status === 'ENABLED')
        if (kafka.destinationArn !== enabled?.arn) problems.push(`its Kafka action uses ${kafka.destinationArn}, not the stack's ENABLED destination${enabled ? ` ${enabled.arn}` : ''}`)
        const roleArn = iotRoleArnOf(ctx)
        const sm = await ctx.accounts.iot.secrets()
        for (const key of ['sasl.scram.username', 'sasl.scram.password']) {
          const call = parseGetSecret(kafka.clientProperties?.[key] ?? '')
          if (!call) {
            problems.push(`${key} is not a get_secret expression`)
            continue
          }
          if (call.roleArn !== roleArn) problems.push(`${key} reads the secret with ${call.roleArn}, not ${roleArn}`)
          const secret = await describeSecret(sm, call.secretName, `describing secret ${call.secretName} (IoT account)`)
          const exists = secret !== undefined && !secret.DeletedDate
          if (!exists) problems.push(`${key} names secret ${call.secretName}, which does not exist in the IoT account`)
        }
        const clusterArn = clusterArnOf(ctx)
        const brokers = clusterArn ? await scramBootstrapBrokers(ctx.accounts.msk, clusterArn).catch(() => undefined) : undefined
        if (brokers && kafka.clientProperties?.['bootstrap.servers'] !== brokers) problems.push(`bootstrap.servers is not the cluster's SASL/SCRAM brokers (${brokers})`)
      }
      if (problems.length > 0) return fail([...new Set(problems)].join('; '), fix)
      return pass(`${settings.name}: '${topicFilterOf(found.rule.sql ?? '') ?? found.rule.sql}' → Kafka topic '${kafka?.topic}' through ${kafka?.destinationArn}`)
    },
  },
]
