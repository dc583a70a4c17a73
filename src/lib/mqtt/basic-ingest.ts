// Basic Ingest (IoT developer guide, "Reducing messaging costs with Basic Ingest"):
// a message published to `$aws/rules/<rule_name>/<topic>` goes straight to that
// rule, which sees `<topic>`, without the message broker (no subscriber gets it,
// no messaging charge). The prefix does not count toward the topic's 8 levels.
import {checkRuleName} from '../iot/names.ts'

export const basicIngestPrefix = '$aws/rules/'

/** The Basic Ingest topic for a rule and the topic its SQL sees; the rule name is checked as IoT checks it. */
export function basicIngestTopic(ruleName: string, topic: string, flag = '--rule-name'): string {
  checkRuleName(ruleName, flag)
  return `${basicIngestPrefix}${ruleName}/${topic}`
}
