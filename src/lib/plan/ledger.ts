// The ledger: .iotctl/<stack>.json, mode 0600, rewritten atomically (temp file
// + rename, ../files/private-file.ts) after every change. It records what was
// created, where and by which profile — identifiers only, never a secret value.
// It decides what cleanup deletes, so only the user may change its directory.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {z} from 'zod'
import {InputError} from '../errors.ts'
import {checkPrivateDirectory, writePrivateFile} from '../files/private-file.ts'
import {STATE_DIRECTORY} from '../config/files.ts'
import type {ResourceRecord} from './types.ts'

export {STATE_DIRECTORY} from '../config/files.ts'

export interface LedgerDocument {
  version: 1
  stack: string
  updatedAt: string
  resources: ResourceRecord[]
}

export class Ledger {
  readonly path: string
  readonly stack: string
  #resources: ResourceRecord[]
  /** Set for dry runs: the ledger is read but never written. */
  readonly readOnly: boolean

  private constructor(path: string, stack: string, resources: ResourceRecord[], readOnly: boolean) {
    this.path = path
    this.stack = stack
    this.#resources = resources
    this.readOnly = readOnly
  }

  static pathFor(directory: string, stack: string): string {
    return join(directory, `${stack}.json`)
  }

  /**
   * Opens the stack's ledger; a missing file is an empty ledger. One that will
   * be written needs a state directory only the user can change (InputError).
   * A file that is not a ledger, or a ledger of another stack (a copy, a rename,
   * a hand edit), is refused (InputError, exit 2) before any AWS request: its
   * records would otherwise be taken as hints about this stack's resources.
   */
  static open(directory: string, stack: string, options: {readOnly?: boolean} = {}): Ledger {
    if (!options.readOnly) checkPrivateDirectory(directory, STATE_DIRECTORY)
    const path = Ledger.pathFor(directory, stack)
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return new Ledger(path, stack, [], options.readOnly ?? false)
      throw new InputError(`ledger ${path} cannot be read (${code ?? String(error)}); move it away to rebuild it from tags`)
    }
    const parsed = ledgerDocument.safeParse(parseJson(text))
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
      throw new InputError(`ledger ${path} cannot be read (not an iotctl ledger: ${issue?.message ?? 'unexpected format'}${where}); move it away to rebuild it from tags`)
    }
    if (parsed.data.stack !== stack) {
      throw new InputError(`ledger ${path} belongs to stack '${parsed.data.stack}', not to stack '${stack}': move it away (cleanup then finds stack '${stack}' by its tags)`)
    }
    return new Ledger(path, stack, parsed.data.resources, options.readOnly ?? false)
  }

  get resources(): readonly ResourceRecord[] {
    return this.#resources
  }

  forStep(step: string): ResourceRecord[] {
    return this.#resources.filter((r) => r.step === step)
  }

  /** Records a resource (replacing one with the same step, kind and id) and writes the file. */
  put(record: ResourceRecord): void {
    this.#resources = this.#resources.filter((r) => !sameResource(r, record))
    this.#resources.push(record)
    this.save()
  }

  /** Replaces every record of a step with `records` and writes the file. */
  replaceStep(step: string, records: ResourceRecord[]): void {
    this.#resources = [...this.#resources.filter((r) => r.step !== step), ...records]
    this.save()
  }

  remove(record: ResourceRecord): void {
    this.#resources = this.#resources.filter((r) => !sameResource(r, record))
    this.save()
  }

  save(): void {
    if (this.readOnly) return
    const document: LedgerDocument = {version: 1, stack: this.stack, updatedAt: new Date().toISOString(), resources: this.#resources}
    writePrivateFile(this.path, JSON.stringify(document, null, 2) + '\n', {label: STATE_DIRECTORY})
  }
}

const resourceRecord = z.object({
  step: z.string().min(1),
  kind: z.string().min(1),
  id: z.string().min(1),
  account: z.enum(['iot', 'msk']),
  accountId: z.string(),
  region: z.string(),
  profile: z.string().optional(),
  attrs: z.record(z.string(), z.string()).optional(),
})

const ledgerDocument = z.object({
  version: z.literal(1),
  stack: z.string(),
  updatedAt: z.string().optional(),
  resources: z.array(resourceRecord),
})

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function sameResource(a: ResourceRecord, b: ResourceRecord): boolean {
  return a.step === b.step && a.kind === b.kind && a.id === b.id && a.account === b.account
}
