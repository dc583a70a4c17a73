// `iotctl up` killed (SIGKILL, no chance to write anything more) right after
// AWS answered one of the IoT side's creating calls, then run again: it
// finishes, adopting what the killed run made, with no duplicate role,
// key-policy statement, destination or rule. The cut is made from outside:
// the stand-in holds every request after the chosen one until the kill.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {IAMClient, ListRolesCommand} from '@aws-sdk/client-iam'
import {IoTClient, ListTopicRuleDestinationsCommand, ListTopicRulesCommand} from '@aws-sdk/client-iot'
import {DescribeSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {GetKeyPolicyCommand, KMSClient} from '@aws-sdk/client-kms'
import {binPath, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let cwd: string
/** The mutating operations of a full `up` from an empty state, in order (the same every time from the same state). */
let sequence: string[]

const stack = 'resume'

async function freshNetwork(): Promise<void> {
  await aws.reset()
  const network = await aws.createNetwork()
  rmSync(join(cwd, '.iotctl'), {recursive: true, force: true})
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack,
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId},
  }))
}

/** Runs `up`, and kills it with SIGKILL once the n-th mutating request has been answered. */
async function upKilledAfter(n: number): Promise<void> {
  aws.resetLog()
  aws.holdAfterMutating(n)
  const child = spawn(process.execPath, [binPath, 'up', '--create-cluster'], {cwd, env: aws.childEnv(), stdio: 'ignore'})
  const exited = new Promise((resolve) => child.on('exit', resolve))
  await aws.waitForMutating(n, 120_000)
  child.kill('SIGKILL')
  await exited
  aws.release()
}

async function iotSide() {
  const config = aws.clientConfig('iot')
  const roles = ((await new IAMClient(config).send(new ListRolesCommand({}))).Roles ?? []).filter((r) => r.RoleName !== 'iotctl-admin')
  const destinations = (await new IoTClient(config).send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? []
  const rules = (await new IoTClient(config).send(new ListTopicRulesCommand({}))).rules ?? []
  const keyId = (await new SecretsManagerClient(config).send(new DescribeSecretCommand({SecretId: `AmazonMSK_${stack}`}))).KmsKeyId
  const statements = JSON.parse((await new KMSClient(config).send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy ?? '{}').Statement as {Sid?: string}[]
  return {
    roles: roles.map((r) => r.RoleName),
    destinations: destinations.map((d) => d.status),
    rules: rules.map((r) => `${r.ruleName} ${r.ruleDisabled ? 'disabled' : 'enabled'}`),
    keyUsers: statements.filter((s) => s.Sid === 'iotctlresumeZIotRuleRoleKeyUser').length,
  }
}

before(async () => {
  aws = await startLocalAws()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-resume-'))
  await freshNetwork()
  aws.resetLog()
  const full = await runCli(['up', '--create-cluster'], {cwd, env: aws.childEnv(), timeoutMs: 180_000})
  assert.equal(full.code, 0, full.stderr)
  sequence = aws.mutatingRequests().map((r) => r.operation)
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('up interrupted right after an IoT-side creation resumes without duplicates', () => {
  for (const operation of ['CreateRole', 'PutKeyPolicy', 'CreateTopicRuleDestination', 'CreateTopicRule']) {
    test(`killed after ${operation}`, async () => {
      // The last PutKeyPolicy of the run is the key-user statement (the keys' own come first).
      const n = operation === 'PutKeyPolicy' ? sequence.lastIndexOf(operation) + 1 : sequence.indexOf(operation) + 1
      assert.ok(n > 0, `${operation} is among ${sequence.join(', ')}`)
      await freshNetwork()
      await upKilledAfter(n)
      const again = await runCli(['up', '--create-cluster'], {cwd, env: aws.childEnv(), timeoutMs: 180_000})
      assert.equal(again.code, 0, again.stderr)
      assert.deepEqual(await iotSide(), {
        roles: [`iotctl-${stack}-iot-to-msk`],
        destinations: ['ENABLED'],
        rules: [`iotctl_${stack}_to_kafka enabled`],
        keyUsers: 1,
      })
      aws.resetLog()
      const third = await runCli(['up', '--create-cluster'], {cwd, env: aws.childEnv()})
      assert.equal(third.code, 0, third.stderr)
      assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [], 'converged: a further run changes nothing')
    })
  }
})
