// `iotctl up` cut off right after each of its mutating requests in turn, from
// the outside: the stand-in holds every request after the N-th mutating one,
// the test signals the process, then lets the held request go. After each cut
// `up` runs again and must finish with each kind of resource exactly once in
// the right account and a ledger naming exactly what exists; `cleanup` then
// leaves nothing live.
//
// SIGINT (Ctrl-C) is swept over every N (every other cut with --json): the
// request in flight finishes, no further change is started, the ledger names
// what exists, the process says what was done and what remains, exit 130.
// SIGKILL (no chance to write anything more: the ledger misses the last
// creation, which the next run must find by tags and marks) is swept over a
// sample — one cut after each kind of creating call whose adoption takes its
// own path (cluster, peering requested and accepted, ingress, key, alias, each
// secret, role, destination, rule) — to keep this file at about two minutes
// on two cores (113 s alone, 150 s beside the rest of the suite; every N for
// both signals took 140 s alone and 6 min in the suite). `ALL_CUTS=1` sweeps
// every N for SIGKILL too, with cleanup after every cut.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {binPath, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'
import {emptyAccounts as emptyStack} from '../support/stack-config.ts'
import {counts, inventory, keysOf, ledgerRecords, oneOfEach} from '../support/stack-inventory.ts'

const stack = 'cut'
let aws: LocalAws
let network: Network
let cwd: string
/** The mutating operations of a whole `up` from the empty state, in order. */
let sequence: string[]

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 120_000})

async function emptyAccounts(): Promise<void> {
  network = await emptyStack(aws, cwd, stack)
}

interface Cut {
  signal: NodeJS.Signals | null
  code: number | null
  stdout: string
  stderr: string
  /** Requests that had reached the stand-in when the process said it was stopping: what was in flight then, or before. */
  arrivedBeforeStop: number
  /** Requests sent and held unanswered when the process said it was stopping. */
  held: number
}

/**
 * Starts `up`, waits until the n-th mutating request has been answered (every
 * later request is held), sends `signal`, and for SIGINT waits until the
 * process says it is stopping before letting the held request through.
 */
async function upCutAfter(n: number, signal: 'SIGKILL' | 'SIGINT', extra: string[] = []): Promise<Cut> {
  aws.resetLog()
  aws.holdAfterMutating(n)
  const child = spawn(process.execPath, [binPath, 'up', '--create-cluster', ...extra], {cwd, env: {...aws.childEnv(), NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
  const exited = new Promise<{code: number | null; signal: NodeJS.Signals | null}>((resolve) => child.on('close', (code, sig) => resolve({code, signal: sig})))
  try {
    await aws.waitForMutating(n, 60_000)
    child.kill(signal)
    if (signal === 'SIGINT') {
      const deadline = Date.now() + 20_000
      while (!stderr.includes('stopping after the requests in flight') && child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      // After the last request nothing is held: the run may have ended before the signal.
      if (n < sequence.length) assert.match(stderr, /stopping after the requests in flight/)
      // Lets a request sent just before the signal was handled reach the stand-in.
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    if (signal === 'SIGKILL') await exited
  } catch (error) {
    child.kill('SIGKILL')
    aws.release()
    throw error
  }
  const arrivedBeforeStop = aws.standIn.log.arrivedCount
  const held = aws.standIn.log.heldCount
  aws.release()
  const end = await exited
  return {...end, stdout, stderr, arrivedBeforeStop, held}
}

/**
 * Mutating requests sent after the process said it was stopping (with steps
 * side by side, several may be in flight then; they finish): Ctrl-C must start none.
 */
function changesStartedAfterStop(arrivedBeforeStop: number): string[] {
  return aws.log().filter((entry) => entry.mutating && entry.arrival > arrivedBeforeStop).map((entry) => `${entry.service}:${entry.operation}`)
}

/**
 * `up` again finishes with one of each; the ledger names exactly that; with `clean`, `cleanup`
 * then leaves nothing. Once `up` has converged, stack and ledger are those of an uninterrupted
 * run (asserted just before), so cleanup is checked on a sample of the cuts (the next cut
 * starts from freshly reset accounts either way): a third of this file's time otherwise.
 */
async function resumeAndClean(clean: boolean): Promise<void> {
  const again = await cli(['up', '--create-cluster'])
  assert.equal(again.code, 0, `up after the cut: ${again.stderr}`)
  const after = await inventory(aws, [network])
  assert.deepEqual(counts(after), oneOfEach, 'each kind exactly once, in the right account')
  assert.deepEqual(keysOf(ledgerRecords(cwd, stack)), keysOf(after), 'the ledger names exactly what exists')
  if (!clean) return
  const cleanup = await cli(['cleanup', '--yes', '--include-cluster'])
  assert.equal(cleanup.code, 0, `cleanup: ${cleanup.stderr}`)
  assert.deepEqual(keysOf(await inventory(aws, [network])), [], 'nothing is left')
  assert.deepEqual(ledgerRecords(cwd, stack), [])
}

before(async () => {
  // No waiting for destinations or clusters: the cuts are about request order, not time.
  aws = await startLocalAws({destinationActivationDelayMs: 0, clusterActivationDelayMs: 0})
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-cut-'))
  await emptyAccounts()
  const full = await cli(['up', '--create-cluster'])
  assert.equal(full.code, 0, full.stderr)
  sequence = aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`)
  assert.deepEqual(counts(await inventory(aws, [network])), oneOfEach)
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('up interrupted after every mutating request converges when run again', () => {
  test('SIGINT after each mutating request: the requests in flight finish, the ledger is written, exit 130', async (t) => {
    // Steps run side by side: some cuts must catch two or more requests in flight.
    let mostHeld = 0
    t.after(() => assert.ok(mostHeld >= 2, `some cut caught two steps mid-request (most held at once: ${mostHeld})`))
    for (let n = 1; n <= sequence.length; n++) {
      // Every other cut with --json: the result document says the same.
      const json = n % 2 === 0
      await t.test(`SIGINT after request ${n} of ${sequence.length} (${sequence[n - 1]})${json ? ' --json' : ''}`, async () => {
        await emptyAccounts()
        const cut = await upCutAfter(n, 'SIGINT', json ? ['--json'] : [])
        mostHeld = Math.max(mostHeld, cut.held)
        const last = n === sequence.length
        if (sequence[n - 1].startsWith('dynamodb:')) {
          // Cut while making the stack's lease table, before any step: Ctrl-C ends the run there.
          assert.equal(cut.code, 130, `exit 130; stderr: ${cut.stderr}`)
          const said = json ? (JSON.parse(cut.stdout) as {error: {message: string}}).error.message : cut.stderr
          assert.match(said, /interrupted while taking the lease of stack 'cut': no change to the stack was started$/m)
        } else if (last && cut.code !== 130) {
          // The run had finished its work when Ctrl-C came: nothing was left to stop.
          assert.ok(cut.code === 0 || cut.signal === 'SIGINT', `exit 0 or 130 after the last request; stderr: ${cut.stderr}`)
        } else {
          assert.equal(cut.code, 130, `exit 130; stderr: ${cut.stderr}`)
          if (json) {
            const document = JSON.parse(cut.stdout) as {interrupted: boolean; steps: {outcome: string}[]}
            assert.equal(document.interrupted, true)
            assert.ok(document.steps.some((s) => s.outcome === 'created'), 'what was done')
            if (!last) assert.ok(document.steps.some((s) => s.outcome === 'skipped' || s.outcome === 'interrupted'), 'what remains')
          } else {
            assert.match(cut.stderr, /^interrupted; the ledger is written\.$/m)
            assert.match(cut.stderr, /^ {2}done: /m)
            if (!last) assert.match(cut.stderr, /^ {2}(remaining|stopped in): /m)
            assert.match(cut.stderr, /^run `iotctl up` again to continue\.$/m)
          }
        }
        assert.deepEqual(changesStartedAfterStop(cut.arrivedBeforeStop), [], 'no change is started after Ctrl-C')
        const existing = await inventory(aws, [network])
        assert.deepEqual(keysOf(ledgerRecords(cwd, stack)), keysOf(existing), 'the ledger names exactly what exists')
        await resumeAndClean(n % 3 === 0 || last || Boolean(process.env.ALL_CUTS))
      })
    }
  })

  test('SIGKILL after a sample of the mutating requests: up run again adopts what the killed run made', async (t) => {
    const first = (operation: string) => sequence.indexOf(operation) + 1
    const sample = new Set([
      first('kafka:CreateCluster'), first('ec2:CreateVpcPeeringConnection'), first('ec2:AcceptVpcPeeringConnection'),
      first('ec2:AuthorizeSecurityGroupIngress'), first('kms:CreateKey'), first('kms:CreateAlias'),
      first('secretsmanager:CreateSecret'), sequence.lastIndexOf('secretsmanager:CreateSecret') + 1,
      first('iam:CreateRole'), first('iot:CreateTopicRuleDestination'), first('iot:CreateTopicRule'),
    ])
    assert.ok(!sample.has(0), `every sampled operation is in the sequence: ${sequence.join(', ')}`)
    const cuts = process.env.ALL_CUTS ? sequence.map((_, i) => i + 1) : [...sample].sort((a, b) => a - b)
    for (const n of cuts) {
      await t.test(`SIGKILL after request ${n} of ${sequence.length} (${sequence[n - 1]})`, async () => {
        await emptyAccounts()
        const cut = await upCutAfter(n, 'SIGKILL')
        assert.equal(cut.signal, 'SIGKILL')
        // The ledger may miss the last creation (the kill can come before it is written), never more.
        const existing = new Set(keysOf(await inventory(aws, [network])))
        for (const record of keysOf(ledgerRecords(cwd, stack))) assert.ok(existing.has(record), `ledger names ${record}, which does not exist`)
        await resumeAndClean(n % 2 === 0 || Boolean(process.env.ALL_CUTS))
      })
    }
  })
})
