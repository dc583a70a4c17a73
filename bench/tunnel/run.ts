// Tunnel benchmark: source proxy -> TLS relay -> destination proxy, each in its
// own process (as the C++ reference runs), against raw TCP on loopback.
//
//   node bench/tunnel/run.ts [--bytes 1073741824] [--pings 5000] [--connections 64] [--per-connection 16777216] [--phases bulk,echo,concurrent,cli,floor,agent] [--json] [--ts]
//
// The child processes run from JavaScript copies written to .test-output/ (see
// compile.ts), like the built CLI; --ts runs them from the sources instead.
// Measures, in one run: bulk throughput and CPU seconds per GiB of each process
// next to a raw TCP copy of the same size; 1-byte echo round trips (p50/p95/p99)
// next to raw TCP; idle RSS of each process (and of the built CLI's `tunnel
// forward` and `tunnel proxy`) and its peak over the run, with 64 connections
// streaming at once. Prints a table beside issue 17's C++ localproxy figures.
// The `floor` phase runs the same bulk copy and echo through Node's floor for
// this topology (floor-process.ts: three processes piping TLS, no WebSocket and
// no protocol), so that what is iotctl's and what is Node's can be told apart.
import {spawn, type ChildProcess} from 'node:child_process'
import {randomFillSync} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {createServer, connect, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {startMosquitto} from '../../test/support/mosquitto/index.ts'
import {compileForBenchmark} from './compile.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const {values: args} = parseArgs({
  options: {
    bytes: {type: 'string', default: String(1024 ** 3)},
    pings: {type: 'string', default: '5000'},
    connections: {type: 'string', default: '64'},
    'per-connection': {type: 'string', default: String(16 * 1024 ** 2)},
    json: {type: 'boolean', default: false},
    // A subset of bulk,echo,concurrent,cli (for quick iterations); cli needs a build (npm run build).
    phases: {type: 'string', default: 'bulk,echo,concurrent,cli,floor,agent'},
    // Run the child processes from the TypeScript sources (with Node's type stripping) instead of compiled copies.
    ts: {type: 'boolean', default: false},
  },
})
const childDir = args.ts ? here : join(root, '.test-output', 'bench-tunnel-js', 'bench', 'tunnel')
if (!args.ts) compileForBenchmark(root, join(root, '.test-output', 'bench-tunnel-js'))
const childExtension = args.ts ? '.ts' : '.js'
const BULK_BYTES = Number(args.bytes)
const PINGS = Number(args.pings)
const CONNECTIONS = Number(args.connections)
const PER_CONNECTION = Number(args['per-connection'])
const PHASES = new Set(args.phases.split(','))

interface Tokens {
  sourceAccessToken: string
  destinationAccessToken: string
}

interface Child {
  process: ChildProcess
  info: Record<string, unknown>
}

function spawnNode(script: string, argv: string[]): Promise<Child> {
  // BENCH_PROFILE=source|destination|relay writes a V8 CPU profile of that process to BENCH_PROFILE_DIR.
  const name = script === 'relay-process' ? 'relay' : script === 'floor-process' ? `floor-${argv[0]}` : argv[0]
  const profile = process.env.BENCH_PROFILE === name ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR ?? '.'}`] : []
  // BENCH_SNAPSHOT=source|...: that process writes a heap snapshot on SIGUSR2 (sent mid-way through the concurrent phase).
  if (process.env.BENCH_SNAPSHOT === name) profile.push('--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${process.env.BENCH_PROFILE_DIR ?? '.'}`)
  const child = spawn(process.execPath, [...profile, join(childDir, script + childExtension), ...argv], {stdio: ['pipe', 'pipe', 'inherit']})
  return new Promise((resolve, reject) => {
    let buffered = ''
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString()
      const newline = buffered.indexOf('\n')
      if (newline < 0) return
      child.stdout.off('data', onData)
      resolve({process: child, info: JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>})
    }
    child.stdout.on('data', onData)
    child.once('exit', code => reject(new Error(`${script} exited with ${code}`)))
  })
}

function stop(child: Child): Promise<void> {
  return new Promise(resolve => {
    child.process.removeAllListeners('exit')
    child.process.once('exit', () => resolve())
    child.process.stdin!.end()
    setTimeout(() => child.process.kill('SIGKILL'), 5000).unref()
  })
}

/** User+system CPU seconds a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) / 100
}

function rssMiB(pid: number, field = 'VmRSS'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)
  return match ? Number(match[1]) / 1024 : Number.NaN
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen({host: '127.0.0.1', port: 0}, () => resolve()))
  return (server.address() as {port: number}).port
}

/** Counts bytes per connection; `expect(n)` resolves when a connection ends. */
function sinkServer(): {server: Server; ended: ((bytes: number) => void)[]; next(): Promise<number>} {
  const waiting: ((bytes: number) => void)[] = []
  const server = createServer(socket => {
    socket.setNoDelay(true)
    let bytes = 0
    socket.on('data', chunk => {
      bytes += chunk.length
    })
    socket.on('error', () => {})
    socket.on('end', () => {
      socket.end()
      waiting.shift()?.(bytes)
    })
  })
  return {
    server,
    ended: waiting,
    next: () => new Promise<number>(resolve => waiting.push(resolve)),
  }
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({host: '127.0.0.1', port, noDelay: true}, () => resolve(socket))
    socket.once('error', reject)
  })
}

const pool = randomFillSync(Buffer.allocUnsafe(8 * 1024 * 1024))

async function send(socket: Socket, total: number, chunk = 256 * 1024): Promise<void> {
  let sent = 0
  let offset = 0
  while (sent < total) {
    const size = Math.min(chunk, total - sent)
    if (offset + size > pool.length) offset = 0
    const ok = socket.write(pool.subarray(offset, offset + size))
    offset += size
    sent += size
    if (!ok) await new Promise(resolve => socket.once('drain', resolve))
  }
  socket.end()
}

/**
 * The device-to-source direction's service (downloads, scp from the device):
 * a connection says how many bytes it wants (8 bytes, big-endian) and gets them.
 */
function pullServer(): Server {
  return createServer(socket => {
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.once('readable', function request() {
      const head = socket.read(8) as Buffer | null
      if (!head) return void socket.once('readable', request)
      void send(socket, Number(head.readBigUInt64BE(0)))
    })
  })
}

/** Seconds from asking `port`'s pull service for `bytes` to the end of its stream. */
async function pull(port: number, bytes: number): Promise<number> {
  const socket = await connectTo(port)
  const start = process.hrtime.bigint()
  let received = 0
  socket.on('data', (chunk: Buffer) => {
    received += chunk.length
  })
  const head = Buffer.alloc(8)
  head.writeBigUInt64BE(BigInt(bytes))
  socket.write(head)
  await new Promise<void>((resolve, reject) => {
    socket.once('end', resolve)
    socket.once('error', reject)
  })
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  socket.destroy()
  if (received !== bytes) throw new Error(`pull: got ${received} of ${bytes} bytes`)
  return seconds
}

/** Seconds to move `bytes` from a fresh connection to the sink's end of stream. */
async function bulk(port: number, sink: ReturnType<typeof sinkServer>, bytes: number): Promise<number> {
  const socket = await connectTo(port)
  socket.on('error', () => {})
  const received = sink.next()
  const start = process.hrtime.bigint()
  await send(socket, bytes)
  const got = await received
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  if (got !== bytes) throw new Error(`bulk: sink got ${got} of ${bytes} bytes`)
  socket.destroy()
  return seconds
}

/** 1-byte echo round trips in milliseconds, after a warm-up. */
async function pingPong(port: number, count: number): Promise<number[]> {
  const socket = await connectTo(port)
  const one = Buffer.from([0x2a])
  const times: number[] = []
  let resolveByte: (() => void) | undefined
  socket.on('data', () => resolveByte?.())
  for (let i = 0; i < count + 200; i++) {
    const start = process.hrtime.bigint()
    const arrived = new Promise<void>(resolve => {
      resolveByte = resolve
    })
    socket.write(one)
    await arrived
    if (i >= 200) times.push(Number(process.hrtime.bigint() - start) / 1e6)
  }
  socket.destroy()
  return times.sort((a, b) => a - b)
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}

/** The C++ localproxy (v3.3.1) figures of issue 17, measured through the same relay on this kind of machine. */
const REFERENCE = {
  bulkMBps: 293,
  destinationCpuPerGiB: '0.8-0.98',
  addedP50Ms: 0.19,
  addedP99Ms: 0.21,
  idleRssMB: 12.6,
  peakSourceRssMB: 979,
  peakDestinationRssMB: 13,
}

/**
 * RSS of the built CLI's source commands once connected and idle: `tunnel forward`
 * (after it says it is connected) and `tunnel proxy` (stdin open, 3 s after start),
 * each with its own tunnel's source token in AWSIOT_TUNNEL_ACCESS_TOKEN, so that
 * no AWS request is made. (`tunnel agent`'s is the agent phase's.)
 */
async function cliIdleRss(url: string, caFile: string, tunnels: {sourceAccessToken: string}[]): Promise<{forward: number; proxy: number}> {
  const measure = async (argv: string[], token: string, ready: (stderr: string) => boolean): Promise<number> => {
    const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), ...argv, '--proxy-endpoint', url], {
      cwd: tmpdir(),
      env: {...process.env, AWSIOT_TUNNEL_ACCESS_TOKEN: token, NODE_EXTRA_CA_CERTS: caFile, DEBUG: ''},
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    let stderr = ''
    const started = Date.now()
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (ready(stderr) || Date.now() - started > 3000) {
          clearInterval(timer)
          resolve()
        }
      }, 50)
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      child.once('exit', code => {
        clearInterval(timer)
        reject(new Error(`iotctl ${argv.join(' ')} exited with ${code}: ${stderr}`))
      })
    })
    await new Promise(resolve => setTimeout(resolve, 1000))
    const rss = rssMiB(child.pid!)
    child.removeAllListeners('exit')
    await new Promise(resolve => {
      child.once('exit', resolve)
      child.kill('SIGINT')
    })
    return rss
  }
  const forward = await measure(['tunnel', 'forward', '--source', 'BULK=0'], tunnels[0].sourceAccessToken, stderr => stderr.includes('connected to the tunnel'))
  const proxy = await measure(['tunnel', 'proxy'], tunnels[1].sourceAccessToken, () => false)
  return {forward, proxy}
}

interface AgentFigures {
  /** Subscribed to its notify topic, no tunnel yet. */
  idleRssMiB: number
  /** Serving one tunnel, connected, before any connection. */
  connectedRssMiB: number
  bulkMBps: number
  cpuSecondsPerGiB: number
  intact: number
  /** VmHWM over the bulk copy and the concurrent connections. */
  peakRssMiB: number
}

/**
 * The built CLI's `tunnel agent` as the destination, the way a device runs it:
 * connected to mosquitto with a device certificate (mutual TLS, as to AWS IoT),
 * notified on $aws/things/<thing>/tunnels/notify, then serving the tunnel while
 * a source proxy process sends the bulk copy and the concurrent connections.
 */
async function measureAgent(url: string, caFile: string, tokens: Tokens, sink: ReturnType<typeof sinkServer>, sinkPort: number, bytes: number, connections: number, perConnection: number): Promise<AgentFigures> {
  const {connectAsync} = await import('mqtt')
  const broker = await startMosquitto({websockets: false})
  let agent: ChildProcess | undefined
  let source: Child | undefined
  try {
    const device = await broker.device('bench-agent')
    agent = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'tunnel', 'agent', '--thing', 'bench-agent', '--cert', device.cert, '--key', device.key,
      '--ca', broker.ca, '--endpoint', `${broker.host}:${broker.tlsPort}`, '--destination', `BULK=127.0.0.1:${sinkPort}`, '--proxy-endpoint', url,
      '--max-connections', String(Math.max(64, connections))], {cwd: tmpdir(), env: {...process.env, NODE_EXTRA_CA_CERTS: caFile, DEBUG: ''}, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    agent.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    const until = async (pattern: RegExp): Promise<void> => {
      const deadline = Date.now() + 15_000
      while (!pattern.test(stderr)) {
        if (Date.now() > deadline || agent!.exitCode !== null) throw new Error(`tunnel agent: no ${String(pattern)} in:\n${stderr}`)
        await new Promise(resolve => setTimeout(resolve, 25))
      }
    }
    await until(/subscribed to/)
    await new Promise(resolve => setTimeout(resolve, 1000))
    const idleRssMiB = rssMiB(agent.pid!)
    const publisher = await connectAsync({host: broker.host, port: broker.plainPort, protocol: 'mqtt', clientId: 'bench-publisher', reconnectPeriod: 0})
    await publisher.publishAsync('$aws/things/bench-agent/tunnels/notify', JSON.stringify({
      clientAccessToken: tokens.destinationAccessToken, clientMode: 'destination', region: 'us-east-1', services: ['BULK'],
    }), {qos: 1})
    await publisher.endAsync()
    await until(/connected; serving/)
    await new Promise(resolve => setTimeout(resolve, 1000))
    const connectedRssMiB = rssMiB(agent.pid!)
    source = await spawnNode('proxy-process', ['source', JSON.stringify({endpoint: url, caFile, token: tokens.sourceAccessToken, services: {BULK: 0}})])
    const port = (source.info.ports as {BULK: number}).BULK
    await bulk(port, sink, 64 * 1024 * 1024)
    const before = cpuSeconds(agent.pid!)
    const seconds = await bulk(port, sink, bytes)
    const cpuSecondsPerGiB = (cpuSeconds(agent.pid!) - before) / (bytes / 1024 ** 3)
    const sockets = await Promise.all(Array.from({length: connections}, () => connectTo(port)))
    const ends = sockets.map(() => sink.next())
    await Promise.all(sockets.map(socket => send(socket, perConnection)))
    const intact = (await Promise.all(ends)).filter(count => count === perConnection).length
    for (const socket of sockets) socket.destroy()
    return {idleRssMiB, connectedRssMiB, bulkMBps: bytes / 1e6 / seconds, cpuSecondsPerGiB, intact, peakRssMiB: rssMiB(agent.pid!, 'VmHWM')}
  } finally {
    if (source) await stop(source)
    const running = agent?.exitCode === null ? agent : undefined
    if (running) {
      const exited = new Promise(resolve => running.once('exit', resolve))
      running.kill('SIGINT')
      await exited
    }
    await broker.stop()
  }
}

interface FloorFigures {
  bulkMBps: number
  cpuSecondsPerGiB: {source: number; relay: number; destination: number}
  p50: number
  p95: number
  p99: number
  /** VmHWM after the bulk copy and the echo. */
  peakRssMiB: {source: number; relay: number; destination: number}
}

/**
 * The bulk copy and the echo through floor-process.ts's three processes (TLS
 * piped as it comes) between the same sink and echo server: Node's own cost for
 * the tunnel's topology, without WebSocket framing, the protocol or its flow control.
 */
async function measureFloor(certDir: string, sink: ReturnType<typeof sinkServer>, services: {BULK: number; ECHO: number}, bytes: number, pings: number): Promise<FloorFigures> {
  const destination = await spawnNode('floor-process', ['destination', JSON.stringify({certDir, services})])
  const relay = await spawnNode('floor-process', ['relay', JSON.stringify({certDir, destination: destination.info.port})])
  const source = await spawnNode('floor-process', ['source', JSON.stringify({certDir, relay: relay.info.port, services: Object.keys(services)})])
  const ports = source.info.ports as {BULK: number; ECHO: number}
  try {
    await bulk(ports.BULK, sink, 64 * 1024 * 1024)
    const pids = {source: source.process.pid!, relay: relay.process.pid!, destination: destination.process.pid!}
    const before = {source: cpuSeconds(pids.source), relay: cpuSeconds(pids.relay), destination: cpuSeconds(pids.destination)}
    const seconds = await bulk(ports.BULK, sink, bytes)
    const gib = bytes / 1024 ** 3
    const cpuSecondsPerGiB = {
      source: (cpuSeconds(pids.source) - before.source) / gib,
      relay: (cpuSeconds(pids.relay) - before.relay) / gib,
      destination: (cpuSeconds(pids.destination) - before.destination) / gib,
    }
    const times = await pingPong(ports.ECHO, pings)
    const peakRssMiB = {source: rssMiB(pids.source, 'VmHWM'), relay: rssMiB(pids.relay, 'VmHWM'), destination: rssMiB(pids.destination, 'VmHWM')}
    return {bulkMBps: bytes / 1e6 / seconds, cpuSecondsPerGiB, p50: percentile(times, 50), p95: percentile(times, 95), p99: percentile(times, 99), peakRssMiB}
  } finally {
    await Promise.all([stop(source), stop(relay), stop(destination)])
  }
}

async function main(): Promise<void> {
  const sink = sinkServer()
  const sinkPort = await listen(sink.server)
  const echo = createServer(socket => {
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.pipe(socket)
  })
  const echoPort = await listen(echo)
  const puller = pullServer()
  const pullPort = await listen(puller)

  const cliPhase = PHASES.has('cli') && existsSync(join(root, 'dist', 'commands', 'tunnel', 'forward.js'))
  const agentPhase = PHASES.has('agent') && existsSync(join(root, 'dist', 'commands', 'tunnel', 'agent.js'))
  const relay = await spawnNode('relay-process', ['BULK,ECHO,PULL', cliPhase ? '2' : '0', agentPhase ? '1' : '0'])
  const {url, caFile, tunnel, cli, agent: agentTunnel} = relay.info as {url: string; caFile: string; tunnel: Tokens; cli: Tokens[]; agent?: Tokens}
  const destination = await spawnNode('proxy-process', ['destination', JSON.stringify({
    endpoint: url, caFile, token: tunnel.destinationAccessToken, services: {BULK: `127.0.0.1:${sinkPort}`, ECHO: `127.0.0.1:${echoPort}`, PULL: `127.0.0.1:${pullPort}`},
  })])
  const source = await spawnNode('proxy-process', ['source', JSON.stringify({
    endpoint: url, caFile, token: tunnel.sourceAccessToken, services: {BULK: 0, ECHO: 0, PULL: 0},
  })])
  const ports = source.info.ports as {BULK: number; ECHO: number; PULL: number}
  const pids = {source: source.process.pid!, relay: relay.process.pid!, destination: destination.process.pid!}
  // Idle: connected, no connection yet.
  await new Promise(resolve => setTimeout(resolve, 1000))
  const idleRss = {source: rssMiB(pids.source), relay: rssMiB(pids.relay), destination: rssMiB(pids.destination)}
  const cliIdle = cliPhase ? await cliIdleRss(url, caFile, cli) : undefined

  // Warm up both paths (JIT, TLS buffers).
  await bulk(ports.BULK, sink, 64 * 1024 * 1024)
  await bulk(sinkPort, sink, 64 * 1024 * 1024)

  const bulkBytes = PHASES.has('bulk') ? BULK_BYTES : 64 * 1024 * 1024
  const rawSeconds = await bulk(sinkPort, sink, bulkBytes)
  const cpuBefore = {source: cpuSeconds(pids.source), relay: cpuSeconds(pids.relay), destination: cpuSeconds(pids.destination), bench: cpuSeconds(process.pid)}
  const tunnelSeconds = await bulk(ports.BULK, sink, bulkBytes)
  const bulkCpu = {
    source: cpuSeconds(pids.source) - cpuBefore.source, relay: cpuSeconds(pids.relay) - cpuBefore.relay,
    destination: cpuSeconds(pids.destination) - cpuBefore.destination, bench: cpuSeconds(process.pid) - cpuBefore.bench,
  }
  const rssAfterBulk = {source: rssMiB(pids.source, 'VmHWM'), relay: rssMiB(pids.relay, 'VmHWM'), destination: rssMiB(pids.destination, 'VmHWM')}

  // The other direction: the destination reads the device's service, the source writes to the client.
  await pull(ports.PULL, 64 * 1024 * 1024)
  const rawPullSeconds = await pull(pullPort, bulkBytes)
  const pullCpuBefore = {source: cpuSeconds(pids.source), destination: cpuSeconds(pids.destination)}
  const pullSeconds = await pull(ports.PULL, bulkBytes)
  const pullCpu = {source: cpuSeconds(pids.source) - pullCpuBefore.source, destination: cpuSeconds(pids.destination) - pullCpuBefore.destination}
  const rssAfterPull = {source: rssMiB(pids.source, 'VmHWM'), destination: rssMiB(pids.destination, 'VmHWM')}

  const pings = PHASES.has('echo') ? PINGS : 100
  const rawTimes = await pingPong(echoPort, pings)
  const tunnelTimes = await pingPong(ports.ECHO, pings)

  // Node's floor for the same topology, measured the same way right after.
  const floor = PHASES.has('floor') ? await measureFloor(dirname(caFile), sink, {BULK: sinkPort, ECHO: echoPort}, bulkBytes, pings) : undefined

  // 64 connections streaming at once; RSS sampled while they run.
  const peak = {source: 0, relay: 0, destination: 0}
  const sampler = setInterval(() => {
    for (const name of ['source', 'relay', 'destination'] as const) peak[name] = Math.max(peak[name], rssMiB(pids[name]))
  }, 20)
  const concurrentStart = process.hrtime.bigint()
  const snapshot = process.env.BENCH_SNAPSHOT as keyof typeof pids | undefined
  const snapshotTimer = snapshot ? setTimeout(() => process.kill(pids[snapshot], 'SIGUSR2'), 400) : undefined
  const perConnection = PHASES.has('concurrent') ? PER_CONNECTION : 64 * 1024
  const sockets = await Promise.all(Array.from({length: CONNECTIONS}, () => connectTo(ports.BULK)))
  const ends = sockets.map(() => sink.next())
  await Promise.all(sockets.map(socket => send(socket, perConnection)))
  const counts = await Promise.all(ends)
  const concurrentSeconds = Number(process.hrtime.bigint() - concurrentStart) / 1e9
  clearInterval(sampler)
  if (snapshotTimer) clearTimeout(snapshotTimer)
  const intact = counts.filter(count => count === perConnection).length
  for (const socket of sockets) socket.destroy()

  // Peak over the whole run (bulk and the concurrent phase).
  const peakHwm = {source: rssMiB(pids.source, 'VmHWM'), relay: rssMiB(pids.relay, 'VmHWM'), destination: rssMiB(pids.destination, 'VmHWM')}
  await Promise.all([stop(source), stop(destination)])
  // The CLI's `tunnel agent` in the destination's place (same relay, sink, sizes).
  const agent = agentPhase && agentTunnel ? await measureAgent(url, caFile, agentTunnel, sink, sinkPort, bulkBytes, CONNECTIONS, perConnection) : undefined
  await stop(relay)
  echo.close()
  puller.close()
  sink.server.close()

  const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds
  const tunnelMBps = mbps(bulkBytes, tunnelSeconds)
  const rawMBps = mbps(bulkBytes, rawSeconds)
  const p50 = {tunnel: percentile(tunnelTimes, 50), raw: percentile(rawTimes, 50)}
  const p95 = {tunnel: percentile(tunnelTimes, 95), raw: percentile(rawTimes, 95)}
  const p99 = {tunnel: percentile(tunnelTimes, 99), raw: percentile(rawTimes, 99)}
  const gib = bulkBytes / 1024 ** 3
  const cpuPerGiB = {source: bulkCpu.source / gib, relay: bulkCpu.relay / gib, destination: bulkCpu.destination / gib, bench: bulkCpu.bench / gib}
  const result = {
    bulk: {bytes: bulkBytes, tunnelMBps, rawMBps, ratio: tunnelMBps / rawMBps, cpuSeconds: bulkCpu, cpuSecondsPerGiB: cpuPerGiB},
    reverseBulk: {
      bytes: bulkBytes, tunnelMBps: mbps(bulkBytes, pullSeconds), rawMBps: mbps(bulkBytes, rawPullSeconds),
      cpuSecondsPerGiB: {source: pullCpu.source / gib, destination: pullCpu.destination / gib}, peakRssMiB: rssAfterPull,
    },
    echo: {pings, p50, p95, p99, addedP50: p50.tunnel - p50.raw, addedP95: p95.tunnel - p95.raw, addedP99: p99.tunnel - p99.raw},
    concurrent: {connections: CONNECTIONS, perConnection, intact, seconds: concurrentSeconds, peakRssMiB: peak},
    idleRssMiB: idleRss,
    peakRssMiB: peakHwm,
    peakRssAfterBulkMiB: rssAfterBulk,
    ...(cliIdle ? {cliIdleRssMiB: cliIdle} : {}),
    ...(floor ? {floor} : {}),
    ...(agent ? {agent} : {}),
    reference: REFERENCE,
  }
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
    return
  }
  const f = (n: number, digits = 1) => n.toFixed(digits)
  const ref = REFERENCE
  const ms = (n: number) => `+${f(n, 3)} ms`
  const rows: string[][] = [
    ['what', 'iotctl pair', 'raw TCP', 'ratio / added', 'C++ localproxy', 'goal'],
    [`bulk ${f(bulkBytes / 1024 ** 2, 0)} MiB, MB/s`, f(tunnelMBps), f(rawMBps), `${f(tunnelMBps / rawMBps, 3)}x`, String(ref.bulkMBps), `>= ${ref.bulkMBps}`],
    ['CPU s per GiB, source', f(cpuPerGiB.source, 2), '', '', '', ''],
    ['CPU s per GiB, destination', f(cpuPerGiB.destination, 2), '', '', ref.destinationCpuPerGiB, ''],
    ['CPU s per GiB, relay / bench (sender+sink)', `${f(cpuPerGiB.relay, 2)} / ${f(cpuPerGiB.bench, 2)}`, '', '', '', ''],
    ['bulk device -> source (destination reads), MB/s', f(mbps(bulkBytes, pullSeconds)), f(mbps(bulkBytes, rawPullSeconds)), `${f(rawPullSeconds / pullSeconds, 3)}x`, '', ''],
    ['  CPU s per GiB, source / destination; peak RSS MiB after', `${f(pullCpu.source / gib, 2)} / ${f(pullCpu.destination / gib, 2)}; ${f(rssAfterPull.source)} / ${f(rssAfterPull.destination)}`, '', '', '', ''],
    ...(floor ? [
      ['bulk MB/s, Node TLS floor (same hops, no protocol)', f(floor.bulkMBps), f(rawMBps), `${f(floor.bulkMBps / rawMBps, 3)}x`, '', ''],
      ['CPU s per GiB, floor source / destination / relay', [floor.cpuSecondsPerGiB.source, floor.cpuSecondsPerGiB.destination, floor.cpuSecondsPerGiB.relay].map(n => f(n, 2)).join(' / '), '', '', '', ''],
    ] : []),
    [`1-byte echo p50, ms (${pings})`, f(p50.tunnel, 3), f(p50.raw, 3), ms(p50.tunnel - p50.raw), `+${ref.addedP50Ms} ms`, ''],
    ['1-byte echo p95, ms', f(p95.tunnel, 3), f(p95.raw, 3), ms(p95.tunnel - p95.raw), '', ''],
    ['1-byte echo p99, ms', f(p99.tunnel, 3), f(p99.raw, 3), ms(p99.tunnel - p99.raw), `+${ref.addedP99Ms} ms`, `<= ${ms(2 * (p50.tunnel - p50.raw))} (2x p50)`],
    ...(floor ? [
      ['1-byte echo p50 / p99, Node TLS floor, ms', `${f(floor.p50, 3)} / ${f(floor.p99, 3)}`, `${f(p50.raw, 3)} / ${f(p99.raw, 3)}`, `${ms(floor.p50 - p50.raw)} / ${ms(floor.p99 - p99.raw)}`, '', ''],
    ] : []),
    [`${CONNECTIONS} connections x ${f(perConnection / 1024 ** 2, 1)} MiB intact`, `${intact}/${CONNECTIONS}`, '', `${f(mbps(CONNECTIONS * perConnection, concurrentSeconds))} MB/s`, '', `${CONNECTIONS}/${CONNECTIONS}`],
    ['idle RSS MiB, source / destination / relay', [idleRss.source, idleRss.destination, idleRss.relay].map(n => f(n)).join(' / '), '', '', String(ref.idleRssMB), '<= 50'],
    ...(cliIdle ? [['idle RSS MiB, CLI `tunnel forward` / `proxy`', `${f(cliIdle.forward)} / ${f(cliIdle.proxy)}`, '', '', String(ref.idleRssMB), '<= 50']] : []),
    ['peak RSS MiB (whole run), source', f(peakHwm.source), '', '', String(ref.peakSourceRssMB), '< 100'],
    ['peak RSS MiB (whole run), destination', f(peakHwm.destination), '', '', String(ref.peakDestinationRssMB), '< 100'],
    ['peak RSS MiB (whole run), relay', f(peakHwm.relay), '', '', '', ''],
    ['peak RSS MiB after bulk, source / destination', `${f(rssAfterBulk.source)} / ${f(rssAfterBulk.destination)}`, '', '', '', ''],
    ...(floor ? [['peak RSS MiB after bulk, floor source / destination', `${f(floor.peakRssMiB.source)} / ${f(floor.peakRssMiB.destination)}`, '', '', '', '']] : []),
    ['bulk wall time, s', f(tunnelSeconds, 2), f(rawSeconds, 2), '', '', ''],
    ...(agent ? [
      ['idle RSS MiB, CLI `tunnel agent`, subscribed / serving a tunnel', `${f(agent.idleRssMiB)} / ${f(agent.connectedRssMiB)}`, '', '', String(ref.idleRssMB), '<= 50'],
      ['CLI `tunnel agent` as destination: bulk MB/s, CPU s per GiB', `${f(agent.bulkMBps)}, ${f(agent.cpuSecondsPerGiB, 2)}`, '', '', `${ref.bulkMBps}, ${ref.destinationCpuPerGiB}`, ''],
      [`CLI \`tunnel agent\` peak RSS MiB (bulk, ${CONNECTIONS} connections: ${agent.intact} intact)`, f(agent.peakRssMiB), '', '', String(ref.peakDestinationRssMB), '< 100'],
    ] : []),
  ]
  const widths = rows[0].map((_, column) => Math.max(...rows.map(row => row[column].length)))
  for (const row of rows) process.stdout.write(`${row.map((cell, column) => cell.padEnd(widths[column])).join('  ')}\n`)
  process.stdout.write(`\nC++ localproxy v3.3.1 pair through the same relay, as measured in issue 17: ${ref.bulkMBps} MB/s, ${ref.destinationCpuPerGiB} CPU s per GiB on the destination, +${ref.addedP50Ms} / +${ref.addedP99Ms} ms p50 / p99, ${ref.idleRssMB} MB idle RSS, peak ${ref.peakSourceRssMB} MB source (no backpressure) / ${ref.peakDestinationRssMB} MB destination\n`)
}

await main()
