// The emulated AWS IoT Core data plane: one TLS port on 127.0.0.1 that, like
// AWS IoT's 443, serves MQTT over mutual TLS and MQTT over a SigV4-presigned
// WebSocket (/mqtt), told apart by the first bytes after the handshake (an MQTT
// CONNECT is 0x10; anything else is HTTP). ALPN x-amzn-mqtt-ca is accepted as
// AWS accepts it on 443. Each account and region has its own topic space (an
// aedes broker each); IoT policies (mTLS) and IAM policies (WebSocket) decide
// connect, publish, subscribe and receive.
// Refusals as AWS IoT makes them (MQTT 3.1.1): an unknown, foreign or inactive
// certificate — the connection is closed before any CONNACK; iot:Connect denied —
// CONNACK "not authorized"; iot:Publish denied — the connection is closed;
// iot:Subscribe denied — SUBACK 0x80; iot:Receive denied — the message is not
// delivered. QoS 2 is not supported by AWS IoT: a QoS 2 subscription is granted
// QoS 1, a QoS 2 publish closes the connection.
import {EventEmitter} from 'node:events'
import {mkdtempSync, rmSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {Duplex} from 'node:stream'
import {createServer, type Server, type TLSSocket} from 'node:tls'
import {Aedes, type Client} from 'aedes'
import {createWebSocketStream, WebSocketServer} from 'ws'
import type {AccountBook} from '../accounts.ts'
import type {Handler} from '../context.ts'
import type {MotoClient} from '../moto-client.ts'
import type {TunnelRecord, TunnelRegistry} from '../tunnels.ts'
import {iamCaller, policyEngine, type RoleMay} from './iam-access.ts'
import {evaluate, type AccessRequest, type Decision, type NamedPolicy} from './iot-policy.ts'
import {certificateIdOf, LocalCa} from './pki.ts'
import {CertificateRegistry, type CertificateHome} from './registry.ts'
import {checkPresigned, CredentialBook} from './sigv4.ts'

export interface PublishEvent {
  account: string
  region: string
  topic: string
  payload: Buffer
  /** The publishing client's id; '' for a publish made by the service itself (publish()). */
  clientId: string
  /** The certificate ARN (mTLS) or the caller's IAM ARN (WebSocket); '' for the service itself. */
  principal: string
  qos: 0 | 1 | 2
  retain: boolean
}

export type PublishListener = (event: PublishEvent) => void

export interface IotDataPlaneOptions {
  moto: MotoClient
  accounts: AccountBook
  /** Where the CA and server certificate go; default a temporary folder removed by close(). */
  dir?: string
  tunnels?: TunnelRegistry
}

interface Session {
  kind: 'mtls' | 'websocket'
  account: string
  region: string
  principal: string
  /** mTLS: the certificate. */
  certificateId?: string
  /** mTLS: IoT policies attached to the certificate; WebSocket: the caller's IAM policies. */
  policies: NamedPolicy[]
  allowAll: boolean
  roleArn?: string
  engine?: RoleMay
  /** Policy variables and condition keys, completed when CONNECT names the client id. */
  context: Record<string, string | undefined>
}

const MAX_HTTP_HEAD = 16 * 1024
const BASIC_INGEST = '$aws/rules/'

export class IotDataPlane {
  readonly host = 'localhost'
  port = 0
  readonly #options: IotDataPlaneOptions
  #dir?: string
  readonly #ownDir: boolean
  readonly #credentials = new CredentialBook()
  readonly #registry: CertificateRegistry
  readonly #spaces = new Map<string, Promise<Aedes>>()
  readonly #sessions = new WeakMap<object, Session>()
  readonly #sockets = new Set<Duplex>()
  readonly #raw = new Set<Duplex>()
  readonly #events = new EventEmitter<{publish: [PublishEvent]}>()
  readonly #wss = new WebSocketServer({noServer: true, perMessageDeflate: false})
  #ca?: LocalCa
  #server?: Server
  #onTunnelOpened?: (tunnel: TunnelRecord) => void
  #onTunnelRotated?: (tunnel: TunnelRecord, modes: string[]) => void

  constructor(options: IotDataPlaneOptions) {
    this.#options = options
    this.#ownDir = options.dir === undefined
    this.#dir = options.dir
    this.#registry = new CertificateRegistry(options.moto, () => this.#localCa(), (id, home) => this.#certificateChanged(id, home))
    this.#events.setMaxListeners(0)
  }

  /** The local CA (PEM file): the data endpoint's and every issued certificate's issuer. */
  get caFile(): string {
    return this.#localCa().caFile
  }

  /** What a client needs: AWS_ENDPOINT_URL_IOT_DATA_PLANE and AWS_CA_BUNDLE. */
  get env(): Record<string, string> {
    return {AWS_ENDPOINT_URL_IOT_DATA_PLANE: `https://${this.host}:${this.port}`, AWS_CA_BUNDLE: this.caFile}
  }

  async start(port = 0): Promise<void> {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'iotctl-iot-data-'))
    this.#ca = await LocalCa.create(this.#dir)
    const [key, cert] = await Promise.all([readFile(this.#ca.serverKeyFile), readFile(this.#ca.serverCertFile)])
    const server = createServer(
      {
        key,
        cert,
        ca: [this.#ca.caPem],
        requestCert: true,
        rejectUnauthorized: false,
        // AWS IoT on 443: x-amzn-mqtt-ca means MQTT, x-amzn-http-ca HTTPS ("Device communication protocols").
        ALPNCallback: ({protocols}) => ['x-amzn-mqtt-ca', 'x-amzn-http-ca', 'http/1.1', 'mqtt'].find((p) => protocols.includes(p)) ?? protocols[0],
      },
      (socket) => this.#route(socket),
    )
    server.on('tlsClientError', () => undefined)
    // Connections still in their TLS handshake are ended by close() too.
    server.on('connection', (raw: Duplex) => {
      this.#raw.add(raw)
      raw.once('close', () => this.#raw.delete(raw))
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve())
    })
    this.#server = server
    this.port = (server.address() as {port: number}).port
    const tunnels = this.#options.tunnels
    if (tunnels) {
      this.#onTunnelOpened = (tunnel) => this.#notifyTunnel(tunnel)
      this.#onTunnelRotated = (tunnel, modes) => {
        if (modes.includes('destination')) this.#notifyTunnel(tunnel)
      }
      tunnels.on('opened', this.#onTunnelOpened)
      tunnels.on('rotated', this.#onTunnelRotated)
    }
  }

  async close(): Promise<void> {
    const tunnels = this.#options.tunnels
    if (tunnels && this.#onTunnelOpened) tunnels.off('opened', this.#onTunnelOpened)
    if (tunnels && this.#onTunnelRotated) tunnels.off('rotated', this.#onTunnelRotated)
    await this.#dropSpaces()
    for (const raw of this.#raw) raw.destroy()
    const server = this.#server
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()))
    this.#wss.close()
    if (this.#ownDir && this.#dir) rmSync(this.#dir, {recursive: true, force: true})
  }

  /** Disconnects every client and forgets topic spaces, retained messages, issued certificates and learnt keys. */
  reset(): void {
    void this.#dropSpaces()
    this.#registry.reset()
    this.#credentials.reset()
  }

  /** IoT control-plane operations this slice answers (DescribeEndpoint, certificates). */
  handlers(): Record<string, Handler> {
    return this.#registry.handlers(() => this.host)
  }

  /** STS answers passing through the stand-in: their secret keys verify presigned URLs. */
  learnCredentials(stsAnswerXml: string, callerAccount: string): void {
    this.#credentials.learnFromStsAnswer(stsAnswerXml, callerAccount)
  }

  /** Every accepted publish (basic ingest included); returns a function that removes the listener. */
  onPublish(listener: PublishListener): () => void {
    this.#events.on('publish', listener)
    return () => this.#events.off('publish', listener)
  }

  /** A publish by the service itself (rules' republish, Secure Tunneling's notify), delivered to the account's subscribers. */
  async publish(account: string, region: string, topic: string, payload: Buffer | string, options: {qos?: 0 | 1; retain?: boolean} = {}): Promise<void> {
    const broker = await this.#space(account, region)
    const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload)
    const qos = options.qos ?? 1
    const retain = options.retain ?? false
    this.#emit({account, region, topic, payload: body, clientId: '', principal: '', qos, retain})
    await new Promise<void>((resolve, reject) =>
      broker.publish(
        {cmd: 'publish', topic, payload: body, qos, retain, dup: false},
        (error) => (error ? reject(error) : resolve()),
      ),
    )
  }

  // --- connections ------------------------------------------------------------

  #localCa(): LocalCa {
    if (!this.#ca) throw new Error('the IoT data plane is not started')
    return this.#ca
  }

  #route(socket: TLSSocket): void {
    this.#sockets.add(socket)
    socket.once('close', () => this.#sockets.delete(socket))
    socket.on('error', () => socket.destroy())
    socket.setNoDelay(true)
    socket.once('data', (chunk: Buffer) => {
      socket.pause()
      socket.unshift(chunk)
      const work = chunk[0] === 0x10 ? this.#acceptMtls(socket) : this.#acceptHttp(socket)
      work.catch((error: Error) => {
        process.stderr.write(`local-aws iot data plane: ${error.stack ?? error}\n`)
        socket.destroy()
      })
    })
  }

  async #acceptMtls(socket: TLSSocket): Promise<void> {
    const peer = socket.getPeerX509Certificate()
    // A client certificate is required, issued by the registry (the local CA), registered and ACTIVE.
    if (!peer || !socket.authorized) return void socket.destroy()
    const certificateId = certificateIdOf(peer.raw)
    const home = this.#registry.home(certificateId)
    if (!home) return void socket.destroy()
    const certificate = await this.#registry.certificate(home, certificateId)
    if (certificate?.status !== 'ACTIVE') return void socket.destroy()
    const policies = await this.#registry.policies(home, certificate.arn)
    const session: Session = {
      kind: 'mtls',
      account: home.account,
      region: home.region,
      principal: certificate.arn,
      certificateId,
      policies,
      allowAll: false,
      context: {},
    }
    await this.#handOver(socket, session)
  }

  async #acceptHttp(socket: TLSSocket): Promise<void> {
    const head = await readHttpHead(socket)
    if (!head) return void socket.destroy()
    const url = new URL(head.target, 'https://localhost')
    const upgrade = String(head.headers.upgrade ?? '').toLowerCase() === 'websocket'
    if (url.pathname !== '/mqtt' || !upgrade || head.method !== 'GET') {
      return httpError(socket, 404, 'NotFoundException', 'Only MQTT over WebSocket (GET /mqtt, SigV4-presigned) is served here')
    }
    const check = checkPresigned({method: head.method, path: url.pathname, query: url.searchParams, host: String(head.headers.host ?? '')}, (key) =>
      this.#credentials.get(key),
    )
    if (!check.ok) return httpError(socket, check.status, 'ForbiddenException', check.message)
    const account = check.credentials?.account ?? (await this.#options.accounts.resolve(check.accessKeyId))
    const caller = await iamCaller(this.#options.moto, check.credentials?.principalArn, account, check.region)
    const session: Session = {
      kind: 'websocket',
      account,
      region: check.region,
      principal: check.credentials?.principalArn ?? `arn:aws:iam::${account}:root`,
      policies: caller.policies,
      allowAll: caller.allowAll,
      roleArn: caller.roleArn,
      engine: caller.roleArn && !caller.impliedAdmin ? policyEngine(this.#options.moto) : undefined,
      context: {'aws:SourceIp': '127.0.0.1'},
    }
    const broker = await this.#space(session.account, session.region)
    const request = {method: head.method, url: head.target, headers: head.headers, socket}
    this.#wss.handleUpgrade(request as never, socket, head.rest, (ws) => {
      const stream = createWebSocketStream(ws)
      stream.on('error', () => stream.destroy())
      this.#sessions.set(stream, session)
      this.#sockets.add(stream)
      stream.once('close', () => this.#sockets.delete(stream))
      broker.handle(stream)
    })
    // readHttpHead paused the socket; ws only adds a 'data' listener.
    socket.resume()
  }

  async #handOver(socket: Duplex, session: Session): Promise<void> {
    const broker = await this.#space(session.account, session.region)
    if (socket.destroyed) return
    this.#sessions.set(socket, session)
    broker.handle(socket)
  }

  // --- topic spaces ------------------------------------------------------------

  #space(account: string, region: string): Promise<Aedes> {
    const key = `${account}/${region}`
    let space = this.#spaces.get(key)
    if (!space) {
      space = this.#newSpace(account, region)
      this.#spaces.set(key, space)
    }
    return space
  }

  async #newSpace(account: string, region: string): Promise<Aedes> {
    const arn = (kind: string, name: string): string => `arn:aws:iot:${region}:${account}:${kind}/${name}`
    const broker = new Aedes({
      // AWS IoT: client ids up to 128 bytes ("AWS IoT Core quotas").
      maxClientsIdLength: 128,
      heartbeatInterval: 3_600_000,
      authenticate: (client, _username, _password, done) => {
        const session = this.#sessionOf(client)
        if (!session) return done(Object.assign(new Error('not authorized'), {returnCode: 5}), false)
        this.#completeContext(session, client.id)
          .then(() => this.#decide(session, 'iot:Connect', arn('client', client.id)))
          .then(
            (decision) => (decision.allowed ? done(null, true) : done(Object.assign(new Error(decision.reason), {returnCode: 5}), false)),
            () => done(Object.assign(new Error('not authorized'), {returnCode: 5}), false),
          )
      },
      authorizePublish: (client, packet, done) => {
        if (!client) return done(null)
        const session = this.#sessionOf(client)
        if (!session) return done(new Error('no session'))
        if (packet.qos === 2) return done(new Error('AWS IoT does not support QoS 2'))
        if (packet.topic.startsWith('$SYS/')) return done(new Error('not authorized'))
        this.#decide(session, 'iot:Publish', arn('topic', packet.topic)).then(
          (decision) => {
            if (!decision.allowed) return done(new Error(decision.reason))
            this.#emit({account, region, topic: packet.topic, payload: packet.payload, clientId: client.id, principal: session.principal, qos: packet.qos, retain: packet.retain})
            done(null)
          },
          (error: Error) => done(error),
        )
      },
      authorizeSubscribe: (client, subscription, done) => {
        const session = this.#sessionOf(client)
        if (!session) return done(null, null)
        this.#decide(session, 'iot:Subscribe', arn('topicfilter', subscription.topic)).then(
          (decision) => done(null, decision.allowed ? {...subscription, qos: Math.min(subscription.qos, 1) as 0 | 1} : null),
          () => done(null, null),
        )
      },
      authorizeForward: (client, packet) => {
        // Basic ingest goes to the rules engine only ("Reducing messaging costs with Basic Ingest").
        if (packet.topic.startsWith(BASIC_INGEST) || packet.topic.startsWith('$SYS/')) return null
        const session = this.#sessionOf(client)
        if (!session) return null
        return this.#decideNow(session, 'iot:Receive', arn('topic', packet.topic)).allowed ? packet : null
      },
    })
    broker.on('clientError', () => undefined)
    broker.on('connectionError', () => undefined)
    await broker.listen()
    return broker
  }

  #emit(event: Omit<PublishEvent, 'payload'> & {payload: Buffer | string}): void {
    const full: PublishEvent = {...event, payload: Buffer.isBuffer(event.payload) ? event.payload : Buffer.from(event.payload)}
    for (const listener of this.#events.listeners('publish')) {
      try {
        listener(full)
      } catch (error) {
        process.stderr.write(`local-aws iot data plane: a publish listener threw: ${(error as Error).stack ?? String(error)}\n`)
      }
    }
  }

  #sessionOf(client: Client): Session | undefined {
    return this.#sessions.get(client.conn)
  }

  async #completeContext(session: Session, clientId: string): Promise<void> {
    // A new object: evaluations cache what they read from a context object.
    const context: Session['context'] = {...session.context, 'iot:ClientId': clientId}
    if (session.kind === 'mtls') {
      // The thing whose name is the client id, when it is attached to the certificate
      // (iot:Connection.Thing.* in "Thing policy variables").
      const attached = await this.#registry.thingAttached(session, session.principal, clientId)
      context['iot:Connection.Thing.IsAttached'] = attached ? 'true' : 'false'
      context['iot:Connection.Thing.ThingName'] = attached ? clientId : undefined
    }
    session.context = context
  }

  #request(session: Session, action: string, resource: string): AccessRequest {
    return {action, resource, context: session.context}
  }

  #decideNow(session: Session, action: string, resource: string): Decision {
    if (session.allowAll) return {allowed: true, reason: 'root credentials'}
    return evaluate(session.policies, this.#request(session, action, resource))
  }

  async #decide(session: Session, action: string, resource: string): Promise<Decision> {
    if (session.engine && session.roleArn) {
      const context = Object.fromEntries(Object.entries(session.context).filter((e): e is [string, string] => e[1] !== undefined))
      return session.engine(session.roleArn, action, resource, context)
    }
    return this.#decideNow(session, action, resource)
  }

  #certificateChanged(certificateId: string, home: CertificateHome): void {
    void this.#registry.certificate(home, certificateId).then((certificate) => {
      if (certificate?.status === 'ACTIVE') return
      for (const socket of this.#sockets) {
        const session = this.#sessions.get(socket)
        if (session?.certificateId === certificateId && session.account === home.account) socket.destroy()
      }
    })
  }

  #notifyTunnel(tunnel: TunnelRecord): void {
    if (!tunnel.thingName || tunnel.closedAt !== undefined) return
    // The destination's access token, on the thing's reserved notify topic ("Secure tunneling topics").
    const notice = {clientAccessToken: tunnel.destinationToken, clientMode: 'destination', region: tunnel.region, services: tunnel.services}
    this.publish(tunnel.accountId, tunnel.region, `$aws/things/${tunnel.thingName}/tunnels/notify`, JSON.stringify(notice)).catch(() => undefined)
  }

  async #dropSpaces(): Promise<void> {
    const spaces = [...this.#spaces.values()]
    this.#spaces.clear()
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    await Promise.all(spaces.map(async (space) => {
      const broker = await space.catch(() => undefined)
      if (broker) await new Promise<void>((resolve) => broker.close(() => resolve()))
    }))
  }
}

interface HttpHead {
  method: string
  target: string
  headers: Record<string, string>
  rest: Buffer
}

/** Reads an HTTP/1.1 request head off the socket (the rest is handed on). */
function readHttpHead(socket: TLSSocket): Promise<HttpHead | undefined> {
  return new Promise((resolve) => {
    let buffered = Buffer.alloc(0)
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk])
      const end = buffered.indexOf('\r\n\r\n')
      if (end < 0) {
        if (buffered.length > MAX_HTTP_HEAD) finish(undefined)
        return
      }
      const [requestLine, ...lines] = buffered.subarray(0, end).toString('latin1').split('\r\n')
      const [method, target, version] = (requestLine ?? '').split(' ')
      if (!method || !target || !version?.startsWith('HTTP/')) return finish(undefined)
      const headers: Record<string, string> = {}
      for (const line of lines) {
        const colon = line.indexOf(':')
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
      }
      finish({method, target, headers, rest: buffered.subarray(end + 4)})
    }
    const finish = (head: HttpHead | undefined): void => {
      socket.off('data', onData)
      socket.off('close', onClose)
      socket.pause()
      resolve(head)
    }
    const onClose = (): void => finish(undefined)
    socket.on('data', onData)
    socket.once('close', onClose)
    socket.resume()
  })
}

function httpError(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({message, traceId: code})
  const reason = {403: 'Forbidden', 404: 'Not Found', 400: 'Bad Request'}[status] ?? 'Error'
  socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\nx-amzn-ErrorType: ${code}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
}
