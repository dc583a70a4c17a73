// Publishing test messages from one client: one message, or many from a template.
import {readFile} from 'node:fs/promises'
import {setImmediate as yieldToEventLoop} from 'node:timers/promises'
import type {MqttClient} from 'mqtt'
import {AwsError, InputError, Interrupted} from '../errors.ts'
import {connectClient, type MqttConnection} from './connection.ts'
import {type PublishAck, PublishSender} from './sender.ts'
import {compileTemplate, type Template} from './template.ts'
import {within} from './time.ts'
import {validatePublishTopic} from './topics.ts'

export type {PublishAck} from './sender.ts'
export type Qos = 0 | 1

export interface PublishOptions {
  connection: MqttConnection
  topic: string
  /** The payload template (see README.md: {{seq}}, {{timestamp}}, {{random:20:30}}…). */
  payload?: string
  /** Or a file holding the payload template (UTF-8). */
  payloadFile?: string
  /** 0 or 1 (AWS IoT Core does not support QoS 2). Default 1. */
  qos?: number
  /** How many messages. Default 1. */
  count?: number
  /** Milliseconds between messages; 0 (default) sends as fast as the connection takes them. */
  intervalMs?: number
  /** The {{device}} value. Default: the client id. */
  device?: string
  /** QoS 1: the most messages awaiting PUBACK at once. Default 100, AWS IoT's limit per connection. */
  maxInflight?: number
  /** How long to wait for acknowledgements (QoS 1) or for the socket to drain before giving up. Default 10 s. */
  ackTimeoutSeconds?: number
  /** QoS 1: called for each PUBACK. */
  onAck?: (ack: PublishAck) => void
  /** Called after each batch written (at most once per message when paced by intervalMs). */
  onProgress?: (progress: {sent: number; acked: number}) => void
  /** Stops sending (the messages in flight are still awaited); publish then throws Interrupted. */
  signal?: AbortSignal
}

export interface PublishResult {
  url: string
  clientId: string
  topic: string
  qos: Qos
  /** Messages written to the connection. */
  sent: number
  /** QoS 1: messages the broker acknowledged (absent at QoS 0, which has no acknowledgements). */
  acked?: number
  /** QoS 1: one entry per acknowledged message, in the order the acks arrived. */
  acks?: PublishAck[]
  /** Milliseconds to connect (TCP, TLS, CONNECT/CONNACK). */
  connectMs: number
  /** Milliseconds from the first message to the last ack (QoS 1) or to the connection's clean close (QoS 0). */
  durationMs: number
  messagesPerSecond: number
}

// AWS IoT Core message broker quotas: at most 128 KB per message and 100
// unacknowledged QoS 1 messages in flight per connection.
export const maxPayloadBytes = 128 * 1024
export const awsMaxInflight = 100

// How many batches may be written back to back before the event loop gets a turn
// (incoming acks and pings, timers) even if the socket never asks to drain.
const batchesPerTurn = 16

/** Checks a QoS value: 0 or 1, with the reason QoS 2 is refused. */
export function validateQos(qos: number): Qos {
  if (qos === 2) throw new InputError('QoS 2 is not supported by AWS IoT Core (it does not acknowledge QoS 2); use --qos 0 or --qos 1')
  if (qos !== 0 && qos !== 1) throw new InputError(`QoS ${qos} is not an MQTT QoS that AWS IoT supports: use 0 or 1`)
  return qos
}

/** Checks a count, rate or device number: a whole number ≥ 1 (or a positive number when `whole` is false). */
export function validatePositive(what: string, value: number, whole = true): number {
  if (!Number.isFinite(value) || value <= 0 || (whole && !Number.isInteger(value))) {
    throw new InputError(`${what} must be ${whole ? 'a whole number' : 'a number'} greater than 0, not ${value}`)
  }
  return value
}

/** Reads a payload template file; InputError when it is missing or unreadable. */
export async function readPayloadFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new InputError(`payload file ${path} does not exist`)
    throw new InputError(`payload file ${path} cannot be read: ${(error as Error).message}`)
  }
}

/** The payload template from exactly one of `payload` and `payloadFile`, checked against AWS IoT's size limit. */
export async function loadPayloadTemplate(options: {payload?: string; payloadFile?: string}, device: string): Promise<Template> {
  if (options.payload !== undefined && options.payloadFile !== undefined) throw new InputError('give a payload or a payload file, not both')
  const source = options.payloadFile !== undefined ? await readPayloadFile(options.payloadFile) : (options.payload ?? '')
  const template = compileTemplate(source)
  const bytes = Buffer.byteLength(template.render({seq: 1, device, index: 1}))
  if (bytes > maxPayloadBytes) throw new InputError(`the payload is ${bytes} bytes; AWS IoT accepts at most ${maxPayloadBytes} bytes per message`)
  return template
}

/**
 * Connects, publishes `count` messages rendered from the payload template, waits for
 * their acknowledgements (QoS 1) and disconnects cleanly. Input is checked before
 * connecting (InputError); connection failures and missing acks are AwsError.
 */
export async function publish(options: PublishOptions): Promise<PublishResult> {
  const {connection, topic} = options
  validatePublishTopic(topic)
  const qos = validateQos(options.qos ?? 1)
  const count = validatePositive('the message count', options.count ?? 1)
  const intervalMs = options.intervalMs ?? 0
  if (!Number.isFinite(intervalMs) || intervalMs < 0) throw new InputError(`the interval must be 0 or more milliseconds, not ${intervalMs}`)
  const maxInflight = validatePositive('the in-flight window', options.maxInflight ?? awsMaxInflight)
  const ackTimeoutMs = validatePositive('the acknowledgement timeout', options.ackTimeoutSeconds ?? 10, false) * 1000
  const device = options.device ?? connection.clientId
  const template = await loadPayloadTemplate(options, device)
  const context = {seq: 0, device, index: 1}
  const staticBody = template.isStatic ? Buffer.from(template.render(context)) : undefined
  const payload = staticBody
    ? () => staticBody
    : (seq: number) => {
      context.seq = seq
      return template.render(context)
    }

  const connectStart = performance.now()
  const client = await connectClient(connection)
  const start = performance.now()
  const acks: PublishAck[] = []
  const sender = new PublishSender(client, topic, qos, {
    maxInflight,
    onAck: (ack) => {
      acks.push(ack)
      options.onAck?.(ack)
    },
  })
  const where = `${connection.url} as ${connection.clientId}`
  let sent = 0
  let closedCleanly = false
  try {
    const acknowledged = () => (qos === 1 ? ` (${sender.acked} acknowledged)` : '')
    const lost = () =>
      new AwsError('mqtt publish', 'ConnectionClosed', `${where}: the broker closed the connection after ${sent} of ${count} messages${acknowledged()}` +
        ' (AWS IoT disconnects a client that publishes where its policy does not allow iot:Publish)')
    const aborted = new Promise<void>((resolve) => options.signal?.addEventListener('abort', () => resolve(), {once: true}))
    let batches = 0
    while (sent < count && !options.signal?.aborted) {
      if (!client.connected) throw lost()
      if (intervalMs > 0 && sent > 0) await sleepUntil(start + sent * intervalMs, options.signal)
      if (options.signal?.aborted) break
      const written = sender.write(sent + 1, intervalMs > 0 ? 1 : count - sent, payload)
      if (written === 0) {
        // A full window or a socket that does not drain: wait, but not for ever.
        const woke = await within(Promise.race([sender.wait(), aborted]).then(() => true), ackTimeoutMs, false)
        if (!woke && client.connected) {
          throw new AwsError('mqtt publish', qos === 1 ? 'AckTimeout' : 'WriteTimeout',
            `${where}: the broker took nothing for ${ackTimeoutMs / 1000} s after ${sent} of ${count} messages${acknowledged()}`)
        }
        continue
      }
      sent += written
      options.onProgress?.({sent, acked: sender.acked})
      if (++batches % batchesPerTurn === 0) await yieldToEventLoop()
    }
    if (qos === 1 && !(await waitForAcks(client, sender, ackTimeoutMs))) {
      if (!client.connected) throw lost()
      throw new AwsError('mqtt publish', 'AckTimeout', `${where}: ${sender.inflight} of ${sent} messages were not acknowledged within ${ackTimeoutMs / 1000} s`)
    }
    closedCleanly = await disconnect(client)
    // At QoS 0 nothing says the messages arrived but a clean close after them.
    if (!closedCleanly && qos === 0) throw lost()
  } finally {
    sender.close()
    if (!closedCleanly) client.end(true)
  }
  if (options.signal?.aborted) throw new Interrupted(`interrupted after ${sent} of ${count} messages${qos === 1 ? ` (${sender.acked} acknowledged)` : ''}`)
  const durationMs = performance.now() - start
  return {
    url: connection.url,
    clientId: connection.clientId,
    topic,
    qos,
    sent,
    ...(qos === 1 ? {acked: sender.acked, acks} : {}),
    connectMs: start - connectStart,
    durationMs,
    messagesPerSecond: durationMs > 0 ? (sent * 1000) / durationMs : sent,
  }
}

/** Waits until every message in flight is acknowledged (true), or the connection closes or time runs out (false). */
async function waitForAcks(client: MqttClient, sender: PublishSender, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  while (sender.inflight > 0 && client.connected && performance.now() < deadline) await within(sender.wait(), deadline - performance.now(), undefined)
  return sender.inflight === 0
}

/**
 * Sends DISCONNECT after everything written so far and waits (at most 5 s) until the
 * socket is flushed and closed. Returns false when it was not connected or timed out.
 */
export async function disconnect(client: MqttClient): Promise<boolean> {
  if (!client.connected) return false
  return within(new Promise<boolean>((resolve) => client.end(false, {}, () => resolve(true))), 5000, false)
}

function sleepUntil(time: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, time - performance.now()))
    signal?.addEventListener('abort', done, {once: true})
    function done() {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
  })
}
