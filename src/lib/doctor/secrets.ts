// Doctor checks of steps 2–3: the AmazonMSK_ secret in each account, the same
// credentials in both (compared by digest: values are never printed or kept),
// customer-managed keys, and the secret's association with the cluster.
import {createHash} from 'node:crypto'
import type {DescribeSecretResponse} from '@aws-sdk/client-secrets-manager'
import type {AccountRole} from '../aws/account.ts'
import {describeKey} from '../aws/kms.ts'
import {clusterArnOf} from '../iot/brokers.ts'
import {associatedSecrets} from '../msk/clusters.ts'
import type {ResourceRecord, StepContext} from '../plan/types.ts'
import {formatDuration} from '../secrets/durations.ts'
import {slotSecretName, type SecretSlot} from '../secrets/names.ts'
import {activeSlotOf} from '../secrets/pair.ts'
import {secretStepId} from '../secrets/secret-steps.ts'
import {associationStepId} from '../msk/steps.ts'
import {foundRuleFact} from '../iot/rule-step.ts'
import {describeSecret, readSecretString} from '../secrets/store.ts'
import {fail, pass, warn, type CheckDefinition, type Verdict} from './check.ts'
import type {Registry} from './registry.ts'

const mirror = 'run `iotctl secret mirror` (or `iotctl up`)'
const where: Record<AccountRole, string> = {msk: 'MSK account', iot: 'IoT account'}

function secretRecord(registry: Registry, role: AccountRole, slot: SecretSlot = 'a'): ResourceRecord | undefined {
  return registry.observed.get(secretStepId(role, slot))?.resources[0]
}

/** Check ids of the alternate user's secrets carry its slot: `secret-b:msk`, `secrets-match-b`, … */
const slotSuffix = (slot: SecretSlot) => slot === 'a' ? '' : `-${slot}`
const whose = (slot: SecretSlot) => slot === 'a' ? '' : ' alternate (second user\'s)'

async function describe(ctx: StepContext, role: AccountRole, record: ResourceRecord): Promise<DescribeSecretResponse | undefined> {
  return describeSecret(await ctx.accounts[role].secrets(), record.id, `describing secret ${record.attrs?.name ?? record.id} (${where[role]})`)
}

/** SHA-256 of the secret's content, JSON keys sorted, so equal credentials compare equal however they are spelled. */
export function secretDigest(secretString: string): string {
  let canonical = secretString
  try {
    const parsed = JSON.parse(secretString) as unknown
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
      canonical = JSON.stringify(Object.fromEntries(Object.entries(parsed).sort(([a], [b]) => a.localeCompare(b))))
    }
  } catch {
    // Not JSON: compare the text as it is.
  }
  return createHash('sha256').update(canonical).digest('hex')
}

async function digestOf(ctx: StepContext, role: AccountRole, secretArn: string): Promise<string> {
  const {secretString} = await readSecretString(await ctx.accounts[role].secrets(), secretArn, `reading the secret's value (${where[role]})`)
  // A binary secret is no SCRAM secret: give it a digest no other account's secret can share.
  return secretDigest(secretString ?? `binary secret ${secretArn}`)
}

function secretExists(role: AccountRole, slot: SecretSlot): CheckDefinition {
  const step = secretStepId(role, slot)
  return {
    id: step,
    step,
    title: `the ${where[role]} has its${whose(slot)} AmazonMSK_ secret`,
    async run(ctx, registry) {
      const problem = registry.problems.get(step)
      if (problem) return fail(problem, mirror)
      const record = secretRecord(registry, role, slot)
      if (!record) return fail(`the stack has no secret in the ${where[role]} ${ctx.identities[role].accountId}`, mirror)
      const secret = await describe(ctx, role, record)
      if (!secret) return fail(`secret ${record.attrs?.name ?? record.id} no longer exists`, mirror)
      if (secret.DeletedDate) return fail(`secret ${secret.Name} is scheduled for deletion`, `${mirror}: it restores the secret`)
      if (!secret.Name?.startsWith('AmazonMSK_')) return fail(`secret ${secret.Name} does not start with AmazonMSK_, which MSK requires`, 'use a secret named AmazonMSK_… (secret.name in iotctl.json)')
      return pass(`${secret.Name} (${secret.ARN})`)
    },
  }
}

async function keyVerdict(ctx: StepContext, role: AccountRole, secret: DescribeSecretResponse): Promise<string | undefined> {
  if (!secret.KmsKeyId || /(^|:)alias\/aws\/secretsmanager$/.test(secret.KmsKeyId)) {
    return `${secret.Name} in the ${where[role]} uses the default aws/secretsmanager key, which MSK refuses`
  }
  const kms = await ctx.accounts[role].kms()
  const key = (await describeKey(kms, {KeyId: secret.KmsKeyId}, `describing key ${secret.KmsKeyId} (${where[role]})`)).KeyMetadata
  if (key?.KeyManager === 'AWS') return `${secret.Name} in the ${where[role]} uses an AWS managed key (${secret.KmsKeyId}), which MSK refuses`
  if (key?.KeyState !== 'Enabled') return `the key of ${secret.Name} in the ${where[role]} (${key?.KeyId}) is ${key?.KeyState}`
  return undefined
}

async function bothSecrets(ctx: StepContext, registry: Registry, slot: SecretSlot): Promise<{msk: DescribeSecretResponse; iot: DescribeSecretResponse} | Verdict> {
  const [mskRecord, iotRecord] = [secretRecord(registry, 'msk', slot), secretRecord(registry, 'iot', slot)]
  const [msk, iot] = [mskRecord && await describe(ctx, 'msk', mskRecord), iotRecord && await describe(ctx, 'iot', iotRecord)]
  if (!msk || !iot || msk.DeletedDate || iot.DeletedDate) return fail(`needs the secret in both accounts (${!msk || msk.DeletedDate ? where.msk : where.iot} has none)`, mirror)
  return {msk, iot}
}

function slotChecks(slot: SecretSlot): CheckDefinition[] {
  return [
    secretExists('msk', slot),
    secretExists('iot', slot),
    {
      id: `secrets-match${slotSuffix(slot)}`,
      step: secretStepId('iot', slot),
      title: `both${whose(slot)} secrets hold the same username and password`,
      async run(ctx, registry) {
        const secrets = await bothSecrets(ctx, registry, slot)
        if ('status' in secrets) return secrets
        const [a, b] = [await digestOf(ctx, 'msk', secrets.msk.ARN!), await digestOf(ctx, 'iot', secrets.iot.ARN!)]
        if (a !== b) {
          return fail(`${secrets.msk.Name} (MSK account) and ${secrets.iot.Name} (IoT account) differ (compared by SHA-256 digest)`,
            'run `iotctl secret mirror --force` to make the IoT account\'s copy match, or `iotctl secret rotate` for a new password in both')
        }
        return pass(`${secrets.msk.Name} is the same in both accounts (compared by SHA-256 digest)`)
      },
    },
    {
      id: `secret-keys${slotSuffix(slot)}`,
      step: secretStepId('iot', slot),
      title: `neither${whose(slot)} secret uses the default aws/secretsmanager key`,
      async run(ctx, registry) {
        const secrets = await bothSecrets(ctx, registry, slot)
        if ('status' in secrets) return secrets
        const problems = [await keyVerdict(ctx, 'msk', secrets.msk), await keyVerdict(ctx, 'iot', secrets.iot)].filter((p): p is string => p !== undefined)
        if (problems.length > 0) return fail(problems.join('; '), `${mirror}: it encrypts each secret with the stack's customer-managed key`)
        return pass(`MSK account: ${secrets.msk.KmsKeyId}; IoT account: ${secrets.iot.KmsKeyId}`)
      },
    },
    {
      id: associationStepId(slot),
      step: associationStepId(slot),
      title: `the MSK account's${whose(slot)} secret is associated with the cluster`,
      async run(ctx, registry) {
        const clusterArn = clusterArnOf(ctx)
        if (!clusterArn) return fail('no MSK cluster: msk.clusterArn is not set and the stack has none', 'set msk.clusterArn in iotctl.json (or run `iotctl up --create-cluster`)')
        const secret = secretRecord(registry, 'msk', slot)
        if (!secret) return fail('the MSK account has no secret of this stack to associate', mirror)
        const associated = await associatedSecrets(await ctx.accounts.msk.kafka(), clusterArn)
        if (!associated.includes(secret.id)) return fail(`${secret.attrs?.name ?? secret.id} is not associated with ${clusterArn}`, slot === 'a' ? 'run `iotctl msk associate-secret` (or `iotctl up`)' : 'run `iotctl up` (or `iotctl secret rotate`, which adds the second user first)')
        return pass(`${secret.attrs?.name ?? secret.id} is associated with ${clusterArn}`)
      },
    },
  ]
}

/**
 * The secret the rule reads is older than rotation.maxAgeDays: a warning (an
 * audit asks for rotation on a schedule; `secret rotate --if-older-than` does it).
 */
const secretAge: CheckDefinition = {
  id: 'secret-age',
  step: 'iot-rule',
  title: 'the secret the rule reads was rotated within rotation.maxAgeDays',
  async run(ctx) {
    const maxAgeDays = ctx.settings.rotation?.maxAgeDays
    const rule = ctx.facts.get(foundRuleFact)?.rule
    const name = slotSecretName(ctx.settings, activeSlotOf(ctx.settings, rule) ?? 'a')
    const secret = await describeSecret(await ctx.accounts.iot.secrets(), name, `describing secret ${name} (IoT account)`)
    if (!secret) return {status: 'skip', detail: `no secret ${name} in the IoT account`}
    const changed = secret.LastChangedDate ?? secret.CreatedDate
    if (!changed) return {status: 'skip', detail: `${name} reports no change date`}
    return secretAgeVerdict(name, changed, Date.now(), maxAgeDays)
  },
}

/** The age check's verdict: a warning once the secret is strictly older than maxAgeDays. */
export function secretAgeVerdict(name: string, changed: Date, now: number, maxAgeDays: number | undefined): Verdict {
  const age = now - changed.getTime()
  const since = `${name} was last changed ${formatDuration(age)} ago (${changed.toISOString()})`
  if (maxAgeDays === undefined) return pass(`${since}; set rotation.maxAgeDays in iotctl.json to be warned`)
  if (age > maxAgeDays * 86_400_000) return warn(`${since}, more than rotation.maxAgeDays (${maxAgeDays})`, `run \`iotctl secret rotate --if-older-than ${maxAgeDays}d\` (on a schedule: README, "Rotating on a schedule")`)
  return pass(`${since}, within rotation.maxAgeDays (${maxAgeDays})`)
}

export const secretChecks: CheckDefinition[] = [...slotChecks('a'), ...slotChecks('b'), secretAge]
