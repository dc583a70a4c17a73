// Two runs on one stack at the same time (two CI jobs, two checkouts) take
// turns through the stack's lease, a DynamoDB item in the IoT account: the
// second waits, naming the holder, then does what is left; a run killed while
// holding it does not block the next; a holder that stops renewing (another
// machine died) blocks only until its lease expires; --wait-lock 0 exits 1
// naming the holder. The built binary, against the local two-account AWS.
import assert from 'node:assert/strict'
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {hostname, tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand} from '@aws-sdk/client-dynamodb'
import {binPath, runCli, type CliResult} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'
import {emptyAccounts, writeStackConfig} from '../support/stack-config.ts'
import {counts, inventory, oneOfEach} from '../support/stack-inventory.ts'

const stack = 'shared'
const table = `iotctl-${stack}-lease`
let aws: LocalAws
let network: Network
/** Two checkouts of the same stack (two CI jobs): same iotctl.json, separate ledgers. */
let dirs: [string, string]

const env = (extra: Record<string, string> = {}) => aws.childEnv(extra)
const cli = (cwd: string, args: string[], extra: Record<string, string> = {}) => runCli(args, {cwd, env: env(extra), timeoutMs: 180_000})

interface Running {
  child: ChildProcess
  done: Promise<CliResult>
}

function start(cwd: string, args: string[]): Running {
  const child = spawn(process.execPath, [binPath, ...args], {cwd, env: {...env(), NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const done = new Promise<CliResult>((resolve) => child.on('close', (code, signal) => resolve({code, signal, stdout, stderr})))
  return {child, done}
}

function dynamodb(): DynamoDBClient {
  return new DynamoDBClient(aws.clientConfig('iot'))
}

async function leaseItem(): Promise<Record<string, string> | undefined> {
  try {
    const item = (await dynamodb().send(new GetItemCommand({TableName: table, Key: {lease: {S: 'stack'}}, ConsistentRead: true}))).Item
    return item ? Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.S ?? v.N ?? ''])) : undefined
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined
    throw error
  }
}

/** Resolves once the lease is held by the given command of the given process. */
async function leaseHeldBy(command: string, pid: number | undefined): Promise<void> {
  const deadline = Date.now() + 60_000
  for (;;) {
    const item = await leaseItem()
    if (item?.command === command && item.pid === String(pid)) return
    if (Date.now() > deadline) throw new Error(`the lease is not held by ${command} (pid ${pid}): ${JSON.stringify(item)}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Resolves once a run was refused the lease (it is waiting), counting from the last resetLog(). */
async function refusedOnce(): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!aws.log().some((r) => r.operation === 'PutItem' && r.status === 400)) {
    if (Date.now() > deadline) throw new Error('no run was refused the lease')
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

async function tables(): Promise<string[]> {
  return (await dynamodb().send(new ListTablesCommand({}))).TableNames ?? []
}

const waitingLine = (command: string) => new RegExp(`^waiting for stack '${stack}': iotctl ${command} on ${hostname()} \\(pid \\d+\\) since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z holds its lease; its lease expires in \\d+ s unless renewed`, 'm')

before(async () => {
  // Long enough that a run holds the lease while the other starts (AWS's waits are far longer);
  // a new lease table is CREATING for a second, as on AWS, so two first runs both ask to make it.
  aws = await startLocalAws({destinationActivationDelayMs: 1500, destinationDeletionDelayMs: 1500, clusterActivationDelayMs: 500, tableActivationDelayMs: 1000})
  dirs = [mkdtempSync(join(tmpdir(), 'iotctl-job1-')), mkdtempSync(join(tmpdir(), 'iotctl-job2-'))]
})

after(async () => {
  await aws?.stop()
  for (const dir of dirs ?? []) rmSync(dir, {recursive: true, force: true})
})

async function freshStack(): Promise<void> {
  network = await emptyAccounts(aws, dirs[0], stack)
  rmSync(join(dirs[1], '.iotctl'), {recursive: true, force: true})
  writeStackConfig(dirs[1], stack, network)
}

describe('two runs on one stack take turns', () => {
  test('two `up` started together from two directories: both exit 0, one waits and finds the rest done, one of each resource', async () => {
    await freshStack()
    const [one, two] = await Promise.all(dirs.map((cwd) => start(cwd, ['up', '--create-cluster']).done))
    assert.equal(one.code, 0, one.stderr)
    assert.equal(two.code, 0, two.stderr)
    const waited = [one, two].filter((r) => waitingLine('up').test(r.stderr))
    assert.equal(waited.length, 1, `exactly one waited:\n${one.stderr}\n---\n${two.stderr}`)
    assert.match(waited[0].stdout, /nothing to change: every part of the stack is in place/, 'the one that waited found the other\'s work done')
    assert.deepEqual(counts(await inventory(aws, [network])), oneOfEach)
    // Nothing was made twice: each creating call once, whichever run sent it.
    const creations = aws.mutatingRequests().filter((r) => r.status < 300).map((r) => `${r.service}:${r.operation}`)
    for (const op of ['kafka:CreateClusterV2', 'ec2:CreateVpcPeeringConnection', 'iam:CreateRole', 'iot:CreateTopicRuleDestination', 'iot:CreateTopicRule']) {
      assert.ok(creations.filter((c) => c === op).length <= 1, `${op} once: ${creations.join(', ')}`)
    }
    // The lease is released by both: the table stays for the next run, empty.
    assert.deepEqual(await tables(), [table])
    assert.equal(await leaseItem(), undefined)
  })

  test('cleanup holds the lease, `up` started meanwhile waits, then builds the stack again: the later command wins', async () => {
    const cleanup = start(dirs[0], ['cleanup', '--yes', '--include-cluster'])
    await leaseHeldBy('cleanup', cleanup.child.pid)
    const up = start(dirs[1], ['up', '--create-cluster'])
    const [cleaned, upped] = await Promise.all([cleanup.done, up.done])
    assert.equal(cleaned.code, 0, cleaned.stderr)
    assert.equal(upped.code, 0, upped.stderr)
    assert.match(upped.stderr, waitingLine('cleanup'))
    assert.doesNotMatch(upped.stdout, /nothing to change/)
    assert.deepEqual(counts(await inventory(aws, [network])), oneOfEach)
    // Cleanup deleted the lease table last; the waiting `up` made it again.
    assert.deepEqual(await tables(), [table])
  })

  test('`up` holds the lease, cleanup started meanwhile waits, then deletes everything, the lease table last', async () => {
    await freshStack()
    const up = start(dirs[0], ['up', '--create-cluster'])
    await leaseHeldBy('up', up.child.pid)
    const cleanup = start(dirs[1], ['cleanup', '--yes', '--include-cluster'])
    const [upped, cleaned] = await Promise.all([up.done, cleanup.done])
    assert.equal(upped.code, 0, upped.stderr)
    assert.equal(cleaned.code, 0, cleaned.stderr)
    assert.match(cleaned.stderr, waitingLine('up'))
    assert.deepEqual(await inventory(aws, [network]), [])
    assert.deepEqual(await tables(), [])
  })

  test('a run killed while holding the lease does not block the next one: its process is gone, the lease is taken over', async () => {
    await freshStack()
    const killed = start(dirs[0], ['up', '--create-cluster'])
    await leaseHeldBy('up', killed.child.pid)
    killed.child.kill('SIGKILL')
    assert.equal((await killed.done).signal, 'SIGKILL')
    const again = await cli(dirs[0], ['up', '--create-cluster', '--wait-lock', '0'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stderr, new RegExp(`took over the stack's lease from iotctl up on ${hostname()} \\(pid ${killed.child.pid}\\) since .*: that process has ended`))
    assert.deepEqual(counts(await inventory(aws, [network])), oneOfEach)
  })

  test('a holder on another machine that stopped renewing blocks only until its lease expires; --wait-lock 0 exits 1 naming it', async () => {
    const foreign = (expiresInMs: number) => dynamodb().send(new PutItemCommand({TableName: table, Item: {
      lease: {S: 'stack'}, holder: {S: 'job-on-another-runner'}, host: {S: 'ci-runner-7'}, command: {S: 'up'},
      pid: {N: '4242'}, since: {S: '2026-12-01T09:00:00.000Z'}, expiresAt: {N: String(Date.now() + expiresInMs)},
    }}))
    await foreign(60_000)
    aws.resetLog()
    const refused = await cli(dirs[0], ['up', '--create-cluster', '--wait-lock', '0'])
    assert.equal(refused.code, 1, refused.stderr)
    assert.match(refused.stderr, /^iotctl: stack 'shared' is being changed by iotctl up on ci-runner-7 \(pid 4242\) since 2026-12-01T09:00:00\.000Z; its lease expires in \d+ s unless renewed; not waiting \(--wait-lock 0\)$/m)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [], 'nothing changed')

    await foreign(60_000)
    const gaveUp = await cli(dirs[0], ['iot', 'role', '--wait-lock', '1', '--json'])
    assert.equal(gaveUp.code, 1, gaveUp.stderr)
    assert.match(gaveUp.stderr, /^waiting for stack 'shared': iotctl up on ci-runner-7 \(pid 4242\)/m)
    assert.match(JSON.parse(gaveUp.stdout).error.message, /being changed by iotctl up on ci-runner-7 .*; waited 1 s \(--wait-lock\)$/)

    // A run that finds the other machine's lease waits; that machine renews once more and dies: 1 s left.
    await foreign(60_000)
    aws.resetLog()
    const running = start(dirs[0], ['up', '--create-cluster'])
    await refusedOnce()
    await foreign(1000)
    const waited = await running.done
    assert.equal(waited.code, 0, waited.stderr)
    assert.match(waited.stderr, /^waiting for stack 'shared': iotctl up on ci-runner-7 \(pid 4242\) since 2026-12-01T09:00:00\.000Z holds its lease; its lease expires in \d+ s unless renewed/m)
    assert.match(waited.stdout, /nothing to change/)
    assert.equal(await leaseItem(), undefined, 'released at the end')
  })

  test('Ctrl-C while waiting for the lease: exit 130, nothing changed', async () => {
    await dynamodb().send(new PutItemCommand({TableName: table, Item: {
      lease: {S: 'stack'}, holder: {S: 'someone'}, host: {S: 'ci-runner-7'}, command: {S: 'cleanup'},
      pid: {N: '77'}, since: {S: '2026-12-01T09:00:00.000Z'}, expiresAt: {N: String(Date.now() + 60_000)},
    }}))
    aws.resetLog()
    const run = start(dirs[0], ['cleanup', '--yes'])
    await refusedOnce()
    run.child.kill('SIGINT')
    const result = await run.done
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /^iotctl: interrupted while taking the lease of stack 'shared': no change to the stack was started$/m)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
    assert.equal((await leaseItem())?.holder, 'someone', 'the other holder\'s lease is untouched')
  })
})

describe('runs that change nothing take no lease; a bad --wait-lock changes nothing', () => {
  test('--dry-run, doctor and peer status send no DynamoDB request', async () => {
    aws.resetLog()
    for (const args of [['up', '--dry-run'], ['cleanup', '--dry-run'], ['peer', 'status'], ['doctor']]) {
      const result = await cli(dirs[0], args)
      assert.ok(result.code === 0 || result.code === 1, `${args.join(' ')}: ${result.stderr}`)
    }
    assert.deepEqual(aws.log().filter((r) => r.service === 'dynamodb').map((r) => r.operation), [])
  })

  const cases = [['up', '-1', {}], ['cleanup --yes', 'abc', {}], ['secret rotate', '1.5', {}], ['up', '5', {IOTCTL_LEASE_TTL: '0'}]] as const
  for (const [command, value, env] of cases) {
    test(`${command} --wait-lock ${value}${'IOTCTL_LEASE_TTL' in env ? ' with IOTCTL_LEASE_TTL=0' : ''}: exit 2 naming it, no AWS request`, async () => {
      aws.resetLog()
      const result = await cli(dirs[0], [...command.split(' '), `--wait-lock=${value}`], env)
      assert.equal(result.code, 2, result.stderr)
      const name = 'IOTCTL_LEASE_TTL' in env ? 'IOTCTL_LEASE_TTL' : '--wait-lock'
      assert.match(result.stderr, new RegExp(`^iotctl: ${name}: expected whole seconds`))
      assert.equal(result.stderr.trim().split('\n').length, 1)
      assert.deepEqual(aws.log(), [])
    })
  }
})
