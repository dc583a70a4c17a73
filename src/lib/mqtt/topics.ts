// MQTT topic names, topic filters and IoT topic rules' FROM clauses. Pure functions.
import {InputError} from '../errors.ts'

// AWS IoT Core message broker quotas (AWS General Reference, "AWS IoT Core endpoints
// and quotas"): a topic or filter is at most 256 bytes of UTF-8 and has at most 7
// forward slashes, not counting the "$aws/rules/<rule>/" prefix of Basic Ingest.
const maxTopicBytes = 256
const maxSlashes = 7
const basicIngestPrefix = /^\$aws\/rules\/[^/]+\//i

/** Throws InputError unless `topic` can be published to: non-empty, no wildcards, within AWS IoT's limits. */
export function validatePublishTopic(topic: string): void {
  if (topic === '') throw new InputError('the topic is empty: give the topic to publish to, e.g. device/1/data')
  if (/[+#]/.test(topic)) {
    throw new InputError(`topic ${JSON.stringify(topic)} contains a wildcard ('+' or '#'): wildcards are for subscribing; publish to one topic, e.g. device/1/data`)
  }
  checkCommon('topic', topic)
}

/** Throws InputError unless `filter` is a well-formed MQTT topic filter within AWS IoT's limits. */
export function validateTopicFilter(filter: string): void {
  if (filter === '') throw new InputError('the topic filter is empty: give a topic or a filter such as device/+/data or device/#')
  // A shared subscription "$share/<group>/<filter>" carries an ordinary filter after the group.
  const shared = /^\$share\/([^/]*)\/(.*)$/s.exec(filter)
  if (shared) {
    if (shared[1] === '' || /[+#]/.test(shared[1])) throw new InputError(`topic filter ${JSON.stringify(filter)}: the share group name must be non-empty and contain no wildcard`)
    validateTopicFilter(shared[2])
    return
  }
  const levels = filter.split('/')
  levels.forEach((level, index) => {
    if (level.includes('#') && (level !== '#' || index !== levels.length - 1)) {
      throw new InputError(`topic filter ${JSON.stringify(filter)}: '#' must be the whole last level, as in device/#`)
    }
    if (level.includes('+') && level !== '+') {
      throw new InputError(`topic filter ${JSON.stringify(filter)}: '+' must be a whole level, as in device/+/data`)
    }
  })
  checkCommon('topic filter', filter)
}

function checkCommon(what: string, topic: string): void {
  if (topic.includes('\u0000')) throw new InputError(`${what} ${JSON.stringify(topic)} contains a NUL character`)
  const bytes = Buffer.byteLength(topic)
  if (bytes > maxTopicBytes) throw new InputError(`${what} is ${bytes} bytes long; AWS IoT allows at most ${maxTopicBytes}`)
  const slashes = topic.replace(basicIngestPrefix, '').split('/').length - 1
  if (slashes > maxSlashes) {
    throw new InputError(`${what} ${JSON.stringify(topic)} has ${slashes} levels separators ('/'); AWS IoT allows at most ${maxSlashes}`)
  }
}

/**
 * MQTT 3.1.1 §4.7 matching: `+` matches one level, a trailing `#` the parent level
 * and everything below, and topics starting with `$` are not matched by a filter
 * starting with a wildcard.
 */
export function topicMatchesFilter(topic: string, filter: string): boolean {
  const topicLevels = topic.split('/')
  const filterLevels = filter.split('/')
  if (topic.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return false
  for (let i = 0; i < filterLevels.length; i++) {
    const level = filterLevels[i]
    if (level === '#') return true
    if (i >= topicLevels.length) return false
    if (level !== '+' && level !== topicLevels[i]) return false
  }
  return topicLevels.length === filterLevels.length
}

/**
 * The topic filter of an IoT topic rule's SQL: `SELECT … FROM 'device/+/data' WHERE …`
 * gives `device/+/data`. Throws InputError when the statement has no quoted FROM clause.
 * (AWS IoT SQL reference, "FROM clause": the filter is enclosed in single quotes.)
 */
export function ruleTopicFilter(sql: string): string {
  const match = /\bFROM\s+(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")/i.exec(sql)
  if (!match) throw new InputError(`no FROM '<topic filter>' clause in rule SQL: ${sql}`)
  return match[1] !== undefined ? match[1].replaceAll("''", "'") : match[2].replaceAll('""', '"')
}

export interface TopicRule {
  /** The rule's name, for messages. */
  name?: string
  /** The rule's SQL statement. */
  sql: string
}

export interface RuleTopicMatch {
  name?: string
  /** The topic filter from the rule's FROM clause. */
  filter: string
  /** Whether a message published to the topic would reach this rule. */
  matches: boolean
}

/**
 * For each rule (an SQL string or a named rule), whether a message on `topic` reaches it.
 * Use it before publishing test traffic to catch a topic typo: no match means the
 * rule will never see the message.
 */
export function matchTopicRules(topic: string, rules: (string | TopicRule)[]): RuleTopicMatch[] {
  validatePublishTopic(topic)
  return rules.map((rule) => {
    const {name, sql} = typeof rule === 'string' ? {name: undefined, sql: rule} : rule
    const filter = ruleTopicFilter(sql)
    return {...(name === undefined ? {} : {name}), filter, matches: topicMatchesFilter(topic, filter)}
  })
}
