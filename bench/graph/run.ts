// `iotctl up --create-cluster` and `iotctl cleanup --include-cluster --yes` on
// the local two-account AWS with its delays set to AWS's typical times (README
// here, with their sources) scaled down by one factor, timed next to the step
// graph's critical path for those delays (the least a run can take however
// many steps run at once) and next to their sum (what a list that runs one step
// after another waits). The iotctl process gets IOTCTL_WAIT_SCALE = the same
// factor, so its polling keeps AWS's proportions. Goal (issue 14): wall ≤ 1.15×
// the critical path, for both commands.
//
//   source scripts/node-env.sh && npm run build
//   node bench/graph/run.ts [--scale 1/20] [--runs 1] [--json]
//
// Each run starts from empty accounts with a network a user already has (two
// subnets in distinct zones per VPC), runs the BUILT binary as a user would,
// checks that up ended with an ENABLED destination and an enabled rule and that
// cleanup left nothing, and stops by itself (every wait in iotctl is bounded,
// and each command is killed after a timeout).
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {GetTopicRuleCommand, IoTClient, ListTopicRuleDestinationsCommand, ListTopicRulesCommand} from '@aws-sdk/client-iot'
import {upGraph} from '../../src/lib/stack/steps.ts'
import {startLocalAws, type LocalAws, type LogEntry} from '../../test/support/local-aws/index.ts'
import {writeStackConfig} from '../../test/support/stack-config.ts'
import {counts, inventory, oneOfEach} from '../../test/support/stack-inventory.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const bin = join(root, 'bin', 'run.js')
const {values: args} = parseArgs({options: {
  scale: {type: 'string', default: '1/20'},
  runs: {type: 'string', default: '1'},
  json: {type: 'boolean', default: false},
  /** Also print every AWS request of each command with its time (where the time goes). */
  timeline: {type: 'boolean', default: false},
}})

/** "1/50" or "0.02". */
function parseScale(text: string): number {
  const [a, b] = text.split('/')
  const value = b === undefined ? Number(a) : Number(a) / Number(b)
  if (!Number.isFinite(value) || value <= 0 || value > 1) throw new Error(`--scale ${text}: a factor in (0, 1], e.g. 1/50`)
  return value
}
const scale = parseScale(args.scale)
const runs = Number(args.runs)
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${args.runs}: a whole number ≥ 1`)
if (!existsSync(join(root, 'dist', 'commands', 'up.js'))) throw new Error('build first: npm run build')

/**
 * AWS's typical times, unscaled, in ms (README.md here gives each one's source,
 * or says why it is assumed). Only what iotctl waits for counts.
 */
const typical = {
  /** MSK cluster CREATING → ACTIVE: "15–30 minutes"; the middle. */
  clusterActivation: 20 * 60_000,
  /** Accepted VPC peering provisioning → active: no figure in the docs; seconds. */
  peeringActivation: 10_000,
  /** IAM: a new role usable by AWS IoT (and as a KMS key policy principal): seconds. */
  rolePropagation: 10_000,
  /** VPC topic rule destination IN_PROGRESS → ENABLED: "a few minutes". */
  destinationActivation: 5 * 60_000,
  /** VPC topic rule destination DELETING → gone (its network interfaces removed). */
  destinationDeletion: 5 * 60_000,
}
type Delays = typeof typical

/** The delay each step waits for, by step id: up (forward) and cleanup (backward). */
function upDuration(d: Delays): Record<string, number> {
  // IAM propagation is waited for by the role's first users (key-user,
  // destination, rule) side by side, from when the role exists: counted once,
  // on the role, so the sum does not count it three times.
  return {'msk-cluster': d.clusterActivation, peering: d.peeringActivation, 'iot-role': d.rolePropagation, 'iot-destination': d.destinationActivation}
}
function cleanupDuration(d: Delays): Record<string, number> {
  // DeleteCluster is not waited for (the cluster goes on DELETING by itself); the destination is.
  return {'iot-destination': d.destinationDeletion}
}

const scaled: Delays = {
  clusterActivation: typical.clusterActivation * scale,
  peeringActivation: typical.peeringActivation * scale,
  rolePropagation: typical.rolePropagation * scale,
  destinationActivation: typical.destinationActivation * scale,
  destinationDeletion: typical.destinationDeletion * scale,
}

interface Estimate {
  criticalMs: number
  criticalPath: string[]
  sumMs: number
}

function estimate(durations: Record<string, number>, direction: 'forward' | 'backward'): Estimate {
  const graph = upGraph({createCluster: true})
  const critical = graph.criticalPath((step) => durations[step.id] ?? 0, direction)
  const sumMs = graph.steps.reduce((sum, step) => sum + (durations[step.id] ?? 0), 0)
  return {criticalMs: critical.ms, criticalPath: critical.path.filter((s) => (durations[s.id] ?? 0) > 0).map((s) => s.id), sumMs}
}

function run(commandArgs: string[], options: {cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...commandArgs], {cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
    child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(out)
      else reject(new Error(`iotctl ${commandArgs.join(' ')} ${signal ? `killed (${signal}) after ${options.timeoutMs} ms` : `exited ${code}`}:\n${out.slice(-3000)}`))
    })
  })
}

/**
 * Where a command's wall time goes around its longest wait: the request that
 * starts it and the poll that first sees it over (the first answer of that
 * operation at or after start + delay).
 */
interface CriticalWait {
  start: string
  done: string
  delayMs: number
}
const criticalWait = {
  up: {start: 'CreateCluster', done: 'DescribeClusterV2', delayMs: scaled.clusterActivation},
  cleanup: {start: 'DeleteTopicRuleDestination', done: 'GetTopicRuleDestination', delayMs: scaled.destinationDeletion},
} satisfies Record<string, CriticalWait>

interface Breakdown {
  /** Process start to the first AWS request: node, oclif, the SDK clients' modules, the config. */
  startupMs: number
  /** First request to the one starting the longest wait: STS, every step's reads, the steps before it. */
  beforeWaitMs: number
  /** The emulated delay itself. */
  delayMs: number
  /** From the delay's end to the poll that saw it over (polling granularity). */
  overshootMs: number
  /** From that poll to the last request: the steps after the wait. */
  afterWaitMs: number
  /** Last request to the process's exit: summary, ledger, exit. */
  exitMs: number
}

interface Timed {
  wallMs: number
  requests: number
  /** ms from the start to the end of some telling requests, for finding where time goes. */
  marks: Record<string, number>
  /** Every request: ms from the start, account, operation, HTTP status. */
  timeline: string[]
  breakdown?: Breakdown
}

const marked = ['CreateCluster', 'CreateVpcPeeringConnection', 'AcceptVpcPeeringConnection', 'CreateRole', 'CreateTopicRuleDestination', 'BatchAssociateScramSecret', 'CreateTopicRule',
  'DeleteTopicRule', 'DeleteTopicRuleDestination', 'DeleteRole', 'DeleteCluster', 'DeleteVpcPeeringConnection']

async function timed(local: LocalAws, commandArgs: string[], options: {cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number}, wait: CriticalWait): Promise<Timed> {
  local.resetLog()
  const started = Date.now()
  await run(commandArgs, options)
  const ended = Date.now()
  const log: LogEntry[] = local.log()
  const at = (entry: LogEntry) => Date.parse(entry.time) - started
  const marks: Record<string, number> = {}
  for (const entry of log) {
    // The last success of each: a retried call (IAM propagation) counts when it got through.
    if (marked.includes(entry.operation) && entry.status < 300) marks[entry.operation] = at(entry)
  }
  const first = log.length ? at(log[0]) : 0
  const last = log.length ? at(log[log.length - 1]) : 0
  const startEntry = log.find((e) => e.operation === wait.start && e.status < 300)
  const doneEntry = startEntry && log.find((e) => e.operation === wait.done && at(e) >= at(startEntry) + wait.delayMs)
  const breakdown = startEntry && doneEntry ? {
    startupMs: first,
    beforeWaitMs: at(startEntry) - first,
    delayMs: wait.delayMs,
    overshootMs: at(doneEntry) - at(startEntry) - wait.delayMs,
    afterWaitMs: last - at(doneEntry),
    exitMs: ended - started - last,
  } : undefined
  return {
    breakdown,
    wallMs: ended - started,
    requests: log.length,
    marks,
    timeline: log.map((e) => `${String(at(e)).padStart(6)} ms  ${e.account.padEnd(12)} ${e.operation} ${e.status}`),
  }
}

async function checkUp(local: LocalAws, network: Awaited<ReturnType<LocalAws['createNetwork']>>, ruleName: string): Promise<void> {
  const found = counts(await inventory(local, [network]))
  const keys = Object.keys(oneOfEach).sort()
  if (JSON.stringify(found, keys) !== JSON.stringify(oneOfEach, keys)) throw new Error(`expected one of each, found ${JSON.stringify(found)}`)
  const iot = new IoTClient(local.clientConfig('iot'))
  try {
    const destinations = (await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? []
    if (destinations.length !== 1 || destinations[0].status !== 'ENABLED') throw new Error(`destinations: ${JSON.stringify(destinations)}`)
    const names = ((await iot.send(new ListTopicRulesCommand({}))).rules ?? []).map((r) => r.ruleName)
    if (JSON.stringify(names) !== JSON.stringify([ruleName])) throw new Error(`rules: ${names.join(', ')}`)
    const rule = (await iot.send(new GetTopicRuleCommand({ruleName}))).rule
    if (rule?.ruleDisabled !== false || !rule.actions?.[0]?.kafka) throw new Error(`rule ${ruleName} is not an enabled Kafka rule`)
  } finally {
    iot.destroy()
  }
}

interface Round {
  up: Timed
  cleanup: Timed
}

async function round(local: LocalAws, work: string, i: number): Promise<Round> {
  await local.reset()
  await local.warmedUp
  const network = await local.createNetwork({name: `bench-graph-${i}`})
  const cwd = mkdtempSync(join(work, 'iotctl-'))
  const stack = 'benchgraph'
  const ruleName = 'benchgraph_to_kafka'
  // What `iotctl init` writes for this network, with the cluster's subnets (distinct zones) for --create-cluster.
  writeStackConfig(cwd, stack, network, {rule: {name: ruleName, kafkaTopic: 'device-data'}})
  const env = local.childEnv({NO_COLOR: '1', IOTCTL_WAIT_SCALE: String(scale)})
  // Bounded: 3× the list's time, plus a minute for everything that is not a delay.
  const timeoutMs = 3 * (estimate(upDuration(scaled), 'forward').sumMs + estimate(cleanupDuration(scaled), 'backward').sumMs) + 60_000
  const up = await timed(local, ['up', '--create-cluster'], {cwd, env, timeoutMs}, criticalWait.up)
  await checkUp(local, network, ruleName)
  const cleanup = await timed(local, ['cleanup', '--include-cluster', '--yes'], {cwd, env, timeoutMs}, criticalWait.cleanup)
  const left = await inventory(local, [network])
  if (left.length > 0) throw new Error(`left after cleanup: ${JSON.stringify(left)}`)
  rmSync(cwd, {recursive: true, force: true})
  return {up, cleanup}
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const local = await startLocalAws({
  clusterActivationDelayMs: scaled.clusterActivation,
  peeringActivationDelayMs: scaled.peeringActivation,
  rolePropagationDelayMs: scaled.rolePropagation,
  destinationActivationDelayMs: scaled.destinationActivation,
  destinationDeletionDelayMs: scaled.destinationDeletion,
})
const work = mkdtempSync(join(tmpdir(), 'iotctl-bench-graph-'))
const rounds: Round[] = []
try {
  for (let i = 0; i < runs; i++) rounds.push(await round(local, work, i))
} finally {
  await local.stop()
  rmSync(work, {recursive: true, force: true})
}

function medianBreakdown(all: (Breakdown | undefined)[]): Breakdown | undefined {
  const known = all.filter((b): b is Breakdown => b !== undefined)
  if (known.length === 0) return undefined
  const part = (key: keyof Breakdown) => median(known.map((b) => b[key]))
  return {startupMs: part('startupMs'), beforeWaitMs: part('beforeWaitMs'), delayMs: part('delayMs'), overshootMs: part('overshootMs'), afterWaitMs: part('afterWaitMs'), exitMs: part('exitMs')}
}

function figures(which: 'up' | 'cleanup') {
  const direction = which === 'up' ? 'forward' : 'backward'
  const durations = which === 'up' ? upDuration : cleanupDuration
  const measured = estimate(durations(scaled), direction)
  const wallMs = median(rounds.map((r) => r[which].wallMs))
  const breakdown = medianBreakdown(rounds.map((r) => r[which].breakdown))
  const unscaled = estimate(durations(typical), direction)
  // What scales with AWS's delays is the delay and the polling overshoot
  // (IOTCTL_WAIT_SCALE); the rest (start-up, requests) is spent the same at
  // any scale. Requests to AWS take longer than to loopback: a lower bound.
  const fixedMs = breakdown ? wallMs - measured.criticalMs - breakdown.overshootMs : undefined
  const projectedMs = breakdown && fixedMs !== undefined ? unscaled.criticalMs + breakdown.overshootMs / scale + fixedMs : undefined
  return {
    command: which === 'up' ? 'iotctl up --create-cluster' : 'iotctl cleanup --include-cluster --yes',
    wallMs,
    wallsMs: rounds.map((r) => r[which].wallMs),
    criticalMs: measured.criticalMs,
    criticalPath: measured.criticalPath,
    sumMs: measured.sumMs,
    ratio: measured.criticalMs > 0 ? wallMs / measured.criticalMs : Number.POSITIVE_INFINITY,
    requests: rounds[0][which].requests,
    /** Medians of each part (they need not add up to the median wall). */
    breakdown,
    /** Wall minus the critical path minus the polling overshoot: what does not scale. */
    fixedMs,
    /** On a real account: the unscaled critical path, the overshoot unscaled, the fixed part as measured here. */
    projected: projectedMs === undefined ? undefined : {wallMs: projectedMs, ratio: projectedMs / unscaled.criticalMs},
    runs: rounds.map((r) => r[which]),
    unscaled,
  }
}

const summary = {runs, scale, node: process.version, delaysMs: {aws: typical, scaled}, up: figures('up'), cleanup: figures('cleanup'), goal: 1.15}
if (args.json) {
  console.log(JSON.stringify(summary, null, 2))
} else {
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`
  const minutes = (ms: number) => (ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(0)} s`)
  console.log(`iotctl on the local two-account AWS, AWS's delays × ${scale} (median of ${runs} run${runs === 1 ? '' : 's'}, node ${process.version})`)
  const names = ['clusterActivation', 'peeringActivation', 'rolePropagation', 'destinationActivation', 'destinationDeletion'] as const
  console.log(`delays (AWS → here): ${names.map((k) => `${k} ${minutes(typical[k])} → ${s(scaled[k])}`).join(', ')}`)
  for (const f of [summary.up, summary.cleanup]) {
    console.log(f.command)
    console.log(`  wall ${s(f.wallMs)}   critical path ${s(f.criticalMs)} (${f.criticalPath.join(' → ') || 'no delay'})   sum ${s(f.sumMs)}   wall/critical ${f.ratio.toFixed(2)}× (goal ≤ ${summary.goal}×)`)
    const b = f.breakdown
    console.log(`  ${f.requests} requests` + (b ? `; where the wall goes: start-up to the first request ${s(b.startupMs)}, reads and steps before the longest wait ${s(b.beforeWaitMs)}, the wait ${s(b.delayMs)} + polling overshoot ${s(b.overshootMs)}, steps after it ${s(b.afterWaitMs)}, exit ${s(b.exitMs)}` : ''))
    console.log(`  on a real account: critical path ${minutes(f.unscaled.criticalMs)}, one step after another ${minutes(f.unscaled.sumMs)}` +
      (f.projected ? `; projected wall ${minutes(f.projected.wallMs)} = ${f.projected.ratio.toFixed(2)}× the critical path (the ${s(f.fixedMs ?? 0)} that do not scale as measured here)` : ''))
    if (args.timeline) for (const line of f.runs[0].timeline) console.log(`    ${line}`)
  }
}
