// `iot role`, `iot destination` and `iot rule` one by one, on an existing
// cluster, as a user building the IoT side step by step would run them: plans
// change nothing, each step is idempotent, a changed SQL or topic replaces the
// rule and says what changed, cleanup removes all of it.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {GetRoleCommand, GetRolePolicyCommand, IAMClient, ListRolesCommand} from '@aws-sdk/client-iam'
import {GetTopicRuleCommand, IoTClient, ListTopicRuleDestinationsCommand, ListTopicRulesCommand} from '@aws-sdk/client-iot'
import {CreateClusterV2Command, KafkaClient} from '@aws-sdk/client-kafka'
import {assertBadInput} from '../support/bad-input.ts'
import {jsonOf, runCli} from '../support/cli.ts'
import {MotoClient} from '../support/local-aws/moto-client.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
let iam: IAMClient
let iot: IoTClient
let clusterArn: string

const roleName = 'iotctl-iotcmd-iot-to-msk'
const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 120_000})

before(async () => {
  aws = await startLocalAws({clusterActivationDelayMs: 0, destinationActivationDelayMs: 1500})
  network = await aws.createNetwork()
  iam = new IAMClient(aws.clientConfig('iot'))
  iot = new IoTClient(aws.clientConfig('iot'))
  // A cluster the user already has (not the stack's).
  const kafka = new KafkaClient(aws.clientConfig('msk'))
  clusterArn = (await kafka.send(new CreateClusterV2Command({ClusterName: 'existing', Provisioned: {
    KafkaVersion: '3.6.0', NumberOfBrokerNodes: 2,
    BrokerNodeGroupInfo: {ClientSubnets: network.msk.subnetIds, InstanceType: 'kafka.t3.small', SecurityGroups: [network.msk.securityGroupId]},
    ClientAuthentication: {Sasl: {Scram: {Enabled: true}}},
  }}))).ClusterArn!
  kafka.destroy()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-iot-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack: 'iotcmd',
    iot: {profile: 'iot', vpcId: network.iot.vpcId},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, securityGroupId: network.msk.securityGroupId, clusterArn},
  }))
  const mirror = await cli(['secret', 'mirror'])
  assert.equal(mirror.code, 0, mirror.stderr)
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('iot role, iot destination, iot rule', () => {
  test('iot role --dry-run shows the role and the key-policy statement, changing nothing', async () => {
    aws.resetLog()
    const result = await cli(['iot', 'role', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`create IAM role ${roleName} trusted by iot\\.amazonaws\\.com with aws:SourceAccount ${aws.accounts.iot} and aws:SourceArn arn:aws:iot:${aws.region}:${aws.accounts.iot}:\\*`))
    assert.match(result.stdout, /add key-policy statement iotctliotcmdZIotRuleRoleKeyUser on key /)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('iot role creates the tagged role with its policies; again, nothing changes', async () => {
    const result = await cli(['iot', 'role', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    assert.equal(document.changed, true)
    assert.equal(document.roleArn, `arn:aws:iam::${aws.accounts.iot}:role/${roleName}`)
    const role = (await iam.send(new GetRoleCommand({RoleName: roleName}))).Role
    assert.deepEqual(JSON.parse(decodeURIComponent(role?.AssumeRolePolicyDocument ?? '')).Statement[0].Condition,
      {StringEquals: {'aws:SourceAccount': aws.accounts.iot}, ArnLike: {'aws:SourceArn': `arn:aws:iot:${aws.region}:${aws.accounts.iot}:*`}})
    const policy = JSON.parse(decodeURIComponent((await iam.send(new GetRolePolicyCommand({RoleName: roleName, PolicyName: 'iotctl-vpc-destination-and-secret'}))).PolicyDocument ?? ''))
    assert.match(policy.Statement.find((s: {Sid: string}) => s.Sid === 'ReadKafkaCredentials').Resource, new RegExp(`^arn:aws:secretsmanager:${aws.region}:${aws.accounts.iot}:secret:AmazonMSK_iotcmd-\\w{6}$`))
    aws.resetLog()
    const again = await cli(['iot', 'role'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to change/)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('iot destination waits, saying so, while IAM propagates the new role, then until the destination is ENABLED', async () => {
    // IoT refuses the role for 5 s more, as AWS does for some seconds after CreateRole (the delay counts from CreateDate).
    const created = (await iam.send(new GetRoleCommand({RoleName: roleName}))).Role?.CreateDate?.getTime() ?? Date.now()
    aws.settings.rolePropagationDelayMs = Date.now() - created + 5000
    const result = await cli(['iot', 'destination'])
    aws.settings.rolePropagationDelayMs = 0
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /waiting for IAM to let AWS IoT assume iotctl-iotcmd-iot-to-msk \(\d+ s\)/)
    assert.match(result.stdout, /destination arn:aws:iot:\S+:ruledestination\/vpc\/\S+ is ENABLED/)
    const destinations = (await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? []
    assert.deepEqual(destinations.map((d) => [d.status, d.vpcDestinationSummary?.vpcId, d.vpcDestinationSummary?.roleArn]),
      [['ENABLED', network.iot.vpcId, `arn:aws:iam::${aws.accounts.iot}:role/${roleName}`]])
    // Default subnets: all of the IoT VPC's; default group: the VPC's default group.
    assert.deepEqual([...destinations[0].vpcDestinationSummary?.subnetIds ?? []].sort(), [...network.iot.subnetIds].sort())
    assert.equal(destinations[0].vpcDestinationSummary?.securityGroups?.length, 1)
  })

  test('iot rule creates the Kafka rule on the existing cluster\'s SASL/SCRAM brokers', async () => {
    const result = await cli(['iot', 'rule', '--name', 'devices_to_kafka'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /rule devices_to_kafka \(device\/\+\/data → Kafka topic 'device-data'\) is enabled/)
    const rule = (await iot.send(new GetTopicRuleCommand({ruleName: 'devices_to_kafka'}))).rule
    const kafka = rule?.actions?.[0].kafka
    assert.equal(rule?.sql, "SELECT topic(2) as device_id, temperature FROM 'device/+/data'")
    assert.match(kafka?.clientProperties?.['bootstrap.servers'] ?? '', /:9096(,|$)/)
    assert.equal(kafka?.clientProperties?.['sasl.scram.username'], `\${get_secret('AmazonMSK_iotcmd', 'SecretString', 'username', 'arn:aws:iam::${aws.accounts.iot}:role/${roleName}')}`)
  })

  test('a changed SQL and Kafka topic replace the rule and say what changed; the same again changes nothing', async () => {
    const sql = "SELECT * FROM 'device/+/data'"
    const result = await cli(['iot', 'rule', '--name', 'devices_to_kafka', '--sql', sql, '--kafka-topic', 'telemetry'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /replace rule devices_to_kafka: SQL "SELECT topic\(2\) as device_id, temperature FROM 'device\/\+\/data'" → "SELECT \* FROM 'device\/\+\/data'"; Kafka topic 'device-data' → 'telemetry'/)
    const rule = (await iot.send(new GetTopicRuleCommand({ruleName: 'devices_to_kafka'}))).rule
    assert.equal(rule?.sql, sql)
    assert.equal(rule?.actions?.[0].kafka?.topic, 'telemetry')
    aws.resetLog()
    const again = await cli(['iot', 'rule', '--name', 'devices_to_kafka', '--sql', sql, '--kafka-topic', 'telemetry'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to change/)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('Basic Ingest to S3: iot role and iot rule with --s3-bucket; mqtt publish --basic-ingest lands as an object under the key template; a bad bucket name is exit 2', async () => {
    const bucket = 'iotctl-ingest-test'
    const moto = new MotoClient(aws.motoUrl)
    const s3 = (method: string, path: string) => moto.call({service: 's3', method, path, account: aws.accounts.iot, region: aws.region})
    assert.equal((await s3('PUT', `/${bucket}`)).status, 200)
    aws.resetLog()
    assertBadInput(aws, await cli(['iot', 'rule', '--name', 'devices_to_kafka', '--s3-bucket', 'Bad_Bucket']), /--s3-bucket 'Bad_Bucket': an S3 bucket name has lowercase letters, digits, dots and hyphens only/)
    const role = await cli(['iot', 'role', '--s3-bucket', bucket])
    assert.equal(role.code, 0, role.stderr)
    assert.match(role.stdout, /add s3:PutObject on arn:aws:s3:::iotctl-ingest-test\/\* for the S3 action/)
    const key = '${topic()}/${timestamp()}.json'
    const rule = await cli(['iot', 'rule', '--name', 'devices_to_kafka', '--sql', "SELECT * FROM 'device/+/data'", '--kafka-topic', 'telemetry', '--s3-bucket', bucket, '--s3-key', key])
    assert.equal(rule.code, 0, rule.stderr)
    assert.match(rule.stdout, /S3 action: bucket 'iotctl-ingest-test', key '\$\{topic\(\)\}\/\$\{timestamp\(\)\}\.json'/)
    const actions = (await iot.send(new GetTopicRuleCommand({ruleName: 'devices_to_kafka'}))).rule?.actions ?? []
    assert.deepEqual(actions.map((a) => a.s3), [undefined, {bucketName: bucket, key, roleArn: `arn:aws:iam::${aws.accounts.iot}:role/${roleName}`}])
    const published = await cli(['mqtt', 'publish', '--basic-ingest', '--rule-name', 'devices_to_kafka', '--topic', 'device/d1/data', '--message', '{"temperature": 20}', '--qos', '1'])
    assert.equal(published.code, 0, published.stderr)
    assert.match(published.stdout, /\$aws\/rules\/devices_to_kafka\/device\/d1\/data/)
    await aws.standIn.rules.idle()
    const keys = [...(await s3('GET', `/${bucket}?list-type=2`)).body.toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)].map((m) => m[1])
    // The rule saw the topic without the Basic Ingest prefix: topic() is device/d1/data.
    assert.equal(keys.length, 1, `one object, got ${keys.join(', ')}`)
    assert.match(keys[0], /^device\/d1\/data\/\d{13}\.json$/)
    assert.deepEqual(JSON.parse((await s3('GET', `/${bucket}/${keys[0]}`)).body.toString('utf8')), {temperature: 20})
  })

  test('cleanup removes the rule, the destination and the role, and leaves the user\'s cluster', async () => {
    const result = await cli(['cleanup', '--yes', '--include-cluster'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual((await iot.send(new ListTopicRulesCommand({}))).rules ?? [], [])
    assert.deepEqual((await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? [], [])
    assert.deepEqual(((await iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName), ['iotctl-admin'])
    assert.doesNotMatch(result.stdout, /delete kafka:cluster/)
  })
})
