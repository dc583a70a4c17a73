// Step 2, second half: the AmazonMSK_ secret in each account, encrypted with
// that account's stack key, holding the same {"username","password"} in both
// (IoT rules read secrets of their own account only, so A's secret is mirrored
// into B). A is the source: B is made from A, and only --force overwrites B.
import {randomUUID} from 'node:crypto'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import * as secretsapi from '../aws/secrets.ts'
import type {AccountRole} from '../aws/account.ts'
import {InputError, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import {stackTags} from '../plan/tags.ts'
import type {Finding, ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {ScramCredentials} from './credentials.ts'
import {accountWord, noteRestored, stackKeyFact, stackKeyOf} from './keys.ts'
import {checkSecretSettings, generatePassword, keyAliasOf, otherSlot, slotSecretName, slotUsername, type SecretSlot} from './names.ts'
import {secretOptions, secretRecoveryDays} from './options.ts'
import {describeSecret, encryptedWith, isScheduledForDeletion, isStackSecret, listStackSecrets, readSecretValue, type SecretDescription} from './store.ts'

/** What read found, for create. */
interface SecretFinding {
  /** The stack's secret of the configured name (live or scheduled for deletion). */
  secret?: SecretDescription
  reEncrypt: boolean
  /** B's value differs from A's (only read for the IoT account's secret). */
  valueDiffers: boolean
}

const slotKey = (slot: SecretSlot) => slot === 'a' ? '' : `.${slot}`
const findingFact = (role: AccountRole, slot: SecretSlot) => factKey<SecretFinding>(`secrets.secret.${role}${slotKey(slot)}`)
/** The credentials written or read in this run, so B is made from A without reading A twice. Memory only. */
const credentialsFact = (slot: SecretSlot) => factKey<ScramCredentials>(`secrets.credentials${slotKey(slot)}`)
/** The stack's secret of a slot in an account, as it is after the step: its ARN for the association and the IoT role. */
export const secretFact = (role: AccountRole, slot: SecretSlot = 'a') => factKey<SecretDescription>(`secrets.secret-arn.${role}${slotKey(slot)}`)

/** The step id of a slot's secret: `secret:msk` / `secret:iot` for the first user (as before alternating users), `secret-b:…` for the alternate. */
export function secretStepId(role: AccountRole, slot: SecretSlot): string {
  return slot === 'a' ? `secret:${role}` : `secret-${slot}:${role}`
}
/** Set by validate when this run will create the MSK account's secret of a slot (the SCRAM association checks it). */
export const secretPlannedFact = (slot: SecretSlot = 'a') => factKey<boolean>(`secrets.planned${slotKey(slot)}`)

function secretRecord(ctx: StepContext, role: AccountRole, secret: SecretDescription, slot: SecretSlot): ResourceRecord {
  return {
    step: secretStepId(role, slot), kind: 'secretsmanager:secret', id: secret.ARN!, ...recordBase(ctx, role),
    attrs: {name: secret.Name ?? '', kmsKeyId: secret.KmsKeyId ?? ''},
  }
}

/** The stack's secret of the slot's name in `role`'s account, live, else undefined. */
export async function liveStackSecret(ctx: StepContext, role: AccountRole, slot: SecretSlot = 'a'): Promise<SecretDescription | undefined> {
  const sm = await ctx.accounts[role].secrets()
  const name = slotSecretName(ctx.settings, slot)
  const secret = await describeSecret(sm, name, `reading secret ${name} (${accountWord[role]} account)`)
  return isStackSecret(secret, ctx.stack) && !isScheduledForDeletion(secret) ? secret : undefined
}

/** The stack's MSK-account secret ARN (for the SCRAM association), read in this run or looked up by name. */
export async function mskSecretOf(ctx: StepContext, slot: SecretSlot = 'a'): Promise<SecretDescription | undefined> {
  const provided = ctx.facts.get(secretFact('msk', slot))
  if (provided) return provided
  const finding = ctx.facts.get(findingFact('msk', slot))
  if (finding?.secret && !isScheduledForDeletion(finding.secret)) return finding.secret
  return liveStackSecret(ctx, 'msk', slot)
}

/** The credentials A's secret holds: from this run, else read from A. */
async function sourceCredentials(ctx: StepContext, slot: SecretSlot): Promise<ScramCredentials> {
  const cached = ctx.facts.get(credentialsFact(slot))
  if (cached) return cached
  const source = await liveStackSecret(ctx, 'msk', slot)
  if (!source) throw new InputError(`no secret ${slotSecretName(ctx.settings, slot)} of stack '${ctx.stack}' in the MSK account to mirror; run \`iotctl secret mirror\``)
  const value = await readSecretValue(await ctx.accounts.msk.secrets(), source.ARN!, `reading the value of ${source.Name} (MSK account)`)
  if (!value.credentials) throw new InputError(`${source.Name} in the MSK account does not hold {"username","password"}; fix it or run \`iotctl secret rotate\``)
  ctx.facts.set(credentialsFact(slot), value.credentials)
  return value.credentials
}

/** The credentials for a new MSK-account secret: --password-stdin, else B's (when only B survived), else new ones. */
async function newCredentials(ctx: StepContext, slot: SecretSlot): Promise<ScramCredentials> {
  // --password-stdin is the first user's; the alternate always gets a generated password of its own.
  const given = slot === 'a' ? secretOptions(ctx).credentials : undefined
  if (given) return new ScramCredentials(slotUsername(ctx.settings, slot), given.revealPassword())
  const mirror = await liveStackSecret(ctx, 'iot', slot)
  if (mirror) {
    const value = await readSecretValue(await ctx.accounts.iot.secrets(), mirror.ARN!, `reading the value of ${mirror.Name} (IoT account)`)
    if (value.credentials) return value.credentials
  }
  return new ScramCredentials(slotUsername(ctx.settings, slot), generatePassword())
}

/** The stack's key in `role`'s account as the secret step needs it: ARN for CreateSecret (MSK wants a key id or ARN, not an alias). */
function stackKey(ctx: StepContext, role: AccountRole): {id: string; arn: string; alias: string} | undefined {
  const record = stackKeyOf(ctx, role)
  return record ? {id: record.id, arn: record.attrs?.arn ?? '', alias: record.attrs?.alias ?? ''} : undefined
}

export function secretStep(role: AccountRole, slot: SecretSlot = 'a'): Step {
  const id = secretStepId(role, slot)
  const where = `${accountWord[role]} account`
  return {
    id,
    title: slot === 'a' ? `AmazonMSK_ secret in the ${where}` : `alternate AmazonMSK_ secret (${slot}) in the ${where}`,
    account: role,
    // B's secret is made from A's credentials.
    needs: role === 'iot' ? [stackKeyFact(role), credentialsFact(slot)] : [stackKeyFact(role)],
    provides: role === 'msk' ? [secretFact(role, slot), credentialsFact(slot)] : [secretFact(role, slot)],
    check: checkSecretSettings,

    async validate(ctx) {
      const name = slotSecretName(ctx.settings, slot)
      const sm = await ctx.accounts[role].secrets()
      const existing = await describeSecret(sm, name, `looking up secret ${name} (${where})`)
      if (existing && !isStackSecret(existing, ctx.stack)) {
        const state = isScheduledForDeletion(existing) ? ' (scheduled for deletion)' : ''
        throw new InputError(`--name ${name}: a secret of that name${state} exists in the ${where} (${ctx.identities[role].accountId}) and stack '${ctx.stack}' did not create it; choose another --name`)
      }
      if (role !== 'msk') return
      ctx.facts.set(secretPlannedFact(slot), true)
      if (slot !== 'a') return
      const given = secretOptions(ctx).credentials
      if (!existing || isScheduledForDeletion(existing) || (!given && ctx.settings.secret?.username === undefined)) return
      // A is the source of truth: a value given now must not silently lose to it.
      const value = await readSecretValue(sm, existing.ARN!, `reading the value of ${name} (${where})`)
      if (given && value.credentials && value.credentials.revealPassword() !== given.revealPassword()) {
        throw new InputError(`--password-stdin: ${name} already exists in the MSK account with other credentials; use \`iotctl secret rotate --password-stdin\` to change them`)
      }
      const username = ctx.settings.secret?.username
      if (username !== undefined && value.credentials && value.credentials.username !== username) {
        throw new InputError(`--username ${username}: ${name} in the MSK account holds username '${value.credentials.username}'; pass that username, or another --name for a new secret`)
      }
    },

    async read(ctx) {
      const sm = await ctx.accounts[role].secrets()
      const name = slotSecretName(ctx.settings, slot)
      const {forceDeleteSecrets, force} = secretOptions(ctx)
      const owned = new Map<string, SecretDescription>()
      const byName = await describeSecret(sm, name, `reading secret ${name} (${where})`)
      const current = isStackSecret(byName, ctx.stack) ? byName : undefined
      if (current?.ARN) owned.set(current.ARN, current)
      // The first slot's step also owns the stack's stray secrets (another name, an older --name), never the other slot's.
      const otherName = slotSecretName(ctx.settings, otherSlot(slot))
      for (const secret of slot === 'a' ? await listStackSecrets(sm, ctx.stack, `finding the stack's secrets (${where})`) : []) {
        if (secret.ARN && !owned.has(secret.ARN) && secret.Name !== otherName) owned.set(secret.ARN, secret)
      }
      for (const record of ctx.ledger.forStep(id)) {
        if (owned.has(record.id)) continue
        const secret = await describeSecret(sm, record.id, `reading secret ${record.attrs?.name ?? record.id} (${where})`)
        if (secret?.ARN && isStackSecret(secret, ctx.stack)) owned.set(secret.ARN, secret)
      }
      // A secret in its recovery window is already deleted as far as cleanup is concerned,
      // unless --force-delete-secrets asks to purge it now.
      const resources = [...owned.values()].filter((s) => forceDeleteSecrets || !isScheduledForDeletion(s)).map((s) => secretRecord(ctx, role, s, slot))
      const missing: string[] = []
      const notes: string[] = []
      const findings: Finding[] = []
      const key = stackKey(ctx, role)
      const alias = keyAliasOf(ctx.settings)
      let reEncrypt = false
      let valueDiffers = false
      if (!current) {
        // The second user is added beside the first, which the rule keeps reading: no outage (alternating users).
        missing.push(`create secret ${name} encrypted with ${alias} (${where})${slot === 'a' ? '' : `: the second SCRAM user, for rotation without an outage; the rule keeps reading ${slotSecretName(ctx.settings, 'a')} meanwhile`}`)
      } else {
        if (isScheduledForDeletion(current)) {
          findings.push({kind: 'restorable', code: 'secret-pending-deletion', text: `secret ${name} (${where}) is scheduled for deletion`, fix: 'iotctl secret mirror (it restores the secret)'})
          missing.push(`restore secret ${name} (${where}), scheduled for deletion${current.DeletedDate ? ` on ${current.DeletedDate.toISOString().slice(0, 10)}` : ''} by an earlier cleanup`)
        }
        if (!key || !encryptedWith(current, key)) {
          reEncrypt = true
          missing.push(`re-encrypt secret ${name} with ${alias} (${where})${current.KmsKeyId ? '' : ': it uses the default aws/secretsmanager key, which MSK refuses'}`)
        }
        if (role === 'iot' && !isScheduledForDeletion(current)) {
          try {
            valueDiffers = await valuesDiffer(ctx, current, slot)
          } catch (error) {
            // Cleanup and doctor read too: a value that cannot be read (a disabled key) is a finding, not a crash.
            notes.push(`the values of ${name} could not be compared: ${(error as Error).message}`)
          }
          if (valueDiffers && force) missing.push(`make ${name} (${where}) hold the same username and password as the MSK account's`)
          else if (valueDiffers) findings.push({kind: 'drifted', code: 'secret-values-differ', text: `${name} differs between the two accounts: the mirror is broken`, fix: 'iotctl secret mirror --force (makes the IoT account\'s match the MSK account\'s)'})
        }
      }
      const others = resources.filter((r) => r.id !== current?.ARN)
      if (others.length > 0) notes.push(`the stack also owns ${others.map((r) => r.attrs?.name).join(', ')} in the ${where}; cleanup removes it`)
      ctx.facts.set(findingFact(role, slot), {secret: current, reEncrypt, valueDiffers})
      if (current && missing.length === 0 && !isScheduledForDeletion(current)) ctx.facts.set(secretFact(role, slot), current)
      return {resources, missing, notes, findings}
    },

    async create(ctx, observed) {
      const sm = await ctx.accounts[role].secrets()
      const name = slotSecretName(ctx.settings, slot)
      const key = stackKey(ctx, role)
      if (!key?.arn) throw new InputError(`no KMS key of stack '${ctx.stack}' in the ${where} to encrypt ${name} with; run \`iotctl secret mirror\``)
      const finding = ctx.facts.get(findingFact(role, slot))
      if (!finding) throw new Error(`${id}: create ran before read`)
      let secret = finding.secret
      if (!secret) {
        const credentials = role === 'msk' ? await newCredentials(ctx, slot) : await sourceCredentials(ctx, slot)
        ctx.checkpoint()
        const created = await secretsapi.createSecret(sm, {
          Name: name,
          Description: `iotctl stack ${ctx.stack}: SASL/SCRAM credentials for MSK, the same in the IoT and the MSK account`,
          KmsKeyId: key.arn,
          SecretString: credentials.secretString(),
          ClientRequestToken: randomUUID(),
          Tags: stackTags(ctx.stack),
        }, `creating secret ${name} (${where})`)
        ctx.facts.set(credentialsFact(slot), credentials)
        secret = await describeSecret(sm, created.ARN!, `reading secret ${name} (${where})`) ?? {ARN: created.ARN, Name: name, KmsKeyId: key.arn}
        ctx.ledger.put(secretRecord(ctx, role, secret, slot))
        ctx.checkpoint()
      } else {
        const arn = secret.ARN!
        if (isScheduledForDeletion(secret)) {
          await secretsapi.restoreSecret(sm, {SecretId: arn}, `restoring secret ${name} (${where})`)
          noteRestored(ctx, `restored secret ${name} in the ${where}, which an earlier cleanup had scheduled for deletion`)
          ctx.checkpoint()
        }
        if (finding.reEncrypt) {
          // Without a new value, UpdateSecret re-encrypts the existing versions with the new key.
          await secretsapi.updateSecret(sm, {SecretId: arn, KmsKeyId: key.arn}, `re-encrypting secret ${name} with ${key.alias || key.arn} (${where})`)
          ctx.checkpoint()
        }
        if (role === 'iot' && finding.valueDiffers && secretOptions(ctx).force) {
          const credentials = await sourceCredentials(ctx, slot)
          ctx.checkpoint()
          await secretsapi.putSecretValue(sm, {
            SecretId: arn, SecretString: credentials.secretString(), ClientRequestToken: randomUUID(),
          }, `writing the MSK account's credentials into ${name} (${where})`)
        }
        secret = await describeSecret(sm, arn, `reading secret ${name} (${where})`) ?? secret
      }
      ctx.facts.set(findingFact(role, slot), {secret, reEncrypt: false, valueDiffers: false})
      ctx.facts.set(secretFact(role, slot), secret)
      const record = secretRecord(ctx, role, secret, slot)
      ctx.ledger.put(record)
      return [record, ...observed.resources.filter((r) => r.id !== record.id)]
    },

    async delete(ctx, resources) {
      const sm = await ctx.accounts[role].secrets()
      const {forceDeleteSecrets} = secretOptions(ctx)
      for (const record of resources) {
        await deleteSecret(sm, record, forceDeleteSecrets === true, where)
        ctx.ledger.remove(record)
        ctx.checkpoint()
      }
    },
  }
}

/** Compares B's value with A's (when A is there); remembers A's credentials for create. */
async function valuesDiffer(ctx: StepContext, iotSecret: SecretDescription, slot: SecretSlot): Promise<boolean> {
  const source = await liveStackSecret(ctx, 'msk', slot)
  if (!source) return false
  const name = slotSecretName(ctx.settings, slot)
  const mskValue = await readSecretValue(await ctx.accounts.msk.secrets(), source.ARN!, `reading the value of ${name} (MSK account)`)
  const iotValue = await readSecretValue(await ctx.accounts.iot.secrets(), iotSecret.ARN!, `reading the value of ${name} (IoT account)`)
  if (mskValue.credentials) ctx.facts.set(credentialsFact(slot), mskValue.credentials)
  return !mskValue.credentials || !iotValue.credentials || !mskValue.credentials.equals(iotValue.credentials)
}

async function deleteSecret(sm: SecretsManagerClient, record: ResourceRecord, force: boolean, where: string): Promise<void> {
  try {
    await secretsapi.deleteSecret(sm, force
      ? {SecretId: record.id, ForceDeleteWithoutRecovery: true}
      : {SecretId: record.id, RecoveryWindowInDays: secretRecoveryDays})
  } catch (error) {
    if (isNotFound(error)) return
    // "marked for deletion" (InvalidRequestException): one account serving as both may have deleted it already.
    if (awsErrorCode(error) === 'InvalidRequestException' && /deleted|deletion/i.test((error as Error).message)) return
    throw toAwsError(`deleting secret ${record.attrs?.name ?? record.id} (${where})`, error)
  }
}
