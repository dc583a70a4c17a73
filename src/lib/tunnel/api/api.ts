// The Secure Tunneling control plane as iotctl uses it: open (with the stack's
// tags, retrying the 1-call-per-second throttling), describe, list by stack,
// close, rotate. Narrow functions over the SDK client; no printing.
// API reference: https://docs.aws.amazon.com/iot/latest/apireference/API_Operations_AWS_IoT_Secure_Tunneling.html
import type {IoTSecureTunnelingClient, OpenTunnelCommandInput, Tunnel} from '@aws-sdk/client-iotsecuretunneling'
import * as tunnelingapi from '../../aws/tunneling.ts'
import {awsErrorCode, Interrupted, isNotFound, toAwsError} from '../../errors.ts'
import {stackTagKey, stackTagMap} from '../../plan/tags.ts'

export interface OpenTunnelInput {
  stack: string
  thingName: string
  services: string[]
  /** 1-720; undefined leaves AWS's default (720). */
  timeoutMinutes?: number
}

export interface OpenedTunnel {
  tunnelId: string
  tunnelArn: string
  sourceAccessToken: string
  destinationAccessToken: string
}

export interface RetryPolicy {
  /** Attempts of our own, each of which includes the SDK's retries (default 6). */
  attempts?: number
  /** First delay; doubles per attempt, capped at 8 s, ±20 % jitter (default 1000 ms). */
  initialDelayMs?: number
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  signal?: AbortSignal
  /** Told before each wait ("throttled, retrying in 2 s"). */
  onRetry?: (info: {attempt: number; delayMs: number; code: string}) => void
}

/** The tunnel as iotctl shows it. */
export interface TunnelInfo {
  tunnelId: string
  tunnelArn: string
  status: string
  thingName?: string
  services: string[]
  sourceConnection: string
  destinationConnection: string
  description?: string
  /** iotctl:stack tag, if any. */
  stack?: string
  createdAt?: string
  lastUpdatedAt?: string
  timeoutMinutes?: number
  /** createdAt + timeout. */
  expiresAt?: string
}

const openStep = 'opening a tunnel (iotsecuretunneling:OpenTunnel)'

/**
 * OpenTunnel is limited to one call per second per account ("AWS IoT Secure
 * Tunneling quotas"), answered with ThrottlingException (or LimitExceededException
 * "Rate exceeded"). The SDK retries throttling three times; concurrent openers
 * (CI jobs of one account) can still exhaust that, so calls are retried here too,
 * a bounded number of times. LimitExceededException about the number of open
 * tunnels is not retried: waiting does not close tunnels.
 */
export function isRateLimited(error: unknown): boolean {
  const code = awsErrorCode(error) ?? ''
  if (code === 'ThrottlingException' || code === 'TooManyRequestsException') return true
  return code === 'LimitExceededException' && /rate/i.test((error as Error).message ?? '')
}

export async function openTunnel(client: IoTSecureTunnelingClient, input: OpenTunnelInput, retry: RetryPolicy = {}): Promise<OpenedTunnel> {
  const tags = Object.entries(stackTagMap(input.stack)).map(([key, value]) => ({key, value}))
  const request: OpenTunnelCommandInput = {
    description: `iotctl stack ${input.stack}: ${input.services.join(', ')} on ${input.thingName}`,
    tags,
    destinationConfig: {thingName: input.thingName, services: input.services},
    ...(input.timeoutMinutes === undefined ? {} : {timeoutConfig: {maxLifetimeTimeoutMinutes: input.timeoutMinutes}}),
  }
  const attempts = retry.attempts ?? 6
  const sleep = retry.sleep ?? abortableSleep
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await tunnelingapi.openTunnel(client, request)
      if (!answer.tunnelId || !answer.tunnelArn || !answer.sourceAccessToken || !answer.destinationAccessToken) {
        throw new Error('OpenTunnel answered without a tunnel id, ARN or access tokens')
      }
      return {tunnelId: answer.tunnelId, tunnelArn: answer.tunnelArn, sourceAccessToken: answer.sourceAccessToken, destinationAccessToken: answer.destinationAccessToken}
    } catch (error) {
      if (!isRateLimited(error) || attempt >= attempts) throw toAwsError(openStep, error)
      if (retry.signal?.aborted) throw new Interrupted('interrupted while waiting to retry OpenTunnel')
      const base = Math.min(8000, (retry.initialDelayMs ?? 1000) * 2 ** (attempt - 1))
      const delayMs = Math.round(base * (0.8 + 0.4 * Math.random()))
      retry.onRetry?.({attempt, delayMs, code: awsErrorCode(error) ?? 'Throttled'})
      await sleep(delayMs, retry.signal)
    }
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Interrupted('interrupted'))
    const onAbort = (): void => {
      clearTimeout(timer)
      reject(new Interrupted('interrupted'))
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, {once: true})
  })
}

export function tunnelInfo(tunnel: Tunnel): TunnelInfo {
  const timeoutMinutes = tunnel.timeoutConfig?.maxLifetimeTimeoutMinutes
  const info: TunnelInfo = {
    tunnelId: tunnel.tunnelId ?? '',
    tunnelArn: tunnel.tunnelArn ?? '',
    status: tunnel.status ?? 'UNKNOWN',
    services: tunnel.destinationConfig?.services ?? [],
    sourceConnection: tunnel.sourceConnectionState?.status ?? 'DISCONNECTED',
    destinationConnection: tunnel.destinationConnectionState?.status ?? 'DISCONNECTED',
  }
  if (tunnel.destinationConfig?.thingName) info.thingName = tunnel.destinationConfig.thingName
  if (tunnel.description) info.description = tunnel.description
  const stack = tunnel.tags?.find((tag) => tag.key === stackTagKey)?.value
  if (stack) info.stack = stack
  if (tunnel.createdAt) info.createdAt = tunnel.createdAt.toISOString()
  if (tunnel.lastUpdatedAt) info.lastUpdatedAt = tunnel.lastUpdatedAt.toISOString()
  if (timeoutMinutes !== undefined) {
    info.timeoutMinutes = timeoutMinutes
    if (tunnel.createdAt) info.expiresAt = new Date(tunnel.createdAt.getTime() + timeoutMinutes * 60_000).toISOString()
  }
  return info
}

/** DescribeTunnel; undefined when the tunnel does not exist (deleted, or another account's). */
export async function describeTunnel(client: IoTSecureTunnelingClient, tunnelId: string): Promise<TunnelInfo | undefined> {
  try {
    const answer = await tunnelingapi.describeTunnel(client, {tunnelId})
    return answer.tunnel ? tunnelInfo(answer.tunnel) : undefined
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`describing tunnel ${tunnelId} (iotsecuretunneling:DescribeTunnel)`, error)
  }
}

export interface ListOptions {
  /** Only tunnels tagged iotctl:stack=<stack>; undefined lists every tunnel. */
  stack?: string
  /** ListTunnels' thingName filter. */
  thingName?: string
  /** Only OPEN tunnels (cleanup, reuse). */
  openOnly?: boolean
}

/**
 * ListTunnels (every page), then DescribeTunnel for each one kept: the summaries
 * carry neither tags nor thing nor services. Newest first, as ListTunnels sorts.
 */
export async function listTunnels(client: IoTSecureTunnelingClient, options: ListOptions = {}): Promise<TunnelInfo[]> {
  const summaries: {tunnelId: string; status?: string}[] = []
  const listed = await tunnelingapi.listAllTunnels(client, {maxResults: 100, ...(options.thingName ? {thingName: options.thingName} : {})}, 'listing tunnels (iotsecuretunneling:ListTunnels)')
  for (const summary of listed) {
    if (summary.tunnelId && (!options.openOnly || summary.status === 'OPEN')) summaries.push({tunnelId: summary.tunnelId, status: summary.status})
  }
  const described = await mapLimited(summaries, 4, (summary) => describeTunnel(client, summary.tunnelId))
  return described.filter((tunnel): tunnel is TunnelInfo =>
    tunnel !== undefined && (options.stack === undefined || tunnel.stack === options.stack) && (!options.openOnly || tunnel.status === 'OPEN'))
}

async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await work(items[index])
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  return results
}

export interface CloseOutcome {
  tunnelId: string
  /** False when AWS does not know the tunnel (already deleted): nothing to close. */
  found: boolean
  deleted: boolean
}

/** CloseTunnel; closing a closed tunnel succeeds, an unknown one counts as done. */
export async function closeTunnel(client: IoTSecureTunnelingClient, tunnelId: string, options: {delete?: boolean} = {}): Promise<CloseOutcome> {
  try {
    await tunnelingapi.closeTunnel(client, {tunnelId, ...(options.delete ? {delete: true} : {})})
    return {tunnelId, found: true, deleted: options.delete === true}
  } catch (error) {
    if (isNotFound(error)) return {tunnelId, found: false, deleted: false}
    throw toAwsError(`closing tunnel ${tunnelId} (iotsecuretunneling:CloseTunnel)`, error)
  }
}

/**
 * A new source token for a tunnel whose token file is elsewhere (another machine
 * opened it). The destination keeps its connection and token.
 */
export async function rotateSourceToken(client: IoTSecureTunnelingClient, tunnelId: string): Promise<string> {
  try {
    const answer = await tunnelingapi.rotateTunnelAccessToken(client, {tunnelId, clientMode: 'SOURCE'})
    if (!answer.sourceAccessToken) throw new Error('RotateTunnelAccessToken answered without a source access token')
    return answer.sourceAccessToken
  } catch (error) {
    throw toAwsError(`rotating the source token of tunnel ${tunnelId} (iotsecuretunneling:RotateTunnelAccessToken)`, error)
  }
}

/** The account id in a tunnel ARN (arn:aws:iot:<region>:<account>:tunnel/<id>). */
export function accountOfArn(arn: string): string {
  return arn.split(':')[4] ?? ''
}
