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
import {describeSecret, readSecretString} from '../secrets/store.ts'
import {fail, pass, type CheckDefinition, type Verdict} from './check.ts'
import type {Registry} from './registry.ts'

const mirror = 'run `iotctl secret mirror` (or `iotctl up`)'
const where: Record<AccountRole, string> = {msk: 'MSK account', iot: 'IoT account'}

function secretRecord(registry: Registry, role: AccountRole): ResourceRecord | undefined {
  return registry.observed.get(`secret:${role}`)?.resources[0]
}

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

function secretExists(role: AccountRole): CheckDefinition {
  return {
    id: `secret:${role}`,
    step: `secret:${role}`,
    title: `the ${where[role]} has its AmazonMSK_ secret`,
    async run(ctx, registry) {
      const problem = registry.problems.get(`secret:${role}`)
      if (problem) return fail(problem, mirror)
      const record = secretRecord(registry, role)
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

async function bothSecrets(ctx: StepContext, registry: Registry): Promise<{msk: DescribeSecretResponse; iot: DescribeSecretResponse} | Verdict> {
  const [mskRecord, iotRecord] = [secretRecord(registry, 'msk'), secretRecord(registry, 'iot')]
  const [msk, iot] = [mskRecord && await describe(ctx, 'msk', mskRecord), iotRecord && await describe(ctx, 'iot', iotRecord)]
  if (!msk || !iot || msk.DeletedDate || iot.DeletedDate) return fail(`needs the secret in both accounts (${!msk || msk.DeletedDate ? where.msk : where.iot} has none)`, mirror)
  return {msk, iot}
}

export const secretChecks: CheckDefinition[] = [
  secretExists('msk'),
  secretExists('iot'),
  {
    id: 'secrets-match',
    step: 'secret:iot',
    title: 'both secrets hold the same username and password',
    async run(ctx, registry) {
      const secrets = await bothSecrets(ctx, registry)
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
    id: 'secret-keys',
    step: 'secret:iot',
    title: 'neither secret uses the default aws/secretsmanager key',
    async run(ctx, registry) {
      const secrets = await bothSecrets(ctx, registry)
      if ('status' in secrets) return secrets
      const problems = [await keyVerdict(ctx, 'msk', secrets.msk), await keyVerdict(ctx, 'iot', secrets.iot)].filter((p): p is string => p !== undefined)
      if (problems.length > 0) return fail(problems.join('; '), `${mirror}: it encrypts each secret with the stack's customer-managed key`)
      return pass(`MSK account: ${secrets.msk.KmsKeyId}; IoT account: ${secrets.iot.KmsKeyId}`)
    },
  },
  {
    id: 'scram-association',
    step: 'scram-association',
    title: 'the MSK account\'s secret is associated with the cluster',
    async run(ctx, registry) {
      const clusterArn = clusterArnOf(ctx)
      if (!clusterArn) return fail('no MSK cluster: msk.clusterArn is not set and the stack has none', 'set msk.clusterArn in iotctl.json (or run `iotctl up --create-cluster`)')
      const secret = secretRecord(registry, 'msk')
      if (!secret) return fail('the MSK account has no secret of this stack to associate', mirror)
      const associated = await associatedSecrets(await ctx.accounts.msk.kafka(), clusterArn)
      if (!associated.includes(secret.id)) return fail(`${secret.attrs?.name ?? secret.id} is not associated with ${clusterArn}`, 'run `iotctl msk associate-secret` (or `iotctl up`)')
      return pass(`${secret.attrs?.name ?? secret.id} is associated with ${clusterArn}`)
    },
  },
]
