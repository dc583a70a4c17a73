// The single AWS endpoint the CLI talks to. It answers the operations moto
// lacks (IoT topic rule destinations and tags, MSK SCRAM secrets and bootstrap
// brokers, Secure Tunneling), fixes what moto gets wrong, forwards everything
// else to moto unchanged, and logs every request. Control endpoints under
// /_standin/ serve the tests (log, faults, hold, tunnels, settings).
import {createServer, request, Agent, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {AccountBook} from './accounts.ts'
import {Ec2StandIn} from './ec2-strict.ts'
import {AwsServiceError, errorReply, jsonReply, type Reply} from './aws-errors.ts'
import {DynamoDbStandIn} from './dynamodb.ts'
import type {CallContext, Handler} from './context.ts'
import {IotStandIn} from './iot.ts'
import {FleetProvisioning} from './fleet-provisioning.ts'
import {AwsManagedAttachments} from './iam-aws-managed.ts'
import {IotDataPlane} from './iot-data/index.ts'
import {kmsHandlers} from './kms.ts'
import {MotoClient, parseJson, send as exchange, type MotoAnswer} from './moto-client.ts'
import {MskStandIn} from './msk.ts'
import {policyHandlers} from './policy/index.ts'
import {Faults, RequestLog, type Fault, type LogEntry} from './request-log.ts'
import {describeRequest, isMutating, type RequestFacts} from './request-info.ts'
import {invalidRegionMessage, knownRegions} from './regions.ts'
import {PolicyEngine} from './policy/engine.ts'
import {RulesEngine} from './rules/engine.ts'
import {topicRuleHandlers} from './rules/handlers.ts'
import {botocoreDataDir, restRouters} from './rest-routes.ts'
import {TunnelRegistry, tunnelingOperation, type ConnectionStatus, type TunnelMode} from './tunnels.ts'
import {validateRequest} from './validation/index.ts'
import {modelLoader, preloadModels, type ServiceModel} from './validation/model.ts'

export interface StandInSettings {
  /** VPC topic rule destinations: IN_PROGRESS for this long, then ENABLED (or ERROR). Default 1000. */
  destinationActivationDelayMs: number
  /** IoT refuses a destination whose role is younger than this (IAM propagation). Default 0. */
  rolePropagationDelayMs: number
  /** MSK clusters: CREATING for this long, then ACTIVE. Default 1000. */
  clusterActivationDelayMs: number
  /** OpenTunnel calls per second and account (AWS: 1); 0 turns throttling off. */
  openTunnelsPerSecond: number
  /** Open tunnels per account before LimitExceededException; undefined: no limit. */
  maxOpenTunnels?: number
  /** Evaluate IAM, trust and key policies and refuse malformed documents where AWS does (policy/README section). Default true. */
  strictPolicies: boolean
  /** A changed value of an associated SCRAM secret reaches the Kafka broker after this long. Default 0. */
  scramPropagationDelayMs: number
  /** An accepted VPC peering stays `provisioning` this long, then `active`. Default 0. */
  peeringActivationDelayMs: number
  /** A deleted VPC topic rule destination stays DELETING (still listed) this long, then is gone. Default 0. */
  destinationDeletionDelayMs: number
  /** A new DynamoDB table is CREATING this long (item requests: ResourceNotFoundException), then ACTIVE. Default 0. */
  tableActivationDelayMs: number
}

export interface StandInOptions extends Partial<StandInSettings> {
  motoUrl: string
  /** The virtualenv whose botocore models name REST operations. */
  venv: string
  host?: string
  port?: number
  region?: string
  /** Where the IoT data plane's local CA goes (default: a temporary folder removed by close()). */
  iotDataDir?: string
  /** Called by POST /_standin/reset, after the stand-in's own state is cleared. */
  onReset?: () => Promise<void>
}

const hopByHop = new Set(['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection', 'content-length'])

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return
  const body = Buffer.from(reply.body, 'utf8')
  res.writeHead(reply.status, {...reply.headers, 'content-length': String(body.length)})
  res.end(body)
}

const controlJson = (value: unknown, status = 200): Reply => ({
  status,
  headers: {'content-type': 'application/json'},
  body: JSON.stringify(value),
})

export class StandIn {
  readonly log = new RequestLog()
  readonly faults = new Faults()
  readonly tunnels: TunnelRegistry
  readonly settings: StandInSettings
  readonly moto: MotoClient
  readonly accounts: AccountBook
  readonly iot: IotStandIn
  readonly msk: MskStandIn
  /** The emulated IoT data plane (MQTT over mTLS and WebSocket, one TLS port): iot-data/. */
  readonly iotData: IotDataPlane
  /** Provisioning templates, the fleet provisioning MQTT API and pre-provisioning hooks (fleet-provisioning.ts). */
  readonly fleet: FleetProvisioning
  /** AWS managed policies attached to roles (iam-aws-managed.ts). */
  readonly awsManaged: AwsManagedAttachments
  /** The emulated IoT rules engine (rules/): SQL, Kafka and republish actions, error actions. */
  readonly rules: RulesEngine
  readonly ec2: Ec2StandIn
  readonly dynamodb: DynamoDbStandIn
  readonly #options: StandInOptions
  readonly #handlers = new Map<string, Handler>()
  readonly #routers: ReturnType<typeof restRouters>
  readonly #regions: Set<string> | undefined
  readonly #models: (service: string) => ServiceModel | undefined
  readonly #agent = new Agent({keepAlive: true, maxSockets: 64})
  #server?: Server
  url = ''

  constructor(options: StandInOptions) {
    this.#options = options
    const settings: StandInSettings = {
      destinationActivationDelayMs: options.destinationActivationDelayMs ?? 1000,
      rolePropagationDelayMs: options.rolePropagationDelayMs ?? 0,
      clusterActivationDelayMs: options.clusterActivationDelayMs ?? 1000,
      openTunnelsPerSecond: options.openTunnelsPerSecond ?? 1,
      maxOpenTunnels: options.maxOpenTunnels,
      strictPolicies: options.strictPolicies ?? true,
      scramPropagationDelayMs: options.scramPropagationDelayMs ?? 0,
      peeringActivationDelayMs: options.peeringActivationDelayMs ?? 0,
      destinationDeletionDelayMs: options.destinationDeletionDelayMs ?? 0,
      tableActivationDelayMs: options.tableActivationDelayMs ?? 0,
    }
    this.settings = settings
    this.moto = new MotoClient(options.motoUrl)
    this.accounts = new AccountBook(this.moto, options.region ?? 'us-east-1')
    // The registry keeps this very object, so changed settings apply at once.
    this.tunnels = new TunnelRegistry(settings)
    this.iot = new IotStandIn(settings)
    this.msk = new MskStandIn(settings)
    this.ec2 = new Ec2StandIn(settings)
    this.dynamodb = new DynamoDbStandIn(settings)
    this.iotData = new IotDataPlane({moto: this.moto, accounts: this.accounts, tunnels: this.tunnels, dir: options.iotDataDir})
    const dataDir = botocoreDataDir(options.venv)
    this.#models = modelLoader(dataDir)
    this.#routers = restRouters(this.#models)
    this.#regions = knownRegions(dataDir)
    for (const [operation, handler] of Object.entries(this.iot.handlers())) this.#handlers.set(`iot:${operation}`, handler)
    for (const [operation, handler] of Object.entries(this.msk.handlers())) this.#handlers.set(`kafka:${operation}`, handler)
    for (const [operation, handler] of Object.entries(kmsHandlers())) this.#handlers.set(`kms:${operation}`, handler)
    for (const [operation, handler] of Object.entries(this.ec2.handlers())) this.#handlers.set(`ec2:${operation}`, handler)
    for (const [operation, handler] of Object.entries(this.dynamodb.handlers())) this.#handlers.set(`dynamodb:${operation}`, handler)
    for (const [operation, handler] of Object.entries(this.iotData.handlers())) this.#handlers.set(`iot:${operation}`, handler)
    for (const [operation, handler] of Object.entries(this.msk.kafka.secretHandlers())) this.#handlers.set(`secretsmanager:${operation}`, handler)
    this.fleet = new FleetProvisioning(this.moto, this.iotData.certificates, this.iot.tagStore)
    for (const [key, handler] of Object.entries(this.fleet.handlers())) this.#handlers.set(key, handler)
    this.iotData.attachServiceTopics(this.fleet)
    this.rules = new RulesEngine({moto: this.moto, destinations: this.iot})
    const rulesPolicy = new PolicyEngine(this.moto, {region: options.region, settings})
    this.rules.attachAuthorizer(rulesPolicy)
    this.rules.attachDataPlane(this.iotData)
    const link = this.msk.kafka
    this.rules.attachKafka({resolveBroker: (hostPort) => (link.kafka ? link.resolveBroker(hostPort) : undefined), get caFile() { return link.kafka?.caFile }})
    const iotAssumes = (roleArn: string, account: string, region: string, ruleName: string) =>
      rulesPolicy.mayAssume(roleArn, 'iot.amazonaws.com', {'aws:SourceAccount': account, 'aws:SourceArn': `arn:aws:iot:${region}:${account}:rule/${ruleName}`})
    for (const [operation, handler] of Object.entries(topicRuleHandlers(this.rules, (op) => this.#handlers.get(`iot:${op}`), () => (settings.strictPolicies ? iotAssumes : undefined)))) this.#handlers.set(`iot:${operation}`, handler)
    this.awsManaged = new AwsManagedAttachments(options.venv)
    for (const [key, handler] of Object.entries(this.awsManaged.handlers((k) => this.#handlers.get(k)))) this.#handlers.set(key, handler)
    // Registered last: they check, then hand on to the handler they replace.
    for (const [key, handler] of Object.entries(policyHandlers(settings, (k) => this.#handlers.get(k)))) this.#handlers.set(key, handler)
  }

  async start(): Promise<string> {
    await this.iotData.start()
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((error: Error) => {
        process.stderr.write(`local-aws stand-in: ${req.method} ${req.url}: ${error.stack ?? error}\n`)
        send(res, {status: 500, headers: {'content-type': 'text/plain'}, body: String(error)})
      })
    })
    server.keepAliveTimeout = 60_000
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#options.port ?? 0, this.#options.host ?? '127.0.0.1', () => resolve())
    })
    const address = server.address() as AddressInfo
    this.url = `http://${address.address}:${address.port}`
    void preloadModels(this.#models)
    return this.url
  }

  async close(): Promise<void> {
    this.log.release()
    this.tunnels.clear()
    await this.rules.close()
    const server = this.#server
    if (server) {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
    this.#agent.destroy()
    await this.iotData.close()
    this.moto.close()
  }

  /** Forgets everything the stand-in keeps itself (not moto's state). */
  reset(): void {
    this.iot.reset()
    this.msk.reset()
    this.iotData.reset()
    this.fleet.reset()
    this.awsManaged.reset()
    void this.rules.reset()
    this.ec2.reset()
    this.dynamodb.reset()
    this.tunnels.clear()
    this.faults.clear()
    this.accounts.reset()
    this.log.reset()
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET'
    const rawUrl = req.url ?? '/'
    const body = await readBody(req)
    if (rawUrl.startsWith('/_standin/') || rawUrl === '/_standin') {
      send(res, await this.#control(method, new URL(rawUrl, 'http://local'), body, req))
      return
    }
    const arrival = await this.log.gate()
    if (res.destroyed || req.socket.destroyed) return

    const facts = describeRequest(method, rawUrl, req.headers, body, this.#routers)
    // moto picks its backend by the signing name: give it the service's own.
    if (facts.signedAs && req.headers.authorization) {
      req.headers.authorization = req.headers.authorization.replace(`/${facts.signedAs}/aws4_request`, `/${facts.service}/aws4_request`)
    }
    const account = await this.accounts.resolve(facts.accessKeyId)
    const url = new URL(rawUrl, 'http://local')
    const record = (status: number, by: LogEntry['by']): void => {
      this.log.add({
        arrival,
        service: facts.service,
        operation: facts.operation,
        account,
        region: facts.region,
        mutating: isMutating(facts.operation),
        status,
        by,
        method,
        path: url.pathname,
      })
    }

    if (facts.accessKeyId && this.#regions && !this.#regions.has(facts.region)) {
      res.once('close', () => record(403, 'standin'))
      send(res, errorReply(facts.protocol, facts.service, 'SignatureDoesNotMatch', 403, invalidRegionMessage(facts.region)))
      return
    }

    const fault = this.faults.take(facts.service, facts.operation, account)
    if (fault) {
      res.once('close', () => record(fault.status, 'fault'))
      send(res, errorReply(facts.protocol, facts.service, fault.code, fault.status, fault.message ?? `Injected fault: ${fault.code}`))
      return
    }

    // What AWS's front end refuses against the service model never reaches moto (validation/).
    const invalid = validateRequest(this.#models, {facts, url, headers: req.headers, body})
    if (invalid) {
      res.once('close', () => record(invalid.status, 'standin'))
      send(res, errorReply(facts.protocol, facts.service, invalid.code, invalid.status, invalid.message, invalid.extra))
      return
    }

    const handler = this.#handlerFor(facts)
    if (handler) {
      const context: CallContext = {
        facts,
        account,
        region: facts.region,
        method,
        url,
        headers: req.headers,
        body,
        input: parseJson(body),
        moto: this.moto,
        forward: (replacement) => this.#forwardBuffered(req, replacement ?? body),
        now: Date.now,
      }
      let reply: Reply
      try {
        reply = await handler(context)
      } catch (error) {
        if (!(error instanceof AwsServiceError)) throw error
        reply = errorReply(facts.protocol, facts.service, error.code, error.status, error.message, error.extra)
      }
      res.once('close', () => record(reply.status, 'standin'))
      send(res, reply)
      return
    }

    if (facts.service === 'sts' && facts.operation.startsWith('AssumeRole')) {
      const answer = await this.#forwardBuffered(req, body)
      if (answer.status === 200) this.accounts.learnFromStsAnswer(answer.body.toString('utf8'), account)
      if (answer.status === 200) this.iotData.learnCredentials(answer.body.toString('utf8'), account)
      res.once('close', () => record(answer.status, 'moto'))
      res.writeHead(answer.status, forwardableHeaders(answer.headers))
      res.end(answer.body)
      return
    }
    await this.#forwardStreaming(req, res, body, (status) => record(status, 'moto'))
  }

  #handlerFor(facts: RequestFacts): Handler | undefined {
    if (facts.service === 'IoTSecuredTunneling') {
      return async (c) => {
        const answer = tunnelingOperation(this.tunnels, facts.operation, c.account, c.region, c.input)
        if (answer === undefined) throw new AwsServiceError('UnknownOperationException', 400, `Unknown operation ${facts.operation}`)
        return jsonReply('json', answer)
      }
    }
    return this.#handlers.get(`${facts.service}:${facts.operation}`)
  }

  #upstreamHeaders(req: IncomingMessage, body: Buffer): Record<string, string | string[]> {
    const headers: Record<string, string | string[]> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined && !hopByHop.has(name)) headers[name] = value
    }
    headers['content-length'] = String(body.length)
    return headers
  }

  #forwardBuffered(req: IncomingMessage, body: Buffer): Promise<MotoAnswer> {
    return exchange(`${this.#options.motoUrl}${req.url}`, req.method ?? 'GET', this.#upstreamHeaders(req, body), body, this.#agent)
  }

  #forwardStreaming(req: IncomingMessage, res: ServerResponse, body: Buffer, done: (status: number) => void): Promise<void> {
    return new Promise((resolve) => {
      const upstream = request(
        `${this.#options.motoUrl}${req.url}`,
        {method: req.method, headers: this.#upstreamHeaders(req, body), agent: this.#agent},
        (answer) => {
          const status = answer.statusCode ?? 502
          res.writeHead(status, forwardableHeaders(answer.headers, true))
          answer.pipe(res)
          res.once('close', () => {
            done(status)
            resolve()
          })
        },
      )
      upstream.on('error', (error) => {
        send(res, {status: 502, headers: {'content-type': 'text/plain'}, body: `moto unreachable: ${error.message}`})
        done(502)
        resolve()
      })
      upstream.end(body)
    })
  }

  // --- control endpoints ------------------------------------------------------

  async #control(method: string, url: URL, body: Buffer, req: IncomingMessage): Promise<Reply> {
    const path = url.pathname.replace(/\/+$/, '')
    const input = parseJson(body)
    try {
      if (path === '/_standin/health') return controlJson({ok: true, moto: this.#options.motoUrl})
      if (path === '/_standin/log' && method === 'GET') {
        const wait = url.searchParams.get('wait-mutating')
        if (wait) {
          const timeout = Number(url.searchParams.get('timeout-ms') ?? 60_000)
          const waiting = this.log.waitForMutating(Number(wait), timeout)
          let onClose = (): void => undefined
          const gone = new Promise<never>((_, reject) => {
            onClose = () => reject(new Error('client went away'))
            req.socket.once('close', onClose)
          })
          // Whichever loses the race must not become an unhandled rejection.
          waiting.catch(() => undefined)
          gone.catch(() => undefined)
          try {
            await Promise.race([waiting, gone])
          } catch (error) {
            return controlJson({error: (error as Error).message, entries: this.log.entries()}, 408)
          } finally {
            req.socket.off('close', onClose)
          }
        }
        return controlJson({entries: this.log.entries()})
      }
      if (path === '/_standin/log/reset' && method === 'POST') {
        this.log.reset()
        return controlJson({})
      }
      if (path === '/_standin/hold') {
        if (method === 'POST') {
          const n = Number(input.afterMutating)
          if (!Number.isInteger(n) || n < 0) return controlJson({error: 'afterMutating must be a whole number'}, 400)
          this.log.holdAfterMutating(n)
          return controlJson({})
        }
        if (method === 'DELETE') {
          this.log.release()
          return controlJson({})
        }
      }
      if (path === '/_standin/faults') {
        if (method === 'POST') {
          const parsed: unknown = JSON.parse(body.toString() || '{}')
          for (const fault of (Array.isArray(parsed) ? parsed : [parsed]) as Fault[]) this.faults.add(fault)
          return controlJson({faults: this.faults.list()})
        }
        if (method === 'DELETE') {
          this.faults.clear()
          return controlJson({})
        }
        if (method === 'GET') return controlJson({faults: this.faults.list()})
      }
      if (path === '/_standin/settings') {
        if (method === 'POST') {
          for (const key of ['destinationActivationDelayMs', 'rolePropagationDelayMs', 'clusterActivationDelayMs', 'openTunnelsPerSecond', 'maxOpenTunnels', 'scramPropagationDelayMs', 'peeringActivationDelayMs', 'destinationDeletionDelayMs', 'tableActivationDelayMs'] as const) {
            if (key in input) (this.settings as unknown as Record<string, unknown>)[key] = input[key] === null ? undefined : Number(input[key])
          }
          if ('strictPolicies' in input) this.settings.strictPolicies = input.strictPolicies !== false
        }
        return controlJson(this.settings)
      }
      if (path === '/_standin/reset' && method === 'POST') {
        this.reset()
        await this.#options.onReset?.()
        return controlJson({})
      }
      if (path === '/_standin/rules/errors') {
        if (method === 'DELETE') this.rules.clearErrors()
        return controlJson({errors: this.rules.errors()})
      }
      if (path === '/_standin/tunnels' && method === 'GET') return controlJson({tunnels: this.tunnels.all().map(publicTunnel)})
      const byToken = /^\/_standin\/tunnels\/by-token\/(.+)$/.exec(path)
      if (byToken && method === 'GET') {
        const access = this.tunnels.authorize(decodeURIComponent(byToken[1]))
        return access ? controlJson(access) : controlJson({message: 'unknown, rotated or closed access token'}, 404)
      }
      const connection = /^\/_standin\/tunnels\/([^/]+)\/connection$/.exec(path)
      if (connection && method === 'POST') {
        const ok = this.tunnels.setConnectionState(decodeURIComponent(connection[1]), input.mode as TunnelMode, input.status as ConnectionStatus)
        return ok ? controlJson({}) : controlJson({message: 'unknown tunnel, or mode/status not source|destination / CONNECTED|DISCONNECTED'}, 404)
      }
      const tunnel = /^\/_standin\/tunnels\/([^/]+)$/.exec(path)
      if (tunnel && method === 'GET') {
        const found = this.tunnels.get(decodeURIComponent(tunnel[1]))
        return found ? controlJson(publicTunnel(found)) : controlJson({message: 'unknown tunnel'}, 404)
      }
    } catch (error) {
      return controlJson({error: (error as Error).message}, 400)
    }
    return controlJson({error: `no control endpoint ${method} ${path}`}, 404)
  }
}

function forwardableHeaders(headers: IncomingMessage['headers'], keepLength = false): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (hopByHop.has(name) && !(keepLength && name === 'content-length')) continue
    out[name] = value
  }
  return out
}

function publicTunnel(t: ReturnType<TunnelRegistry['all']>[number]) {
  return {
    tunnelId: t.tunnelId,
    tunnelArn: t.tunnelArn,
    accountId: t.accountId,
    region: t.region,
    status: t.closedAt === undefined ? 'OPEN' : 'CLOSED',
    thingName: t.thingName,
    services: t.services,
    source: t.source,
    destination: t.destination,
    createdAt: t.createdAt,
    closedAt: t.closedAt,
  }
}
