// iot-rule (walkthrough step 7): the topic rule with the Apache Kafka action.
// The stack's are the ones whose description carries the stack's mark (moto
// and older accounts cannot list rule tags, and the mark survives a lost ledger).
import type {IoTClient, TopicRule, TopicRulePayload} from '@aws-sdk/client-iot'
import * as iotapi from '../aws/iot.ts'
import {InputError, aws, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import {deleteEach} from '../plan/delete.ts'
import {stackTagMap} from '../plan/tags.ts'
import type {ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {clusterArnOf, scramBootstrapBrokers} from './brokers.ts'
import {clusterFact} from '../msk/clusters.ts'
import {alternateAssociationFact, scramAssociationFact} from '../msk/steps.ts'
import {kafkaTopicFact} from '../msk/topic-step.ts'
import {keptRuleSecretName} from '../secrets/pair.ts'
import {secretFact} from '../secrets/secret-steps.ts'
import {checkRuleSettings, namerOf, destinationArnFact, destinationArnOf, iotRoleArnOf, iotSecretOf, keyUserFact, propagationSeconds, requireInputs, roleArnFact, ruleSettingsOf} from './inputs.ts'
import {iotRoleName, partitionOf} from './policies.ts'
import {isRoleNotUsableYet, retryWhileIamPropagates} from './propagation.ts'
import {isStackRuleDescription, kafkaRulePayload, ruleChanges, ruleTags} from './rule.ts'

/** The stack's rule of the configured name as the rule step's read found it, or null: doctor reads it instead of fetching it again. */
export const foundRuleFact = factKey<StackRule | null>('iot.rule.found')

export interface StackRule {
  name: string
  arn: string
  rule: TopicRule
}

export async function getTopicRule(iot: IoTClient, name: string): Promise<StackRule | undefined> {
  try {
    const answer = await iotapi.getTopicRule(iot, {ruleName: name})
    return answer.rule ? {name, arn: answer.ruleArn!, rule: answer.rule} : undefined
  } catch (error) {
    if (isNotFound(error) || awsErrorCode(error) === 'UnauthorizedException') return undefined
    throw toAwsError(`reading topic rule ${name} (IoT account)`, error)
  }
}

export async function stackRules(ctx: StepContext): Promise<StackRule[]> {
  const iot = await ctx.accounts.iot.iot()
  const names = (await iotapi.listAllTopicRules(iot, 'listing topic rules (IoT account)')).map((r) => r.ruleName!)
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
    s3: settings.s3,
    destinationArn: destinationArn ?? '(the stack\'s VPC destination)',
    // Alternating users: a rule a rotation switched to the alternate secret keeps it.
    secretName: keptRuleSecretName(ctx.settings, ctx.facts.get(foundRuleFact)?.rule) ?? secret?.name ?? '(the IoT account\'s AmazonMSK_ secret)',
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
  // Messages flow once the rule exists: everything they pass through comes first
  // (the destination, the role and its key, B's secret, the cluster's brokers,
  // A's secret associated, the topic).
  // The second SCRAM user's association too, so the rule can be switched to it (alternating users).
  needs: [destinationArnFact, roleArnFact, keyUserFact, secretFact('iot'), clusterFact, scramAssociationFact, alternateAssociationFact, kafkaTopicFact],

  check(settings) {
    checkRuleSettings(ruleSettingsOf(settings), namerOf(settings))
  },

  async validate(ctx) {
    const settings = ruleSettingsOf(ctx.settings)
    const existing = await getTopicRule(await ctx.accounts.iot.iot(), settings.name)
    if (existing && !isStackRuleDescription(existing.rule.description, ctx.stack)) {
      throw new InputError(`${namerOf(ctx.settings)('rule.name', '--name')} '${settings.name}': a topic rule of that name exists in account ${ctx.identities.iot.accountId} and was not created by stack '${ctx.stack}'; choose another name`)
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
    ctx.facts.set(foundRuleFact, current ?? null)
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
    // Reading the brokers took a request: Ctrl-C during it must not be followed by a change.
    ctx.checkpoint()
    const existing = observed.resources.find((r) => r.id === settings.name)
    const retry = <T>(call: () => Promise<T>) => retryWhileIamPropagates(call, {
      transient: isRoleNotUsableYet, what: `IAM to let AWS IoT assume ${iotRoleName(ctx.stack)}`, progress: ctx.progress, checkpoint: ctx.checkpoint, timeoutSeconds: propagationSeconds(ctx),
    })
    if (!existing) {
      await aws(`creating topic rule ${settings.name} (IoT account)`, () => retry(() => iotapi.createTopicRule(iot, {
        ruleName: settings.name, topicRulePayload: payload, tags: ruleTags(stackTagMap(ctx.stack)),
      })))
      const arn = `arn:${partitionOf(ctx.identities.iot.arn)}:iot:${ctx.accounts.iot.region}:${ctx.identities.iot.accountId}:rule/${settings.name}`
      const record = ruleRecord(ctx, settings.name, arn)
      ctx.ledger.put(record)
      ctx.checkpoint()
      return [record, ...observed.resources]
    }
    const current = await getTopicRule(iot, settings.name)
    ctx.checkpoint()
    if (current && ruleChanges(asPayload(current.rule), payload).length > 0) {
      await aws(`replacing topic rule ${settings.name} (IoT account)`, () => retry(() => iotapi.replaceTopicRule(iot, {ruleName: settings.name, topicRulePayload: payload})))
    } else if (current?.rule.ruleDisabled) {
      await iotapi.enableTopicRule(iot, {ruleName: settings.name}, `enabling topic rule ${settings.name} (IoT account)`)
    }
    ctx.checkpoint()
    return observed.resources
  },

  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    await deleteEach(ctx, resources, {what: (record) => `deleting topic rule ${record.id}`},
      (record) => iotapi.deleteTopicRule(iot, {ruleName: record.id}))
  },
}
