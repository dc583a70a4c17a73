// `tunnel open`, `tunnel list`, `tunnel close`: the stack's tunnels in the IoT
// account, their token files and their ledger records.
import {AwsAccount} from '../../aws/account.ts'
import type {LoadedSettings} from '../../config/settings.ts'
import {Ledger} from '../../plan/ledger.ts'
import type {ResourceRecord} from '../../plan/types.ts'
import {
  accountOfArn, closeTunnel, describeTunnel, listTunnels, openTunnel,
  type RetryPolicy, type TunnelInfo,
} from './api.ts'
import {checkThingName, checkTimeoutMinutes, checkTunnelId, parseServiceList} from './inputs.ts'
import {TUNNELS_STEP, tunnelRecord} from './step.ts'
import {checkTokenDirectory, newClientToken, removeTokenFile, writeTokenFile, type TunnelTokenFile} from './token-file.ts'

export type {TunnelInfo} from './api.ts'

/** What the tunnel commands work with: one stack, the IoT account, the state directory. */
export interface TunnelScope {
  stack: string
  account: AwsAccount
  stateDirectory: string
}

/** The stack's tunnels in `account`: the IoT account, which the command opens through its base. */
export function tunnelScope(loaded: LoadedSettings, account: AwsAccount): TunnelScope {
  return {stack: loaded.settings.stack, account, stateDirectory: loaded.stateDirectory}
}

export interface OpenRequest {
  thing: string
  /** `SSH,HTTP` as typed, or already a list. */
  services: string | string[]
  timeoutMinutes?: number
}

/** Checks a request for OpenTunnel (InputError, exit 2) before anything is opened. */
export function checkOpenRequest(request: OpenRequest): {thingName: string; services: string[]; timeoutMinutes?: number} {
  const thingName = checkThingName(request.thing)
  const services = typeof request.services === 'string' ? parseServiceList(request.services) : parseServiceList(request.services.join(','))
  const timeoutMinutes = checkTimeoutMinutes(request.timeoutMinutes)
  return {thingName, services, ...(timeoutMinutes === undefined ? {} : {timeoutMinutes})}
}

export interface TunnelOpenResult {
  stack: string
  dryRun: boolean
  thingName: string
  services: string[]
  region: string
  /** Absent on a dry run. */
  tunnelId?: string
  tunnelArn?: string
  timeoutMinutes: number
  expiresAt?: string
  /** Where the tokens are (mode 0600). */
  tokenFile?: string
  sourceAccessToken?: string
  destinationAccessToken?: string
}

export interface OpenOptions {
  dryRun?: boolean
  signal?: AbortSignal
  onRetry?: RetryPolicy['onRetry']
  retry?: Omit<RetryPolicy, 'signal' | 'onRetry'>
}

/**
 * Opens a tunnel to a thing with the stack's tags, writes its tokens to
 * `.iotctl/tunnels/<id>.json` and records it in the ledger.
 */
export async function openStackTunnel(scope: TunnelScope, request: OpenRequest, options: OpenOptions = {}): Promise<TunnelOpenResult> {
  const checked = checkOpenRequest(request)
  const timeoutMinutes = checked.timeoutMinutes ?? 720
  const base = {stack: scope.stack, thingName: checked.thingName, services: checked.services, region: scope.account.region, timeoutMinutes}
  if (options.dryRun) return {...base, dryRun: true}
  checkTokenDirectory(scope.stateDirectory)
  const ledger = Ledger.open(scope.stateDirectory, scope.stack)
  const client = await scope.account.tunneling()
  const opened = await openTunnel(client, {stack: scope.stack, ...checked}, {...options.retry, signal: options.signal, onRetry: options.onRetry})
  const openedAt = new Date()
  const expiresAt = new Date(openedAt.getTime() + timeoutMinutes * 60_000).toISOString()
  const tokens: TunnelTokenFile = {
    version: 1,
    tunnelId: opened.tunnelId,
    tunnelArn: opened.tunnelArn,
    stack: scope.stack,
    thingName: checked.thingName,
    services: checked.services,
    region: scope.account.region,
    accountId: accountOfArn(opened.tunnelArn),
    ...(scope.account.profile ? {profile: scope.account.profile} : {}),
    openedAt: openedAt.toISOString(),
    expiresAt,
    sourceAccessToken: opened.sourceAccessToken,
    destinationAccessToken: opened.destinationAccessToken,
    sourceClientToken: newClientToken(),
  }
  const tokenFile = writeTokenFile(scope.stateDirectory, tokens)
  ledger.put(tunnelRecord(recordBaseOf(scope, tokens.accountId), {tunnelId: opened.tunnelId, thingName: checked.thingName}))
  return {
    ...base,
    dryRun: false,
    tunnelId: opened.tunnelId,
    tunnelArn: opened.tunnelArn,
    expiresAt,
    tokenFile,
    sourceAccessToken: opened.sourceAccessToken,
    destinationAccessToken: opened.destinationAccessToken,
  }
}

function recordBaseOf(scope: TunnelScope, accountId: string): Omit<ResourceRecord, 'step' | 'kind' | 'id'> {
  return {account: 'iot', accountId, region: scope.account.region, ...(scope.account.profile ? {profile: scope.account.profile} : {})}
}

export interface TunnelListResult {
  stack: string
  /** True with --all: tunnels of every stack and none. */
  all: boolean
  region: string
  tunnels: TunnelInfo[]
}

export async function listStackTunnels(scope: TunnelScope, options: {all?: boolean; thing?: string; openOnly?: boolean} = {}): Promise<TunnelListResult> {
  const thingName = options.thing === undefined ? undefined : checkThingName(options.thing)
  const client = await scope.account.tunneling()
  const tunnels = await listTunnels(client, {
    ...(options.all ? {} : {stack: scope.stack}),
    ...(thingName ? {thingName} : {}),
    ...(options.openOnly ? {openOnly: true} : {}),
  })
  return {stack: scope.stack, all: options.all === true, region: scope.account.region, tunnels}
}

export interface TunnelCloseResult {
  tunnelId: string
  dryRun: boolean
  /** The status before closing; absent when AWS does not know the tunnel. */
  previousStatus?: string
  /** False when AWS does not know the tunnel (deleted already): nothing was closed, which is fine. */
  found: boolean
  deleted: boolean
  tokenFileRemoved: boolean
}

/** CloseTunnel (idempotent), then forgets the token file and the ledger record. */
export async function closeStackTunnel(scope: TunnelScope, tunnelId: string, options: {delete?: boolean; dryRun?: boolean} = {}): Promise<TunnelCloseResult> {
  checkTunnelId(tunnelId, 'tunnel id')
  // It rewrites the ledger and removes a token file: their directories first, before any AWS call.
  if (!options.dryRun) checkTokenDirectory(scope.stateDirectory)
  const client = await scope.account.tunneling()
  const before = await describeTunnel(client, tunnelId)
  const previous = before ? {previousStatus: before.status} : {}
  if (options.dryRun) return {tunnelId, dryRun: true, ...previous, found: before !== undefined, deleted: false, tokenFileRemoved: false}
  const ledger = Ledger.open(scope.stateDirectory, scope.stack)
  const outcome = await closeTunnel(client, tunnelId, {delete: options.delete})
  const tokenFileRemoved = removeTokenFile(scope.stateDirectory, tunnelId)
  forgetTunnel(ledger, tunnelId)
  return {tunnelId, dryRun: false, ...previous, found: outcome.found, deleted: outcome.deleted, tokenFileRemoved}
}

export function forgetTunnel(ledger: Ledger, tunnelId: string): void {
  for (const record of ledger.forStep(TUNNELS_STEP).filter((r) => r.id === tunnelId)) ledger.remove(record)
}
