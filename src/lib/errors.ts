// Typed errors thrown by lib code. Only the base command turns them into
// messages and exit codes (DESIGN.md, "Exit codes").

/** Bad input or configuration, found before any change: exit 2. */
export class InputError extends Error {
  override name = 'InputError'
  readonly exitCode = 2
}

/** A setting a command needs, as a flag and as a config key. */
export interface RequiredSetting {
  flag: string
  key: string
}

/**
 * Settings a command needs that neither a flag nor the config file gave: exit 2,
 * every one of them in one line (the step graph merges them across its steps),
 * so a user does not learn them one run at a time.
 */
export class MissingSettings extends InputError {
  readonly missing: readonly RequiredSetting[]
  constructor(missing: readonly RequiredSetting[]) {
    const unique = [...new Map(missing.map((m) => [m.flag, m])).values()]
    super(`missing ${listed(unique.map((m) => m.flag))} (or ${listed(unique.map((m) => m.key))} in the config file)`)
    this.missing = unique
  }

  /** Throws one MissingSettings naming each of `required` whose value is empty. */
  static check(required: readonly (RequiredSetting & {value: unknown})[]): void {
    const missing = required.filter((r) => r.value === undefined || r.value === '' || (Array.isArray(r.value) && r.value.length === 0))
    if (missing.length > 0) throw new MissingSettings(missing.map(({flag, key}) => ({flag, key})))
  }
}

/** `a`, `a and b`, `a, b and c`. */
function listed(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}

/** A failure at AWS or on the network: exit 1. `step` says what was being done. */
export class AwsError extends Error {
  override name = 'AwsError'
  readonly exitCode = 1
  readonly code: string
  readonly step: string
  constructor(step: string, code: string, message: string, options?: {cause?: unknown}) {
    super(`${step}: ${code}: ${message}`, options)
    this.code = code
    this.step = step
  }
}

/** A check or a wait that did not pass (doctor, peer status, timeouts): exit 1. */
export class CheckFailed extends Error {
  override name = 'CheckFailed'
  readonly exitCode = 1
}

/** The user pressed Ctrl-C; the work in flight finished and the ledger is written: exit 130. */
export class Interrupted extends Error {
  override name = 'Interrupted'
  readonly exitCode = 130
}

export type ExitCode = 0 | 1 | 2 | 130

/** The error code AWS returned, from an SDK v3 service exception or a credentials error. */
export function awsErrorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as {name?: string; Code?: string; code?: string; $metadata?: unknown}
  if (e.$metadata !== undefined) return e.Code ?? e.name
  return e.code ?? (e.name && e.name !== 'Error' ? e.name : undefined)
}

/** True when AWS says the resource is not there (cleanup treats that as done). */
export function isNotFound(error: unknown): boolean {
  const code = awsErrorCode(error) ?? ''
  return /NotFound|NoSuchEntity|ResourceNotFound|\.Malformed$|NotFoundException/.test(code)
}

/**
 * Runs one AWS call on behalf of `step`, turning SDK exceptions into AwsError
 * (exit 1, message with the AWS error code). Errors already typed pass through.
 */
export async function aws<T>(step: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw toAwsError(step, error)
  }
}

export function toAwsError(step: string, error: unknown): Error {
  if (error instanceof InputError || error instanceof AwsError || error instanceof Interrupted || error instanceof CheckFailed) return error
  const code = awsErrorCode(error) ?? 'Error'
  const message = error instanceof Error ? error.message : String(error)
  return new AwsError(step, code, message, {cause: error})
}
