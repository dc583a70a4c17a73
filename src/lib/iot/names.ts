// Checks of the rule's and the destination's inputs, made before any AWS call so that a name AWS or
// Kafka would refuse is exit 2 with the reason, not a failed run half-way.
import {InputError} from '../errors.ts'
import {stackPrefix} from '../config/stack-names.ts'

/** The walkthrough's rule: the device id from the topic and the temperature. */
export const defaultSql = "SELECT topic(2) as device_id, temperature FROM 'device/+/data'"
export const defaultKafkaTopic = 'device-data'

/** Rule names are `^[a-zA-Z0-9_]+$`, at most 128 characters (IoT API reference, CreateTopicRule). */
export function defaultRuleName(stack: string): string {
  return `${stackPrefix(stack).replace(/[^A-Za-z0-9_]/g, '_')}_to_kafka`
}

export function checkRuleName(name: string, flag = '--name'): string {
  if (/^[A-Za-z0-9_]{1,128}$/.test(name)) return name
  // A suggestion only when it is itself a valid name (`bad-name!` → `bad_name_`).
  const fixed = name.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 128)
  const hint = /[^A-Za-z0-9_]/.test(name) && /[A-Za-z0-9]/.test(fixed) ? ` (try '${fixed}')` : ''
  const why = name.includes('-') ? 'no dashes' : '1 to 128 characters'
  throw new InputError(`${flag} '${name}': IoT rule names allow letters, digits and underscores only, ${why}${hint}`)
}

/** The topic filter of `FROM '<filter>'`, or undefined when the SQL has none. */
export function topicFilterOf(sql: string): string | undefined {
  return /\bFROM\s+(?:'([^']*)'|"([^"]*)")/i.exec(sql)?.slice(1).find((m) => m !== undefined)
}

/** A rule statement must be a SELECT from a quoted topic filter; returns the filter. */
export function checkSql(sql: string, flag = '--sql'): string {
  if (!/^\s*SELECT\s/i.test(sql)) throw new InputError(`${flag}: an IoT rule statement starts with SELECT (got '${truncate(sql)}')`)
  const filter = topicFilterOf(sql)
  if (!filter) throw new InputError(`${flag}: the statement needs FROM '<topic filter>', e.g. FROM 'device/+/data' (got '${truncate(sql)}')`)
  checkTopicFilter(filter, flag)
  return filter
}

function checkTopicFilter(filter: string, flag: string): void {
  const levels = filter.split('/')
  const bad = levels.findIndex((level, index) => (level.includes('#') && (level !== '#' || index !== levels.length - 1)) || (level.includes('+') && level !== '+'))
  if (bad >= 0) throw new InputError(`${flag}: topic filter '${filter}': '+' must be a whole level and '#' only the last level`)
}

/**
 * Kafka topic names: 1–249 characters of [a-zA-Z0-9._-], not "." or ".."
 * (Kafka's Topic.validate). The rule action may use substitution templates
 * (`${topic(2)}`), which IoT expands before Kafka sees the name.
 */
export function checkKafkaTopic(topic: string, flag = '--kafka-topic'): string {
  const literal = topic.replace(/\$\{[^}]*\}/g, 'x')
  if (topic.length === 0 || literal.length > 249) throw new InputError(`${flag} '${topic}': a Kafka topic name has 1 to 249 characters`)
  if (literal === '.' || literal === '..') throw new InputError(`${flag} '${topic}': Kafka refuses the topic names '.' and '..'`)
  const bad = /[^A-Za-z0-9._-]/.exec(literal)
  if (bad) throw new InputError(`${flag} '${topic}': Kafka topic names allow letters, digits, '.', '_' and '-' only (found '${bad[0]}')`)
  return topic
}

/** The republish error action's topic: an MQTT topic name, not a filter, not a reserved $ topic. */
export function checkErrorTopic(topic: string, flag = '--error-topic'): string {
  if (topic.length === 0) throw new InputError(`${flag}: the error topic is empty`)
  if (/[+#]/.test(topic.replace(/\$\{[^}]*\}/g, 'x'))) throw new InputError(`${flag} '${topic}': a topic to publish to cannot contain the wildcards '+' or '#'`)
  if (topic.startsWith('$')) throw new InputError(`${flag} '${topic}': topics starting with '$' are reserved by AWS IoT`)
  if (Buffer.byteLength(topic) > 256) throw new InputError(`${flag} '${truncate(topic)}': an MQTT topic has at most 256 bytes`)
  return topic
}

/**
 * An S3 bucket name as S3 allows it (S3 user guide, "General purpose bucket naming rules"):
 * 3–63 characters of lowercase letters, digits, dots and hyphens, starting and ending with
 * a letter or digit, no two dots in a row, not an IP address, none of the reserved prefixes
 * and suffixes.
 */
export function checkS3Bucket(bucket: string, flag = '--s3-bucket'): string {
  const bad = (why: string) => new InputError(`${flag} '${truncate(bucket)}': ${why}`)
  if (bucket.length < 3 || bucket.length > 63) throw bad('an S3 bucket name has 3 to 63 characters')
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(bucket)) throw bad('an S3 bucket name has lowercase letters, digits, dots and hyphens only, and starts and ends with a letter or digit')
  if (bucket.includes('..')) throw bad('an S3 bucket name has no two dots in a row')
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) throw bad('an S3 bucket name is not an IP address')
  const prefix = ['xn--', 'sthree-', 'amzn-s3-demo-'].find((p) => bucket.startsWith(p))
  if (prefix) throw bad(`S3 reserves the prefix '${prefix}'`)
  const suffix = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'].find((p) => bucket.endsWith(p))
  if (suffix) throw bad(`S3 reserves the suffix '${suffix}'`)
  return bucket
}

/** The S3 action's key: a template of at most 1024 bytes (S3's key limit), not empty. */
export function checkS3Key(key: string, flag = '--s3-key'): string {
  if (key.trim().length === 0) throw new InputError(`${flag}: the object key is empty`)
  if (Buffer.byteLength(key) > 1024) throw new InputError(`${flag} '${truncate(key)}': an S3 object key has at most 1024 bytes`)
  return key
}

/** A topic that matches `filter`, for the "try this next" hint: `device/+/data` → `device/1/data`. */
export function sampleTopic(filter: string): string {
  return filter.split('/').map((level) => (level === '+' ? '1' : level === '#' ? 'test' : level)).join('/')
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}…` : text
}

/**
 * Availability zones (by zone id, the same in every account) whose subnets
 * AWS IoT refuses for a VPC destination: "You cannot use subnets in the
 * use1-az3 availability zone when creating a destination" (IoT developer
 * guide, https://docs.aws.amazon.com/iot/latest/developerguide/kafka-vpc-destination.html).
 */
export const destinationRefusedZoneIds = ['use1-az3']

/** Whether AWS IoT refuses VPC destination subnets in this zone (by zone id). */
export function isRefusedDestinationZone(zoneId: string | undefined): boolean {
  return zoneId !== undefined && destinationRefusedZoneIds.includes(zoneId)
}
