// Issue 16, the locked-down cluster in stages, with the built CLI against the
// local AWS and its real Kafka broker (SASL/SCRAM): `up --create-cluster` makes
// an OPEN cluster (MSK's default, allow.everyone.if.no.acl.found=true);
// `msk acl --lock-down --dry-run` says what it would do and sends no mutating
// request; `msk acl --lock-down` grants the ACLs (the stack's user's on the
// cluster included) and only then applies an MSK configuration with
// allow.everyone.if.no.acl.found=false (UpdateClusterConfiguration), after which
// the rule's user still produces, a device's message reaches Kafka through the
// rule, a granted consumer reads and a user without ACLs is refused; a second
// run changes nothing; bad input exits 2 before any request; cleanup
// --include-cluster deletes the configuration after the cluster and the broker
// is open again.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {DescribeClusterV2Command, DescribeConfigurationRevisionCommand, KafkaClient, ListClustersV2Command, ListConfigurationsCommand} from '@aws-sdk/client-kafka'
import {GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {Consumer, MessagesStreamModes, Producer, stringDeserializers, stringSerializers} from '@platformatic/kafka'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

let aws: LocalAws
let cwd: string
let mskApi: KafkaClient
let secrets: SecretsManagerClient
const stack = 'acl'
const readerPassword = 'reader-password-1'
const strangerPassword = 'stranger-password-1'
const cli = (args: string[], timeoutMs = 180_000) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs})
const kafkaFlags = () => ['--bootstrap-server', aws.kafka!.bootstrap, '--ca', aws.kafka!.caFile]

before(async () => {
  // A cluster delay of a few seconds: UpdateClusterConfiguration's UPDATING is seen and waited for.
  aws = await startLocalAws({kafka: true, clusterActivationDelayMs: 3000, destinationActivationDelayMs: 0})
  const network = await aws.createNetwork()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-acl-'))
  writeStackConfig(cwd, stack, network, {rule: {name: 'acl_device_data', kafkaTopic: 'device-data', errorTopic: 'iotctl/errors'}})
  mskApi = new KafkaClient(aws.clientConfig('msk'))
  secrets = new SecretsManagerClient(aws.clientConfig('msk'))
})

after(async () => {
  mskApi?.destroy()
  secrets?.destroy()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

/** The rule's SCRAM credentials, as the stack's secret holds them. */
async function stackUser(): Promise<{username: string; password: string}> {
  const value = await secrets.send(new GetSecretValueCommand({SecretId: `AmazonMSK_${stack}`}))
  return JSON.parse(value.SecretString!)
}

function errorText(error: unknown): string {
  const e = error as {message?: string; errors?: unknown[]; cause?: unknown}
  return [e.message, ...(e.errors ?? []).map(errorText), ...(e.cause ? [errorText(e.cause)] : [])].filter(Boolean).join(' / ')
}

async function produce(user: {username: string; password: string}, topic: string, value: string): Promise<void> {
  const producer = new Producer({clientId: `acl-test-${user.username}`, ...aws.kafka!.clientOptions(user.username, user.password), serializers: stringSerializers, retries: 0})
  try {
    await producer.send({messages: [{topic, value}]})
  } finally {
    await producer.close()
  }
}

/** The first message of the topic that `accept` takes, read from the beginning with the consumer group. */
async function consumeFirst(user: {username: string; password: string}, group: string, accept: (value: string) => boolean): Promise<string> {
  const consumer = new Consumer({clientId: `acl-test-${user.username}`, groupId: group, ...aws.kafka!.clientOptions(user.username, user.password), deserializers: stringDeserializers, retries: 5, retryDelay: 500})
  try {
    const stream = await consumer.consume({topics: ['device-data'], mode: MessagesStreamModes.EARLIEST, maxWaitTime: 200})
    try {
      return await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 30 s')), 30_000)
        stream.on('data', (message) => {
          if (!accept(message.value)) return
          clearTimeout(timer)
          resolve(message.value)
        })
        stream.once('error', (error) => {
          clearTimeout(timer)
          reject(error)
        })
      })
    } finally {
      await stream.close().catch(() => undefined)
    }
  } finally {
    await consumer.close(true)
  }
}

const refusedForAuthorization = (error: unknown): boolean => {
  assert.match(errorText(error), /AUTHORIZATION_FAILED|not authorized|authoriz/i)
  return true
}

async function clusterInfo() {
  const clusterArn = (await mskApi.send(new ListClustersV2Command({}))).ClusterInfoList![0].ClusterArn!
  return (await mskApi.send(new DescribeClusterV2Command({ClusterArn: clusterArn}))).ClusterInfo!
}

const stranger = {username: 'stranger', password: strangerPassword}
const reader = {username: 'reader', password: readerPassword}
interface Row {user: string; resource: string; name: string; operation: string; state: string}
const rows = (doc: {grants: Row[]}) => doc.grants.map((g) => [g.user, g.resource, g.name, g.operation, g.state])

describe('a cluster locked down in stages: ACLs first, then the lock', () => {
  test('up --create-cluster makes an open cluster: no MSK configuration, and a user without ACLs produces', async () => {
    const up = await cli(['up', '--create-cluster'])
    assert.equal(up.code, 0, up.stderr)
    assert.deepEqual((await mskApi.send(new ListConfigurationsCommand({}))).Configurations, [])
    assert.ok(!(await clusterInfo()).Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn, 'MSK\'s default configuration')
    await aws.kafka!.upsertScramUser('reader', readerPassword)
    await aws.kafka!.upsertScramUser('stranger', strangerPassword)
    await produce(stranger, 'device-data', '{"by":"a stranger, while open"}')
  })

  test('bad input exits 2 naming the flag, before any request', async (t) => {
    const cases: [string, string[], RegExp][] = [
      ['a topic name Kafka refuses', ['--topic', 'bad topic'], /^iotctl: --topic 'bad topic'/m],
      ['a topic template', ['--topic', 'd-${topic(2)}'], /--topic 'd-\$\{topic\(2\)\}': the topic is a substitution template/],
      ['a user name with a space', ['--consumer', 'bad user', '--lock-down'], /--consumer 'bad user'/],
      ['a user name with a comma', ['--consumer', 'a,b'], /--consumer 'a,b'/],
      ['a wildcard group', ['--consumer', 'reader', '--group', 'readers*'], /--group 'readers\*'/],
      ['a group without a consumer', ['--group', 'readers'], /--consumer/],
      ['brokers that are not host:port', ['--bootstrap-server', 'nohost', '--lock-down'], /--bootstrap-server 'nohost'/],
    ]
    for (const [name, args, expected] of cases) {
      await t.test(name, async () => {
        aws.resetLog()
        const result = await cli(['msk', 'acl', ...args])
        assert.equal(result.code, 2, result.stderr)
        assert.match(result.stderr, expected)
        assert.deepEqual(aws.log().map((r) => r.operation), [], 'no AWS request')
      })
    }
  })

  test('msk acl --lock-down --dry-run says what it would do, in order, and sends no mutating request', async () => {
    const user = await stackUser()
    aws.resetLog()
    const dry = await cli(['msk', 'acl', '--lock-down', '--dry-run', '--consumer', 'reader', '--group', 'readers', ...kafkaFlags()])
    assert.equal(dry.code, 0, dry.stderr)
    assert.deepEqual(aws.mutatingRequests(), [])
    // The topic grants for both SCRAM users of the stack (alternating users), the consumer's, the managing user's on the cluster.
    assert.equal(dry.stdout.match(/^would grant /gm)?.length, 12)
    assert.match(dry.stdout, new RegExp(`^would grant +User:${user.username} Alter on cluster kafka-cluster \\(admin\\)$`, 'm'))
    assert.doesNotMatch(dry.stdout, /ClusterAction/)
    const lines = dry.stdout.split('\n')
    const createAt = lines.indexOf('would create MSK configuration iotctl-acl-acls (allow.everyone.if.no.acl.found=false)')
    const applyAt = lines.findIndex((l) => l.startsWith('would apply iotctl-acl-acls to cluster iotctl-acl (UpdateClusterConfiguration)'))
    assert.ok(createAt > 0 && applyAt > createAt && lines.findLastIndex((l) => l.startsWith('would grant ')) < createAt, dry.stdout)
    // Nothing changed: still open, no configuration.
    await produce(stranger, 'device-data', '{"by":"a stranger, after the dry run"}')
    assert.deepEqual((await mskApi.send(new ListConfigurationsCommand({}))).Configurations, [])
  })

  test('msk acl --lock-down, as the stack\'s own user: grants, then creates and applies the configuration, waiting for ACTIVE', async () => {
    const user = await stackUser()
    aws.resetLog()
    const locked = await cli(['msk', 'acl', '--lock-down', '--consumer', 'reader', '--group', 'readers', '--json', ...kafkaFlags()])
    assert.equal(locked.code, 0, locked.stderr)
    const doc = jsonOf(locked)
    assert.deepEqual(rows(doc), [
      [user.username, 'topic', 'device-data', 'Write', 'added'],
      [user.username, 'topic', 'device-data', 'Describe', 'added'],
      // The stack's second SCRAM user (alternating users), so a rotation can switch the rule to it.
      [`${user.username}_b`, 'topic', 'device-data', 'Write', 'added'],
      [`${user.username}_b`, 'topic', 'device-data', 'Describe', 'added'],
      ['reader', 'topic', 'device-data', 'Read', 'added'],
      ['reader', 'topic', 'device-data', 'Describe', 'added'],
      ['reader', 'group', 'readers', 'Read', 'added'],
      ...['Alter', 'Describe', 'Create', 'AlterConfigs', 'DescribeConfigs'].map((op) => [user.username, 'cluster', 'kafka-cluster', op, 'added']),
    ])
    assert.equal(doc.lockDown.state, 'applied')
    assert.match(locked.stderr, /waiting for cluster iotctl-acl to apply configuration iotctl-acl-acls/)
    // MSK's side (besides the stack's lease in DynamoDB): the configuration, then the update.
    assert.deepEqual(aws.mutatingRequests().filter((r) => r.service === 'kafka').map((r) => r.operation), ['CreateConfiguration', 'UpdateClusterConfiguration'])

    const cluster = await clusterInfo()
    assert.equal(cluster.State, 'ACTIVE')
    const software = cluster.Provisioned?.CurrentBrokerSoftwareInfo
    assert.equal(software?.ConfigurationArn, doc.lockDown.configuration.arn)
    const revision = await mskApi.send(new DescribeConfigurationRevisionCommand({Arn: software!.ConfigurationArn!, Revision: software!.ConfigurationRevision!}))
    assert.equal(new TextDecoder().decode(revision.ServerProperties), 'allow.everyone.if.no.acl.found=false\n')
    for (const output of [locked.stdout, locked.stderr]) assert.ok(!output.includes(user.password), 'no password printed')
  })

  test('locked: the rule\'s user produces, a device\'s message reaches Kafka through the rule, the granted consumer reads it; a user without ACLs is refused', async () => {
    const user = await stackUser()
    await produce(user, 'device-data', '{"by":"the rule user"}')
    const device = await cli(['device', 'create', 'dev1'])
    assert.equal(device.code, 0, device.stderr)
    aws.standIn.rules.clearErrors()
    const published = await cli(['mqtt', 'publish', '--cert', 'dev1.cert.pem', '--key', 'dev1.private.key', '--topic', 'device/dev1/data', '--message', '{"temperature": 22.5}'])
    assert.equal(published.code, 0, published.stderr)
    await aws.standIn.rules.idle()
    assert.deepEqual(aws.standIn.rules.errors().map((e) => e.errorMessage), [], 'the rule delivered')
    const value = await consumeFirst(reader, 'readers', (v) => v.includes('dev1'))
    assert.deepEqual(JSON.parse(value), {device_id: 'dev1', temperature: 22.5})
    await assert.rejects(consumeFirst(stranger, 'strangers', () => true), refusedForAuthorization)
    await assert.rejects(produce(stranger, 'device-data', 'x'), refusedForAuthorization)

    const doctor = await cli(['doctor', '--probe', '--probe-wait', '5', '--json', '--bootstrap-server', aws.kafka!.bootstrap, '--kafka-ca', aws.kafka!.caFile])
    const check = jsonOf(doctor).checks.find((c: {id: string}) => c.id === 'kafka-acl')
    assert.equal(check?.status, 'pass', JSON.stringify(check))
  })

  test('a second msk acl --lock-down changes nothing: every ACL already there, the cluster already on the configuration', async () => {
    aws.resetLog()
    const again = await cli(['msk', 'acl', '--lock-down', '--consumer', 'reader', '--group', 'readers', ...kafkaFlags()])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(again.stdout.match(/^already there /gm)?.length, 12)
    assert.match(again.stdout, /^cluster iotctl-acl is already locked down \(configuration iotctl-acl-acls revision 1\): nothing to change$/m)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('cleanup --include-cluster deletes the configuration after the cluster, and the broker is open again', async () => {
    const result = await cli(['cleanup', '--yes', '--include-cluster'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((await mskApi.send(new ListConfigurationsCommand({}))).Configurations, [])
    await aws.kafka!.createTopic('open-topic')
    await produce(stranger, 'open-topic', 'open again')
  })
})
