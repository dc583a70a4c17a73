// The agent's MQTT side: connect with the thing's certificate (mutual TLS,
// through src/lib/mqtt) and subscribe to the notify topic. Reconnects by
// itself (mqtt.js, resubscribing) so that a broker restart does not end the agent.
import type {MqttClient} from 'mqtt'
import {AwsError} from '../../errors.ts'
import {connectClient, prepareConnection, type MqttConnection} from '../../mqtt/connection.ts'
import {notifyTopic} from './notification.ts'

export interface NotifyConnectionOptions {
  thing: string
  host: string
  port: number
  cert: string
  key: string
  ca?: string
  /** Default: the thing name (AWS IoT policies usually allow iot:Connect for client id = thing name). */
  clientId?: string
}

/** Reads and checks the certificate, key and CA (InputError when the certificate does not match its key). */
export function prepareNotifyConnection(options: NotifyConnectionOptions): Promise<MqttConnection> {
  return prepareConnection({
    kind: 'mtls',
    endpoint: options.host,
    port: options.port,
    clientId: options.clientId ?? options.thing,
    cert: options.cert,
    key: options.key,
    ...(options.ca ? {ca: options.ca} : {}),
  })
}

export interface NotifySubscription {
  /** The broker URL and topic, for messages. */
  url: string
  topic: string
  close(): Promise<void>
}

export interface SubscribeOptions {
  connection: MqttConnection
  thing: string
  onNotification: (payload: Buffer) => void
  /** Connection state changes after the first connection ('offline', 'reconnecting', 'connected'). */
  onState?: (state: 'offline' | 'reconnecting' | 'connected') => void
  /** Delay between reconnection attempts (default 5 s). */
  reconnectPeriodMs?: number
}

export async function subscribeNotifications(options: SubscribeOptions): Promise<NotifySubscription> {
  const topic = notifyTopic(options.thing)
  const client: MqttClient = await connectClient(options.connection, {reconnectPeriodMs: options.reconnectPeriodMs ?? 5000})
  client.on('message', (received, payload) => {
    if (received === topic) options.onNotification(payload)
  })
  try {
    const granted = await client.subscribeAsync(topic, {qos: 1})
    if (granted.some((grant) => grant.qos === 128)) {
      throw new AwsError(`subscribing to ${topic}`, 'SubscribeRefused', `${options.connection.url} refused the subscription (for AWS IoT: does the thing's policy allow iot:Subscribe on topicfilter/${topic} and iot:Receive on topic/${topic}?)`)
    }
  } catch (error) {
    await client.endAsync(true).catch(() => {})
    if (error instanceof AwsError) throw error
    throw new AwsError(`subscribing to ${topic}`, 'SubscribeFailed', `${options.connection.url}: ${(error as Error).message}`, {cause: error})
  }
  client.on('offline', () => options.onState?.('offline'))
  client.on('reconnect', () => options.onState?.('reconnecting'))
  client.on('connect', () => options.onState?.('connected'))
  return {
    url: options.connection.url,
    topic,
    close: async () => {
      await client.endAsync().catch(() => client.endAsync(true))
    },
  }
}
