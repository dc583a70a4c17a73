// `secret mirror` and `secret rotate`: step 2 of the walkthrough, and a
// rotation that writes both accounts so that they never stay different
// (rotation.ts: alternating users).
import type {AccountRole, CallerIdentity} from '../aws/account.ts'
import {StepGraph} from '../plan/graph.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {StepContext} from '../plan/types.ts'
import {restoredFact, stackKeyOf} from './keys.ts'
import {keyAliasOf, secretNameOf} from './names.ts'
import {mirrorSteps} from './steps.ts'
import {currentVersionOf, describeSecret} from './store.ts'

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

export {rotateSecrets, type SecretRotateResult} from './rotation.ts'
