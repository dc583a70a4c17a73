// The stand-in's topic rule operations, seen by the rules engine:
// Create/ReplaceTopicRule are validated first (validate.ts), and every change
// (create, replace, delete, enable, disable) that moto accepts makes the engine
// read the account's rules again.
import {relay, type CallContext, type Handler} from '../context.ts'
import type {RulesEngine} from './engine.ts'
import {validateTopicRule, type AssumeCheck, type TopicRulePayload} from './validate.ts'

const changing = ['CreateTopicRule', 'ReplaceTopicRule', 'DeleteTopicRule', 'EnableTopicRule', 'DisableTopicRule'] as const

/**
 * Wraps the stand-in's own handler of each topic rule operation (or plain
 * forwarding to moto when it has none).
 */
export function topicRuleHandlers(engine: RulesEngine, existing: (operation: string) => Handler | undefined, mayAssume?: () => AssumeCheck | undefined): Record<string, Handler> {
  const handlers: Record<string, Handler> = {}
  for (const operation of changing) {
    const inner = existing(operation) ?? (async (c: CallContext) => relay(await c.forward()))
    handlers[operation] = async (c) => {
      if (operation === 'CreateTopicRule' || operation === 'ReplaceTopicRule') {
        const payload = (c.input.topicRulePayload ?? c.input) as TopicRulePayload
        await validateTopicRule(payload, {moto: c.moto, account: c.account, region: c.region, ruleName: c.facts.uriParams.ruleName ?? '', mayAssume: mayAssume?.()})
      }
      await engine.beforeRulesChange(c.account, c.region)
      const reply = await inner(c)
      if (reply.status < 300) engine.rulesChanged(c.account, c.region)
      return reply
    }
  }
  return handlers
}
