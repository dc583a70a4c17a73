// What the stand-in saw: one entry per AWS request (forwarded, implemented or
// failed by an injected fault), with waiting for the N-th mutating request,
// an optional hold after it, and injected faults.
import {EventEmitter} from 'node:events'

export interface LogEntry {
  seq: number
  /** Order of arrival (before any hold): a request with a higher number was sent later. */
  arrival: number
  /** ISO time the answer was complete. */
  time: string
  service: string
  operation: string
  account: string
  region: string
  mutating: boolean
  status: number
  /** Who answered: moto, the stand-in, or an injected fault. */
  by: 'moto' | 'standin' | 'fault'
  method: string
  path: string
}

export class RequestLog extends EventEmitter<{entry: [LogEntry]; reset: []}> {
  #entries: LogEntry[] = []
  #seq = 0
  #mutating = 0
  #holdAfter: number | undefined
  #held: (() => void)[] = []
  #arrived = 0

  add(entry: Omit<LogEntry, 'seq' | 'time'>): LogEntry {
    const full: LogEntry = {seq: ++this.#seq, time: new Date().toISOString(), ...entry}
    this.#entries.push(full)
    if (full.mutating) this.#mutating++
    this.emit('entry', full)
    return full
  }

  entries(): LogEntry[] {
    return [...this.#entries]
  }

  mutating(): LogEntry[] {
    return this.#entries.filter((e) => e.mutating)
  }

  /** Forgets the entries (sequence numbers keep growing) and releases any hold. */
  reset(): void {
    this.#entries = []
    this.#mutating = 0
    this.release()
    this.emit('reset')
  }

  /**
   * Resolves with the n-th mutating entry since the last reset, as soon as its
   * answer has been sent (at once if it already was).
   */
  waitForMutating(n: number, timeoutMs = 60_000): Promise<LogEntry> {
    const existing = this.mutating()[n - 1]
    if (existing) return Promise.resolve(existing)
    return new Promise((resolve, reject) => {
      const onEntry = (): void => {
        const found = this.mutating()[n - 1]
        if (found) {
          cleanup()
          resolve(found)
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no ${n}th mutating request within ${timeoutMs} ms (saw ${this.#mutating})`))
      }, timeoutMs)
      // A forgotten wait must not keep the process alive.
      timer.unref()
      const cleanup = (): void => {
        clearTimeout(timer)
        this.off('entry', onEntry)
      }
      this.on('entry', onEntry)
    })
  }

  /**
   * After the n-th mutating request (since the last reset) has been answered,
   * every further request waits unanswered until release() — so a test can kill
   * the client at exactly that point.
   */
  holdAfterMutating(n: number): void {
    this.#holdAfter = n
  }

  release(): void {
    this.#holdAfter = undefined
    const held = this.#held
    this.#held = []
    for (const go of held) go()
  }

  get holding(): boolean {
    return this.#holdAfter !== undefined && this.#mutating >= this.#holdAfter
  }

  /** Counts the request's arrival and resolves with its number when it may proceed. */
  gate(): Promise<number> {
    const arrival = ++this.#arrived
    if (!this.holding) return Promise.resolve(arrival)
    return new Promise((resolve) => this.#held.push(() => resolve(arrival)))
  }

  /**
   * How many requests have arrived so far (answered, being answered or held):
   * with several requests in flight at once, what was sent before a moment is
   * what arrived before it.
   */
  get arrivedCount(): number {
    return this.#arrived
  }

  get heldCount(): number {
    return this.#held.length
  }
}

export interface Fault {
  /** Signing name (ec2, iot, kafka, IoTSecuredTunneling, …), case-insensitive; '*' for any. */
  service: string
  /** Operation name; '*' for any. */
  operation: string
  account?: string
  code: string
  status: number
  message?: string
  /** How many matching requests fail (default 1). */
  times?: number
  /** Matching requests to let through before failing (default 0). */
  after?: number
}

const serviceAliases: Record<string, string> = {
  msk: 'kafka',
  tunneling: 'iotsecuredtunneling',
  iotsecuretunneling: 'iotsecuredtunneling',
  secrets: 'secretsmanager',
}

const norm = (service: string): string => serviceAliases[service.toLowerCase()] ?? service.toLowerCase()

export class Faults {
  #faults: (Fault & {seen: number; fired: number})[] = []

  add(fault: Fault): void {
    if (!fault.service || !fault.operation || !fault.code || !fault.status) {
      throw new Error('a fault needs service, operation, code and status')
    }
    this.#faults.push({...fault, seen: 0, fired: 0})
  }

  clear(): void {
    this.#faults = []
  }

  list(): Fault[] {
    return this.#faults.map(({seen: _seen, fired: _fired, ...f}) => f)
  }

  /** The fault this request must fail with, if any (consumes one use). */
  take(service: string, operation: string, account: string): Fault | undefined {
    for (const fault of this.#faults) {
      if (fault.service !== '*' && norm(fault.service) !== norm(service)) continue
      if (fault.operation !== '*' && fault.operation !== operation) continue
      if (fault.account && fault.account !== account) continue
      fault.seen++
      if (fault.seen <= (fault.after ?? 0)) continue
      fault.fired++
      if (fault.fired >= (fault.times ?? 1)) this.#faults.splice(this.#faults.indexOf(fault), 1)
      return fault
    }
    return undefined
  }
}
