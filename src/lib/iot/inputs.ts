// What the IoT steps (walkthrough steps 5–7) read from the settings and from
// earlier steps' records: secret:iot (id = secret ARN, attrs.name),
// kms-key:iot (id = key id), and their own iot-role / iot-destination.
import {InputError} from '../errors.ts'
import {factKey} from '../plan/facts.ts'
import type {ResourceRecord, StackSettings, StepContext} from '../plan/types.ts'
import {checkErrorTopic, checkKafkaTopic, checkRuleName, checkS3Bucket, checkS3Key, checkSql, defaultKafkaTopic, defaultRuleName, defaultSql} from './names.ts'
import {iotRoleName, partitionOf, roleArn, topicArn} from './policies.ts'
import {settingName} from '../config/origins.ts'

/** The stack's IoT role, once it exists with its policy: its ARN. */
export const roleArnFact = factKey<string>('iot.roleArn')
/** The IoT role's statement in B's stack key policy, once in place: the key's id. */
export const keyUserFact = factKey<string>('iot.keyUser')
/** Set by the role step's read: a role of the stack's name exists without the stack's tag (somebody else's). */
export const foreignRoleFact = factKey<boolean>('iot.role.foreign')
/** The stack's VPC topic rule destination, once ENABLED: its ARN. */
export const destinationArnFact = factKey<string>('iot.destinationArn')

/** Records of an earlier step: from this run, else from the ledger. */
export function recordsOf(ctx: StepContext, step: string): ResourceRecord[] {
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
  return ctx.facts.get(destinationArnFact) ?? ctx.outputs.get('iot-destination')?.[0]?.id
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
export function requireInputs(ctx: StepContext, steps: string[]): void {
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
  /** The S3 action (--s3-bucket), with its key template. */
  s3?: {bucket: string; key: string}
}

/** The S3 action's key when --s3-key is not given: the topic, then the time (IoT SQL functions). */
export const defaultS3Key = '${topic()}/${timestamp()}'

export function ruleSettingsOf(settings: StackSettings): RuleSettings {
  const rule = settings.rule
  return {
    name: rule?.name ?? defaultRuleName(settings.stack),
    sql: rule?.sql ?? defaultSql,
    kafkaTopic: rule?.kafkaTopic ?? defaultKafkaTopic,
    ...(rule?.errorTopic ? {errorTopic: rule.errorTopic} : {}),
    // A key without a bucket is kept (bucket '') so that the check can refuse it.
    ...(rule?.s3Bucket !== undefined || rule?.s3Key !== undefined ? {s3: {bucket: rule.s3Bucket ?? '', key: rule.s3Key ?? defaultS3Key}} : {}),
  }
}

/** Checks the rule's names and SQL (pure, no AWS call): InputError naming the bad value. */
export function checkRuleSettings(settings: RuleSettings, named: SettingNamer = defaultNamer): void {
  checkRuleName(settings.name, named('rule.name', '--name'))
  checkSql(settings.sql, named('rule.sql', '--sql'))
  checkKafkaTopic(settings.kafkaTopic, named('rule.kafkaTopic', '--kafka-topic'))
  if (settings.errorTopic !== undefined) checkErrorTopic(settings.errorTopic, named('rule.errorTopic', '--error-topic'))
  if (settings.s3) {
    if (settings.s3.bucket === '') throw new InputError(`${named('rule.s3Key', '--s3-key')} needs a bucket: add --s3-bucket (rule.s3Bucket)`)
    checkS3Bucket(settings.s3.bucket, named('rule.s3Bucket', '--s3-bucket'))
    checkS3Key(settings.s3.key, named('rule.s3Key', '--s3-key'))
  }
}

/** The objects the S3 action writes: what the role may s3:PutObject on. */
export function s3ObjectsArnOf(ctx: StepContext): string | undefined {
  const s3 = ruleSettingsOf(ctx.settings).s3
  return s3?.bucket ? `arn:${partitionOf(ctx.identities.iot.arn)}:s3:::${s3.bucket}/*` : undefined
}

/** What an error calls a setting (config/origins.ts): the flag as typed, or the key in the file. */
export type SettingNamer = (path: string, flag: string) => string
const defaultNamer: SettingNamer = (path, flag) => `${flag} (${path})`

/** The namer for a stack's settings: knows which values were typed and which the file holds. */
export const namerOf = (settings: StackSettings): SettingNamer => (path, flag) => settingName(settings, path, flag)

export function errorTopicArnOf(ctx: StepContext): string | undefined {
  const topic = ruleSettingsOf(ctx.settings).errorTopic
  return topic ? topicArn(partitionOf(ctx.identities.iot.arn), ctx.accounts.iot.region, ctx.identities.iot.accountId, topic) : undefined
}

export function propagationSeconds(ctx: StepContext): number {
  return Number(ctx.options.iamPropagationSeconds ?? 120)
}
