// Step 2, first half: a symmetric customer-managed KMS key in each account,
// found through its alias, the ledger or (when both are gone) its tags. MSK
// refuses secrets encrypted with the AWS managed aws/secretsmanager key.
import type {KMSClient, KeyMetadata} from '@aws-sdk/client-kms'
import * as kmsapi from '../aws/kms.ts'
import type {AccountRole} from '../aws/account.ts'
import {InputError, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import {hasStackTag, stackTags} from '../plan/tags.ts'
import type {Finding, ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {missingStatements, newKeyPolicy, parseKeyPolicy, partitionOf, stackKeyPolicySids, stackKeyStatements, withStatements, withoutStatements, type KeyPolicyContext} from './key-policy.ts'
import {checkSecretSettings, keyAliasOf} from './names.ts'
import {defaultKmsPendingDays, secretOptions} from './options.ts'

export const accountWord: Record<AccountRole, string> = {iot: 'IoT', msk: 'MSK'}

/** What read found, for create: the key the alias should name, and what to do to it. */
interface KeyFinding {
  key?: KeyMetadata
  /** The key the alias names now (may be another of the stack's keys). */
  aliasTarget?: string
  /** The stack's statements are missing from the key's policy. */
  statementsMissing: boolean
}

const findingFact = (role: AccountRole) => factKey<KeyFinding>(`secrets.key.${role}`)

/** Lines saying what a run brought back from an earlier cleanup (keys, secrets), for the command's output. */
export const restoredFact = factKey<string[]>('secrets.restored')

export function noteRestored(ctx: StepContext, line: string): void {
  ctx.facts.set(restoredFact, [...(ctx.facts.get(restoredFact) ?? []), line])
}

/** The stack's key in an account (record with its ARN and alias): what the secret and the IoT role's key-user statement use. */
export const stackKeyFact = (role: AccountRole) => factKey<ResourceRecord>(`secrets.stackKey.${role}`)

/** Key states that are gone or going: such a key is restored, never used as it is. */
const deletedStates = new Set(['PendingDeletion', 'PendingReplicaDeletion'])

/** The stack's key in `role`'s account, once read or created in this run (secret steps encrypt with it). */
export function stackKeyOf(ctx: StepContext, role: AccountRole): ResourceRecord | undefined {
  const provided = ctx.facts.get(stackKeyFact(role))
  if (provided) return provided
  const records = ctx.outputs.get(`kms-key:${role}`) ?? []
  return records.find((r) => r.attrs?.alias === keyAliasOf(ctx.settings)) ?? records[0]
}

export function keyPolicyContext(ctx: StepContext, role: AccountRole): KeyPolicyContext {
  return {stack: ctx.stack, accountId: ctx.identities[role].accountId, region: ctx.accounts[role].region, partition: partitionOf(ctx.identities[role].arn)}
}

function kmsTags(stack: string): {TagKey: string; TagValue: string}[] {
  return stackTags(stack).map((t) => ({TagKey: t.Key, TagValue: t.Value}))
}

/** DescribeKey by id, ARN or alias name; undefined when there is no such key or alias. */
export async function describeKey(kms: KMSClient, keyId: string, step: string): Promise<KeyMetadata | undefined> {
  try {
    return (await kmsapi.describeKey(kms, {KeyId: keyId})).KeyMetadata
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(step, error)
  }
}

async function ownedByStack(kms: KMSClient, keyId: string, stack: string): Promise<boolean> {
  try {
    const answer = await kmsapi.listResourceTags(kms, {KeyId: keyId})
    return hasStackTag((answer.Tags ?? []).map((t) => ({Key: t.TagKey, Value: t.TagValue})), stack)
  } catch (error) {
    // AWS managed keys and keys of other principals may refuse ListResourceTags: not ours either way.
    if (isNotFound(error) || (awsErrorCode(error) ?? '').includes('AccessDenied')) return false
    throw toAwsError('reading a KMS key\'s tags', error)
  }
}

/** Every key of the account carrying the stack's tag (ListKeys has no tag filter, so each key's tags are read). */
async function scanStackKeys(kms: KMSClient, stack: string, role: AccountRole): Promise<KeyMetadata[]> {
  const found: KeyMetadata[] = []
  for (const entry of await kmsapi.listAllKeys(kms, `listing KMS keys (${accountWord[role]} account)`)) {
    if (!entry.KeyId || !(await ownedByStack(kms, entry.KeyId, stack))) continue
    const key = await describeKey(kms, entry.KeyId, 'describing a KMS key')
    if (key && key.KeyManager !== 'AWS') found.push(key)
  }
  return found
}

function keyRecord(ctx: StepContext, role: AccountRole, key: KeyMetadata, alias: string | undefined): ResourceRecord {
  return {
    step: `kms-key:${role}`, kind: 'kms:key', id: key.KeyId!, ...recordBase(ctx, role),
    attrs: {arn: key.Arn ?? '', alias: alias ?? ''},
  }
}

const newest = (a: KeyMetadata, b: KeyMetadata) => (b.CreationDate?.getTime() ?? 0) - (a.CreationDate?.getTime() ?? 0)

/** A symmetric customer-managed key in `role`'s account, with the stack's alias and key-policy statements. */
export function kmsKeyStep(role: AccountRole): Step {
  const id = `kms-key:${role}`
  const where = `${accountWord[role]} account`
  return {
    id,
    title: `KMS key for the AmazonMSK_ secret in the ${where}`,
    account: role,
    provides: [stackKeyFact(role)],
    // One account serving as both: the two steps manage one key and alias, so
    // the IoT account's runs after the MSK account's and finds the key instead
    // of racing it to create a second.
    needs: role === 'iot' ? [stackKeyFact('msk')] : [],
    check: checkSecretSettings,

    async validate(ctx) {
      const alias = keyAliasOf(ctx.settings)
      const kms = await ctx.accounts[role].kms()
      const target = await describeKey(kms, alias, `looking up ${alias} (${where})`)
      if (target && (target.KeyManager === 'AWS' || !(await ownedByStack(kms, target.KeyId!, ctx.stack)))) {
        throw new InputError(`--key-alias ${alias}: in the ${where} (${ctx.identities[role].accountId}) it names key ${target.KeyId}, which stack '${ctx.stack}' did not create; choose another --key-alias`)
      }
    },

    async read(ctx) {
      const kms = await ctx.accounts[role].kms()
      const alias = keyAliasOf(ctx.settings)
      const owned = new Map<string, KeyMetadata>()
      const aliasKey = await describeKey(kms, alias, `looking up ${alias} (${where})`)
      if (aliasKey?.KeyId && aliasKey.KeyManager !== 'AWS' && await ownedByStack(kms, aliasKey.KeyId, ctx.stack)) owned.set(aliasKey.KeyId, aliasKey)
      for (const record of ctx.ledger.forStep(id)) {
        if (owned.has(record.id)) continue
        const key = await describeKey(kms, record.id, `reading key ${record.id} (${where})`)
        if (key?.KeyId && await ownedByStack(kms, key.KeyId, ctx.stack)) owned.set(key.KeyId, key)
      }
      if (owned.size === 0) for (const key of await scanStackKeys(kms, ctx.stack, role)) owned.set(key.KeyId!, key)

      const live = [...owned.values()].filter((k) => !deletedStates.has(k.KeyState ?? '')).sort(newest)
      const pending = [...owned.values()].filter((k) => deletedStates.has(k.KeyState ?? '')).sort(newest)
      const aliasTarget = aliasKey && owned.has(aliasKey.KeyId!) ? aliasKey.KeyId : undefined
      // The key to use: the one the alias names, else the newest live one, else one to bring back.
      const current = (aliasTarget ? owned.get(aliasTarget) : undefined) ?? live[0] ?? pending[0]
      // The key in use first: later steps (the IoT role's key-user statement) take records[0].
      const inUse = live.filter((k) => k.KeyId === current?.KeyId)
      const resources = [...inUse, ...live.filter((k) => k.KeyId !== current?.KeyId)].map((k) => keyRecord(ctx, role, k, k.KeyId === aliasTarget ? alias : undefined))
      const missing: string[] = []
      const notes: string[] = []
      const findings: Finding[] = []
      let statementsMissing = false
      if (!current) {
        missing.push(`create a symmetric customer-managed KMS key with alias ${alias} (${where})`)
      } else {
        if (deletedStates.has(current.KeyState ?? '')) {
          const due = current.DeletionDate ? ` (due ${current.DeletionDate.toISOString().slice(0, 10)})` : ''
          findings.push({kind: 'restorable', code: 'key-pending-deletion', text: `key ${current.KeyId} (${where}) is scheduled for deletion${due}`, fix: 'iotctl secret mirror (it brings the key back)'})
          missing.push(`bring back key ${current.KeyId} (${where}): cancel its scheduled deletion${due} and re-enable it`)
        } else if (current.KeyState === 'Disabled') {
          missing.push(`enable key ${current.KeyId} (${where})`)
        }
        if (aliasTarget !== current.KeyId) missing.push(`point alias ${alias} at key ${current.KeyId} (${where})`)
        if (!deletedStates.has(current.KeyState ?? '')) {
          const policy = await kmsapi.getKeyPolicy(kms, {KeyId: current.KeyId, PolicyName: 'default'}, `reading the key policy of ${current.KeyId} (${where})`)
          const lacking = missingStatements(parseKeyPolicy(policy.Policy), stackKeyStatements(keyPolicyContext(ctx, role)))
          statementsMissing = lacking.length > 0
          for (const statement of lacking) missing.push(`add key-policy statement ${statement.Sid} to ${current.KeyId} (${where})`)
        } else {
          statementsMissing = true
        }
      }
      const extra = live.filter((k) => k.KeyId !== current?.KeyId)
      if (extra.length > 0) notes.push(`the stack also owns key(s) ${extra.map((k) => k.KeyId).join(', ')} in the ${where}; cleanup removes them`)
      ctx.facts.set(findingFact(role), {key: current, aliasTarget: aliasKey?.KeyId, statementsMissing})
      if (resources[0]) ctx.facts.set(stackKeyFact(role), resources[0])
      return {resources, missing, notes, findings}
    },

    async create(ctx, observed) {
      const kms = await ctx.accounts[role].kms()
      const alias = keyAliasOf(ctx.settings)
      const finding = ctx.facts.get(findingFact(role))
      if (!finding) throw new Error(`${id}: create ran before read`)
      let key = finding.key
      let statementsMissing = finding.statementsMissing
      if (!key) {
        const created = await kmsapi.createKey(kms, {
          Description: `iotctl stack ${ctx.stack}: encrypts the AmazonMSK_ SASL/SCRAM secret`,
          KeySpec: 'SYMMETRIC_DEFAULT',
          KeyUsage: 'ENCRYPT_DECRYPT',
          Policy: JSON.stringify(newKeyPolicy(keyPolicyContext(ctx, role))),
          Tags: kmsTags(ctx.stack),
        }, `creating a KMS key (${where})`)
        key = created.KeyMetadata!
        statementsMissing = false
        ctx.ledger.put(keyRecord(ctx, role, key, undefined))
        ctx.checkpoint()
      } else if (deletedStates.has(key.KeyState ?? '')) {
        // CancelKeyDeletion leaves the key Disabled (KMS developer guide, "Scheduling and canceling key deletion").
        await kmsapi.cancelKeyDeletion(kms, {KeyId: key?.KeyId}, `cancelling the scheduled deletion of ${key.KeyId} (${where})`)
        ctx.checkpoint()
        await kmsapi.enableKey(kms, {KeyId: key?.KeyId}, `enabling ${key.KeyId} (${where})`)
        noteRestored(ctx, `brought back key ${key.KeyId} (${where}): cancel its scheduled deletion${key.DeletionDate ? ` (due ${key.DeletionDate.toISOString().slice(0, 10)})` : ''} and re-enable it`)
        ctx.checkpoint()
      } else if (key.KeyState === 'Disabled') {
        await kmsapi.enableKey(kms, {KeyId: key?.KeyId}, `enabling ${key.KeyId} (${where})`)
      }
      const keyId = key.KeyId!
      ctx.checkpoint()
      if (finding.aliasTarget === undefined) {
        await kmsapi.createAlias(kms, {AliasName: alias, TargetKeyId: keyId}, `creating alias ${alias} (${where})`)
      } else if (finding.aliasTarget !== keyId) {
        await kmsapi.updateAlias(kms, {AliasName: alias, TargetKeyId: keyId}, `pointing alias ${alias} at ${keyId} (${where})`)
      }
      if (statementsMissing) await addStackStatements(ctx, role, kms, keyId)
      const current = await describeKey(kms, keyId, `reading key ${keyId} (${where})`) ?? key
      const record = keyRecord(ctx, role, current, alias)
      ctx.ledger.put(record)
      ctx.facts.set(stackKeyFact(role), record)
      return [record, ...observed.resources.filter((r) => r.id !== keyId).map((r) => ({...r, attrs: {...r.attrs, alias: ''}}))]
    },

    async delete(ctx, resources) {
      const kms = await ctx.accounts[role].kms()
      const pendingDays = secretOptions(ctx).kmsPendingDays ?? defaultKmsPendingDays
      for (const record of resources) {
        const key = await describeKey(kms, record.id, `reading key ${record.id} (${where})`)
        if (key && !deletedStates.has(key.KeyState ?? '')) {
          await removeStackStatements(ctx, role, kms, record.id)
          await deleteStackAliases(ctx, kms, record, where)
          try {
            await kmsapi.scheduleKeyDeletion(kms, {KeyId: record.id, PendingWindowInDays: pendingDays})
          } catch (error) {
            // Another step of the same run (one account serving as both) may have scheduled it already.
            if (!isNotFound(error) && awsErrorCode(error) !== 'KMSInvalidStateException') throw toAwsError(`scheduling the deletion of ${record.id} (${where})`, error)
          }
        }
        ctx.ledger.remove(record)
        ctx.checkpoint()
      }
    },
  }
}

async function addStackStatements(ctx: StepContext, role: AccountRole, kms: KMSClient, keyId: string): Promise<void> {
  const where = `${accountWord[role]} account`
  const answer = await kmsapi.getKeyPolicy(kms, {KeyId: keyId, PolicyName: 'default'}, `reading the key policy of ${keyId} (${where})`)
  const policy = parseKeyPolicy(answer.Policy)
  const lacking = missingStatements(policy, stackKeyStatements(keyPolicyContext(ctx, role)))
  if (lacking.length === 0) return
  ctx.checkpoint()
  await kmsapi.putKeyPolicy(kms, {
    KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(withStatements(policy, lacking)),
  }, `adding the stack's statements to the key policy of ${keyId} (${where})`)
}

async function removeStackStatements(ctx: StepContext, role: AccountRole, kms: KMSClient, keyId: string): Promise<void> {
  const where = `${accountWord[role]} account`
  let text: string | undefined
  try {
    text = (await kmsapi.getKeyPolicy(kms, {KeyId: keyId, PolicyName: 'default'})).Policy
  } catch (error) {
    if (isNotFound(error)) return
    throw toAwsError(`reading the key policy of ${keyId} (${where})`, error)
  }
  const policy = parseKeyPolicy(text)
  const kept = withoutStatements(policy, stackKeyPolicySids(ctx.stack))
  if (kept.Statement.length === policy.Statement.length) return
  await kmsapi.putKeyPolicy(kms, {
    KeyId: keyId, PolicyName: 'default', Policy: JSON.stringify(kept),
  }, `removing the stack's statements from the key policy of ${keyId} (${where})`)
}

/** Deletes the aliases the stack gave this key (the recorded one and the configured one), only while they name it. */
async function deleteStackAliases(ctx: StepContext, kms: KMSClient, record: ResourceRecord, where: string): Promise<void> {
  const names = new Set([record.attrs?.alias, keyAliasOf(ctx.settings)].filter(Boolean))
  const aliases = await kmsapi.listAliases(kms, {KeyId: record.id}, `listing the aliases of ${record.id} (${where})`)
  for (const alias of aliases.Aliases ?? []) {
    if (!alias.AliasName || !names.has(alias.AliasName) || alias.TargetKeyId !== record.id) continue
    try {
      await kmsapi.deleteAlias(kms, {AliasName: alias.AliasName})
    } catch (error) {
      if (!isNotFound(error)) throw toAwsError(`deleting alias ${alias.AliasName} (${where})`, error)
    }
  }
}
