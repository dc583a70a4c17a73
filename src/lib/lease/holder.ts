// Who holds a stack's lease: the one item of the lease table, as written and
// read by src/lib/lease/index.ts. Pure but for reading who this process is.
import type {AttributeValue} from '@aws-sdk/client-dynamodb'
import {randomUUID} from 'node:crypto'
import {readFileSync, readlinkSync} from 'node:fs'
import {hostname} from 'node:os'

/** The partition key of the lease item, and its one value: a table holds one lease. */
export const leaseKey = 'lease'
export const leaseKeyValue = 'stack'

export interface LeaseHolder {
  /** Random per run: only the run that wrote it may renew or release the lease. */
  holder: string
  host: string
  /** The iotctl command that holds it (`up`, `cleanup`, `secret rotate`). */
  command: string
  pid: number
  /** When the run took the lease, ISO 8601. */
  since: string
  /** Milliseconds since the epoch after which anyone may take the lease. */
  expiresAt: number
  /**
   * This machine's boot and PID namespace (Linux), so a later run on the same
   * machine and namespace can tell that the holder's process is gone.
   */
  bootId?: string
  pidNamespace?: string
}

function readOrUndefined(read: () => string): string | undefined {
  try {
    return read().trim() || undefined
  } catch {
    return undefined
  }
}

/** This process as a lease holder (`since` and the expiry are set when it is written). */
export function thisProcess(command: string, now: number): Omit<LeaseHolder, 'expiresAt'> {
  const bootId = readOrUndefined(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8'))
  const pidNamespace = readOrUndefined(() => readlinkSync('/proc/self/ns/pid'))
  return {
    holder: randomUUID(),
    host: hostname(),
    command,
    pid: process.pid,
    since: new Date(now).toISOString(),
    ...(bootId ? {bootId} : {}),
    ...(pidNamespace ? {pidNamespace} : {}),
  }
}

export function toItem(holder: LeaseHolder): Record<string, AttributeValue> {
  return {
    [leaseKey]: {S: leaseKeyValue},
    holder: {S: holder.holder},
    host: {S: holder.host},
    command: {S: holder.command},
    pid: {N: String(holder.pid)},
    since: {S: holder.since},
    expiresAt: {N: String(holder.expiresAt)},
    ...(holder.bootId ? {bootId: {S: holder.bootId}} : {}),
    ...(holder.pidNamespace ? {pidNamespace: {S: holder.pidNamespace}} : {}),
  }
}

/** The holder an item names; undefined for an item this version of iotctl did not write. */
export function fromItem(item: Record<string, AttributeValue> | undefined): LeaseHolder | undefined {
  if (!item) return undefined
  const text = (name: string) => item[name]?.S
  const number = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N))
  const holder = text('holder')
  const expiresAt = number('expiresAt')
  if (!holder || expiresAt === undefined || !Number.isFinite(expiresAt)) return undefined
  const bootId = text('bootId')
  const pidNamespace = text('pidNamespace')
  return {
    holder,
    host: text('host') ?? 'an unknown host',
    command: text('command') ?? 'an unknown command',
    pid: number('pid') ?? 0,
    since: text('since') ?? 'an unknown time',
    expiresAt,
    ...(bootId ? {bootId} : {}),
    ...(pidNamespace ? {pidNamespace} : {}),
  }
}

/** `iotctl up on ci-7 (pid 4242) since 2026-12-01T15:43:57.000Z` */
export function describeHolder(holder: LeaseHolder): string {
  return `iotctl ${holder.command} on ${holder.host} (pid ${holder.pid}) since ${holder.since}`
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: it exists, run by another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/**
 * True when the holder ran on this machine, since its last boot, in this PID
 * namespace, and its process is gone (killed, or Ctrl-C twice): its lease can
 * be taken at once instead of after its expiry. Anything less certain (another
 * machine or container, no /proc) is false, and the lease expires instead.
 */
export function holderGone(holder: LeaseHolder, self: Omit<LeaseHolder, 'expiresAt'>): boolean {
  if (!holder.bootId || !holder.pidNamespace || holder.pid <= 0) return false
  if (holder.host !== self.host || holder.bootId !== self.bootId || holder.pidNamespace !== self.pidNamespace) return false
  if (holder.pid === process.pid) return false
  return !processAlive(holder.pid)
}
