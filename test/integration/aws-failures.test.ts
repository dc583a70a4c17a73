// AWS failing under `iotctl up` — throttling that outlasts the SDK's retries,
// AccessDenied, a 500 — injected by the stand-in at one step: exit 1, one line
// naming the step and AWS's error code (with --json: the error document with
// `code` and `step`), a ledger that names exactly what exists, and a second
// run, once AWS answers again, that converges to one of each. A throttle the
// SDK's retries absorb is no failure at all.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type Fault, type LocalAws, type Network} from '../support/local-aws/index.ts'
import {emptyAccounts as emptyStack} from '../support/stack-config.ts'
import {counts, inventory, keysOf, ledgerRecords, oneOfEach} from '../support/stack-inventory.ts'

const stack = 'faulty'
let aws: LocalAws
let network: Network
let cwd: string

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 120_000})

async function emptyAccounts(): Promise<void> {
  network = await emptyStack(aws, cwd, stack)
}

async function assertLedgerNamesWhatExists(): Promise<void> {
  assert.deepEqual(keysOf(ledgerRecords(cwd, stack)), keysOf(await inventory(aws, [network])), 'the ledger names exactly what exists')
}

/** Once AWS answers again, `up` finishes with one of each and a ledger naming them. */
async function rerunConverges(): Promise<void> {
  aws.clearFaults()
  const again = await cli(['up', '--create-cluster'])
  assert.equal(again.code, 0, again.stderr)
  assert.deepEqual(counts(await inventory(aws, [network])), oneOfEach)
  await assertLedgerNamesWhatExists()
}

before(async () => {
  aws = await startLocalAws({destinationActivationDelayMs: 0, clusterActivationDelayMs: 0})
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-faults-'))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('AWS failures during up: exit 1 naming the step and the code, the ledger consistent, a re-run converges', () => {
  // `times` outlasts the SDK's three attempts for retryable errors (throttling, 5xx).
  const failures: {name: string; fault: () => Fault; step: RegExp; code: string}[] = [
    {
      name: 'throttling that outlasts the retries, on the IoT key\'s alias (the key itself is made)',
      fault: () => ({service: 'kms', operation: 'CreateAlias', account: aws.accounts.iot, code: 'ThrottlingException', status: 400, message: 'Rate exceeded', times: 10}),
      step: /creating alias alias\/iotctl-faulty \(IoT account\)/,
      code: 'ThrottlingException',
    },
    {
      name: 'AccessDenied on the IoT role',
      fault: () => ({service: 'iam', operation: 'CreateRole', code: 'AccessDenied', status: 403, message: 'User: arn:aws:sts::222222222222:assumed-role/iotctl-admin/x is not authorized to perform: iam:CreateRole'}),
      step: /creating IAM role iotctl-faulty-iot-to-msk \(IoT account\)/,
      code: 'AccessDenied',
    },
    {
      name: 'a 500 from EC2 when the MSK account accepts the peering (the request is made)',
      fault: () => ({service: 'ec2', operation: 'AcceptVpcPeeringConnection', code: 'InternalError', status: 500, message: 'An internal error has occurred', times: 10}),
      step: /accepting the VPC peering \(MSK account\)/,
      code: 'InternalError',
    },
  ]

  for (const failure of failures) {
    test(failure.name, async () => {
      await emptyAccounts()
      aws.injectFault(failure.fault())
      const plain = await cli(['up', '--create-cluster'])
      assert.equal(plain.code, 1, plain.stderr)
      assert.equal(plain.stdout, '')
      const last = plain.stderr.trim().split('\n').at(-1) ?? ''
      assert.match(last, new RegExp(`^iotctl: ${failure.step.source}: ${failure.code}: `))
      await assertLedgerNamesWhatExists()

      // The same failure again, as a script sees it: the error document says the code and the step.
      aws.clearFaults()
      aws.injectFault(failure.fault())
      const json = await cli(['up', '--create-cluster', '--json'])
      assert.equal(json.code, 1, json.stderr)
      const {error} = jsonOf<{error: {exitCode: number; code: string; step: string; message: string}}>(json)
      assert.equal(error.exitCode, 1)
      assert.equal(error.code, failure.code)
      assert.match(error.step, failure.step)
      await assertLedgerNamesWhatExists()

      await rerunConverges()
    })
  }

  test('throttling the SDK\'s retries absorb is no failure', async () => {
    await emptyAccounts()
    aws.injectFault({service: 'iot', operation: 'CreateTopicRule', code: 'ThrottlingException', status: 400, message: 'Rate exceeded', times: 2})
    const result = await cli(['up', '--create-cluster'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(aws.log().filter((e) => e.by === 'fault').length, 2)
    assert.deepEqual(counts(await inventory(aws, [network])), oneOfEach)
    await assertLedgerNamesWhatExists()
  })
})
