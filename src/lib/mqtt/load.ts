// A load generator: N simulated devices, each with its own connection and client
// id, connected gradually, publishing together at an aggregate rate for a duration.
// It rides out brokers that drop connections (mqtt.js reconnects; what could not be
// sent or was not acknowledged is counted) and always ends within duration + grace.
import type {MqttClient} from 'mqtt'
import {AwsError, InputError} from '../errors.ts'
import {closedBeforeConnack, errorCode, type MqttConnection, openClient} from './connection.ts'
import {awsMaxInflight, loadPayloadTemplate, type Qos, validatePositive, validateQos} from './publish.ts'
import {PublishSender} from './sender.ts'
import {compileTemplate, type TemplateContext} from './template.ts'
import {sleep, within} from './time.ts'
import {validatePublishTopic} from './topics.ts'

export interface LoadDevice {
  /** From 1 to `devices`. */
  index: number
  /** `<clientIdPrefix>-<index>`. */
  clientId: string
}

export interface LoadOptions {
  /** One connection for every device (each with its own client id), or one per device. */
  connection: MqttConnection | ((device: LoadDevice) => MqttConnection | Promise<MqttConnection>)
  /** Client ids are `<prefix>-1` … `<prefix>-N`. Default: the connection's client id, or "iotctl-load". */
  clientIdPrefix?: string
  devices: number
  /** Messages per second, all devices together; each device sends rate/devices. */
  rate: number
  /** How long the devices publish, from the start. */
  durationSeconds: number
  /** A topic template: {{device}} and {{index}} give each device its own topic, e.g. device/{{index}}/data. */
  topic: string
  /** The payload template (see README.md); {{seq}} counts per device. */
  payload?: string
  payloadFile?: string
  /** 0 or 1. Default 1. */
  qos?: number
  /** Devices connect one after another over this time. Default min(duration / 4, devices / 50). */
  rampUpSeconds?: number
  /** After the duration, how long to wait for the last acknowledgements. Default 5 s. */
  graceSeconds?: number
  /** QoS 1: messages awaiting PUBACK per device. Default 100 (AWS IoT's per-connection limit). */
  maxInflight?: number
  /** Called about once a second. */
  onProgress?: (progress: LoadProgress) => void
  /** Ends the run early (then as at the end of the duration). */
  signal?: AbortSignal
}

export interface LoadProgress {
  elapsedSeconds: number
  connectedDevices: number
  sent: number
  acked: number
  failed: number
  /** Messages sent per second since the previous report. */
  ratePerSecond: number
}

export interface LoadFailures {
  /** Due while the device was disconnected. */
  offline: number
  /** Sent, then the connection dropped before the PUBACK (QoS 1). */
  connectionLost: number
  /** Sent, and no PUBACK by the end of the grace period (QoS 1). */
  unacked: number
  /** Due, but the connection could not take them before the end (full window or socket). */
  notSent: number
}

export interface LatencySummary {
  p50: number
  p95: number
  p99: number
  max: number
}

export interface LoadResult {
  url: string
  devices: number
  /** Devices that connected at least once. */
  connectedDevices: number
  /** Successful reconnections after a dropped connection. */
  reconnects: number
  /** Failed connection attempts and connection errors. */
  connectionErrors: number
  qos: Qos
  targetRate: number
  /** Seconds from the start to the end of publishing. */
  durationSeconds: number
  /** Messages due by the schedule: sent + offline + notSent. */
  due: number
  /** Messages written to a connection. */
  sent: number
  /** QoS 1: messages acknowledged. */
  acked?: number
  /** Every message due and not delivered (QoS 1) or not sent (QoS 0). */
  failed: number
  failures: LoadFailures
  /** Sent per second over the duration (the ramp-up included). */
  achievedRate: number
  /** QoS 1: publish-to-PUBACK latency in milliseconds. */
  latencyMs?: LatencySummary
  warnings: string[]
  interrupted: boolean
}

// AWS IoT Core throttles publishes per connection (message broker quotas:
// "Inbound publish requests per second per connection", 100).
const awsPublishesPerConnection = 100
const tickMs = 10
const progressMs = 1000

interface DeviceState extends LoadDevice {
  connection: MqttConnection
  topic: string
  context: TemplateContext
  client?: MqttClient
  sender?: PublishSender
  online: boolean
  /** performance.now() of the first connection: the device's schedule starts there. */
  startedAt?: number
  /** Messages of the schedule accounted for (sent or failed). */
  accounted: number
}

/** Runs the load and returns its counts; InputError before any connection for bad input. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const devices = validatePositive('the number of devices', options.devices)
  const rate = validatePositive('the rate', options.rate, false)
  const durationMs = validatePositive('the duration', options.durationSeconds, false) * 1000
  const qos = validateQos(options.qos ?? 1)
  const maxInflight = validatePositive('the in-flight window', options.maxInflight ?? awsMaxInflight)
  const graceMs = nonNegative('the grace period', options.graceSeconds ?? 5) * 1000
  const rampUpMs = nonNegative('the ramp-up', options.rampUpSeconds ?? Math.min(options.durationSeconds / 4, devices / 50)) * 1000
  if (rampUpMs >= durationMs) throw new InputError(`the ramp-up (${rampUpMs / 1000} s) must be shorter than the duration (${durationMs / 1000} s)`)
  const topicTemplate = compileTemplate(options.topic)
  const prefix = options.clientIdPrefix ?? (typeof options.connection === 'function' ? 'iotctl-load' : options.connection.clientId)

  const states: DeviceState[] = []
  for (let index = 1; index <= devices; index++) {
    const clientId = `${prefix}-${index}`
    const connection = typeof options.connection === 'function' ? await options.connection({index, clientId}) : options.connection
    const topic = topicTemplate.render({seq: 1, device: clientId, index})
    validatePublishTopic(topic)
    states.push({index, clientId, connection, topic, context: {seq: 0, device: clientId, index}, online: false, accounted: 0})
  }
  const payloadTemplate = await loadPayloadTemplate(options, states[0].clientId)
  const perDeviceRate = rate / devices
  const warnings = [...new Set(states.flatMap((state) => state.connection.warnings))]
  if (perDeviceRate > awsPublishesPerConnection) {
    warnings.push(`each device would publish ${perDeviceRate.toFixed(0)} messages/s; AWS IoT throttles a connection at ${awsPublishesPerConnection}/s: use at least ${Math.ceil(rate / awsPublishesPerConnection)} devices`)
  }

  const failures: LoadFailures = {offline: 0, connectionLost: 0, unacked: 0, notSent: 0}
  const latencies = new LatencyRecorder()
  let sent = 0
  let acked = 0
  let connectedDevices = 0
  let reconnects = 0
  let connectionErrors = 0
  let firstError: Error | undefined
  let stopped = false
  let closing = false
  const clients: MqttClient[] = []
  const start = performance.now()

  const startDevice = async (state: DeviceState) => {
    // mqtt.js retries every second: AWS IoT accepts one CONNECT per second per client id.
    const client = await openClient(state.connection, {clientId: state.clientId, reconnectPeriodMs: 1000})
    if (stopped) {
      client.end(true)
      return
    }
    clients.push(client)
    state.client = client
    state.sender = new PublishSender(client, state.topic, qos, {
      maxInflight,
      onAck: (ack) => {
        acked++
        latencies.add(ack.latencyMs)
      },
    })
    client.on('connect', () => {
      state.online = true
      if (state.startedAt === undefined) {
        state.startedAt = performance.now()
        connectedDevices++
      } else reconnects++
    })
    client.on('close', () => {
      if (closing) return
      if (state.online) failures.connectionLost += state.sender!.abandonInflight()
      else connectionErrors++ // an attempt that did not reach CONNACK
      state.online = false
    })
    client.on('error', (error) => {
      firstError ??= error
    })
  }

  const payloadFor = (state: DeviceState) => (seq: number) => {
    state.context.seq = seq
    return payloadTemplate.render(state.context)
  }
  const payloads = states.map(payloadFor)

  /** Accounts for each device's messages due by `now`: sends them, or counts them failed when it is offline. */
  const pump = (now: number) => {
    for (let i = 0; i < states.length; i++) {
      const state = states[i]
      if (state.startedAt === undefined) continue
      const due = Math.floor((perDeviceRate * (now - state.startedAt)) / 1000) - state.accounted
      if (due <= 0) continue
      if (!state.online) {
        failures.offline += due
        state.accounted += due
        continue
      }
      const written = state.sender!.write(state.accounted + 1, due, payloads[i])
      state.accounted += written
      sent += written
    }
  }

  const interrupted = await new Promise<boolean>((resolve) => {
    let started = 0
    let lastProgress = start
    let sentAtLastProgress = 0
    const timer = setInterval(() => {
      const now = performance.now()
      // Ramp-up: device i starts at i * rampUp / N.
      while (started < devices && now - start >= (started * rampUpMs) / devices) {
        const state = states[started++]
        startDevice(state).catch((error: Error) => {
          connectionErrors++
          firstError ??= error
        })
      }
      const end = Math.min(now, start + durationMs)
      pump(end)
      if (now - lastProgress >= progressMs) {
        options.onProgress?.({
          elapsedSeconds: (now - start) / 1000,
          connectedDevices: states.filter((state) => state.online).length,
          sent,
          acked,
          failed: failures.offline + failures.connectionLost,
          ratePerSecond: ((sent - sentAtLastProgress) * 1000) / (now - lastProgress),
        })
        lastProgress = now
        sentAtLastProgress = sent
      }
      if (now - start >= durationMs || options.signal?.aborted) {
        clearInterval(timer)
        resolve(options.signal?.aborted === true)
      }
    }, tickMs)
  })
  const publishingMs = Math.min(performance.now() - start, durationMs)
  stopped = true

  // What the schedule wanted by the end and never got onto a connection.
  for (const state of states) {
    if (state.startedAt === undefined) continue
    const due = Math.floor((perDeviceRate * (start + publishingMs - state.startedAt)) / 1000) - state.accounted
    if (due > 0) {
      failures.notSent += due
      state.accounted += due
    }
  }

  if (qos === 1) {
    const graceEnd = performance.now() + graceMs
    const inflight = () => states.reduce((sum, state) => sum + (state.online ? state.sender!.inflight : 0), 0)
    while (inflight() > 0 && performance.now() < graceEnd) await sleep(Math.min(50, graceEnd - performance.now()))
    for (const state of states) if (state.sender) failures.unacked += state.sender.abandonInflight()
  }
  closing = true
  await closeAll(clients)
  for (const state of states) state.sender?.close()

  const url = states[0].connection.url
  if (connectedDevices === 0) {
    const code = firstError ? errorCode(firstError) : 'ConnectionClosed'
    throw new AwsError('mqtt load', code, `none of the ${devices} devices could connect to ${url}: ${firstError?.message ?? closedBeforeConnack}`, {cause: firstError})
  }
  const due = states.reduce((sum, state) => sum + state.accounted, 0)
  const failed = failures.offline + failures.notSent + failures.connectionLost + failures.unacked
  return {
    url,
    devices,
    connectedDevices,
    reconnects,
    connectionErrors,
    qos,
    targetRate: rate,
    durationSeconds: publishingMs / 1000,
    due,
    sent,
    ...(qos === 1 ? {acked} : {}),
    failed,
    failures,
    achievedRate: (sent * 1000) / publishingMs,
    ...(qos === 1 && latencies.count > 0 ? {latencyMs: latencies.summary()} : {}),
    warnings,
    interrupted,
  }
}

/** Ends every client: a clean DISCONNECT where connected, at most 2 s, then by force. */
async function closeAll(clients: MqttClient[]): Promise<void> {
  const clean = clients.map((client) => new Promise<void>((resolve) => (client.connected ? client.end(false, {}, () => resolve()) : resolve())))
  await within(Promise.all(clean), 2000, [])
  for (const client of clients) client.end(true)
}

function nonNegative(what: string, value: number): number {
  if (!Number.isFinite(value) || value < 0) throw new InputError(`${what} must be 0 or more seconds, not ${value}`)
  return value
}

/** Latencies in a growing Float64Array; percentiles by nearest rank. */
class LatencyRecorder {
  #values = new Float64Array(1024)
  count = 0

  add(value: number): void {
    if (this.count === this.#values.length) {
      const grown = new Float64Array(this.#values.length * 2)
      grown.set(this.#values)
      this.#values = grown
    }
    this.#values[this.count++] = value
  }

  summary(): LatencySummary {
    const sorted = this.#values.slice(0, this.count).sort()
    const at = (p: number) => round(sorted[Math.min(this.count - 1, Math.ceil((p / 100) * this.count) - 1)])
    return {p50: at(50), p95: at(95), p99: at(99), max: round(sorted[this.count - 1])}
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100
}
