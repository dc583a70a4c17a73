// The per-stack lease: runs that change a stack (up, cleanup, the capability
// commands, secret rotate) hold it, so two runs on one stack — two CI jobs on
// two machines, or `up` racing `cleanup` — take turns instead of interleaving.
//
// It is one item in a DynamoDB table of the stack's own (`iotctl-<stack>-lease`),
// written with conditional writes, the documented way to build a lease on
// DynamoDB ("Condition expressions", DynamoDB Developer Guide):
// - acquire: PutItem if no item exists or the one there has expired;
// - renew:   UpdateItem of expiresAt, if this run is still the holder (every third of the TTL);
// - release: DeleteItem, if this run is still the holder.
// A holder that dies stops renewing, so its lease blocks others at most one TTL
// (a holder on this machine whose process is gone is taken over at once).
// Expiry compares the holder's clock with the waiter's: clocks must agree
// within a few seconds (NTP), as for any lease.
import type {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import * as dynamodbapi from '../aws/dynamodb.ts'
import {awsErrorCode, CheckFailed, InputError, Interrupted, toAwsError} from '../errors.ts'
import {stackTags} from '../plan/tags.ts'
import {describeHolder, fromItem, holderGone, leaseKey, leaseKeyValue, thisProcess, toItem, type LeaseHolder} from './holder.ts'

export {describeHolder, type LeaseHolder} from './holder.ts'

/** The lease table of a stack (stack names are `[A-Za-z0-9][A-Za-z0-9_-]{0,39}`, valid in table names). */
export function leaseTableName(stack: string): string {
  return `iotctl-${stack}-lease`
}

export const defaultTtlSeconds = 60
export const defaultWaitSeconds = 300
/** The environment variable that shortens the lease's time to live (tests, short CI jobs). */
export const ttlVariable = 'IOTCTL_LEASE_TTL'

export interface LeaseSettings {
  /** How long a holder that stopped renewing keeps the lease (default 60 s). */
  ttlSeconds: number
  /** How long a run waits for another run's lease before exit 1 (default 300 s; 0: does not wait). */
  waitSeconds: number
}

/**
 * The lease settings from `--wait-lock` and IOTCTL_LEASE_TTL, checked before
 * any AWS request: a bad value is exit 2 naming it.
 */
export function leaseSettings(waitLock: number | undefined, env: NodeJS.ProcessEnv = process.env): LeaseSettings {
  const waitSeconds = waitLock ?? defaultWaitSeconds
  if (!Number.isInteger(waitSeconds) || waitSeconds < 0 || waitSeconds > 86_400) {
    throw new InputError(`--wait-lock: expected whole seconds from 0 to 86400, got '${waitLock}'`)
  }
  const ttlText = env[ttlVariable]
  const ttlSeconds = ttlText === undefined || ttlText === '' ? defaultTtlSeconds : Number(ttlText)
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 3600) {
    throw new InputError(`${ttlVariable}: expected whole seconds from 1 to 3600, got '${ttlText}'`)
  }
  return {ttlSeconds, waitSeconds}
}

export interface LeaseOptions extends LeaseSettings {
  stack: string
  /** The command holding it, shown to runs that wait (`up`, `cleanup`). */
  command: string
  /** Ctrl-C: a run waiting for the lease stops waiting. */
  signal?: AbortSignal
  /** Waiting lines (they name the holder). */
  progress?: (message: string) => void
  /** The clock (tests). */
  now?: () => number
}

const condition = {
  // `attribute_not_exists` on the key: no lease item at all.
  free: `attribute_not_exists(#key) OR expiresAt < :now`,
  mine: 'holder = :holder',
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((resolve) => {
  const timer = setTimeout(done, ms)
  function done() {
    clearTimeout(timer)
    signal?.removeEventListener('abort', done)
    resolve()
  }
  signal?.addEventListener('abort', done, {once: true})
})

/**
 * One run's hold on a stack's lease. Nothing is sent until `hold()`; `release()`
 * on every exit path (the base command's `finally`).
 */
export class StackLease {
  readonly table: string
  readonly #dynamodb: DynamoDBClient
  readonly #options: LeaseOptions
  readonly #now: () => number
  #self?: Omit<LeaseHolder, 'expiresAt'>
  #held = false
  #holding?: Promise<boolean>
  #renewal?: NodeJS.Timeout
  #lost?: Error

  constructor(dynamodb: DynamoDBClient, options: LeaseOptions) {
    this.#dynamodb = dynamodb
    this.#options = options
    this.#now = options.now ?? Date.now
    this.table = leaseTableName(options.stack)
  }

  /** True while this run holds the lease. */
  get held(): boolean {
    return this.#held && !this.#lost
  }

  /** Set when a renewal found another holder (this run stopped renewing in time): the run must stop changing the stack. */
  get lost(): Error | undefined {
    return this.#lost
  }

  /**
   * Takes the lease, waiting up to `waitSeconds` while another run holds it
   * (CheckFailed naming the holder when the wait ends; Interrupted on Ctrl-C).
   * Makes the table when it does not exist, unless `create` is false: then
   * resolves false, holding nothing. Resolves true once held; calling it again
   * while held changes nothing.
   */
  hold(options: {create?: boolean} = {}): Promise<boolean> {
    if (this.#held) return Promise.resolve(true)
    if (this.#holding) return this.#holding
    const attempt = this.#acquire(options.create ?? true)
    this.#holding = attempt.finally(() => { this.#holding = undefined })
    return this.#holding
  }

  async #acquire(create: boolean): Promise<boolean> {
    const started = this.#now()
    const deadline = started + this.#options.waitSeconds * 1000
    const self = this.#self ??= thisProcess(this.#options.command, started)
    let shown: string | undefined
    let lastShown = 0
    let pause = 500
    for (;;) {
      this.#checkpoint()
      const now = this.#now()
      let other: LeaseHolder | undefined
      try {
        await this.#write(self, now, {condition: condition.free, values: {':now': {N: String(now)}}})
        this.#start()
        return true
      } catch (error) {
        const failure = await dynamodbapi.conditionFailure(error)
        if (!failure) {
          if (awsErrorCode(error) !== 'ResourceNotFoundException') throw this.#failed('taking', error)
          if (!create) return false
          await this.#createTable(deadline)
          continue
        }
        other = fromItem(failure.item)
      }
      if (other && holderGone(other, self)) {
        // Its process is gone: take its lease now, if nobody else did meanwhile.
        try {
          await this.#write(self, now, {condition: condition.mine, values: {':holder': {S: other.holder}}})
          this.#options.progress?.(`took over the stack's lease from ${describeHolder(other)}: that process has ended`)
          this.#start()
          return true
        } catch (error) {
          if (!(await dynamodbapi.conditionFailure(error))) throw this.#failed('taking', error)
          continue
        }
      }
      const who = other ? describeHolder(other) : 'another run'
      const expires = other ? Math.max(0, Math.ceil((other.expiresAt - now) / 1000)) : undefined
      const expiry = expires === undefined ? '' : `; its lease expires in ${expires} s unless renewed`
      if (now >= deadline) {
        const waited = this.#options.waitSeconds === 0 ? 'not waiting (--wait-lock 0)' : `waited ${this.#options.waitSeconds} s (--wait-lock)`
        throw new CheckFailed(`stack '${this.#options.stack}' is being changed by ${who}${expiry}; ${waited}`)
      }
      if (who !== shown || now - lastShown >= 30_000) {
        const elapsed = Math.round((now - started) / 1000)
        this.#options.progress?.(`waiting for stack '${this.#options.stack}': ${who} holds its lease${expiry} (${elapsed} s of --wait-lock ${this.#options.waitSeconds})`)
        shown = who
        lastShown = now
      }
      // Poll until it is free: at the latest when it would expire, or when the wait ends.
      const untilExpiry = other ? other.expiresAt - now + 100 : pause
      await sleep(Math.max(50, Math.min(pause, untilExpiry, deadline - now)), this.#options.signal)
      pause = Math.min(2000, pause * 2)
    }
  }

  #checkpoint(): void {
    if (this.#options.signal?.aborted) throw new Interrupted(`interrupted while taking the lease of stack '${this.#options.stack}': no change to the stack was started`)
  }

  #failed(doing: string, error: unknown): Error {
    return toAwsError(`${doing} the lease of stack '${this.#options.stack}' (DynamoDB table ${this.table})`, error)
  }

  async #write(self: Omit<LeaseHolder, 'expiresAt'>, now: number, guard: {condition: string; values: Record<string, {S: string} | {N: string}>}): Promise<void> {
    // `since` is when this run took it, not when it began to wait.
    const item = toItem({...self, since: new Date(now).toISOString(), expiresAt: now + this.#options.ttlSeconds * 1000})
    await dynamodbapi.putItem(this.#dynamodb, {
      TableName: this.table,
      Item: item,
      ConditionExpression: guard.condition,
      ...(guard.condition.includes('#key') ? {ExpressionAttributeNames: {'#key': leaseKey}} : {}),
      ExpressionAttributeValues: guard.values,
      // The holder comes back with the refusal: no second request to name it.
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    })
  }

  /** The stack's lease table, on demand (CreateTable; a table that exists already is fine), ACTIVE. */
  async #createTable(deadline: number): Promise<void> {
    try {
      await dynamodbapi.createTable(this.#dynamodb, {
        TableName: this.table,
        AttributeDefinitions: [{AttributeName: leaseKey, AttributeType: 'S'}],
        KeySchema: [{AttributeName: leaseKey, KeyType: 'HASH'}],
        // One item, a few writes a minute while held: on demand costs nothing idle.
        BillingMode: 'PAY_PER_REQUEST',
        Tags: stackTags(this.#options.stack),
      })
    } catch (error) {
      // Another run made it first ("ResourceInUseException": it exists or is being created).
      if (awsErrorCode(error) !== 'ResourceInUseException') throw this.#failed('creating the table for', error)
    }
    try {
      await dynamodbapi.waitForTableActive(this.#dynamodb, this.table, 60, undefined, this.#options.signal)
    } catch (error) {
      this.#checkpoint()
      // Still not ACTIVE (a table cleanup is deleting goes before it can be made again): the caller tries again until its wait ends.
      if (this.#now() >= deadline) throw this.#failed('waiting for the table of', error)
    }
  }

  #start(): void {
    this.#held = true
    const every = Math.max(200, Math.round((this.#options.ttlSeconds * 1000) / 3))
    this.#renewal = setInterval(() => void this.#renew(), every)
    // Renewal alone must not keep the process alive.
    this.#renewal.unref()
  }

  async #renew(): Promise<void> {
    if (!this.#held || this.#lost || !this.#self) return
    const now = this.#now()
    try {
      await dynamodbapi.updateItem(this.#dynamodb, {
        TableName: this.table,
        Key: {[leaseKey]: {S: leaseKeyValue}},
        UpdateExpression: 'SET expiresAt = :expiresAt',
        ConditionExpression: condition.mine,
        ExpressionAttributeValues: {':expiresAt': {N: String(now + this.#options.ttlSeconds * 1000)}, ':holder': {S: this.#self.holder}},
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      })
    } catch (error) {
      const failure = await dynamodbapi.conditionFailure(error)
      // A failed request (network) is tried again at the next tick; the lease lasts the TTL.
      if (!failure && awsErrorCode(error) !== 'ResourceNotFoundException') return
      const other = fromItem(failure?.item)
      this.#lost = new CheckFailed(`lost the lease of stack '${this.#options.stack}'${other ? ` to ${describeHolder(other)}` : ''}: this run could not renew it in time; stopped before the next change`)
      this.#stopRenewing()
    }
  }

  #stopRenewing(): void {
    if (this.#renewal) clearInterval(this.#renewal)
    this.#renewal = undefined
  }

  /** Lets the lease go (only if this run still holds it). Safe to call on every exit path, held or not. */
  async release(): Promise<void> {
    // A hold() in flight (Ctrl-C while waiting) settles first, so a lease it just took is released too.
    await this.#holding?.catch(() => undefined)
    this.#stopRenewing()
    if (!this.#held || !this.#self) return
    this.#held = false
    try {
      await dynamodbapi.deleteItem(this.#dynamodb, {
        TableName: this.table,
        Key: {[leaseKey]: {S: leaseKeyValue}},
        ConditionExpression: condition.mine,
        ExpressionAttributeValues: {':holder': {S: this.#self.holder}},
      })
    } catch (error) {
      // Not ours any more (expired and taken), or the table is gone (cleanup deleted it): nothing to let go.
      if (await dynamodbapi.conditionFailure(error)) return
      if (awsErrorCode(error) === 'ResourceNotFoundException') return
      throw this.#failed('releasing', error)
    }
  }

  /**
   * Cleanup's last act, once everything else of the stack is gone: deletes
   * the lease table (a run waiting for the lease makes it again). Only while
   * this run holds the lease; without a table there is nothing to do.
   */
  async retire(): Promise<void> {
    if (!this.held) return
    this.#stopRenewing()
    try {
      await dynamodbapi.deleteTable(this.#dynamodb, {TableName: this.table})
    } catch (error) {
      if (awsErrorCode(error) !== 'ResourceNotFoundException') throw this.#failed('deleting the table of', error)
    }
    this.#held = false
  }
}
