// Watching a topic filter: until `count` messages arrived, a timeout, or a signal.
import {AwsError, CheckFailed} from '../errors.ts'
import {connectClient, type MqttConnection} from './connection.ts'
import {disconnect, validatePositive, validateQos} from './publish.ts'
import {validateTopicFilter} from './topics.ts'

export interface ReceivedMessage {
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  /** Date.now() when it arrived. */
  receivedAt: number
}

export interface SubscribeOptions {
  connection: MqttConnection
  /** A topic or a filter with + and # wildcards. */
  filter: string
  /** 0 or 1. Default 1. */
  qos?: number
  /** Resolve after this many messages. Without it, watch until the timeout or the signal. */
  count?: number
  /** With `count`: reject with CheckFailed if they have not all arrived by then. Without: stop watching then. */
  timeoutSeconds?: number
  onMessage: (message: ReceivedMessage) => void
  /** Stop watching (Ctrl-C); resolves with what arrived so far. */
  signal?: AbortSignal
}

export interface SubscribeResult {
  url: string
  clientId: string
  filter: string
  received: number
  /** Why it stopped: the count was reached, the watch time ran out, or the signal. */
  stoppedBy: 'count' | 'timeout' | 'signal'
  durationMs: number
}

/**
 * Subscribes and hands each message to `onMessage`. Resolves after `count` messages;
 * rejects with CheckFailed (exit 1) when `count` is not reached within `timeoutSeconds`.
 * Reconnects (and resubscribes) if the connection drops after it was established.
 */
export async function subscribe(options: SubscribeOptions): Promise<SubscribeResult> {
  const {connection, filter} = options
  validateTopicFilter(filter)
  const qos = validateQos(options.qos ?? 1)
  if (options.count !== undefined) validatePositive('the message count', options.count)
  if (options.timeoutSeconds !== undefined) validatePositive('the timeout', options.timeoutSeconds, false)

  const client = await connectClient(connection)
  const start = performance.now()
  let received = 0
  try {
    await new Promise<void>((resolve, reject) => {
      client.subscribe(filter, {qos}, (error, granted) => {
        // AWS IoT answers 0x80 in the SUBACK when the policy does not allow iot:Subscribe on the filter.
        if (error) reject(new AwsError('mqtt subscribe', 'SubscribeFailed', `${connection.url}: ${error.message}`, {cause: error}))
        else if (granted?.[0]?.qos === 128) {
          reject(new AwsError('mqtt subscribe', 'SubscribeRejected', `${connection.url} refused the subscription to ${filter} (for AWS IoT: does the policy allow iot:Subscribe on topicfilter/${filter} and iot:Receive on its topics?)`))
        } else resolve()
      })
    })
    // After a successful start, ride out dropped connections: mqtt.js reconnects and resubscribes.
    client.options.reconnectPeriod = 1000
    const stoppedBy = await new Promise<SubscribeResult['stoppedBy']>((resolve, reject) => {
      const finish = (error: Error | undefined, why: SubscribeResult['stoppedBy']) => {
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        client.removeListener('message', onMessage)
        if (error) reject(error)
        else resolve(why)
      }
      const onMessage = (topic: string, payload: Buffer, packet: {qos: number; retain: boolean}) => {
        if (options.count !== undefined && received >= options.count) return
        received++
        options.onMessage({topic, payload, qos: packet.qos, retain: packet.retain, receivedAt: Date.now()})
        if (received === options.count) finish(undefined, 'count')
      }
      const onAbort = () => finish(undefined, 'signal')
      const timer =
        options.timeoutSeconds === undefined
          ? undefined
          : setTimeout(() => {
            if (options.count === undefined) finish(undefined, 'timeout')
            else finish(new CheckFailed(`received ${received} of ${options.count} messages on ${filter} within ${options.timeoutSeconds} s`), 'timeout')
          }, options.timeoutSeconds * 1000)
      client.on('message', onMessage)
      options.signal?.addEventListener('abort', onAbort, {once: true})
      if (options.signal?.aborted) onAbort()
    })
    return {url: connection.url, clientId: connection.clientId, filter, received, stoppedBy, durationMs: performance.now() - start}
  } finally {
    client.options.reconnectPeriod = 0
    if (!(await disconnect(client))) client.end(true)
  }
}
