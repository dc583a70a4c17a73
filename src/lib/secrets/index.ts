// `secret mirror` and `secret rotate`: step 2 of the walkthrough, and a
// rotation that writes both accounts so that they never stay different.
import {randomUUID} from 'node:crypto'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import * as secretsapi from '../aws/secrets.ts'
import type {AccountRole, CallerIdentity} from '../aws/account.ts'
import {AwsError, InputError, awsErrorCode} from '../errors.ts'
import {StepGraph} from '../plan/graph.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {ScramCredentials} from './credentials.ts'
import {restoredFact, stackKeyOf} from './keys.ts'
import {checkSecretSettings, generatePassword, keyAliasOf, secretNameOf, usernameOf} from './names.ts'
import {secretOptions} from './options.ts'
import {mirrorSteps} from './steps.ts'
import {currentVersionOf, describeSecret, isScheduledForDeletion, isStackSecret, readSecretString, type SecretDescription} from './store.ts'

export interface AccountKey {
  keyId: string
  arn: string
}

export interface AccountSecret {
  arn: string
  /** The version carrying AWSCURRENT (an id, never the value). */
  versionId?: string
}

export interface SecretMirrorResult {
  stack: string
  dryRun: boolean
  accounts: {iot: CallerIdentity; msk: CallerIdentity}
  secretName: string
  keyAlias: string
  keys: Partial<Record<AccountRole, AccountKey>>
  secrets: Partial<Record<AccountRole, AccountSecret>>
  /** False when both secrets exist and hold different credentials (run again with --force). */
  inSync: boolean
  /** What was brought back from an earlier cleanup (secrets restored, keys whose deletion was cancelled). */
  restored: string[]
  /** False when a second run found everything in place. */
  changed: boolean
  interrupted: boolean
  steps: StepReport[]
}

/** Step 2's steps: a key and a secret in each account. */
export function mirrorGraph(): StepGraph {
  return new StepGraph(mirrorSteps)
}

export async function mirrorSecrets(ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<SecretMirrorResult> {
  const result = await applySteps(mirrorGraph(), ctx, options)
  const keys: Partial<Record<AccountRole, AccountKey>> = {}
  const secrets: Partial<Record<AccountRole, AccountSecret>> = {}
  for (const role of ['msk', 'iot'] as const) {
    const key = stackKeyOf(ctx, role)
    if (key) keys[role] = {keyId: key.id, arn: key.attrs?.arn ?? ''}
    const secret = ctx.outputs.get(`secret:${role}`)?.find((r) => r.attrs?.name === secretNameOf(ctx.settings))
    if (secret) {
      const described = options.dryRun ? undefined : await describeSecret(await ctx.accounts[role].secrets(), secret.id, `reading secret ${secret.attrs?.name}`)
      secrets[role] = {arn: secret.id, ...(described ? {versionId: currentVersionOf(described)} : {})}
    }
  }
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    accounts: ctx.identities,
    secretName: secretNameOf(ctx.settings),
    keyAlias: keyAliasOf(ctx.settings),
    keys,
    secrets,
    inSync: !result.reports.some((r) => r.id === 'secret:iot' && r.findings.some((f) => f.code === 'secret-values-differ')),
    restored: ctx.facts.get(restoredFact) ?? [],
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    steps: result.reports,
  }
}

export interface SecretRotateResult {
  stack: string
  dryRun: boolean
  secretName: string
  /** The versions now carrying AWSCURRENT (ids, never values). */
  current: Record<AccountRole, AccountSecret>
  /** The versions that carried AWSCURRENT before. */
  previous: Record<AccountRole, AccountSecret>
}

const where: Record<AccountRole, string> = {msk: 'MSK account', iot: 'IoT account'}

async function rotationTarget(ctx: StepContext, role: AccountRole): Promise<{sm: SecretsManagerClient; secret: SecretDescription}> {
  const name = secretNameOf(ctx.settings)
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

/**
 * A new password in both accounts: A first, then B. If B fails, A's previous
 * value is written back (a new version holding the old value), so both keep
 * the old password, and the error says so (exit 1).
 */
export async function rotateSecrets(ctx: StepContext, options: {dryRun: boolean}): Promise<SecretRotateResult> {
  checkSecretSettings(ctx.settings)
  const name = secretNameOf(ctx.settings)
  const a = await rotationTarget(ctx, 'msk')
  const b = await rotationTarget(ctx, 'iot')
  // Outside the runner: the stack's lease before the old values are read, so two rotations cannot interleave.
  if (!options.dryRun) await ctx.lease?.hold()
  const previous = {
    msk: {arn: a.secret.ARN!, versionId: currentVersionOf(a.secret)},
    iot: {arn: b.secret.ARN!, versionId: currentVersionOf(b.secret)},
  }
  // The old values stay in memory only, to put them back if the second write fails.
  const oldA = await readSecretString(a.sm, previous.msk.arn, `reading the value of ${name} (MSK account)`)
  const oldB = await readSecretString(b.sm, previous.iot.arn, `reading the value of ${name} (IoT account)`)
  const given = secretOptions(ctx).credentials
  const username = ctx.settings.secret?.username ?? ScramCredentials.parse(oldA.secretString)?.username ?? usernameOf(ctx.settings)
  const credentials = given ? new ScramCredentials(username, given.revealPassword()) : new ScramCredentials(username, generatePassword())
  if (options.dryRun) return {stack: ctx.stack, dryRun: true, secretName: name, current: previous, previous}

  // No checkpoint between the two writes: Ctrl-C must not leave the accounts different.
  const tokenA = randomUUID()
  const written = await secretsapi.putSecretValue(a.sm, {
    SecretId: previous.msk.arn, SecretString: credentials.secretString(), ClientRequestToken: tokenA,
  }, `writing the new password to ${name} (MSK account)`)
  const sameSecret = ctx.accounts.iot === ctx.accounts.msk || previous.iot.arn === previous.msk.arn
  if (sameSecret) {
    const current = {arn: previous.msk.arn, versionId: written.VersionId ?? tokenA}
    return {stack: ctx.stack, dryRun: false, secretName: name, current: {msk: current, iot: current}, previous}
  }
  const tokenB = randomUUID()
  try {
    const mirrored = await secretsapi.putSecretValue(b.sm, {SecretId: previous.iot.arn, SecretString: credentials.secretString(), ClientRequestToken: tokenB})
    return {
      stack: ctx.stack, dryRun: false, secretName: name, previous,
      current: {msk: {arn: previous.msk.arn, versionId: written.VersionId ?? tokenA}, iot: {arn: previous.iot.arn, versionId: mirrored.VersionId ?? tokenB}},
    }
  } catch (error) {
    throw await rollBack({a: {...a, old: oldA.secretString}, b: {...b, old: oldB.secretString}, previous, tokenB, name, cause: error})
  }
}

interface RollBack {
  a: {sm: SecretsManagerClient; old?: string}
  b: {sm: SecretsManagerClient; old?: string}
  previous: Record<AccountRole, AccountSecret>
  tokenB: string
  name: string
  cause: unknown
}

/** Writes the old values back where the new one landed; the returned error says where each account stands. */
async function rollBack(r: RollBack): Promise<Error> {
  const code = awsErrorCode(r.cause) ?? 'Error'
  const reason = (r.cause as Error).message ?? String(r.cause)
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
