// The topic rule of walkthrough step 7 as a pure function: SQL, the Apache
// Kafka action through the VPC destination, SCRAM credentials read with
// get_secret, and an optional republish error action.
import type {Action, TopicRulePayload} from '@aws-sdk/client-iot'
import {stackMark} from '../plan/tags.ts'

/** IoT's current SQL version; get_secret needs 2016-03-23. */
export const sqlVersion = '2016-03-23'

/**
 * `${get_secret('<name>', 'SecretString', '<json key>', '<role arn>')}`: the
 * rule reads the SCRAM username and password from Secrets Manager at run time
 * with the given role (IoT SQL reference, get_secret).
 */
export function getSecretExpression(secretName: string, jsonKey: string, roleArn: string): string {
  return `\${get_secret('${secretName}', 'SecretString', '${jsonKey}', '${roleArn}')}`
}

export interface GetSecretCall {
  secretName: string
  secretType: string
  jsonKey: string
  roleArn: string
}

/** Reads back a get_secret expression (doctor checks it names the right secret and role). */
export function parseGetSecret(expression: string): GetSecretCall | undefined {
  const match = /^\$\{\s*get_secret\(\s*'([^']*)'\s*,\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?,\s*'([^']*)'\s*\)\s*\}$/.exec(expression.trim())
  if (!match) return undefined
  return {secretName: match[1], secretType: match[2], jsonKey: match[3] ?? '', roleArn: match[4]}
}

/** The rule description is its construction mark: it names the stack. */
export function ruleDescription(stack: string): string {
  return `${stackMark(stack)} IoT rule to Apache Kafka (MSK) through a VPC destination`
}

export function isStackRuleDescription(description: string | undefined, stack: string): boolean {
  const mark = stackMark(stack)
  return description === mark || (description?.startsWith(`${mark} `) ?? false)
}

export interface KafkaRuleInput {
  stack: string
  sql: string
  destinationArn: string
  kafkaTopic: string
  bootstrapServers: string
  secretName: string
  roleArn: string
  /** MQTT topic the error action republishes failures to. */
  errorTopic?: string
  /** An S3 action beside the Kafka one: each message (as the SQL made it) to an object of this bucket and key template. */
  s3?: {bucket: string; key: string}
}

export function kafkaClientProperties(input: Pick<KafkaRuleInput, 'bootstrapServers' | 'secretName' | 'roleArn'>): Record<string, string> {
  return {
    'bootstrap.servers': input.bootstrapServers,
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'SCRAM-SHA-512',
    'sasl.scram.username': getSecretExpression(input.secretName, 'username', input.roleArn),
    'sasl.scram.password': getSecretExpression(input.secretName, 'password', input.roleArn),
  }
}

export function kafkaRulePayload(input: KafkaRuleInput): TopicRulePayload {
  const payload: TopicRulePayload = {
    sql: input.sql,
    description: ruleDescription(input.stack),
    awsIotSqlVersion: sqlVersion,
    ruleDisabled: false,
    actions: [{kafka: {destinationArn: input.destinationArn, topic: input.kafkaTopic, clientProperties: kafkaClientProperties(input)}}],
  }
  // The S3 action writes with the rule's role (IoT developer guide, "S3 action": bucketName, key, roleArn).
  if (input.s3) payload.actions!.push({s3: {bucketName: input.s3.bucket, key: input.s3.key, roleArn: input.roleArn}})
  if (input.errorTopic) payload.errorAction = {republish: {roleArn: input.roleArn, topic: input.errorTopic, qos: 0}}
  return payload
}

/** The CreateTopicRule `tags` parameter: a URL query string (IoT API reference). */
export function ruleTags(tags: Record<string, string>): string {
  return new URLSearchParams(tags).toString()
}

function kafkaActionOf(actions: Action[] | undefined) {
  return actions?.find((a) => a.kafka)?.kafka
}

/**
 * What differs between the rule as it is and as it should be, one phrase per
 * difference ("SQL … → …"); empty means nothing to replace. Never includes a
 * secret value: the rule holds only get_secret expressions.
 */
export function ruleChanges(current: TopicRulePayload, wanted: TopicRulePayload): string[] {
  const changes: string[] = []
  if (current.sql !== wanted.sql) changes.push(`SQL "${current.sql}" → "${wanted.sql}"`)
  const is = kafkaActionOf(current.actions)
  const want = kafkaActionOf(wanted.actions)
  if (!is) changes.push('add the Apache Kafka action')
  else if (want) {
    if (is.topic !== want.topic) changes.push(`Kafka topic '${is.topic}' → '${want.topic}'`)
    if (is.destinationArn !== want.destinationArn) changes.push(`destination ${is.destinationArn} → ${want.destinationArn}`)
    const props = new Set([...Object.keys(is.clientProperties ?? {}), ...Object.keys(want.clientProperties ?? {})])
    for (const key of [...props].sort()) {
      const [a, b] = [is.clientProperties?.[key], want.clientProperties?.[key]]
      if (a === b) continue
      changes.push(key === 'bootstrap.servers' || !key.startsWith('sasl.scram.') ? `${key} '${a ?? ''}' → '${b ?? ''}'` : `${key} (secret or role in get_secret)`)
    }
  }
  const [s3Is, s3Want] = [current.actions?.find((a) => a.s3)?.s3, wanted.actions?.find((a) => a.s3)?.s3]
  if (s3Want && (s3Is?.bucketName !== s3Want.bucketName || s3Is?.key !== s3Want.key || s3Is?.roleArn !== s3Want.roleArn)) changes.push(`S3 action: bucket '${s3Want.bucketName}', key '${s3Want.key}'`)
  else if (!s3Want && s3Is) changes.push('remove the S3 action')
  else if ((current.actions?.length ?? 0) !== (wanted.actions?.length ?? 0)) changes.push('remove actions iotctl did not add')
  const [errorIs, errorWant] = [current.errorAction?.republish, wanted.errorAction?.republish]
  if (errorIs?.topic !== errorWant?.topic || (errorWant && errorIs?.roleArn !== errorWant.roleArn) || (!errorWant && current.errorAction && Object.keys(current.errorAction).length > 0)) {
    changes.push(errorWant ? `error action: republish to '${errorWant.topic}'` : 'remove the error action')
  }
  if ((current.awsIotSqlVersion ?? sqlVersion) !== wanted.awsIotSqlVersion) changes.push(`SQL version ${current.awsIotSqlVersion} → ${wanted.awsIotSqlVersion}`)
  return changes
}
