// The SASL/SCRAM username and password held by the AmazonMSK_ secret. The
// password lives in a private field: JSON.stringify, util.inspect and string
// conversion all show "[redacted]", so a stray log line or --json document
// cannot carry it (DESIGN.md: the ledger holds identifiers only).
import {inspect} from 'node:util'
import {registerSecret} from '../redact/index.ts'

const redacted = '[redacted]'

export class ScramCredentials {
  readonly username: string
  readonly #password: string

  constructor(username: string, password: string) {
    this.username = username
    this.#password = password
    registerSecret(password)
  }

  /** The secret's SecretString, as MSK expects it: {"username","password"}. */
  secretString(): string {
    return JSON.stringify({username: this.username, password: this.#password})
  }

  /** The password, for the one place that needs to compare it. */
  revealPassword(): string {
    return this.#password
  }

  equals(other: ScramCredentials): boolean {
    return this.username === other.username && this.#password === other.#password
  }

  /**
   * Reads a SecretString. One that is not {"username","password"} (edited by
   * hand) is undefined: the caller says the secret is malformed, without its text.
   */
  static parse(secretString: string | undefined): ScramCredentials | undefined {
    if (secretString === undefined) return undefined
    try {
      const value = JSON.parse(secretString) as {username?: unknown; password?: unknown}
      if (typeof value?.username !== 'string' || typeof value.password !== 'string') return undefined
      return new ScramCredentials(value.username, value.password)
    } catch {
      return undefined
    }
  }

  toJSON(): {username: string; password: string} {
    return {username: this.username, password: redacted}
  }

  toString(): string {
    return `ScramCredentials(${this.username}, ${redacted})`
  }

  [inspect.custom](): string {
    return this.toString()
  }
}

/**
 * Reads a password piped on stdin (`--password-stdin`), the way `docker login`
 * does: everything up to EOF, minus one trailing newline.
 */
export async function readPasswordFromStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}
