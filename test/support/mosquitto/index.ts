// A throw-away mosquitto broker for tests and benchmarks: its own test CA,
// a server certificate for 127.0.0.1/localhost, device certificates on demand,
// and four loopback listeners on free ports (see README.md in this folder).
import {type ChildProcess, spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {createConnection, createServer} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {createTestPki, type DeviceFiles, type TestPki} from './pki.ts'

export type {DeviceFiles} from './pki.ts'

const mosquittoBinary = '/usr/sbin/mosquitto'
const host = '127.0.0.1'

export interface MosquittoBroker {
  host: string
  /** mqtts with client certificates (require_certificate, use_identity_as_username). */
  tlsPort: number
  /** MQTT over plain WebSocket (ws://), anonymous. */
  wsPort: number
  /** MQTT over WebSocket with TLS (wss://, server certificate only), anonymous. */
  wssPort: number
  /** Plain MQTT, anonymous: for mosquitto_sub/mosquitto_pub helpers and benchmarks. */
  plainPort: number
  /** The test CA certificate (PEM path): trust it to reach tlsPort and wssPort. */
  ca: string
  /** The temporary directory holding certificates, keys and the config. */
  dir: string
  /** A device certificate and key signed by the test CA (created once per name). */
  device(name: string): Promise<DeviceFiles>
  /** The broker's log lines so far (connections, subscriptions, errors). */
  logs(): string[]
  /** Resolves with the first log line matching `pattern` (already logged or to come). */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>
  /** Stops the broker and starts it again on the same ports, `downMs` later (sessions are lost: persistence is off). */
  restart(options?: {downMs?: number}): Promise<void>
  /** Stops the broker and deletes the temporary directory. Safe to call twice. */
  stop(): Promise<void>
}

export interface MosquittoOptions {
  /** More lines for the config file's general section. */
  extraConfig?: string[]
  /**
   * Default true. Without them wsPort and wssPort are 0. mosquitto 2.0 services its
   * libwebsockets listeners once per turn of its main loop, i.e. once per message
   * read: benchmarks of plain MQTT leave them out.
   */
  websockets?: boolean
}

/** Starts mosquitto on free loopback ports and waits until every listener accepts connections. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoBroker> {
  const dir = await mkdtemp(join(tmpdir(), 'iotctl-mosquitto-'))
  let broker: RunningBroker | undefined
  try {
    const pki = await createTestPki(dir)
    const websockets = options.websockets ?? true
    const [tlsPort, plainPort, wsPort = 0, wssPort = 0] = await freePorts(websockets ? 4 : 2)
    const configFile = join(dir, 'mosquitto.conf')
    await writeFile(configFile, brokerConfig(pki, {tlsPort, wsPort, wssPort, plainPort}, options.extraConfig ?? []))
    broker = new RunningBroker(dir, configFile, [tlsPort, wsPort, wssPort, plainPort].filter((port) => port !== 0))
    await broker.start()
    const running = broker
    return {
      host,
      tlsPort,
      wsPort,
      wssPort,
      plainPort,
      ca: pki.ca,
      dir,
      device: (name) => pki.device(name),
      logs: () => [...running.lines],
      waitForLog: (pattern, timeoutMs) => running.waitForLog(pattern, timeoutMs),
      restart: async (restartOptions = {}) => {
        await running.halt()
        if (restartOptions.downMs) await new Promise((resolve) => setTimeout(resolve, restartOptions.downMs))
        await running.start()
      },
      stop: async () => {
        await running.halt()
        await rm(dir, {recursive: true, force: true})
      },
    }
  } catch (error) {
    await broker?.halt()
    await rm(dir, {recursive: true, force: true})
    throw error
  }
}

function brokerConfig(pki: TestPki, ports: {tlsPort: number; wsPort: number; wssPort: number; plainPort: number}, extra: string[]): string {
  const tls = [`cafile ${pki.ca}`, `certfile ${pki.serverCert}`, `keyfile ${pki.serverKey}`]
  return [
    'per_listener_settings true',
    'persistence false',
    // Started as root, mosquitto would switch to the "mosquitto" user and could not read the 0600 keys.
    `user ${userInfo().username}`,
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'log_type subscribe',
    // No per-client queue limit: a fast publisher must not make mosquitto drop messages
    // to a slower subscriber, or tests and benchmarks could not count deliveries.
    'max_queued_messages 0',
    // Without it, mosquitto's many small writes to a subscriber wait on delayed ACKs
    // (Nagle), which on loopback stalls delivery for tens of milliseconds at a time.
    'set_tcp_nodelay true',
    ...extra,
    '',
    `listener ${ports.tlsPort} ${host}`,
    ...tls,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
    '',
    ...(ports.wsPort === 0 ? [] : [`listener ${ports.wsPort} ${host}`, 'protocol websockets', 'allow_anonymous true', '']),
    ...(ports.wssPort === 0 ? [] : [`listener ${ports.wssPort} ${host}`, 'protocol websockets', ...tls, 'allow_anonymous true', '']),
    `listener ${ports.plainPort} ${host}`,
    'allow_anonymous true',
    '',
  ].join('\n')
}

/** The mosquitto process; start() and halt() may alternate (restart keeps the ports). */
class RunningBroker {
  readonly lines: string[] = []
  readonly #dir: string
  readonly #configFile: string
  readonly #ports: number[]
  readonly #watchers = new Set<(line: string) => void>()
  #child: ChildProcess | undefined
  #exited: Promise<unknown> = Promise.resolve()

  constructor(dir: string, configFile: string, ports: number[]) {
    this.#dir = dir
    this.#configFile = configFile
    this.#ports = ports
  }

  async start(): Promise<void> {
    const child = spawn(mosquittoBinary, ['-c', this.#configFile], {cwd: this.#dir, stdio: ['ignore', 'pipe', 'pipe']})
    this.#child = child
    this.#exited = once(child, 'exit')
    killOnExit.add(child)
    void this.#exited.then(() => killOnExit.delete(child))
    let pending = ''
    const onData = (chunk: Buffer) => {
      const parts = (pending + chunk.toString('utf8')).split('\n')
      pending = parts.pop() ?? ''
      for (const line of parts) this.#log(line)
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const early = this.#exited.then(() => {
      throw new Error(`mosquitto exited while starting:\n${this.lines.slice(-20).join('\n')}`)
    })
    await Promise.race([Promise.all(this.#ports.map((port) => waitForPort(port, 10_000))), early])
  }

  async halt(): Promise<void> {
    const child = this.#child
    if (!child) return
    this.#child = undefined
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await this.#exited
      clearTimeout(timer)
    }
  }

  waitForLog(pattern: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((line) => pattern.test(line))
    if (seen !== undefined) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const watcher = (line: string) => {
        if (!pattern.test(line)) return
        clearTimeout(timer)
        this.#watchers.delete(watcher)
        resolve(line)
      }
      const timer = setTimeout(() => {
        this.#watchers.delete(watcher)
        reject(new Error(`mosquitto logged nothing matching ${pattern} within ${timeoutMs} ms`))
      }, timeoutMs)
      this.#watchers.add(watcher)
    })
  }

  #log(line: string): void {
    this.lines.push(line)
    if (this.lines.length > 20_000) this.lines.splice(0, 10_000)
    for (const watcher of this.#watchers) watcher(line)
  }
}

// A test that crashes must not leave a broker running.
const killOnExit = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of killOnExit) child.kill('SIGKILL')
})

/** A loopback port nothing listens on (for "connection refused" tests). */
export async function unusedPort(): Promise<number> {
  const [port] = await freePorts(1)
  return port
}

async function freePorts(count: number): Promise<number[]> {
  // Hold every server open until all ports are known, so that no two are the same.
  const servers = await Promise.all(
    Array.from({length: count}, async () => {
      const server = createServer()
      server.listen(0, host)
      await once(server, 'listening')
      return server
    }),
  )
  const ports = servers.map((server) => (server.address() as {port: number}).port)
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const accepted = await new Promise<boolean>((resolve) => {
      const socket = createConnection({host, port})
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (accepted) return
    if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on ${host}:${port} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
