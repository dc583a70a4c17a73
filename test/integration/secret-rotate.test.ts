// `secret rotate` with alternating users on one local stack with its Kafka
// broker and rules engine: bad input (exit 2, no AWS request at all); a stack
// made with one secret upgraded by `rotate` (the second user added while the
// rule keeps reading the first, then switched); --if-older-than both ways;
// --notify-topic's event; and a rotation killed after each of its mutating
// requests, after which the rule still delivers and a second rotation completes.
// Every check of delivery is a message published on the IoT data plane read
// back from Kafka through the rule.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {BatchDisassociateScramSecretCommand, KafkaClient, ListClustersV2Command} from '@aws-sdk/client-kafka'
import {DeleteSecretCommand, GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {parseBootstrapServers, TopicReader} from '../../src/lib/msk/kafka-client.ts'
import {ScramCredentials} from '../../src/lib/secrets/credentials.ts'
import {binPath, jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

let aws: LocalAws
let cwd: string
let reader: TopicReader | undefined
let events: TopicReader | undefined
const stack = 'rsec'
const topic = 'rsec-data'
const cli = (args: string[], input?: string) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 120_000, ...(input === undefined ? {} : {input})})
const kafkaFlags = () => ['--bootstrap-server', aws.kafka!.bootstrap, '--ca', aws.kafka!.caFile]
/** Every value a secret held, for the scan of what the commands printed. */
const passwords = new Set<string>()
const printed: string[] = []

async function rotate(args: string[] = []) {
  const result = await cli(['secret', 'rotate', ...kafkaFlags(), ...args])
  printed.push(result.stdout, result.stderr)
  return result
}

function adminConnection() {
  const admin = aws.kafka!.admin
  return {brokers: parseBootstrapServers(aws.kafka!.bootstrap), credentials: new ScramCredentials(admin.username, admin.password), caFile: aws.kafka!.caFile}
}

before(async () => {
  aws = await startLocalAws({kafka: true})
  const network = await aws.createNetwork()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-rotate-'))
  writeStackConfig(cwd, stack, network, {rule: {name: 'rsec_data', kafkaTopic: topic, sql: 'SELECT * FROM \'device/+/data\''}})
  const up = await cli(['up', '--create-cluster'])
  assert.equal(up.code, 0, up.stderr)
  await aws.kafka!.createTopic('iotctl-rotations')
  reader = await TopicReader.open(adminConnection(), topic, {fromBeginning: false})
  events = await TopicReader.open(adminConnection(), 'iotctl-rotations', {fromBeginning: false})
})

after(async () => {
  await reader?.close()
  await events?.close()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

let published = 0
/** A message published on the IoT data plane reaches Kafka through the rule. */
async function assertDelivers(why: string): Promise<void> {
  const seq = ++published
  await aws.standIn.iotData.publish(aws.accounts.iot, aws.region, 'device/check/data', JSON.stringify({check: seq}))
  await aws.standIn.rules.idle()
  const deadline = Date.now() + 15_000
  for (;;) {
    const message = await reader!.next({deadline})
    assert.ok(message, `${why}: message ${seq} reached Kafka (rule errors: ${JSON.stringify(aws.standIn.rules.errors().slice(-1))})`)
    if (message.value && (JSON.parse(message.value) as {check?: number}).check === seq) return
  }
}

async function readPasswords(): Promise<void> {
  for (const role of ['msk', 'iot'] as const) {
    const sm = new SecretsManagerClient(aws.clientConfig(role))
    for (const name of [`AmazonMSK_${stack}`, `AmazonMSK_${stack}_b`]) {
      try {
        passwords.add((JSON.parse((await sm.send(new GetSecretValueCommand({SecretId: name}))).SecretString!) as {password: string}).password)
      } catch {
        // Deleted in the upgrade test.
      }
    }
    sm.destroy()
  }
}

describe('secret rotate: alternating users', () => {
  test('bad input: exit 2, one line naming it, and no AWS request at all', async (t) => {
    const cases: [string, string[], RegExp][] = [
      ['--if-older-than not a duration', ['--if-older-than', '30x'], /^iotctl: --if-older-than '30x': not a duration/],
      ['--if-older-than without a unit', ['--if-older-than', '30'], /^iotctl: --if-older-than '30': not a duration/],
      ['--wait not a duration', ['--wait', 'soon'], /^iotctl: --wait 'soon': not a duration/],
      ['--notify-topic with a space', ['--notify-topic', 'rotation events'], /^iotctl: --notify-topic 'rotation events': Kafka topic names allow/],
      ['--notify-topic with a substitution', ['--notify-topic', '${topic()}'], /^iotctl: --notify-topic '\$\{topic\(\)\}'/],
    ]
    for (const [name, args, message] of cases) {
      await t.test(name, async () => {
        aws.resetLog()
        const result = await rotate(args)
        assert.equal(result.code, 2, result.stderr)
        assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr)
        assert.match(result.stderr, message)
        assert.deepEqual(aws.log().map((r) => `${r.service}:${r.operation}`), [], 'no AWS request')
      })
    }
  })

  test('a stack made with one secret: rotate adds the second user while the rule reads the first, then switches (no outage)', async () => {
    // The one-secret stack of before: no alternate secret, no alternate association.
    const kafka = new KafkaClient(aws.clientConfig('msk'))
    const cluster = (await kafka.send(new ListClustersV2Command({}))).ClusterInfoList![0]
    for (const role of ['msk', 'iot'] as const) {
      const sm = new SecretsManagerClient(aws.clientConfig(role))
      const arn = (await sm.send(new GetSecretValueCommand({SecretId: `AmazonMSK_${stack}_b`}))).ARN!
      if (role === 'msk') await kafka.send(new BatchDisassociateScramSecretCommand({ClusterArn: cluster.ClusterArn, SecretArnList: [arn]}))
      await sm.send(new DeleteSecretCommand({SecretId: arn, ForceDeleteWithoutRecovery: true}))
      sm.destroy()
    }
    kafka.destroy()
    await assertDelivers('the one-secret stack')
    aws.resetLog()
    const dry = await rotate(['--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /would add the second SCRAM user \(alternating users\), while the rule kept reading AmazonMSK_rsec \(no outage\)/)
    assert.deepEqual(aws.mutatingRequests(), [])
    const result = await rotate(['--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    assert.ok(document.upgraded.some((line: string) => line.includes('create secret AmazonMSK_rsec_b')), document.upgraded.join('\n'))
    assert.ok(document.upgraded.some((line: string) => line.includes('associate AmazonMSK_rsec_b')), document.upgraded.join('\n'))
    assert.deepEqual(document.rule, {name: 'rsec_data', from: 'AmazonMSK_rsec', to: 'AmazonMSK_rsec_b'})
    // The rule's role had to be allowed the new secret before the switch.
    assert.ok(aws.mutatingRequests().map((r) => r.operation).includes('PutRolePolicy'))
    await assertDelivers('after the upgrade and the switch')
    await readPasswords()
  })

  test('--if-older-than: a young secret is left alone (exit 0, says so, changes nothing); an old enough one is rotated', async () => {
    aws.resetLog()
    const young = await rotate(['--if-older-than', '30d'])
    assert.equal(young.code, 0, young.stderr)
    assert.match(young.stdout, /^AmazonMSK_rsec_b was last changed \d+s ago \(\S+\), not older than 30d: not rotated$/m)
    assert.deepEqual(aws.mutatingRequests(), [])
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const old = await rotate(['--if-older-than', '1s', '--notify-topic', 'iotctl-rotations'])
    assert.equal(old.code, 0, old.stderr)
    assert.match(old.stdout, /^AmazonMSK_rsec_b was last changed \d+s ago, older than 1s: rotating$/m)
    assert.match(old.stdout, /^rule rsec_data: get_secret AmazonMSK_rsec_b → AmazonMSK_rsec \(ReplaceTopicRule\)$/m)
    assert.match(old.stdout, /^AmazonMSK_rsec_b stays valid until the next rotation/m)
    assert.match(old.stdout, /^rotation event produced to Kafka topic iotctl-rotations$/m)
    await assertDelivers('after switching back to the first user')
    await readPasswords()
  })

  test('--notify-topic: the event names the secret and versions, never a value', async () => {
    const message = await events!.next({deadline: Date.now() + 15_000})
    assert.ok(message?.value, 'an event on iotctl-rotations')
    const event = JSON.parse(message.value) as Record<string, unknown>
    assert.deepEqual(Object.keys(event).sort(), ['event', 'previousSecretName', 'rule', 'secretName', 'stack', 'time', 'versionIds'])
    assert.equal(event.secretName, 'AmazonMSK_rsec')
    assert.equal(event.previousSecretName, 'AmazonMSK_rsec_b')
    const sm = new SecretsManagerClient(aws.clientConfig('iot'))
    const current = await sm.send(new GetSecretValueCommand({SecretId: 'AmazonMSK_rsec'}))
    sm.destroy()
    assert.equal((event.versionIds as {iot: string}).iot, current.VersionId)
    for (const password of passwords) assert.ok(!message.value.includes(password), 'no password in the event')
  })

  test('killed after each of its mutating requests: the rule still delivers, and a second rotation completes', async (t) => {
    aws.resetLog()
    const whole = await rotate()
    assert.equal(whole.code, 0, whole.stderr)
    // The lease's own writes are the concurrent-runs suite's: the cuts are after the rotation's changes.
    const sequence = aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`)
    const cuts = sequence.map((operation, i) => ({operation, n: i + 1})).filter((c) => !c.operation.startsWith('dynamodb:'))
    assert.deepEqual(cuts.map((c) => c.operation), ['secretsmanager:PutSecretValue', 'secretsmanager:PutSecretValue', 'iot:ReplaceTopicRule'])
    for (const {operation, n} of cuts) {
      await t.test(`SIGKILL after request ${n} (${operation})`, async () => {
        aws.resetLog()
        aws.holdAfterMutating(n)
        const child = spawn(process.execPath, [binPath, 'secret', 'rotate', ...kafkaFlags()], {cwd, env: {...aws.childEnv(), NO_COLOR: '1'}, stdio: ['ignore', 'ignore', 'ignore']})
        const exited = new Promise((resolve) => child.on('close', resolve))
        try {
          await aws.waitForMutating(n, 60_000)
          child.kill('SIGKILL')
          await exited
        } finally {
          aws.release()
        }
        await assertDelivers(`after a rotation killed after ${operation}`)
        // The killed run's lease is taken over: its process is gone (README, "Concurrent runs").
        const again = await rotate()
        assert.equal(again.code, 0, again.stderr)
        await assertDelivers(`after the second rotation (cut after ${operation})`)
      })
    }
    await readPasswords()
  })

  test('--notify-topic to a topic that does not exist: the rotation is done, the event not, and it says so (exit 0)', async () => {
    const result = await rotate(['--notify-topic', 'no-such-topic'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^rule rsec_data: get_secret \S+ → \S+ \(ReplaceTopicRule\)$/m)
    assert.match(result.stdout, /^warning: the rotation event was not produced to Kafka topic no-such-topic: /m)
    await assertDelivers('after a rotation whose event failed')
    await readPasswords()
  })

  test('nothing printed holds a password', () => {
    assert.ok(passwords.size >= 4)
    for (const password of passwords) for (const text of printed) assert.ok(!text.includes(password), 'a password was printed')
  })
})
