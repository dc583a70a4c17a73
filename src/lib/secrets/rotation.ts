// `secret rotate` with alternating users
// (https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html):
// the stack owns two SCRAM users, each with an AmazonMSK_ secret mirrored in
// both accounts and associated with the cluster. A rotation writes a fresh
// password to the user the rule does NOT read, waits until the brokers accept
// it, and only then switches the rule's get_secret to it. The user the rule read
// until then stays valid: AWS IoT caches a get_secret value for up to 15
// minutes (https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-functions.html,
// get_secret), and MSK applies a changed SCRAM secret only after it propagated
// to the brokers (https://docs.aws.amazon.com/msk/latest/developerguide/msk-password-rotation.html),
// so writing the password the rule reads drops messages in between.
import {randomUUID} from 'node:crypto'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {AccountRole} from '../aws/account.ts'
import * as iotapi from '../aws/iot.ts'
import * as secretsapi from '../aws/secrets.ts'
import {AwsError, CheckFailed, InputError, Interrupted, awsErrorCode} from '../errors.ts'
import {ruleSettingsOf} from '../iot/inputs.ts'
import {checkKafkaTopic} from '../iot/names.ts'
import {isStackRuleDescription} from '../iot/rule.ts'
import {getTopicRule, type StackRule} from '../iot/rule-step.ts'
import {kafkaConnectionOf, type KafkaAccess} from '../msk/consume.ts'
import {produceRecord, scramLogin, topicAuthorization, type KafkaConnection} from '../msk/kafka-client.ts'
import {associationStepId} from '../msk/steps.ts'
import {sleep} from '../mqtt/time.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {upGraph} from '../stack/steps.ts'
import {ScramCredentials} from './credentials.ts'
import {formatDuration, type Duration} from './durations.ts'
import {checkSecretSettings, generatePassword, otherSlot, slotSecretName, slotUsername, type SecretSlot} from './names.ts'
import {secretOptions} from './options.ts'
import {activeSlotOf, ruleSecretName, switchRuleSecret} from './pair.ts'
import {secretStepId} from './secret-steps.ts'
import {currentVersionOf, describeSecret, isScheduledForDeletion, isStackSecret, readSecretString, type SecretDescription} from './store.ts'

/**
 * How long MSK may take to apply a changed SCRAM secret on every broker when
 * iotctl cannot sign in to check (the brokers are in a VPC it cannot reach):
 * the issue's figure from the MSK guide's rotation page, about 10 minutes.
 */
export const defaultPropagationMs = 10 * 60_000

export interface AccountSecret {
  arn: string
  /** The version carrying AWSCURRENT (an id, never the value). */
  versionId?: string
}

export interface RotateOptions {
  dryRun: boolean
  /** Rotate only when the active secret's last change is older than this. */
  ifOlderThan?: Duration
  /** How long to wait for the brokers to accept the new password (default `defaultPropagationMs`). */
  wait?: Duration
  /** A Kafka topic to produce the rotation event to once the rule reads the new user. */
  notifyTopic?: string
  kafka?: KafkaAccess
  runTask?: TaskRunner
  /** Lines while waiting ("… 4m 10s left"). */
  progress?: (line: string) => void
}

export interface RotationEvent {
  event: 'iotctl.secret.rotated'
  stack: string
  /** The secret the rule reads now, and the one it read before (names, never values). */
  secretName: string
  previousSecretName?: string
  /** The versions now current in each account. */
  versionIds: Record<AccountRole, string | undefined>
  rule?: string
  time: string
}

export interface SecretRotateResult {
  stack: string
  dryRun: boolean
  /** False when --if-older-than found the active secret young enough; `reason` says so. */
  rotated: boolean
  reason?: string
  /** The secret written (with alternating users: the one the rule reads from now on). */
  secretName: string
  /** The secret the rule read before (it stays valid), when the stack has a rule. */
  previousSecretName?: string
  /** The active secret's age when the rotation was decided, in seconds (with --if-older-than). */
  activeAgeSeconds?: number
  /** --if-older-than as given. */
  olderThan?: string
  /** What `rotate` added to turn a one-secret stack into one with two users (the upgrade), one line each. */
  upgraded: string[]
  /** The versions now carrying AWSCURRENT in the written secret (ids, never values). */
  current: Record<AccountRole, AccountSecret>
  /** The versions that carried AWSCURRENT there before. */
  previous: Record<AccountRole, AccountSecret>
  /** How the rotation knew the brokers accept the new password. */
  waited?: {how: 'scram-login' | 'propagation-time'; seconds: number}
  /** The rule's change: get_secret from one secret to the other. */
  rule?: {name: string; from: string; to: string}
  /** The event produced with --notify-topic (names and version ids only). */
  notified?: {topic: string; event: RotationEvent}
  /** --notify-topic's event could not be produced (brokers unreachable, topic missing, not allowed): why. */
  notifyFailed?: {topic: string; reason: string}
  /** Set when the rule reads neither secret (a stack without a rule): the active secret was rotated in place. */
  inPlace?: boolean
  steps: StepReport[]
}

/** --if-older-than: due when the last change is strictly older than the threshold (or unknown). */
export function rotationDue(changed: Date | undefined, now: number, threshold: Duration): {due: boolean; age: number} {
  const age = changed ? now - changed.getTime() : Number.POSITIVE_INFINITY
  return {due: age > threshold.ms, age}
}

/** --notify-topic: a literal Kafka topic name (no ${…} substitution here). */
export function checkNotifyTopic(topic: string): string {
  if (topic.includes('$')) throw new InputError(`--notify-topic '${topic}': Kafka topic names allow letters, digits, '.', '_' and '-' only (found '$')`)
  return checkKafkaTopic(topic, '--notify-topic')
}

const where: Record<AccountRole, string> = {msk: 'MSK account', iot: 'IoT account'}

async function rotationTarget(ctx: StepContext, role: AccountRole, name: string): Promise<{sm: SecretsManagerClient; secret: SecretDescription}> {
  const sm = await ctx.accounts[role].secrets()
  const secret = await describeSecret(sm, name, `reading secret ${name} (${where[role]})`)
  if (!secret || !isStackSecret(secret, ctx.stack)) {
    throw new InputError(`no secret ${name} of stack '${ctx.stack}' in the ${where[role]} (${ctx.identities[role].accountId}); run \`iotctl secret mirror\` first`)
  }
  if (isScheduledForDeletion(secret)) {
    throw new InputError(`secret ${name} in the ${where[role]} is scheduled for deletion; run \`iotctl secret mirror\` to restore it first`)
  }
  return {sm, secret}
}

/** The stack's rule of the configured name, if it exists and is the stack's. */
async function stackRule(ctx: StepContext): Promise<StackRule | undefined> {
  const found = await getTopicRule(await ctx.accounts.iot.iot(), ruleSettingsOf(ctx.settings).name)
  return found && isStackRuleDescription(found.rule.description, ctx.stack) ? found : undefined
}

/** The steps that make the alternate user (and let the rule's role read it): what upgrades a one-secret stack. */
const alternateSteps = [secretStepId('msk', 'b'), secretStepId('iot', 'b'), associationStepId('b'), 'iot-role']

export async function rotateSecrets(ctx: StepContext, options: RotateOptions): Promise<SecretRotateResult> {
  checkSecretSettings(ctx.settings)
  const rule = await stackRule(ctx)
  const active = activeSlotOf(ctx.settings, rule?.rule)
  if (rule && !active) {
    throw new InputError(`rule ${rule.name} reads secret ${ruleSecretName(rule.rule) ?? '(none)'}, neither of the stack's (${slotSecretName(ctx.settings, 'a')}, ${slotSecretName(ctx.settings, 'b')}); run \`iotctl up\` to bring the rule back to the stack's secret first`)
  }
  // Without a rule nothing reads the secret through get_secret: the first user is rotated in place.
  const target: SecretSlot = active ? otherSlot(active) : 'a'
  const activeName = slotSecretName(ctx.settings, active ?? 'a')
  const name = slotSecretName(ctx.settings, target)
  const base = {
    stack: ctx.stack, dryRun: options.dryRun, secretName: name, ...(active ? {previousSecretName: activeName} : {}),
    ...(options.ifOlderThan ? {olderThan: options.ifOlderThan.text} : {}), upgraded: [] as string[], steps: [] as StepReport[],
  }

  let activeAgeSeconds: number | undefined
  if (options.ifOlderThan) {
    // The active secret's last change: the IoT account's copy is the one the rule reads.
    const described = (await rotationTarget(ctx, 'iot', activeName)).secret
    const changed = described.LastChangedDate ?? described.CreatedDate
    const {due, age} = rotationDue(changed, Date.now(), options.ifOlderThan)
    activeAgeSeconds = Number.isFinite(age) ? Math.round(age / 1000) : undefined
    if (!due) {
      const {current} = await versionsOf(ctx, activeName)
      return {...base, secretName: activeName, rotated: false, activeAgeSeconds, current, previous: current,
        reason: `${activeName} was last changed ${formatDuration(age)} ago (${changed?.toISOString()}), not older than ${options.ifOlderThan.text}: not rotated`}
    }
  }

  // A stack made with one secret gets its alternate user first (the steps of `up`): the rule keeps reading the first one meanwhile.
  if (active) {
    const run = await applySteps(upGraph().slice(...alternateSteps), ctx, {dryRun: options.dryRun, targets: alternateSteps, ...(options.runTask ? {runTask: options.runTask} : {})})
    if (run.interrupted) throw new Interrupted('interrupted while adding the alternate user; the rule still reads the first one; run `iotctl secret rotate` again')
    base.steps = run.reports
    base.upgraded = run.reports.filter((r) => alternateSteps.includes(r.id) && (r.outcome === 'created' || r.outcome === 'would-create')).flatMap((r) => r.changes)
    ctx.checkpoint()
  }

  const a = options.dryRun && base.upgraded.length > 0 ? undefined : await rotationTarget(ctx, 'msk', name)
  const b = options.dryRun && base.upgraded.length > 0 ? undefined : await rotationTarget(ctx, 'iot', name)
  if (!a || !b) {
    const none = {msk: {arn: ''}, iot: {arn: ''}}
    return {...base, rotated: false, ...(activeAgeSeconds === undefined ? {} : {activeAgeSeconds}), current: none, previous: none, reason: `dry run: would add the alternate user ${slotUsername(ctx.settings, 'b')} (${name}), then rotate it`}
  }
  // Outside the runner: the stack's lease before the old values are read, so two rotations cannot interleave.
  if (!options.dryRun) await ctx.lease?.hold()
  const previous = {msk: {arn: a.secret.ARN!, versionId: currentVersionOf(a.secret)}, iot: {arn: b.secret.ARN!, versionId: currentVersionOf(b.secret)}}
  const age = activeAgeSeconds === undefined ? {} : {activeAgeSeconds}
  if (options.dryRun) return {...base, ...age, rotated: false, reason: 'dry run', current: previous, previous}

  // The old values stay in memory only, to put them back if the second write fails.
  const oldA = await readSecretString(a.sm, previous.msk.arn, `reading the value of ${name} (MSK account)`)
  const oldB = await readSecretString(b.sm, previous.iot.arn, `reading the value of ${name} (IoT account)`)
  const given = secretOptions(ctx).credentials
  const username = (target === 'a' ? ctx.settings.secret?.username : undefined) ?? ScramCredentials.parse(oldA.secretString)?.username ?? slotUsername(ctx.settings, target)
  const credentials = new ScramCredentials(username, given ? given.revealPassword() : generatePassword())
  const current = await writeBoth(ctx, {a: {...a, old: oldA.secretString}, b: {...b, old: oldB.secretString}, previous, name, credentials})
  const written = {...base, ...age, rotated: true, current, previous}
  if (!rule || !active) return {...written, inPlace: true}

  ctx.checkpoint()
  const waited = await waitUntilAccepted(ctx, credentials, name, options)
  ctx.checkpoint()
  const iot = await ctx.accounts.iot.iot()
  await iotapi.replaceTopicRule(iot, {ruleName: rule.name, topicRulePayload: switchRuleSecret(rule.rule, name)}, `switching rule ${rule.name} to ${name} (IoT account)`)
  const result: SecretRotateResult = {...written, waited, rule: {name: rule.name, from: activeName, to: name}}
  if (options.notifyTopic) {
    const event: RotationEvent = {
      event: 'iotctl.secret.rotated', stack: ctx.stack, secretName: name, previousSecretName: activeName,
      versionIds: {msk: current.msk.versionId, iot: current.iot.versionId}, rule: rule.name, time: new Date().toISOString(),
    }
    // As the new user: the one the rule writes with, so an ACL-locked cluster lets it produce where the rule's topic is.
    // The rotation is done by now: an event that cannot be produced is said, not a failure of the rotation.
    try {
      const connection = await kafkaConnectionOf(ctx, options.kafka ?? {})
      await produceRecord({...connection, credentials, connectTimeoutSeconds: 10}, options.notifyTopic, ctx.stack, JSON.stringify(event))
      result.notified = {topic: options.notifyTopic, event}
    } catch (error) {
      result.notifyFailed = {topic: options.notifyTopic, reason: error instanceof Error ? error.message : String(error)}
    }
  }
  return result
}

async function versionsOf(ctx: StepContext, name: string): Promise<{current: Record<AccountRole, AccountSecret>}> {
  const [a, b] = [await rotationTarget(ctx, 'msk', name), await rotationTarget(ctx, 'iot', name)]
  return {current: {msk: {arn: a.secret.ARN!, versionId: currentVersionOf(a.secret)}, iot: {arn: b.secret.ARN!, versionId: currentVersionOf(b.secret)}}}
}

/**
 * The brokers accept the new password: checked by signing in where they are
 * reachable, else the documented propagation time (or --wait) is waited out.
 * A progress line says how long is left.
 */
async function waitUntilAccepted(ctx: StepContext, credentials: ScramCredentials, name: string, options: RotateOptions): Promise<{how: 'scram-login' | 'propagation-time'; seconds: number}> {
  const progress = options.progress ?? ctx.progress
  const waitMs = options.wait?.ms ?? defaultPropagationMs
  const started = Date.now()
  const deadline = started + waitMs
  const seconds = () => Math.round((Date.now() - started) / 1000)
  let connection: KafkaConnection | undefined
  try {
    connection = {...await kafkaConnectionOf(ctx, options.kafka ?? {}), credentials, connectTimeoutSeconds: 5}
  } catch {
    connection = undefined
  }
  let state = connection ? await scramLogin(connection) : 'unreachable'
  if (connection && state !== 'unreachable') {
    let lastLine = 0
    while (state !== 'accepted') {
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new CheckFailed(`the brokers still refuse user '${credentials.username}' of ${name} after ${formatDuration(waitMs)}; the rule still reads the other user, nothing was switched; run \`iotctl secret rotate\` again later (or a longer --wait)`)
      }
      if (Date.now() - lastLine >= 5000) {
        progress(`waiting for the brokers to accept the new password of ${name}: ${formatDuration(left)} left`)
        lastLine = Date.now()
      }
      await sleep(Math.min(500, left))
      ctx.checkpoint()
      state = await scramLogin(connection)
    }
    // On a locked-down cluster the new user needs its ACLs before the rule writes as it (`msk acl` grants every user of the stack).
    const topic = ruleSettingsOf(ctx.settings).kafkaTopic
    if (!topic.includes('${')) {
      const allowed = await topicAuthorization(connection, topic)
      if (allowed.state === 'denied' || (allowed.state === 'authorized' && !allowed.operations.includes('Write'))) {
        throw new CheckFailed(`user '${credentials.username}' of ${name} may not write Kafka topic ${topic} (the cluster is locked down); run \`iotctl msk acl\` to grant it, then \`iotctl secret rotate\` again; the rule still reads the other user, nothing was switched`)
      }
    }
    return {how: 'scram-login', seconds: seconds()}
  }
  // The brokers cannot be reached from here (on AWS, inside their VPC): wait the documented time.
  for (let left = deadline - Date.now(); left > 0; left = deadline - Date.now()) {
    progress(`waiting for MSK to apply the new password of ${name} to its brokers: ${formatDuration(left)} left (--wait changes it)`)
    await sleep(Math.min(left, 15_000))
    ctx.checkpoint()
  }
  return {how: 'propagation-time', seconds: seconds()}
}

interface WriteBoth {
  a: {sm: SecretsManagerClient; old?: string}
  b: {sm: SecretsManagerClient; old?: string}
  previous: Record<AccountRole, AccountSecret>
  name: string
  credentials: ScramCredentials
}

/**
 * A new password in both accounts: A first, then B. If B fails, A's previous
 * value is written back (a new version holding the old value), so both keep
 * the old password, and the error says so (exit 1).
 */
async function writeBoth(ctx: StepContext, w: WriteBoth): Promise<Record<AccountRole, AccountSecret>> {
  // No checkpoint between the two writes: Ctrl-C must not leave the accounts different.
  const tokenA = randomUUID()
  const written = await secretsapi.putSecretValue(w.a.sm, {
    SecretId: w.previous.msk.arn, SecretString: w.credentials.secretString(), ClientRequestToken: tokenA,
  }, `writing the new password to ${w.name} (MSK account)`)
  const sameSecret = ctx.accounts.iot === ctx.accounts.msk || w.previous.iot.arn === w.previous.msk.arn
  if (sameSecret) {
    const current = {arn: w.previous.msk.arn, versionId: written.VersionId ?? tokenA}
    return {msk: current, iot: current}
  }
  const tokenB = randomUUID()
  try {
    const mirrored = await secretsapi.putSecretValue(w.b.sm, {SecretId: w.previous.iot.arn, SecretString: w.credentials.secretString(), ClientRequestToken: tokenB})
    return {msk: {arn: w.previous.msk.arn, versionId: written.VersionId ?? tokenA}, iot: {arn: w.previous.iot.arn, versionId: mirrored.VersionId ?? tokenB}}
  } catch (error) {
    throw await rollBack({...w, tokenB, cause: error})
  }
}

/** Writes the old values back where the new one landed; the returned error says where each account stands. */
async function rollBack(r: WriteBoth & {tokenB: string; cause: unknown}): Promise<Error> {
  const code = awsErrorCode(r.cause) ?? 'Error'
  const reason = r.cause instanceof Error ? r.cause.message : String(r.cause)
  const step = `rotating ${r.name}`
  const putBack = async (sm: SecretsManagerClient, arn: string, old: string | undefined): Promise<string> => {
    if (old === undefined) throw new Error('the previous value is unknown')
    const answer = await secretsapi.putSecretValue(sm, {SecretId: arn, SecretString: old, ClientRequestToken: randomUUID()})
    return answer.VersionId ?? ''
  }
  let restoredA: string
  try {
    restoredA = await putBack(r.a.sm, r.previous.msk.arn, r.a.old)
  } catch (error) {
    return new AwsError(step, code, `the IoT account's secret could not be updated (${reason}), and putting the MSK account's back failed too (${(error as Error).message}): the MSK account holds the new password, the IoT account the old one; run \`iotctl secret rotate\` again`, {cause: r.cause})
  }
  // A write that failed on the way back (a timeout) may still have landed in B: check, and undo it too.
  try {
    const b = await describeSecret(r.b.sm, r.previous.iot.arn, `reading secret ${r.name} (IoT account)`)
    if (b && currentVersionOf(b) === r.tokenB) await putBack(r.b.sm, r.previous.iot.arn, r.b.old)
  } catch (error) {
    return new AwsError(step, code, `the IoT account's secret could not be confirmed (${reason}; ${(error as Error).message}); the MSK account's holds the old password again (version ${restoredA}); run \`iotctl secret mirror\` to check both`, {cause: r.cause})
  }
  return new AwsError(step, code, `the IoT account's secret could not be updated (${reason}); the MSK account's secret holds the old password again (version ${restoredA}), so both keep the old password`, {cause: r.cause})
}
