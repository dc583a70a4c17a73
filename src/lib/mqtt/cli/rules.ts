// Which of the account's topic rules a topic reaches, so that a typo in a test
// topic is seen before anyone waits for messages in Kafka. Best effort: a
// profile that cannot read rules (or no profile) means no check, quietly.
import type {IoTClient} from '@aws-sdk/client-iot'
import * as iotapi from '../../aws/iot.ts'
import {ruleTopicFilter, topicMatchesFilter} from '../index.ts'

export interface RuleCheck {
  /** Rules read (all of the account's, in the region). */
  rules: {name: string; filter: string; matches: boolean; disabled?: boolean}[]
  /** The rules the topic reaches. */
  matching: string[]
}

const lookupTimeoutMs = 5000

/** Reads the account's topic rules (ListTopicRules; GetTopicRule when a listing has no topicPattern). Undefined when it cannot. */
export async function checkTopicAgainstRules(iot: IoTClient, topic: string, onSkip?: (why: string) => void): Promise<RuleCheck | undefined> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), lookupTimeoutMs)
  try {
    const rules: RuleCheck['rules'] = []
    for (const item of await iotapi.listAllTopicRules(iot, undefined, {abortSignal: abort.signal})) {
      let filter = item.topicPattern
      if (filter === undefined) {
        const rule = await iotapi.getTopicRule(iot, {ruleName: item.ruleName}, undefined, {abortSignal: abort.signal})
        if (!rule.rule?.sql) continue
        filter = ruleTopicFilter(rule.rule.sql)
      }
      rules.push({name: item.ruleName!, filter, matches: topicMatchesFilter(topic, filter), ...(item.ruleDisabled ? {disabled: true} : {})})
    }
    return {rules, matching: rules.filter((r) => r.matches).map((r) => r.name)}
  } catch (error) {
    onSkip?.(abort.signal.aborted ? `no answer within ${lookupTimeoutMs / 1000} s` : (error as Error).message)
    return undefined
  } finally {
    clearTimeout(timer)
  }
}
