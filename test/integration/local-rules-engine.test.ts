// The local AWS's rules engine carries a device's message to Kafka as AWS IoT
// does — rewritten by the rule's SQL, through an ENABLED VPC destination, with
// SCRAM credentials read by get_secret as the rule's role — and, when delivery
// fails, republishes AWS's error document naming the cause: a missing topic,
// refused authentication, a role that may not read the secret.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'
import {CreateRoleCommand, IAMClient, PutRolePolicyCommand} from '@aws-sdk/client-iam'
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateTopicRuleCommand,
  CreateTopicRuleDestinationCommand,
  DisableTopicRuleCommand,
  EnableTopicRuleCommand,
  GetTopicRuleDestinationCommand,
  IoTClient,
  UpdateTopicRuleDestinationCommand,
  type TopicRulePayload,
} from '@aws-sdk/client-iot'
import {CreateKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {BatchDisassociateScramSecretCommand, GetBootstrapBrokersCommand} from '@aws-sdk/client-kafka'
import {Consumer, stringDeserializers} from '@platformatic/kafka'
import mqtt, {type MqttClient} from 'mqtt'
import type {LocalKafka} from '../support/kafka/index.ts'
import {createScramCluster, type ScramCluster} from '../support/kafka/msk-cluster.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let kafka: LocalKafka
let cluster: ScramCluster
let mskSecretArn: string
let bootstrap: string
let iot: IoTClient
let destinationArn: string
let readerRole: string
let blindRole: string
let device: MqttClient
let watcher: MqttClient
const account = () => aws.accounts.iot
const republished: {topic: string; payload: Buffer}[] = []
const scram = {username: 'iot-rules', password: 'pw-for-the-rules-engine-0123456789'}

/** What the device dev1 publishes, over MQTT with mutual TLS, to the local IoT data plane. */
async function publish(topic: string, payload: unknown): Promise<void> {
  await device.publishAsync(topic, JSON.stringify(payload), {qos: 1})
}

/** A client with a certificate from CreateKeysAndCertificate, allowed everything by its IoT policy. */
async function connect(clientId: string, certificate: {certificatePem?: string; keyPair?: {PrivateKey?: string}}): Promise<MqttClient> {
  return mqtt.connectAsync(`mqtts://${aws.iotData.host}:${aws.iotData.port}`, {
    clientId,
    cert: certificate.certificatePem,
    key: certificate.keyPair!.PrivateKey,
    ca: readFileSync(aws.iotData.caFile),
    reconnectPeriod: 0,
  })
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function rule(name: string, filter: string, kafkaTopic: string, roleArn: string): TopicRulePayload {
  const secret = (key: string) => `\${get_secret('AmazonMSK_rules', 'SecretString', '${key}', '${roleArn}')}`
  return {
    sql: `SELECT topic(2) AS device_id, temperature, clientid() AS client FROM '${filter}' WHERE temperature > 0`,
    awsIotSqlVersion: '2016-03-23',
    ruleDisabled: false,
    actions: [
      {
        kafka: {
          destinationArn,
          topic: kafkaTopic,
          key: '${topic(2)}',
          headers: [{key: 'source', value: 'iot-${clientid()}'}],
          clientProperties: {
            'bootstrap.servers': bootstrap,
            'security.protocol': 'SASL_SSL',
            'sasl.mechanism': 'SCRAM-SHA-512',
            'sasl.scram.username': secret('username'),
            'sasl.scram.password': secret('password'),
          },
        },
      },
    ],
    errorAction: {republish: {roleArn, topic: `errors/${name}`, qos: 0}},
  }
}

async function errorDocument(name: string): Promise<{ruleName: string; topic: string; clientId: string; base64OriginalPayload: string; cloudwatchTraceId: string; failures: {failedAction: string; failedResource: string; errorMessage: string}[]}> {
  const message = await eventually(() => republished.find((m) => m.topic === `errors/${name}`), `the error action of ${name}`)
  return JSON.parse(message.payload.toString())
}

before(async () => {
  aws = await startLocalAws({kafka: true, destinationActivationDelayMs: 0, clusterActivationDelayMs: 0})
  kafka = aws.kafka!
  // The MSK account's cluster, its SCRAM secret associated: the broker knows the user.
  cluster = await createScramCluster(aws, 'telemetry')
  mskSecretArn = await cluster.createSecret('rules', scram.username, scram.password)
  await cluster.associate(mskSecretArn)
  bootstrap = (await cluster.kafka.send(new GetBootstrapBrokersCommand({ClusterArn: cluster.clusterArn}))).BootstrapBrokerStringSaslScram!
  assert.match(bootstrap, /^b-1\..*\.kafka\.us-east-1\.amazonaws\.com:9096,/)

  iot = new IoTClient(aws.clientConfig('iot'))
  const iam = new IAMClient(aws.clientConfig('iot'))
  const kms = new KMSClient(aws.clientConfig('iot'))
  const secrets = new SecretsManagerClient(aws.clientConfig('iot'))
  const network = await aws.createNetwork()
  const key = await kms.send(new CreateKeyCommand({Description: 'rules secret key'}))
  const secret = await secrets.send(new CreateSecretCommand({Name: 'AmazonMSK_rules', KmsKeyId: key.KeyMetadata!.Arn, SecretString: JSON.stringify(scram)}))
  const trust = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole'}]})
  const ec2 = {Effect: 'Allow', Action: ['ec2:*'], Resource: '*'}
  const publishErrors = {Effect: 'Allow', Action: 'iot:Publish', Resource: [`arn:aws:iot:${aws.region}:${account()}:topic/errors/*`, `arn:aws:iot:${aws.region}:${account()}:topic/echo/out/*`]}
  const roles: [string, unknown[]][] = [
    ['rules-reader', [ec2, publishErrors, {Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secret.ARN}, {Effect: 'Allow', Action: 'kms:Decrypt', Resource: key.KeyMetadata!.Arn}]],
    ['rules-blind', [ec2, publishErrors]],
  ]
  ;[readerRole, blindRole] = await Promise.all(
    roles.map(async ([name, statements]) => {
      const arn = (await iam.send(new CreateRoleCommand({RoleName: name, AssumeRolePolicyDocument: trust}))).Role!.Arn!
      await iam.send(new PutRolePolicyCommand({RoleName: name, PolicyName: 'rules', PolicyDocument: JSON.stringify({Version: '2012-10-17', Statement: statements})}))
      return arn
    }),
  )
  const created = await iot.send(
    new CreateTopicRuleDestinationCommand({
      destinationConfiguration: {vpcConfiguration: {vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroups: [network.iot.securityGroupId], roleArn: readerRole}},
    }),
  )
  destinationArn = created.topicRuleDestination!.arn!

  const everything = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: ['iot:Connect', 'iot:Publish', 'iot:Subscribe', 'iot:Receive'], Resource: '*'}]})
  await iot.send(new CreatePolicyCommand({policyName: 'rules-test-devices', policyDocument: everything}))
  const [deviceCert, watcherCert] = await Promise.all([1, 2].map(() => iot.send(new CreateKeysAndCertificateCommand({setAsActive: true}))))
  for (const cert of [deviceCert, watcherCert]) await iot.send(new AttachPolicyCommand({policyName: 'rules-test-devices', target: cert.certificateArn}))
  ;[device, watcher] = await Promise.all([connect('dev1', deviceCert), connect('watcher', watcherCert)])
  watcher.on('message', (topic, payload) => republished.push({topic, payload}))
  await watcher.subscribeAsync(['errors/#', 'echo/#'], {qos: 1})
  await eventually(async () => ((await iot.send(new GetTopicRuleDestinationCommand({arn: destinationArn}))).topicRuleDestination?.status === 'ENABLED' ? true : undefined), 'the destination to be ENABLED')
  for (const client of [iam, kms, secrets]) client.destroy()
})

after(async () => {
  await Promise.allSettled([device?.endAsync(), watcher?.endAsync()])
  iot?.destroy()
  cluster?.destroy()
  await aws?.stop()
})

describe('the rules engine delivers to Kafka', () => {
  test('a device message arrives in Kafka rewritten by the rule, keyed and with headers', async () => {
    await kafka.createTopic('telemetry', {partitions: 1, replicationFactor: 1})
    await iot.send(new CreateTopicRuleCommand({ruleName: 'to_kafka', topicRulePayload: rule('to_kafka', 'device/+/data', 'telemetry', readerRole)}))
    await publish('device/dev1/data', {temperature: -3})
    await publish('device/dev2/other', {temperature: 99})
    await publish('device/dev1/data', {temperature: 21.5, humidity: 40})

    const consumer = new Consumer({...kafka.clientOptions(), clientId: 'rules-test', groupId: `rules-test-${Date.now()}`, deserializers: stringDeserializers})
    try {
      const stream = await consumer.consume({topics: ['telemetry'], mode: 'earliest'})
      const seen: {key: string; value: string; headers: Record<string, string>}[] = []
      for await (const message of stream) {
        seen.push({key: message.key, value: message.value, headers: Object.fromEntries(message.headers)})
        break
      }
      await stream.close()
      assert.deepEqual(seen, [{key: 'dev1', value: JSON.stringify({device_id: 'dev1', temperature: 21.5, client: 'dev1'}), headers: {source: 'iot-dev1'}}])
    } finally {
      await consumer.close(true)
    }
    await aws.standIn.rules.idle()
    assert.deepEqual(aws.standIn.rules.errors(), [])
  })
})

describe('republish, and rules switched off and on', () => {
  test('a republish action sends the SQL output on; a disabled rule does nothing until enabled again', async () => {
    const sql = "SELECT upper(state) AS state, topic(3) AS device FROM 'echo/in/+'"
    await iot.send(new CreateTopicRuleCommand({ruleName: 'echo', topicRulePayload: {sql, actions: [{republish: {roleArn: readerRole, topic: 'echo/out/${topic(3)}', qos: 1}}]}}))
    const echoes = () => republished.filter((m) => m.topic.startsWith('echo/out/')).map((m) => `${m.topic} ${m.payload.toString()}`)
    await publish('echo/in/dev1', {state: 'on'})
    await eventually(() => (echoes().length === 1 ? true : undefined), 'the first echo')
    await iot.send(new DisableTopicRuleCommand({ruleName: 'echo'}))
    await publish('echo/in/dev1', {state: 'off'})
    await iot.send(new EnableTopicRuleCommand({ruleName: 'echo'}))
    await publish('echo/in/dev2', {state: 'again'})
    await eventually(() => (echoes().length === 2 ? true : undefined), 'the echo after enabling')
    assert.deepEqual(echoes(), ['echo/out/dev1 {"state":"ON","device":"dev1"}', 'echo/out/dev2 {"state":"AGAIN","device":"dev2"}'])
  })
})

describe('the error action reports why delivery failed', () => {
  test('a Kafka topic that does not exist: the error document names the topic', async () => {
    await iot.send(new CreateTopicRuleCommand({ruleName: 'no_topic', topicRulePayload: rule('no_topic', 'missing/+/data', 'not-created', readerRole)}))
    const payload = {temperature: 20}
    await publish('missing/dev7/data', payload)
    const document = await errorDocument('no_topic')
    assert.equal(document.ruleName, 'no_topic')
    assert.equal(document.topic, 'missing/dev7/data')
    assert.equal(document.clientId, 'dev1')
    assert.deepEqual(JSON.parse(Buffer.from(document.base64OriginalPayload, 'base64').toString()), payload)
    assert.match(document.cloudwatchTraceId, /^[0-9a-f-]{36}$/)
    assert.equal(document.failures.length, 1)
    assert.equal(document.failures[0].failedAction, 'KafkaAction')
    assert.match(document.failures[0].errorMessage, /Topic not-created not present in metadata/)
  })

  test('the secret disassociated from the cluster: the error document names authentication', async () => {
    await kafka.createTopic('refused', {partitions: 1, replicationFactor: 1})
    await iot.send(new CreateTopicRuleCommand({ruleName: 'refused', topicRulePayload: rule('refused', 'refused/+/data', 'refused', readerRole)}))
    await cluster.kafka.send(new BatchDisassociateScramSecretCommand({ClusterArn: cluster.clusterArn, SecretArnList: [mskSecretArn]}))
    try {
      await publish('refused/dev1/data', {temperature: 20})
      const document = await errorDocument('refused')
      assert.match(document.failures[0].errorMessage, /SaslAuthenticationException: Authentication failed/)
    } finally {
      await cluster.associate(mskSecretArn)
    }
  })

  test('a role that may not read the secret: the error document names the denied access', async () => {
    await iot.send(new CreateTopicRuleCommand({ruleName: 'denied', topicRulePayload: rule('denied', 'denied/+/data', 'telemetry', blindRole)}))
    await publish('denied/dev1/data', {temperature: 20})
    const document = await errorDocument('denied')
    assert.match(document.failures[0].errorMessage, /rules-blind.*is not authorized to perform: secretsmanager:GetSecretValue/)
    const logged = await fetch(`${aws.endpoint}/_standin/rules/errors`).then((r) => r.json() as Promise<{errors: {ruleName: string; stage: string; errorMessage: string}[]}>)
    assert.ok(logged.errors.some((e) => e.ruleName === 'denied' && e.stage === 'action' && e.errorMessage.includes('secretsmanager:GetSecretValue')), JSON.stringify(logged))
  })

  test('a VPC destination that is not ENABLED: the error document says so', async () => {
    await iot.send(new CreateTopicRuleCommand({ruleName: 'disabled_destination', topicRulePayload: rule('disabled_destination', 'nodest/+/data', 'telemetry', readerRole)}))
    await iot.send(new UpdateTopicRuleDestinationCommand({arn: destinationArn, status: 'DISABLED'}))
    try {
      await publish('nodest/dev1/data', {temperature: 20})
      const document = await errorDocument('disabled_destination')
      assert.match(document.failures[0].errorMessage, new RegExp(`destination ${destinationArn} is DISABLED, not ENABLED`))
    } finally {
      await iot.send(new UpdateTopicRuleDestinationCommand({arn: destinationArn, status: 'ENABLED'}))
    }
  })
})
