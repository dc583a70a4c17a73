// Alternating users on the rule's side: which of the stack's two secrets the
// rule's get_secret reads (the active user), and the rule switched to the other
// one. Pure functions over the rule payload; the requests are in rotation.ts.
import type {TopicRule, TopicRulePayload} from '@aws-sdk/client-iot'
import {parseGetSecret} from '../iot/rule.ts'
import type {StackSettings} from '../plan/types.ts'
import {secretSlots, slotSecretName, type SecretSlot} from './names.ts'

const scramKeys = ['sasl.scram.username', 'sasl.scram.password'] as const

/** The secret the rule's Kafka action reads its SCRAM username with, if any. */
export function ruleSecretName(rule: TopicRule | TopicRulePayload | undefined): string | undefined {
  for (const action of rule?.actions ?? []) {
    const expression = action.kafka?.clientProperties?.['sasl.scram.username']
    const call = expression ? parseGetSecret(expression) : undefined
    if (call) return call.secretName
  }
  return undefined
}

/** The slot the rule reads (the active user), or undefined when it reads neither of the stack's secrets. */
export function activeSlotOf(settings: StackSettings, rule: TopicRule | TopicRulePayload | undefined): SecretSlot | undefined {
  const name = ruleSecretName(rule)
  return secretSlots.find((slot) => slotSecretName(settings, slot) === name)
}

/**
 * The secret `up` keeps in the rule: the alternate when the rule already reads
 * it (a rotation switched to it), else the first one. `up` never switches users.
 */
export function keptRuleSecretName(settings: StackSettings, rule: TopicRule | undefined): string | undefined {
  return activeSlotOf(settings, rule) === 'b' ? slotSecretName(settings, 'b') : undefined
}

/** The same rule with every get_secret of the Kafka action's SCRAM properties reading `secretName` instead. */
export function switchRuleSecret(rule: TopicRule, secretName: string): TopicRulePayload {
  const actions = (rule.actions ?? []).map((action) => {
    if (!action.kafka) return action
    const properties = {...action.kafka.clientProperties}
    for (const key of scramKeys) {
      const call = properties[key] ? parseGetSecret(properties[key]) : undefined
      if (call) properties[key] = `\${get_secret('${secretName}', '${call.secretType}', '${call.jsonKey}', '${call.roleArn}')}`
    }
    return {...action, kafka: {...action.kafka, clientProperties: properties}}
  })
  return {sql: rule.sql, description: rule.description, actions, ...(rule.errorAction ? {errorAction: rule.errorAction} : {}), awsIotSqlVersion: rule.awsIotSqlVersion, ruleDisabled: rule.ruleDisabled}
}
