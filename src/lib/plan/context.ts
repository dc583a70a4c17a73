// Builds the StepContext a run needs: both account handles, who they are, the ledger.
import {AwsAccount, type AccountRole, type Accounts, type CallerIdentity} from '../aws/account.ts'
import {Interrupted} from '../errors.ts'
import {accountOptions} from '../config/accounts.ts'
import {Facts} from './facts.ts'
import type {StepGraph} from './graph.ts'
import {Ledger} from './ledger.ts'
import type {StackSettings, StepContext} from './types.ts'

export interface ContextOptions {
  settings: StackSettings
  /** Directory holding the ledgers (default `.iotctl`). */
  stateDirectory: string
  dryRun: boolean
  signal?: AbortSignal
  progress?: (message: string) => void
  options?: Record<string, unknown>
  /** The steps the context is for: their checks of the settings run first, before any AWS call. */
  steps?: Pick<StepGraph, 'check' | 'steps'>
}

/** Opens the two accounts named by the settings (the same handle twice when one profile serves both). */
export async function openAccounts(settings: StackSettings): Promise<Accounts> {
  const iotOptions = accountOptions(settings, 'iot')
  const mskOptions = accountOptions(settings, 'msk')
  const iot = await AwsAccount.open(iotOptions)
  const sameHandle = iotOptions.profile === mskOptions.profile && iotOptions.region === mskOptions.region
  const msk = sameHandle ? iot : await AwsAccount.open(mskOptions)
  return {iot, msk}
}

export async function resolveIdentities(accounts: Accounts): Promise<Record<AccountRole, CallerIdentity>> {
  const [iot, msk] = await Promise.all([accounts.iot.identity(), accounts.msk.identity()])
  return {iot, msk}
}

export async function createStepContext(options: ContextOptions): Promise<StepContext> {
  options.steps?.check(options.settings)
  // Before any AWS call: a ledger that cannot be read or written, or is not this stack's, is bad input.
  const ledger = Ledger.open(options.stateDirectory, options.settings.stack, {readOnly: options.dryRun})
  const accounts = await openAccounts(options.settings)
  const identities = await resolveIdentities(accounts)
  const ctx: StepContext = {
    stack: options.settings.stack,
    settings: options.settings,
    accounts,
    identities,
    ledger,
    facts: new Facts(),
    outputs: new Map(),
    progress: options.progress ?? (() => {}),
    checkpoint() {
      if (options.signal?.aborted) throw new Interrupted('interrupted')
      // Another run took the lease after this one failed to renew it: no further change.
      if (ctx.lease?.lost) throw ctx.lease.lost
    },
    options: options.options ?? {},
    checked: new Set(options.steps?.steps.map((s) => s.id) ?? []),
  }
  return ctx
}

/** Shorthand for a record's account fields. */
export function recordBase(ctx: StepContext, account: AccountRole): {account: AccountRole; accountId: string; region: string; profile?: string} {
  const handle = ctx.accounts[account]
  return {account, accountId: ctx.identities[account].accountId, region: handle.region, ...(handle.profile ? {profile: handle.profile} : {})}
}
