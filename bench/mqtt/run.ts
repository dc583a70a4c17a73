// MQTT publish throughput: iotctl's publish() against `mosquitto_pub -l` sending the
// same number of messages of the same size to a throw-away mosquitto on loopback.
// A run is timed from starting the publisher until `mosquitto_sub -C N`, in its own
// process on the plain listener, has received all N messages.
//
//   node bench/mqtt/run.ts [--messages 200000] [--rounds 3] [--qos 0,1] [--transport plain,tls]
//
// transport "plain": both publishers on the plain listener (like with like);
// "tls": both with a device certificate on the mutual-TLS listener (the AWS IoT way).
// mosquitto_pub runs twice: as is, and tuned (--nodelay; -M 100 at QoS 1, iotctl's
// in-flight window). Prints the median msg/s of the rounds, the publishers' CPU time,
// and iotctl's ratio to the faster mosquitto_pub. Publishers take turns in each round.
import {type ChildProcess, spawn} from 'node:child_process'
import {createReadStream} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {parseArgs} from 'node:util'
import {prepareConnection} from '../../src/lib/mqtt/connection.ts'
import {publish} from '../../src/lib/mqtt/publish.ts'
import {compileTemplate} from '../../src/lib/mqtt/template.ts'
import {type DeviceFiles, startMosquitto} from '../../test/support/mosquitto/index.ts'

const {values} = parseArgs({
  options: {
    messages: {type: 'string', default: '200000'},
    rounds: {type: 'string', default: '3'},
    qos: {type: 'string', default: '0,1'},
    transport: {type: 'string', default: 'plain,tls'},
  },
})
const messages = Number(values.messages)
const rounds = Number(values.rounds)
const qosLevels = values.qos.split(',').map(Number) as Qos[]
const transports = values.transport.split(',') as Transport[]
type Qos = 0 | 1
type Transport = 'plain' | 'tls'

// A telemetry message (~70 bytes): iotctl renders it per message; mosquitto_pub reads
// the same messages, rendered up front, one per line.
const template = '{"device":"bench-1","seq":{{seq}},"temperature":{{random:20.0:30.0}},"ts":{{timestamp}}}'
const iotctl = 'iotctl publish()'

interface Run {
  transport: Transport
  qos: Qos
  publisher: string
  /** Publisher start to mosquitto_sub having received every message. */
  deliveredMs: number
  /** CPU time (user + system) of the publisher. */
  cpuMs: number
}

// mosquitto 2.0 services websocket listeners once per message it reads: leave them out.
const broker = await startMosquitto({websockets: false})
try {
  const linesFile = join(broker.dir, 'lines.txt')
  const compiled = compileTemplate(template)
  const lines: string[] = []
  for (let seq = 1; seq <= messages; seq++) lines.push(compiled.render({seq, device: 'bench-1', index: 1}))
  await writeFile(linesFile, lines.join('\n') + '\n')

  const runs: Run[] = []
  for (let round = 1; round <= rounds; round++) {
    for (const transport of transports) {
      for (const qos of qosLevels) {
        const publishers = [
          () => runMosquittoPub(transport, qos, []),
          () => runMosquittoPub(transport, qos, qos === 0 ? ['--nodelay'] : ['--nodelay', '-M', '100']),
          () => runIotctl(transport, qos),
        ]
        if (round % 2 === 0) publishers.reverse()
        for (const runOne of publishers) {
          const run = await runOne()
          runs.push(run)
          process.stderr.write(`round ${round} ${transport} qos ${qos} ${run.publisher}: ${rate(run.deliveredMs)} msg/s, cpu ${run.cpuMs.toFixed(0)} ms\n`)
        }
      }
    }
  }

  console.log(`\nMQTT publish throughput: ${messages} messages of ~${Buffer.byteLength(lines[0])} bytes to a local mosquitto, delivered to mosquitto_sub; median of ${rounds} rounds`)
  console.log(`${'transport qos  publisher'.padEnd(52)}  msg/s   publisher CPU ms`)
  for (const transport of transports) {
    for (const qos of qosLevels) {
      const these = runs.filter((r) => r.transport === transport && r.qos === qos)
      const names = [...new Set(these.map((r) => r.publisher))]
      const deliveredMs = (name: string) => median(these.filter((r) => r.publisher === name).map((r) => r.deliveredMs))
      const cpuMs = (name: string) => median(these.filter((r) => r.publisher === name).map((r) => r.cpuMs))
      for (const name of names) console.log(`${transport.padEnd(9)} ${qos}    ${name.padEnd(37)} ${rate(deliveredMs(name)).padStart(7)}   ${cpuMs(name).toFixed(0).padStart(16)}`)
      const reference = Math.min(...names.filter((name) => name !== iotctl).map(deliveredMs))
      const ours = deliveredMs(iotctl)
      const goals = qos === 0 ? ` (goals: >= 1.0x and >= 20000 msg/s: ${reference / ours >= 1 && (messages * 1000) / ours >= 20_000 ? 'met' : 'NOT met'})` : ''
      console.log(`${transport.padEnd(9)} ${qos}    iotctl / faster mosquitto_pub: ${(reference / ours).toFixed(2)}x${goals}`)
    }
  }
} finally {
  await broker.stop()
}

function rate(ms: number): string {
  return Math.round((messages * 1000) / ms).toString()
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** The child's exit code (null when a signal ended it), typed: events.once() resolves to any[]. */
function exitCode(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', resolve))
}

/** Starts `mosquitto_sub -C messages`; resolves once mosquitto has its subscription. `done` is the time it exits. */
async function startCounter(topic: string, qos: Qos): Promise<{done: Promise<number>}> {
  const clientId = `bench-sub-${Math.random().toString(36).slice(2, 10)}`
  const args = ['-h', broker.host, '-p', String(broker.plainPort), '-i', clientId, '-t', topic, '-q', String(qos), '-C', String(messages), '-W', '300']
  const child = spawn('mosquitto_sub', args, {stdio: ['ignore', 'ignore', 'inherit']})
  const done = exitCode(child).then((code) => {
    if (code !== 0) throw new Error(`mosquitto_sub exited with ${code} before receiving ${messages} messages`)
    return performance.now()
  })
  done.catch(() => {})
  await broker.waitForLog(new RegExp(`: ${clientId} ${qos} ${topic}$`))
  return {done}
}

function tlsArguments(transport: Transport, device: DeviceFiles): string[] {
  return transport === 'tls'
    ? ['-p', String(broker.tlsPort), '--cafile', broker.ca, '--cert', device.cert, '--key', device.key]
    : ['-p', String(broker.plainPort)]
}

async function runMosquittoPub(transport: Transport, qos: Qos, tuning: string[]): Promise<Run> {
  const topic = `bench/mosquitto-pub/${transport}/${qos}`
  const counter = await startCounter(topic, qos)
  const start = performance.now()
  const args = ['-h', broker.host, ...tlsArguments(transport, await broker.device('bench-1')), '-i', 'bench-1', '-t', topic, '-q', String(qos), '-l', ...tuning]
  // `times` reports the CPU time of the shell's children: mosquitto_pub's.
  const child = spawn('sh', ['-c', 'mosquitto_pub "$@"; code=$?; times; exit $code', 'sh', ...args], {stdio: ['pipe', 'pipe', 'inherit']})
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const exited = exitCode(child)
  // stdin stays open until every message has arrived: at end of input mosquitto_pub -l
  // disconnects at once, dropping the QoS 1 messages still queued behind its in-flight
  // window (2.0.11 delivered ~3,400 of 200,000 when stdin was a file).
  createReadStream(join(broker.dir, 'lines.txt')).pipe(child.stdin, {end: false})
  const delivered = await counter.done
  child.stdin.end()
  const code = await exited
  if (code !== 0) throw new Error(`mosquitto_pub exited with ${code}`)
  return {transport, qos, publisher: ['mosquitto_pub -l', ...tuning].join(' '), deliveredMs: delivered - start, cpuMs: childrenCpuMs(output)}
}

/** Parses the second line of `times`: the children's user and system time, e.g. "0m0.040s 0m0.260s". */
function childrenCpuMs(times: string): number {
  const line = times.trim().split('\n').at(-1) ?? ''
  return [...line.matchAll(/(\d+)m([\d.]+)s/g)].reduce((sum, [, minutes, seconds]) => sum + (Number(minutes) * 60 + Number(seconds)) * 1000, 0)
}

async function runIotctl(transport: Transport, qos: Qos): Promise<Run> {
  const topic = `bench/iotctl/${transport}/${qos}`
  const counter = await startCounter(topic, qos)
  const device = await broker.device('bench-1')
  const cpu = process.cpuUsage()
  const start = performance.now()
  const connection = await prepareConnection(
    transport === 'tls'
      ? {kind: 'mtls', endpoint: broker.host, port: broker.tlsPort, clientId: 'bench-1', cert: device.cert, key: device.key, ca: broker.ca}
      : {kind: 'tcp', endpoint: broker.host, port: broker.plainPort, clientId: 'bench-1'},
  )
  const result = await publish({connection, topic, payload: template, qos, count: messages})
  const used = process.cpuUsage(cpu)
  if (result.sent !== messages) throw new Error(`iotctl sent ${result.sent} of ${messages}`)
  const delivered = await counter.done
  return {transport, qos, publisher: iotctl, deliveredMs: delivered - start, cpuMs: (used.user + used.system) / 1000}
}
