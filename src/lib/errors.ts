// Typed errors thrown by lib code. Only the base command turns them into
// messages and exit codes (DESIGN.md, "Exit codes").

/** Bad input or configuration, found before any change: exit 2. */
export class InputError extends Error {
  override name = 'InputError'
  readonly exitCode = 2
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
