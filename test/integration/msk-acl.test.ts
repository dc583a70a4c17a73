// Issue 16, the locked-down cluster, with the built CLI against the local AWS
// and its real Kafka broker: `up --create-cluster` gives the cluster an MSK
// configuration with allow.everyone.if.no.acl.found=false and the broker then
// refuses the rule's user; `doctor --probe` names the missing ACL; `msk acl`
// grants (a --dry-run first changes nothing, a second run changes nothing),
// after which the rule's user produces, a device's message reaches Kafka and a
// consumer granted Read reads it while a user without ACLs still cannot; bad
// input exits 2 before any request; cleanup --include-cluster deletes the
// configuration and the broker is open again.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {DescribeClusterV2Command, DescribeConfigurationRevisionCommand, KafkaClient, ListClustersV2Command, ListConfigurationsCommand} from '@aws-sdk/client-kafka'
import {CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
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
const adminFlags = () => ['--admin-secret', 'AmazonMSK_admin', ...kafkaFlags()]

before(async () => {
  aws = await startLocalAws({kafka: true, clusterActivationDelayMs: 0, destinationActivationDelayMs: 0})
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

describe('a locked-down cluster', () => {
  test('up --create-cluster --dry-run shows the configuration and changes nothing; up makes the cluster with it', async () => {
    aws.resetLog()
    const dry = await cli(['up', '--create-cluster', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout + dry.stderr, /create MSK configuration iotctl-acl-acls \(allow\.everyone\.if\.no\.acl\.found=false/)
    assert.deepEqual(aws.mutatingRequests(), [])

    const up = await cli(['up', '--create-cluster'])
    assert.equal(up.code, 0, up.stderr)
    const configurations = (await mskApi.send(new ListConfigurationsCommand({}))).Configurations ?? []
    assert.deepEqual(configurations.map((c) => c.Name), ['iotctl-acl-acls'])
    const clusterArn = (await mskApi.send(new ListClustersV2Command({}))).ClusterInfoList![0].ClusterArn!
    const software = (await mskApi.send(new DescribeClusterV2Command({ClusterArn: clusterArn}))).ClusterInfo?.Provisioned?.CurrentBrokerSoftwareInfo
    assert.equal(software?.ConfigurationArn, configurations[0].Arn)
    const revision = await mskApi.send(new DescribeConfigurationRevisionCommand({Arn: software!.ConfigurationArn!, Revision: software!.ConfigurationRevision!}))
    assert.equal(new TextDecoder().decode(revision.ServerProperties), 'allow.everyone.if.no.acl.found=false\n')
  })

  test('the broker refuses the rule\'s user, which has no Write; doctor --probe names the missing ACL and the fix', async () => {
    const user = await stackUser()
    await assert.rejects(produce(user, 'device-data', '{"by":"the rule user"}'), refusedForAuthorization)
    const doctor = await cli(['doctor', '--probe', '--probe-wait', '5', '--json', '--bootstrap-server', aws.kafka!.bootstrap, '--kafka-ca', aws.kafka!.caFile])
    assert.equal(doctor.code, 1)
    const check = jsonOf(doctor).checks.find((c: {id: string}) => c.id === 'kafka-acl')
    assert.equal(check?.status, 'fail', JSON.stringify(check))
    assert.match(check.detail, new RegExp(`User:${user.username}.*Write and Describe on topic 'device-data'`))
    assert.match(check.hint, /iotctl msk acl/)
    // The probe went through the rule, which the broker refused as the Java producer behind AWS's Kafka action reports it.
    await aws.standIn.rules.idle()
    assert.match(aws.standIn.rules.errors().map((e) => e.errorMessage).join('\n'), /TopicAuthorizationException: Not authorized to access topics: \[device-data\]/)
  })

  test('bad input exits 2 naming the flag, before any request', async (t) => {
    const cases: [string, string[], RegExp][] = [
      ['a topic name Kafka refuses', ['--topic', 'bad topic'], /^iotctl: --topic 'bad topic'/m],
      ['a topic template', ['--topic', 'd-${topic(2)}'], /--topic 'd-\$\{topic\(2\)\}': the topic is a substitution template/],
      ['a user name with a space', ['--consumer', 'bad user'], /--consumer 'bad user'/],
      ['a user name with a comma', ['--consumer', 'a,b'], /--consumer 'a,b'/],
      ['a wildcard group', ['--consumer', 'reader', '--group', 'readers*'], /--group 'readers\*'/],
      ['a group without a consumer', ['--group', 'readers'], /--consumer/],
      ['brokers that are not host:port', ['--bootstrap-server', 'nohost'], /--bootstrap-server 'nohost'/],
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

  test('the stack\'s own user may not manage ACLs on a locked-down cluster: exit 1 pointing at --admin-secret', async () => {
    const result = await cli(['msk', 'acl', ...kafkaFlags()])
    assert.equal(result.code, 1)
    assert.match(result.stderr, /not allowed to administer ACLs.*--admin-secret/)
  })

  test('msk acl --dry-run reads and changes nothing; msk acl grants the producer and the consumer; a second run changes nothing', async () => {
    // The broker's super user, as an AmazonMSK_ secret of the MSK account (an admin SCRAM user on MSK).
    await secrets.send(new CreateSecretCommand({Name: 'AmazonMSK_admin', SecretString: JSON.stringify(aws.kafka!.admin)}))
    await aws.kafka!.upsertScramUser('reader', readerPassword)
    await aws.kafka!.upsertScramUser('stranger', strangerPassword)
    const user = await stackUser()
    const consumerFlags = ['--consumer', 'reader', '--group', 'readers']

    const dry = await cli(['msk', 'acl', ...adminFlags(), ...consumerFlags, '--dry-run', '--json'])
    assert.equal(dry.code, 0, dry.stderr)
    const planned = jsonOf(dry)
    assert.equal(planned.changed, false)
    const expected = [
      [user.username, 'topic', 'device-data', 'Write'],
      [user.username, 'topic', 'device-data', 'Describe'],
      ['reader', 'topic', 'device-data', 'Read'],
      ['reader', 'topic', 'device-data', 'Describe'],
      ['reader', 'group', 'readers', 'Read'],
    ]
    const rows = (doc: {grants: {user: string; resource: string; name: string; operation: string; state: string}[]}) => doc.grants.map((g) => [g.user, g.resource, g.name, g.operation, g.state])
    assert.deepEqual(rows(planned), expected.map((row) => [...row, 'missing']))
    await assert.rejects(produce(user, 'device-data', '{"by":"still refused"}'), refusedForAuthorization)

    const granted = await cli(['msk', 'acl', ...adminFlags(), ...consumerFlags, '--json'])
    assert.equal(granted.code, 0, granted.stderr)
    assert.equal(jsonOf(granted).changed, true)
    assert.deepEqual(rows(jsonOf(granted)), expected.map((row) => [...row, 'added']))

    const again = await cli(['msk', 'acl', ...adminFlags(), ...consumerFlags])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /^nothing to change on localhost:\d+: every ACL is in place$/m)
    assert.equal(again.stdout.match(/^already there /gm)?.length, 5)
    for (const output of [dry, granted, again].flatMap((r) => [r.stdout, r.stderr])) {
      assert.ok(!output.includes(aws.kafka!.admin.password) && !output.includes(user.password) && !output.includes(readerPassword), 'no password printed')
    }
  })

  test('now the rule\'s user produces, a device\'s message reaches Kafka through the rule, the consumer granted Read reads it; a user without ACLs cannot', async () => {
    const user = await stackUser()
    await produce(user, 'device-data', '{"by":"the rule user"}')
    const device = await cli(['device', 'create', 'dev1'])
    assert.equal(device.code, 0, device.stderr)
    aws.standIn.rules.clearErrors()
    const published = await cli(['mqtt', 'publish', '--cert', 'dev1.cert.pem', '--key', 'dev1.private.key', '--topic', 'device/dev1/data', '--message', '{"temperature": 22.5}'])
    assert.equal(published.code, 0, published.stderr)
    await aws.standIn.rules.idle()
    assert.deepEqual(aws.standIn.rules.errors().map((e) => e.errorMessage), [], 'the rule delivered')
    const value = await consumeFirst({username: 'reader', password: readerPassword}, 'readers', (v) => v.includes('dev1'))
    assert.deepEqual(JSON.parse(value), {device_id: 'dev1', temperature: 22.5})
    await assert.rejects(consumeFirst({username: 'stranger', password: strangerPassword}, 'strangers', () => true), refusedForAuthorization)
    await assert.rejects(produce({username: 'stranger', password: strangerPassword}, 'device-data', 'x'), refusedForAuthorization)

    const doctor = await cli(['doctor', '--probe', '--probe-wait', '5', '--json', '--bootstrap-server', aws.kafka!.bootstrap, '--kafka-ca', aws.kafka!.caFile])
    const check = jsonOf(doctor).checks.find((c: {id: string}) => c.id === 'kafka-acl')
    assert.equal(check?.status, 'pass', JSON.stringify(check))
    assert.match(check.detail, /may .*Write.* on topic 'device-data'/)
  })

  test('cleanup --include-cluster deletes the configuration after the cluster, and the broker is open again', async () => {
    const result = await cli(['cleanup', '--yes', '--include-cluster'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((await mskApi.send(new ListConfigurationsCommand({}))).Configurations, [])
    await aws.kafka!.createTopic('open-topic')
    await produce({username: 'stranger', password: strangerPassword}, 'open-topic', 'open again')
  })
})
