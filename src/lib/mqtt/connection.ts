// The ways into an MQTT broker: AWS IoT Core with a device certificate (mutual
// TLS), AWS IoT Core over a SigV4-presigned WebSocket, and plain MQTT for local
// brokers (tests, benchmarks). prepareConnection checks everything it can before
// any connection is attempted; connectClient opens one mqtt.js client.
import {X509Certificate, createPrivateKey, type KeyObject} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import type {IClientOptions, MqttClient} from 'mqtt'
import WebSocket from 'ws'
import {AwsError, InputError} from '../errors.ts'
import {presignMqttWebSocketUrl} from './sigv4.ts'

export interface MtlsConnectionOptions {
  kind: 'mtls'
  /** The IoT data endpoint (see describeIotDataEndpoint) or another broker's host name. */
  endpoint: string
  /** Default 8883. On 443 the ALPN protocol "x-amzn-mqtt-ca" is offered, as AWS IoT requires there. */
  port?: number
  clientId: string
  /** Path of the device certificate (PEM). */
  cert: string
  /** Path of the device's private key (PEM). */
  key: string
  /** Path of a CA bundle (PEM) to trust instead of Node's roots, which include Amazon Root CA 1. */
  ca?: string
}

export interface WebSocketConnectionOptions {
  kind: 'websocket'
  endpoint: string
  region: string
  /** AWS credentials, e.g. from @aws-sdk/credential-providers; the URL is signed when connecting. */
  credentials: AwsCredentialIdentityProvider
  clientId: string
  /** 'wss' (default); 'ws' only for a local test broker. */
  scheme?: 'wss' | 'ws'
  /** Default 443 (wss) or 80 (ws). */
  port?: number
  /** Default '/mqtt'. */
  path?: string
  /** Path of a CA bundle (PEM) to trust instead of Node's roots (wss only). */
  ca?: string
}

/** Plain, unauthenticated MQTT: for local brokers only (tests, benchmarks); AWS IoT does not accept it. */
export interface TcpConnectionOptions {
  kind: 'tcp'
  endpoint: string
  /** Default 1883. */
  port?: number
  clientId: string
}

export type ConnectionOptions = MtlsConnectionOptions | WebSocketConnectionOptions | TcpConnectionOptions

/** A checked connection: files read and verified, ready to open clients. */
export interface MqttConnection {
  readonly kind: ConnectionOptions['kind']
  /** Where it connects, for messages (no signature): mqtts://host:8883, wss://host/mqtt, mqtt://host:1883. */
  readonly url: string
  readonly clientId: string
  /** Things worth telling the user that do not stop the connection (e.g. a key file others can read). */
  readonly warnings: string[]
  /** mqtt.js options for one client (not connected yet); the WebSocket URL is signed here. */
  clientOptions(overrides?: ClientOverrides): Promise<IClientOptions>
}

export interface ClientOverrides {
  /** Another client id than the connection's (load test devices). */
  clientId?: string
  /** Milliseconds between reconnection attempts; 0 (default) for none. */
  reconnectPeriodMs?: number
  /** Default 10 000. */
  connectTimeoutMs?: number
}

// AWS IoT Core message broker quota: a client id is at most 128 bytes.
const maxClientIdBytes = 128

/**
 * Checks options and files (InputError): host name, port, client id; for mutual TLS
 * that the certificate and the key parse and belong together (same public key) and
 * that the CA bundle parses. A key file readable by group or others gives a warning.
 */
export async function prepareConnection(options: ConnectionOptions): Promise<MqttConnection> {
  checkEndpoint(options.endpoint)
  checkClientId(options.clientId)
  if (options.port !== undefined) checkPort(options.port)
  switch (options.kind) {
    case 'mtls':
      return prepareMtls(options)
    case 'websocket':
      return prepareWebSocket(options)
    case 'tcp':
      return prepareTcp(options)
    default:
      throw new InputError(`unknown connection kind ${JSON.stringify((options as {kind: unknown}).kind)}: use mtls, websocket or tcp`)
  }
}

export function checkClientId(clientId: string): void {
  if (clientId === '') throw new InputError('the MQTT client id is empty')
  const bytes = Buffer.byteLength(clientId)
  if (bytes > maxClientIdBytes) throw new InputError(`the MQTT client id is ${bytes} bytes long; AWS IoT allows at most ${maxClientIdBytes}`)
}

function checkEndpoint(endpoint: string): void {
  if (endpoint === '') throw new InputError('the MQTT endpoint is empty: give the host name, e.g. from `aws iot describe-endpoint --endpoint-type iot:Data-ATS`')
  if (/[/:\s]/.test(endpoint) && !/^\[[\d:a-f]+\]$/i.test(endpoint)) {
    throw new InputError(`MQTT endpoint ${JSON.stringify(endpoint)}: give the host name only (no scheme, port or path), e.g. abc123-ats.iot.eu-west-1.amazonaws.com`)
  }
}

function checkPort(port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(`port ${port} is not a TCP port (1-65535)`)
}

async function prepareMtls(options: MtlsConnectionOptions): Promise<MqttConnection> {
  const [certPem, keyPem, caPem] = await Promise.all([readPem(options.cert, 'certificate'), readPem(options.key, 'private key'), readCaBundle(options.ca)])
  const certificate = parse(() => new X509Certificate(certPem), `certificate ${options.cert} is not a PEM X.509 certificate`)
  const privateKey: KeyObject = parse(() => createPrivateKey(keyPem), `private key ${options.key} is not a PEM private key (or is encrypted)`)
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new InputError(`certificate ${options.cert} and private key ${options.key} do not belong together: the certificate holds another public key`)
  }
  const warnings: string[] = []
  const keyStat = await stat(options.key)
  if ((keyStat.mode & 0o044) !== 0) {
    const mode = (keyStat.mode & 0o777).toString(8).padStart(4, '0')
    warnings.push(`private key ${options.key} is readable by group or others (mode ${mode}); run: chmod 600 ${options.key}`)
  }
  const port = options.port ?? 8883
  return {
    kind: 'mtls',
    url: `mqtts://${options.endpoint}:${port}`,
    clientId: options.clientId,
    warnings,
    clientOptions: async (overrides = {}) => ({
      ...baseOptions(options.clientId, overrides),
      protocol: 'mqtts',
      host: options.endpoint,
      port,
      cert: certPem,
      key: keyPem,
      ...(caPem === undefined ? {} : {ca: caPem}),
      // AWS IoT Core on port 443 tells MQTT from HTTPS by ALPN ("Device communication protocols").
      ...(port === 443 ? {ALPNProtocols: ['x-amzn-mqtt-ca']} : {}),
    }),
  }
}

async function prepareWebSocket(options: WebSocketConnectionOptions): Promise<MqttConnection> {
  if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) throw new InputError(`region ${JSON.stringify(options.region)} is not an AWS region name such as eu-west-1`)
  if (typeof options.credentials !== 'function') throw new InputError('MQTT over WebSocket needs AWS credentials (a credentials provider)')
  const scheme = options.scheme ?? 'wss'
  if (scheme !== 'wss' && scheme !== 'ws') throw new InputError(`WebSocket scheme ${JSON.stringify(scheme)}: use wss (or ws for a local test broker)`)
  const caPem = await readCaBundle(options.ca)
  const path = options.path ?? '/mqtt'
  const port = options.port ?? (scheme === 'wss' ? 443 : 80)
  const sign = () => presignMqttWebSocketUrl({...options, scheme, port, path})
  return {
    kind: 'websocket',
    url: `${scheme}://${options.endpoint}${options.port === undefined ? '' : `:${port}`}${path}`,
    clientId: options.clientId,
    warnings: [],
    clientOptions: async (overrides = {}) => {
      // mqtt.js asks for the URL synchronously on every (re)connection: sign one now,
      // and a fresh one whenever the connection closes, so a reconnection never
      // presents an expired signature or stale session credentials.
      let url = await sign()
      return {
        ...baseOptions(options.clientId, overrides),
        protocol: scheme,
        hostname: options.endpoint,
        port,
        path,
        ...(caPem === undefined ? {} : {ca: caPem}),
        transformWsUrl: (unsigned, _options, client) => {
          if (!resigning.has(client)) {
            resigning.add(client)
            client.on('close', () => {
              sign().then((fresh) => (url = fresh), () => {})
            })
          }
          // mqtt.js logs this URL under DEBUG=mqttjs*: hand it the unsigned one
          // and open the presigned one (signature, session token) below.
          return unsigned
        },
        createWebsocket: (_unsigned, protocols, clientOptions) => new WebSocket(url, protocols, (clientOptions as {wsOptions?: WebSocket.ClientOptions}).wsOptions),
      }
    },
  }
}

const resigning = new WeakSet<MqttClient>()

async function prepareTcp(options: TcpConnectionOptions): Promise<MqttConnection> {
  const port = options.port ?? 1883
  return {
    kind: 'tcp',
    url: `mqtt://${options.endpoint}:${port}`,
    clientId: options.clientId,
    warnings: [],
    clientOptions: async (overrides = {}) => ({...baseOptions(options.clientId, overrides), protocol: 'mqtt', host: options.endpoint, port}),
  }
}

function baseOptions(clientId: string, overrides: ClientOverrides): IClientOptions {
  if (overrides.clientId !== undefined) checkClientId(overrides.clientId)
  return {
    clientId: overrides.clientId ?? clientId,
    // AWS IoT Core speaks MQTT 3.1.1 and 5; 3.1.1 is enough here and keeps packets minimal.
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: overrides.reconnectPeriodMs ?? 0,
    connectTimeout: overrides.connectTimeoutMs ?? 10_000,
  }
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new InputError(`${what} file ${path} does not exist`)
    if (code === 'EACCES') throw new InputError(`${what} file ${path} cannot be read (permission denied)`)
    if (code === 'EISDIR') throw new InputError(`${what} file ${path} is a directory`)
    throw new InputError(`${what} file ${path}: ${(error as Error).message}`)
  }
}

/** The CA bundle to trust instead of Node's roots, checked to hold a certificate; undefined without a path. */
export async function readCaBundle(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined
  const pem = await readPem(path, 'CA bundle')
  parse(() => new X509Certificate(pem), `CA bundle ${path} holds no PEM certificate`)
  return pem
}

function parse<T>(build: () => T, message: string): T {
  try {
    return build()
  } catch {
    throw new InputError(message)
  }
}

/**
 * A new mqtt.js client, connecting in the background. Its 'error' events are
 * swallowed (callers watch 'connect' and 'close'; an 'error' without a listener
 * would crash the process) and every connection it makes has Nagle's algorithm off.
 */
export async function openClient(connection: MqttConnection, overrides: ClientOverrides = {}): Promise<MqttClient> {
  const options = await connection.clientOptions(overrides)
  const {connect} = await import('mqtt')
  const client = connect(options)
  client.on('error', () => {})
  client.on('connect', () => disableNagle(client))
  return client
}

/**
 * Opens a client and waits for the broker's CONNACK. Failures are AwsError (exit 1)
 * with what went wrong and where; the client is closed on failure.
 */
export async function connectClient(connection: MqttConnection, overrides: ClientOverrides = {}): Promise<MqttClient> {
  const client = await openClient(connection, overrides)
  const where = `${connection.url} as ${client.options.clientId}`
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      client.removeListener('connect', onConnect)
      client.removeListener('error', onError)
      client.removeListener('close', onClose)
      if (error) {
        client.end(true)
        reject(error)
      } else resolve()
    }
    const onConnect = () => done()
    const onError = (error: Error) => done(connectError(where, error))
    const onClose = () => done(new AwsError('mqtt connect', 'ConnectionClosed', `${where}: ${closedBeforeConnack}`))
    client.on('connect', onConnect)
    client.on('error', onError)
    client.on('close', onClose)
  })
  return client
}

// AWS IoT closes the connection without a CONNACK when the certificate is not
// active or no policy allows iot:Connect for this client id.
export const closedBeforeConnack =
  'the broker closed the connection before accepting it (for AWS IoT: is the certificate ACTIVE, and does its policy allow iot:Connect for this client id?)'

// Messages are batched before they are written, so Nagle's algorithm only adds
// delay: a lone QoS 1 message would wait for the broker's delayed ACK (~40 ms).
function disableNagle(client: MqttClient): void {
  const stream = client.stream as {setNoDelay?: (noDelay: boolean) => unknown}
  stream.setNoDelay?.(true)
}

function connectError(where: string, error: Error): AwsError {
  return new AwsError('mqtt connect', errorCode(error), `${where}: ${error.message}`, {cause: error})
}

/** A code for a connection error: the system's (ECONNREFUSED, a TLS code) or CONNACK<reason code> for a refusal by the broker. */
export function errorCode(error: Error): string {
  const code = (error as Error & {code?: string | number}).code
  return typeof code === 'string' ? code : code !== undefined ? `CONNACK${code}` : 'ConnectFailed'
}
