// What commands hand the secret and key steps through ctx.options (the step
// model's channel for command options). `up` and `cleanup` pass the same keys.
import type {StackSettings, StepContext} from '../plan/types.ts'
import {ScramCredentials, readPasswordFromStdin} from './credentials.ts'
import {checkPassword, checkSecretSettings, usernameOf} from './names.ts'

export interface SecretStepOptions {
  /** The password from --password-stdin (its username is the configured one); when absent a password is generated. */
  credentials?: ScramCredentials
  /** --force: when the two accounts' secrets differ, make B's match A's. */
  force?: boolean
  /** cleanup --kms-pending-days: the keys' deletion waiting period, 7–30 days. */
  kmsPendingDays?: number
  /** cleanup --force-delete-secrets: delete secrets without a recovery window. */
  forceDeleteSecrets?: boolean
}

/** The option keys, as set in ctx.options. */
export const secretOptionKeys = {
  credentials: 'secretCredentials',
  force: 'secretForce',
  kmsPendingDays: 'kmsPendingDays',
  forceDeleteSecrets: 'forceDeleteSecrets',
} as const

export const defaultKmsPendingDays = 7
/** Secrets Manager's shortest recovery window (DeleteSecret, RecoveryWindowInDays 7–30). */
export const secretRecoveryDays = 7

export function secretOptions(ctx: StepContext): SecretStepOptions {
  const o = ctx.options
  return {
    credentials: o[secretOptionKeys.credentials] as ScramCredentials | undefined,
    force: o[secretOptionKeys.force] === true,
    kmsPendingDays: typeof o[secretOptionKeys.kmsPendingDays] === 'number' ? o[secretOptionKeys.kmsPendingDays] as number : undefined,
    forceDeleteSecrets: o[secretOptionKeys.forceDeleteSecrets] === true,
  }
}

/** Turns typed options into ctx.options entries (undefined values left out). */
export function secretOptionEntries(options: SecretStepOptions): Record<string, unknown> {
  const entries: Record<string, unknown> = {}
  for (const [name, key] of Object.entries(secretOptionKeys)) {
    const value = options[name as keyof SecretStepOptions]
    if (value !== undefined) entries[key] = value
  }
  return entries
}

/**
 * What `secret mirror` and `secret rotate` settle before opening any account:
 * the names are checked and a --password-stdin password is read and checked,
 * so bad input is exit 2 with nothing sent.
 */
export async function secretCommandOptions(settings: StackSettings, flags: {passwordStdin?: boolean; force?: boolean}): Promise<Record<string, unknown>> {
  checkSecretSettings(settings)
  let credentials: ScramCredentials | undefined
  if (flags.passwordStdin) {
    const password = await readPasswordFromStdin()
    checkPassword(password)
    credentials = new ScramCredentials(usernameOf(settings), password)
  }
  return secretOptionEntries({credentials, force: flags.force})
}
