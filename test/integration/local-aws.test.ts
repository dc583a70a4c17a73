// The local two-account AWS works: role_arn profiles reach two distinct
// accounts, forwarded calls are logged, every operation the stand-in supplies
// answers the real AWS SDK v3 clients as AWS would, faults surface as SDK
// error codes, and stop() leaves nothing running.
import assert from 'node:assert/strict'
import {execFile, spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {after, before, describe, test} from 'node:test'
import {promisify} from 'node:util'
import {CreateVpcCommand, DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {CreateRoleCommand, IAMClient, PutRolePolicyCommand} from '@aws-sdk/client-iam'
import {
  CreateTopicRuleCommand,
  CreateTopicRuleDestinationCommand,
  DeleteTopicRuleCommand,
  DeleteTopicRuleDestinationCommand,
  GetTopicRuleDestinationCommand,
  IoTClient,
  ListTagsForResourceCommand,
  ListTopicRuleDestinationsCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateTopicRuleDestinationCommand,
} from '@aws-sdk/client-iot'
import {
  CloseTunnelCommand,
  DescribeTunnelCommand,
  IoTSecureTunnelingClient,
  ListTagsForResourceCommand as ListTunnelTagsCommand,
  ListTunnelsCommand,
  OpenTunnelCommand,
  RotateTunnelAccessTokenCommand,
  TagResourceCommand as TagTunnelCommand,
  UntagResourceCommand as UntagTunnelCommand,
} from '@aws-sdk/client-iotsecuretunneling'
import {
  BatchAssociateScramSecretCommand,
  BatchDisassociateScramSecretCommand,
  CreateClusterV2Command,
  DescribeClusterV2Command,
  GetBootstrapBrokersCommand,
  KafkaClient,
  ListScramSecretsCommand,
} from '@aws-sdk/client-kafka'
import {CreateKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {GetCallerIdentityCommand, STSClient} from '@aws-sdk/client-sts'
import {REPO_ROOT, startLocalAws, type LocalAws, type ProfileName} from '../support/local-aws/index.ts'
import {documentedVpcDestinationPolicy} from '../support/local-aws/policy/index.ts'
import {describeRequest, isMutating} from '../support/local-aws/request-info.ts'
import {botocoreDataDir, restRouters} from '../support/local-aws/rest-routes.ts'
import {modelLoader} from '../support/local-aws/validation/model.ts'

const run = promisify(execFile)

let aws: LocalAws

before(async () => {
  aws = await startLocalAws({destinationActivationDelayMs: 300, clusterActivationDelayMs: 300, openTunnelsPerSecond: 0})
})

after(async () => {
  await aws?.stop()
})

/** A client of `Client` for a profile, with no retries so that errors surface as they are. */
function client<T>(Client: new (config: object) => T, profile: ProfileName): T {
  return new Client({...aws.clientConfig(profile), maxAttempts: 1})
}

async function rejectsWith(promise: Promise<unknown>, name: string, status?: number): Promise<Error & {$metadata?: {httpStatusCode?: number}}> {
  const error = await promise.then(
    () => assert.fail(`expected ${name}, got success`),
    (e: Error & {$metadata?: {httpStatusCode?: number}}) => e,
  )
  assert.equal(error.name, name, `${error.name}: ${error.message}`)
  if (status !== undefined) assert.equal(error.$metadata?.httpStatusCode, status)
  return error
}

/** Polls until check() returns a value (no timing assertions: it only waits). */
async function eventually<T>(check: () => Promise<T | undefined>, what: string, limitMs = 20_000): Promise<T> {
  const deadline = Date.now() + limitMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) assert.fail(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

describe('two accounts through role_arn profiles', () => {
  test('each profile is its own account', async () => {
    const ids = await Promise.all(
      (['base', 'msk', 'iot'] as const).map(async (profile) => (await client(STSClient, profile).send(new GetCallerIdentityCommand({}))).Account),
    )
    assert.deepEqual(ids, [aws.accounts.base, aws.accounts.msk, aws.accounts.iot])
    assert.deepEqual(aws.accounts, {base: '123456789012', msk: '111111111111', iot: '222222222222'})
  })

  test('what one account creates, the other does not see', async () => {
    const vpc = await client(EC2Client, 'msk').send(new CreateVpcCommand({CidrBlock: '10.99.0.0/16'}))
    const seenByIot = await client(EC2Client, 'iot').send(new DescribeVpcsCommand({}))
    assert.ok(!seenByIot.Vpcs?.some((v) => v.VpcId === vpc.Vpc?.VpcId))
    const seenByMsk = await client(EC2Client, 'msk').send(new DescribeVpcsCommand({VpcIds: [vpc.Vpc!.VpcId!]}))
    assert.equal(seenByMsk.Vpcs?.length, 1)
  })

  test('a child process gets the profiles and the endpoint, and nothing from the parent', async () => {
    const script = `
      const {STSClient, GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
      const {fromIni} = await import('@aws-sdk/credential-providers')
      const sts = new STSClient({region: 'us-east-1', credentials: fromIni({profile: 'iot'})})
      const id = await sts.send(new GetCallerIdentityCommand({}))
      console.log(JSON.stringify({account: id.Account, leaked: Object.keys(process.env).filter((k) => k.startsWith('AWS_')).sort()}))
    `
    const parent = {...process.env, AWS_ACCESS_KEY_ID: 'AKIALEAKEDFROMPARENT', AWS_PROFILE: 'leaked', AWS_REGION: 'eu-west-1'}
    const {stdout} = await run(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, env: aws.childEnv()})
    const answer = JSON.parse(stdout)
    assert.equal(answer.account, aws.accounts.iot)
    assert.deepEqual(answer.leaked, ['AWS_CA_BUNDLE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_IOT_DATA_PLANE', 'AWS_SHARED_CREDENTIALS_FILE'])
    const env = aws.childEnv()
    const saved = {...process.env}
    Object.assign(process.env, parent)
    try {
      const fromDirtyParent = aws.childEnv()
      assert.equal(fromDirtyParent.AWS_ACCESS_KEY_ID, undefined)
      assert.equal(fromDirtyParent.AWS_PROFILE, undefined)
      assert.equal(fromDirtyParent.AWS_REGION, undefined)
      assert.equal(fromDirtyParent.AWS_ENDPOINT_URL, env.AWS_ENDPOINT_URL)
    } finally {
      for (const key of Object.keys(parent)) if (!(key in saved)) delete process.env[key]
    }
  })
})

describe('request classification', () => {
  const routers = restRouters(modelLoader(botocoreDataDir(`${REPO_ROOT}/.venv`)))
  const auth = (service: string) => ({authorization: `AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=x`})
  const cases: [string, string, string, Record<string, string>, string, string, Record<string, string>][] = [
    ['iot', 'GET', '/destinations/arn%3Aaws%3Aiot%3Aus-east-1%3A1%3Aruledestination/vpc/abc', {}, '', 'GetTopicRuleDestination', {arn: 'arn:aws:iot:us-east-1:1:ruledestination/vpc/abc'}],
    ['iot', 'POST', '/rules/my_rule', {}, '{}', 'CreateTopicRule', {ruleName: 'my_rule'}],
    ['iot', 'GET', '/rules/my_rule', {}, '', 'GetTopicRule', {ruleName: 'my_rule'}],
    ['iot', 'GET', '/tags?resourceArn=x', {}, '', 'ListTagsForResource', {}],
    ['kafka', 'GET', '/v1/clusters/arn%3Aaws%3Akafka%3Ax/bootstrap-brokers', {}, '', 'GetBootstrapBrokers', {clusterArn: 'arn:aws:kafka:x'}],
    ['kafka', 'PATCH', '/v1/clusters/c/scram-secrets', {}, '{}', 'BatchDisassociateScramSecret', {clusterArn: 'c'}],
    ['ec2', 'POST', '/', {'content-type': 'application/x-www-form-urlencoded'}, 'Action=AcceptVpcPeeringConnection&Version=2016-11-15', 'AcceptVpcPeeringConnection', {}],
    ['iam', 'POST', '/', {'content-type': 'application/x-www-form-urlencoded'}, 'Action=PutRolePolicy', 'PutRolePolicy', {}],
    ['IoTSecuredTunneling', 'POST', '/', {'x-amz-target': 'IoTSecuredTunneling.OpenTunnel'}, '{}', 'OpenTunnel', {}],
    ['s3', 'PUT', '/bucket/key', {}, '', 'PUT /bucket/key', {}],
  ]
  for (const [service, method, path, headers, body, operation, params] of cases) {
    test(`${service} ${method} ${path} is ${operation}`, () => {
      const facts = describeRequest(method, path, {...auth(service), ...headers}, Buffer.from(body), routers)
      assert.equal(facts.service, service)
      assert.equal(facts.region, 'eu-west-1')
      assert.equal(facts.accessKeyId, 'AKIAEXAMPLE')
      assert.equal(facts.operation, operation)
      assert.deepEqual(facts.uriParams, params)
    })
  }

  test('what counts as mutating', () => {
    const table: [string, boolean][] = [
      ['DescribeVpcs', false], ['GetSecretValue', false], ['ListTunnels', false], ['AssumeRole', false], ['GetCallerIdentity', false],
      ['Decrypt', false], ['GET /x', false], ['HEAD /x', false],
      ['CreateVpc', true], ['AcceptVpcPeeringConnection', true], ['PutKeyPolicy', true], ['BatchAssociateScramSecret', true],
      ['OpenTunnel', true], ['TagResource', true], ['Getaway', true], ['POST /x', true],
    ]
    assert.deepEqual(table.map(([op]) => [op, isMutating(op)]), table)
  })
})

describe('request log', () => {
  test('a forwarded EC2 call is logged with its account and whether it changes anything', async () => {
    aws.resetLog()
    const ec2 = client(EC2Client, 'iot')
    await ec2.send(new CreateVpcCommand({CidrBlock: '10.98.0.0/16'}))
    await ec2.send(new DescribeVpcsCommand({}))
    const ec2Entries = aws.log().filter((e) => e.service === 'ec2')
    assert.deepEqual(
      ec2Entries.map(({service, operation, account, mutating, status, by}) => ({service, operation, account, mutating, status, by})),
      [
        {service: 'ec2', operation: 'CreateVpc', account: aws.accounts.iot, mutating: true, status: 200, by: 'moto'},
        {service: 'ec2', operation: 'DescribeVpcs', account: aws.accounts.iot, mutating: false, status: 200, by: 'moto'},
      ],
    )
    assert.deepEqual(
      aws.mutatingRequests().map((e) => e.operation),
      ['CreateVpc'],
      'AssumeRole and GetCallerIdentity do not count as mutating',
    )
  })

  test('REST operations are named after the API model, over HTTP too', async () => {
    aws.resetLog()
    await client(IoTClient, 'iot').send(new ListTopicRuleDestinationsCommand({}))
    await client(KafkaClient, 'msk').send(new DescribeClusterV2Command({ClusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/none/0'})).catch(() => undefined)
    const response = await fetch(`${aws.endpoint}/_standin/log`)
    const {entries} = (await response.json()) as {entries: {service: string; operation: string; mutating: boolean}[]}
    assert.deepEqual(
      entries.filter((e) => e.service !== 'sts').map((e) => [e.service, e.operation, e.mutating]),
      [
        ['iot', 'ListTopicRuleDestinations', false],
        ['kafka', 'DescribeClusterV2', false],
      ],
    )
  })

  test('waitForMutating resolves at the n-th mutating request; a hold stops the next one', async () => {
    aws.resetLog()
    const ec2 = client(EC2Client, 'msk')
    const second = aws.waitForMutating(2)
    await ec2.send(new CreateVpcCommand({CidrBlock: '10.97.0.0/16'}))
    await ec2.send(new DescribeVpcsCommand({}))
    await ec2.send(new CreateVpcCommand({CidrBlock: '10.96.0.0/16'}))
    const entry = await second
    assert.equal(entry.operation, 'CreateVpc')
    assert.equal(aws.mutatingRequests().length, 2)

    aws.resetLog()
    aws.holdAfterMutating(1)
    await ec2.send(new CreateVpcCommand({CidrBlock: '10.95.0.0/16'}))
    let answered = false
    const next = ec2.send(new DescribeVpcsCommand({})).then(() => {
      answered = true
    })
    await eventually(async () => (aws.standIn.log.heldCount === 1 ? true : undefined), 'the held request')
    assert.equal(answered, false)
    aws.release()
    await next
    assert.equal(answered, true)

    const polled = fetch(`${aws.endpoint}/_standin/log?wait-mutating=1&timeout-ms=10000`).then((r) => r.json() as Promise<{entries: {operation: string}[]}>)
    aws.resetLog()
    await ec2.send(new CreateVpcCommand({CidrBlock: '10.94.0.0/16'}))
    assert.ok((await polled).entries.some((e) => e.operation === 'CreateVpc'))
  })
})

describe('network fixture', () => {
  test('creates the VPCs, subnets, route tables and security groups a user already has', async () => {
    const network = await aws.createNetwork()
    for (const [side, profile, cidr, group] of [
      ['msk', 'msk', '10.10.0.0/16', 'msk-brokers'],
      ['iot', 'iot', '10.20.0.0/16', 'iot-destination'],
    ] as const) {
      const ids = network[side]
      assert.equal(ids.accountId, aws.accounts[profile])
      assert.equal(ids.cidr, cidr)
      const ec2 = client(EC2Client, profile)
      const vpcs = await ec2.send(new DescribeVpcsCommand({VpcIds: [ids.vpcId]}))
      assert.equal(vpcs.Vpcs?.[0]?.CidrBlock, cidr)
      const subnets = await ec2.send(new DescribeSubnetsCommand({SubnetIds: ids.subnetIds}))
      assert.equal(new Set(subnets.Subnets?.map((s) => s.AvailabilityZone)).size, 2)
      assert.ok(subnets.Subnets?.every((s) => s.VpcId === ids.vpcId))
      const tables = await ec2.send(new DescribeRouteTablesCommand({RouteTableIds: [ids.routeTableId]}))
      assert.deepEqual(new Set(tables.RouteTables?.[0]?.Associations?.map((a) => a.SubnetId)), new Set(ids.subnetIds))
      const groups = await ec2.send(new DescribeSecurityGroupsCommand({GroupIds: [ids.securityGroupId]}))
      assert.equal(groups.SecurityGroups?.[0]?.GroupName, group)
      assert.equal(groups.SecurityGroups?.[0]?.VpcId, ids.vpcId)
    }
  })

  test('takes other CIDRs, overlapping ones included', async () => {
    const network = await aws.createNetwork({name: 'overlap', msk: {cidr: '10.30.0.0/16'}, iot: {cidr: '10.30.0.0/16'}})
    assert.equal(network.msk.cidr, network.iot.cidr)
    assert.deepEqual(
      network.msk.subnets.map((s) => s.cidr),
      ['10.30.0.0/24', '10.30.1.0/24'],
    )
  })
})

describe('IoT topic rule destinations (stand-in)', () => {
  const trustIot = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole'}],
  })
  let network: Awaited<ReturnType<LocalAws['createNetwork']>>
  let roleArn: string

  before(async () => {
    network = await aws.createNetwork({name: 'dest'})
    const role = await client(IAMClient, 'iot').send(new CreateRoleCommand({RoleName: 'iotctl-dest-role', AssumeRolePolicyDocument: trustIot}))
    roleArn = role.Role!.Arn!
    // What IoT needs to place the interfaces (strictPolicies evaluates it; local-aws-policies.test.ts covers the refusals).
    await client(IAMClient, 'iot').send(
      new PutRolePolicyCommand({RoleName: 'iotctl-dest-role', PolicyName: 'vpc-destination', PolicyDocument: JSON.stringify(documentedVpcDestinationPolicy)}),
    )
  })

  const vpcConfiguration = (role: string) => ({
    vpcId: network.iot.vpcId,
    subnetIds: network.iot.subnetIds,
    securityGroups: [network.iot.securityGroupId],
    roleArn: role,
  })

  test('is refused while the role does not exist, or does not trust IoT', async () => {
    const iot = client(IoTClient, 'iot')
    const missing = `arn:aws:iam::${aws.accounts.iot}:role/not-there`
    await rejectsWith(iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(missing)}})), 'InvalidRequestException', 400)
    const untrusting = await client(IAMClient, 'iot').send(
      new CreateRoleCommand({
        RoleName: 'trusts-ec2',
        AssumeRolePolicyDocument: trustIot.replace('iot.amazonaws.com', 'ec2.amazonaws.com'),
      }),
    )
    await rejectsWith(
      iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(untrusting.Role!.Arn!)}})),
      'InvalidRequestException',
    )
    // IAM propagation: a brand-new role is refused for a while.
    aws.settings.rolePropagationDelayMs = 60_000
    try {
      const young = await client(IAMClient, 'iot').send(new CreateRoleCommand({RoleName: 'young-role', AssumeRolePolicyDocument: trustIot}))
      await rejectsWith(iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(young.Role!.Arn!)}})), 'InvalidRequestException')
    } finally {
      aws.settings.rolePropagationDelayMs = 0
    }
    // The same role name in the other account does not help.
    await rejectsWith(
      client(IoTClient, 'msk').send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(roleArn)}})),
      'InvalidRequestException',
    )
  })

  test('goes IN_PROGRESS then ENABLED; update, tags, rule use and delete', async () => {
    const iot = client(IoTClient, 'iot')
    const created = await iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(roleArn)}}))
    const destination = created.topicRuleDestination!
    assert.equal(destination.status, 'IN_PROGRESS')
    assert.match(destination.arn!, new RegExp(`^arn:aws:iot:us-east-1:${aws.accounts.iot}:ruledestination/vpc/`))
    assert.deepEqual(destination.vpcProperties, vpcConfiguration(roleArn))
    assert.ok(destination.createdAt instanceof Date)

    const arn = destination.arn!
    const enabled = await eventually(async () => {
      const got = await iot.send(new GetTopicRuleDestinationCommand({arn}))
      return got.topicRuleDestination?.status === 'ENABLED' ? got.topicRuleDestination : undefined
    }, 'ENABLED')
    assert.ok(enabled.lastUpdatedAt! >= enabled.createdAt!)

    const listed = await iot.send(new ListTopicRuleDestinationsCommand({}))
    const summary = listed.destinationSummaries?.find((d) => d.arn === arn)
    assert.equal(summary?.status, 'ENABLED')
    assert.deepEqual(summary?.vpcDestinationSummary, vpcConfiguration(roleArn))
    const fromOtherAccount = await client(IoTClient, 'msk').send(new ListTopicRuleDestinationsCommand({}))
    assert.ok(!fromOtherAccount.destinationSummaries?.some((d) => d.arn === arn))
    await rejectsWith(client(IoTClient, 'msk').send(new GetTopicRuleDestinationCommand({arn})), 'InvalidRequestException')

    await iot.send(new UpdateTopicRuleDestinationCommand({arn, status: 'DISABLED'}))
    assert.equal((await iot.send(new GetTopicRuleDestinationCommand({arn}))).topicRuleDestination?.status, 'DISABLED')
    await iot.send(new UpdateTopicRuleDestinationCommand({arn, status: 'ENABLED'}))

    await iot.send(new TagResourceCommand({resourceArn: arn, tags: [{Key: 'iotctl:stack', Value: 'demo'}, {Key: 'iotctl:managed', Value: 'true'}]}))
    await iot.send(new UntagResourceCommand({resourceArn: arn, tagKeys: ['iotctl:managed']}))
    assert.deepEqual((await iot.send(new ListTagsForResourceCommand({resourceArn: arn}))).tags, [{Key: 'iotctl:stack', Value: 'demo'}])

    await iot.send(
      new CreateTopicRuleCommand({
        ruleName: 'iotctl_demo_kafka',
        tags: 'iotctl:stack=demo&iotctl:managed=true',
        topicRulePayload: {
          sql: "SELECT * FROM 'device/+/data'",
          actions: [{kafka: {destinationArn: arn, topic: 'telemetry', clientProperties: {'bootstrap.servers': 'b-1.example:9096'}}}],
        },
      }),
    )
    const ruleArn = `arn:aws:iot:us-east-1:${aws.accounts.iot}:rule/iotctl_demo_kafka`
    assert.deepEqual((await iot.send(new ListTagsForResourceCommand({resourceArn: ruleArn}))).tags, [
      {Key: 'iotctl:stack', Value: 'demo'},
      {Key: 'iotctl:managed', Value: 'true'},
    ])
    await rejectsWith(iot.send(new DeleteTopicRuleDestinationCommand({arn})), 'ConflictingResourceUpdateException', 409)
    await iot.send(new DeleteTopicRuleCommand({ruleName: 'iotctl_demo_kafka'}))
    await rejectsWith(iot.send(new ListTagsForResourceCommand({resourceArn: ruleArn})), 'ResourceNotFoundException', 404)
    await iot.send(new DeleteTopicRuleDestinationCommand({arn}))
    await rejectsWith(iot.send(new GetTopicRuleDestinationCommand({arn})), 'InvalidRequestException', 400)
  })

  test('a Kafka rule needs an ENABLED destination', async () => {
    const iot = client(IoTClient, 'iot')
    const rule = (destinationArn: string) =>
      new CreateTopicRuleCommand({
        ruleName: 'needs_destination',
        topicRulePayload: {sql: "SELECT * FROM 'a/b'", actions: [{kafka: {destinationArn, topic: 't', clientProperties: {'bootstrap.servers': 'x:9096'}}}]},
      })
    await rejectsWith(iot.send(rule(`arn:aws:iot:us-east-1:${aws.accounts.iot}:ruledestination/vpc/nope`)), 'InvalidRequestException')
    aws.settings.destinationActivationDelayMs = 60_000
    try {
      const pending = await iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(roleArn)}}))
      await rejectsWith(iot.send(rule(pending.topicRuleDestination!.arn!)), 'InvalidRequestException')
      await rejectsWith(iot.send(new UpdateTopicRuleDestinationCommand({arn: pending.topicRuleDestination!.arn!, status: 'DISABLED'})), 'ConflictingResourceUpdateException', 409)
    } finally {
      aws.settings.destinationActivationDelayMs = 300
    }
  })

  test('a deleted destination is DELETING, still listed, for destinationDeletionDelayMs, then gone', async () => {
    const iot = client(IoTClient, 'iot')
    const created = await iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: vpcConfiguration(roleArn)}}))
    const arn = created.topicRuleDestination!.arn!
    await eventually(async () => ((await iot.send(new GetTopicRuleDestinationCommand({arn}))).topicRuleDestination?.status === 'ENABLED' ? true : undefined), 'ENABLED')
    aws.settings.destinationDeletionDelayMs = 1500
    try {
      await iot.send(new DeleteTopicRuleDestinationCommand({arn}))
      const deletedAt = Date.now()
      assert.equal((await iot.send(new GetTopicRuleDestinationCommand({arn}))).topicRuleDestination?.status, 'DELETING')
      const listed = (await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries?.find((d) => d.arn === arn)
      assert.equal(listed?.status, 'DELETING')
      await rejectsWith(iot.send(new UpdateTopicRuleDestinationCommand({arn, status: 'ENABLED'})), 'ConflictingResourceUpdateException', 409)
      await iot.send(new DeleteTopicRuleDestinationCommand({arn}))
      const gone = await eventually(async () => {
        try {
          await iot.send(new GetTopicRuleDestinationCommand({arn}))
          return undefined
        } catch (error) {
          return error instanceof Error ? error : new Error(String(error))
        }
      }, 'the destination to be gone')
      assert.equal(gone.name, 'InvalidRequestException')
      assert.ok(Date.now() - deletedAt >= 1400, `gone after ${Date.now() - deletedAt} ms`)
      assert.ok(!(await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries?.some((d) => d.arn === arn))
    } finally {
      aws.settings.destinationDeletionDelayMs = 0
    }
  })

  test('ends in ERROR when its subnets are not in its VPC', async () => {
    const iot = client(IoTClient, 'iot')
    const created = await iot.send(
      new CreateTopicRuleDestinationCommand({
        destinationConfiguration: {vpcConfiguration: {...vpcConfiguration(roleArn), subnetIds: ['subnet-0000000000000000']}},
      }),
    )
    const arn = created.topicRuleDestination!.arn!
    const failed = await eventually(async () => {
      const got = (await iot.send(new GetTopicRuleDestinationCommand({arn}))).topicRuleDestination
      return got?.status !== 'IN_PROGRESS' ? got : undefined
    }, 'the end of provisioning')
    assert.equal(failed.status, 'ERROR')
    assert.match(failed.statusReason ?? '', /subnet-0000000000000000/)
  })
})

describe('MSK SCRAM secrets and bootstrap brokers (stand-in)', () => {
  let clusterArn: string
  let keyId: string
  const secrets: Record<string, string> = {}

  before(async () => {
    const network = await aws.createNetwork({name: 'msk'})
    const kafka = client(KafkaClient, 'msk')
    const created = await kafka.send(
      new CreateClusterV2Command({
        ClusterName: 'iotctl-test',
        Provisioned: {
          KafkaVersion: '3.6.0',
          NumberOfBrokerNodes: 2,
          BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: network.msk.subnetIds, SecurityGroups: [network.msk.securityGroupId]},
          ClientAuthentication: {Sasl: {Scram: {Enabled: true}}},
          EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS', InCluster: true}},
        },
      }),
    )
    clusterArn = created.ClusterArn!
    const kms = client(KMSClient, 'msk')
    keyId = (await kms.send(new CreateKeyCommand({Description: 'msk-iot-test-key'}))).KeyMetadata!.KeyId!
    const sm = client(SecretsManagerClient, 'msk')
    const secret = async (name: string, kmsKeyId?: string) =>
      (await sm.send(new CreateSecretCommand({Name: name, KmsKeyId: kmsKeyId, SecretString: JSON.stringify({username: 'u', password: 'p'})}))).ARN!
    secrets.good = await secret('AmazonMSK_iotctl', keyId)
    secrets.badName = await secret('iotctl-no-prefix', keyId)
    secrets.defaultKey = await secret('AmazonMSK_default_key')
    secrets.missing = `arn:aws:secretsmanager:us-east-1:${aws.accounts.msk}:secret:AmazonMSK_gone-AbCdEf`
  })

  test('the cluster shows CREATING, then ACTIVE, with its SASL/SCRAM setting', async () => {
    const kafka = client(KafkaClient, 'msk')
    const info = await eventually(async () => {
      const got = (await kafka.send(new DescribeClusterV2Command({ClusterArn: clusterArn}))).ClusterInfo
      return got?.State === 'ACTIVE' ? got : undefined
    }, 'ACTIVE')
    assert.equal(info.Provisioned?.ClientAuthentication?.Sasl?.Scram?.Enabled, true)
    await rejectsWith(kafka.send(new DescribeClusterV2Command({ClusterArn: clusterArn.replace(/[0-9a-f]{4}$/, '0000')})), 'NotFoundException', 404)
    await rejectsWith(client(KafkaClient, 'iot').send(new DescribeClusterV2Command({ClusterArn: clusterArn})), 'NotFoundException', 404)
  })

  test('associates a good secret and reports the three kinds MSK refuses', async () => {
    const kafka = client(KafkaClient, 'msk')
    const answer = await kafka.send(
      new BatchAssociateScramSecretCommand({ClusterArn: clusterArn, SecretArnList: [secrets.good, secrets.badName, secrets.defaultKey, secrets.missing]}),
    )
    assert.equal(answer.ClusterArn, clusterArn)
    const refused = Object.fromEntries(answer.UnprocessedScramSecrets!.map((u) => [u.SecretArn, u]))
    assert.deepEqual(Object.keys(refused).sort(), [secrets.badName, secrets.defaultKey, secrets.missing].sort())
    assert.match(refused[secrets.badName]!.ErrorMessage, /AmazonMSK_/)
    assert.match(refused[secrets.defaultKey]!.ErrorMessage, /default/)
    assert.match(refused[secrets.missing]!.ErrorMessage, /wasn't able to access/)
    assert.ok(answer.UnprocessedScramSecrets!.every((u) => u.ErrorCode === 'InvalidSecretArn'))

    assert.deepEqual((await kafka.send(new ListScramSecretsCommand({ClusterArn: clusterArn}))).SecretArnList, [secrets.good])
    const again = await kafka.send(new BatchAssociateScramSecretCommand({ClusterArn: clusterArn, SecretArnList: [secrets.good]}))
    assert.deepEqual(again.UnprocessedScramSecrets, [])

    const gone = await kafka.send(new BatchDisassociateScramSecretCommand({ClusterArn: clusterArn, SecretArnList: [secrets.good, secrets.badName]}))
    assert.deepEqual(gone.UnprocessedScramSecrets?.map((u) => u.SecretArn), [secrets.badName])
    assert.deepEqual((await kafka.send(new ListScramSecretsCommand({ClusterArn: clusterArn}))).SecretArnList, [])

    await rejectsWith(
      client(KafkaClient, 'iot').send(new BatchAssociateScramSecretCommand({ClusterArn: clusterArn, SecretArnList: [secrets.good]})),
      'NotFoundException',
      404,
    )
  })

  test('refuses a cluster that is not ACTIVE yet', async () => {
    aws.settings.clusterActivationDelayMs = 60_000
    try {
      const kafka = client(KafkaClient, 'msk')
      // MSK checks the client subnets exist in distinct zones (msk-strict.ts): real ones.
      const network = await aws.createNetwork({name: 'young', msk: {cidr: '10.11.0.0/16'}, iot: {cidr: '10.21.0.0/16'}})
      const young = await kafka.send(
        new CreateClusterV2Command({
          ClusterName: 'young',
          Provisioned: {KafkaVersion: '3.6.0', NumberOfBrokerNodes: 2, BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: network.msk.subnetIds}, ClientAuthentication: {Sasl: {Scram: {Enabled: true}}}},
        }),
      )
      await rejectsWith(kafka.send(new BatchAssociateScramSecretCommand({ClusterArn: young.ClusterArn!, SecretArnList: [secrets.good]})), 'BadRequestException', 400)
      await rejectsWith(kafka.send(new GetBootstrapBrokersCommand({ClusterArn: young.ClusterArn!})), 'BadRequestException', 400)
    } finally {
      aws.settings.clusterActivationDelayMs = 300
    }
  })

  test('bootstrap brokers: one SASL/SCRAM endpoint per broker on 9096', async () => {
    const brokers = await client(KafkaClient, 'msk').send(new GetBootstrapBrokersCommand({ClusterArn: clusterArn}))
    const scram = brokers.BootstrapBrokerStringSaslScram!.split(',')
    assert.equal(scram.length, 2)
    for (const [i, broker] of scram.entries()) assert.match(broker, new RegExp(`^b-${i + 1}\\.iotctl-test\\.[0-9a-f]{6}\\.c2\\.kafka\\.us-east-1\\.amazonaws\\.com:9096$`))
    assert.equal(brokers.BootstrapBrokerString, undefined, 'no plaintext listener with ClientBroker TLS')
    assert.equal(brokers.BootstrapBrokerStringSaslIam, undefined)
  })
})

describe('IoT Secure Tunneling (stand-in)', () => {
  test('open, describe, list, tags, rotate, close', async () => {
    const tunneling = client(IoTSecureTunnelingClient, 'iot')
    const opened = await tunneling.send(
      new OpenTunnelCommand({
        description: 'ssh to thing-1',
        destinationConfig: {thingName: 'thing-1', services: ['SSH']},
        timeoutConfig: {maxLifetimeTimeoutMinutes: 30},
        tags: [{key: 'iotctl:stack', value: 'demo'}],
      }),
    )
    const tunnelId = opened.tunnelId!
    assert.equal(opened.tunnelArn, `arn:aws:iot:us-east-1:${aws.accounts.iot}:tunnel/${tunnelId}`)
    assert.ok(opened.sourceAccessToken && opened.destinationAccessToken && opened.sourceAccessToken !== opened.destinationAccessToken)

    const described = (await tunneling.send(new DescribeTunnelCommand({tunnelId}))).tunnel!
    assert.equal(described.status, 'OPEN')
    assert.equal(described.sourceConnectionState?.status, 'DISCONNECTED')
    assert.equal(described.destinationConnectionState?.status, 'DISCONNECTED')
    assert.deepEqual(described.destinationConfig, {thingName: 'thing-1', services: ['SSH']})
    assert.equal(described.timeoutConfig?.maxLifetimeTimeoutMinutes, 30)
    assert.ok(described.createdAt instanceof Date)

    // The relay's view, in-process and over HTTP.
    assert.deepEqual(aws.tunnels.authorize(opened.sourceAccessToken)?.mode, 'source')
    const byToken = await fetch(`${aws.endpoint}/_standin/tunnels/by-token/${encodeURIComponent(opened.destinationAccessToken)}`)
    assert.deepEqual(await byToken.json(), {
      tunnelId,
      tunnelArn: opened.tunnelArn,
      mode: 'destination',
      services: ['SSH'],
      thingName: 'thing-1',
      region: 'us-east-1',
      accountId: aws.accounts.iot,
    })
    const report = await fetch(`${aws.endpoint}/_standin/tunnels/${tunnelId}/connection`, {
      method: 'POST',
      body: JSON.stringify({mode: 'destination', status: 'CONNECTED'}),
    })
    assert.equal(report.status, 200)
    assert.equal((await tunneling.send(new DescribeTunnelCommand({tunnelId}))).tunnel?.destinationConnectionState?.status, 'CONNECTED')

    const second = await tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'thing-2', services: ['SSH', 'HTTP']}}))
    const all = await tunneling.send(new ListTunnelsCommand({}))
    assert.deepEqual(all.tunnelSummaries?.slice(0, 2).map((t) => t.tunnelId), [second.tunnelId, tunnelId], 'newest first')
    const forThing = await tunneling.send(new ListTunnelsCommand({thingName: 'thing-1'}))
    assert.deepEqual(forThing.tunnelSummaries?.map((t) => t.tunnelId), [tunnelId])
    const page = await tunneling.send(new ListTunnelsCommand({maxResults: 1}))
    assert.equal(page.tunnelSummaries?.length, 1)
    const rest = await tunneling.send(new ListTunnelsCommand({maxResults: 1, nextToken: page.nextToken}))
    assert.equal(rest.tunnelSummaries?.[0]?.tunnelId, tunnelId)
    assert.equal((await client(IoTSecureTunnelingClient, 'msk').send(new ListTunnelsCommand({}))).tunnelSummaries?.length, 0)

    await tunneling.send(new TagTunnelCommand({resourceArn: opened.tunnelArn, tags: [{key: 'iotctl:managed', value: 'true'}]}))
    await tunneling.send(new UntagTunnelCommand({resourceArn: opened.tunnelArn, tagKeys: ['iotctl:stack']}))
    assert.deepEqual((await tunneling.send(new ListTunnelTagsCommand({resourceArn: opened.tunnelArn}))).tags, [{key: 'iotctl:managed', value: 'true'}])

    const rotated = await tunneling.send(new RotateTunnelAccessTokenCommand({tunnelId, clientMode: 'SOURCE'}))
    assert.equal(rotated.destinationAccessToken, undefined)
    assert.equal(aws.tunnels.authorize(opened.sourceAccessToken), undefined, 'the old source token is revoked')
    assert.equal(aws.tunnels.authorize(rotated.sourceAccessToken!)?.mode, 'source')
    assert.equal(aws.tunnels.authorize(opened.destinationAccessToken)?.mode, 'destination', 'the destination token still works')

    const closedEvents: string[] = []
    aws.tunnels.once('closed', (t) => closedEvents.push(t.tunnelId))
    await tunneling.send(new CloseTunnelCommand({tunnelId}))
    assert.deepEqual(closedEvents, [tunnelId])
    const closed = (await tunneling.send(new DescribeTunnelCommand({tunnelId}))).tunnel!
    assert.equal(closed.status, 'CLOSED')
    assert.equal(closed.destinationConnectionState?.status, 'DISCONNECTED')
    assert.equal(aws.tunnels.authorize(rotated.sourceAccessToken!), undefined, 'tokens die with the tunnel')
    assert.equal((await fetch(`${aws.endpoint}/_standin/tunnels/by-token/${encodeURIComponent(opened.destinationAccessToken)}`)).status, 404)
    await rejectsWith(tunneling.send(new RotateTunnelAccessTokenCommand({tunnelId, clientMode: 'ALL'})), 'ResourceNotFoundException', 404)

    await tunneling.send(new CloseTunnelCommand({tunnelId, delete: true}))
    await rejectsWith(tunneling.send(new DescribeTunnelCommand({tunnelId})), 'ResourceNotFoundException', 404)
    await rejectsWith(client(IoTSecureTunnelingClient, 'msk').send(new DescribeTunnelCommand({tunnelId: second.tunnelId!})), 'ResourceNotFoundException')
  })

  test('validates services and lifetime', async () => {
    const tunneling = client(IoTSecureTunnelingClient, 'iot')
    await rejectsWith(tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 't', services: ['A', 'B', 'C', 'D']}})), 'ValidationException', 400)
    await rejectsWith(tunneling.send(new OpenTunnelCommand({timeoutConfig: {maxLifetimeTimeoutMinutes: 721}})), 'ValidationException')
    await rejectsWith(tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'bad name', services: ['SSH']}})), 'ValidationException')
  })

  test('OpenTunnel is throttled at one call per second and account', async () => {
    aws.settings.openTunnelsPerSecond = 1
    try {
      // The SDK's own retries get through once the second has passed.
      const patient = (profile: ProfileName) => new IoTSecureTunnelingClient({...aws.clientConfig(profile), maxAttempts: 10})
      await patient('iot').send(new OpenTunnelCommand({}))
      await rejectsWith(client(IoTSecureTunnelingClient, 'iot').send(new OpenTunnelCommand({})), 'ThrottlingException', 400)
      // Another account has its own budget.
      await patient('msk').send(new OpenTunnelCommand({}))
      await patient('iot').send(new OpenTunnelCommand({}))
    } finally {
      aws.settings.openTunnelsPerSecond = 0
    }
  })
})

describe('fixes to moto', () => {
  test('KMS key policies: PolicyName may be left out, as AWS allows', async () => {
    const kms = client(KMSClient, 'iot')
    const key = await kms.send(new CreateKeyCommand({}))
    const policy = JSON.parse((await kms.send(new GetKeyPolicyCommand({KeyId: key.KeyMetadata!.KeyId!}))).Policy!)
    assert.equal(policy.Statement[0].Principal.AWS, `arn:aws:iam::${aws.accounts.iot}:root`)
    const replaced = {Version: '2012-10-17', Id: 'iotctl', Statement: [{Sid: 'root', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${aws.accounts.iot}:root`}, Action: 'kms:*', Resource: '*'}]}
    await kms.send(new PutKeyPolicyCommand({KeyId: key.KeyMetadata!.KeyId!, Policy: JSON.stringify(replaced)}))
    assert.equal(JSON.parse((await kms.send(new GetKeyPolicyCommand({KeyId: key.KeyMetadata!.KeyId!}))).Policy!).Id, 'iotctl')
  })
})

describe('fault injection', () => {
  test('makes the next matching requests fail with the SDK error code', async () => {
    aws.injectFault({service: 'ec2', operation: 'CreateVpc', account: aws.accounts.msk, code: 'VpcLimitExceeded', status: 400, message: 'too many VPCs'})
    const error = await rejectsWith(client(EC2Client, 'msk').send(new CreateVpcCommand({CidrBlock: '10.90.0.0/16'})), 'VpcLimitExceeded', 400)
    assert.match(error.message, /too many VPCs/)
    await client(EC2Client, 'msk').send(new CreateVpcCommand({CidrBlock: '10.90.0.0/16'}))

    aws.injectFault({service: 'iot', operation: 'ListTopicRuleDestinations', code: 'ThrottlingException', status: 400, times: 2})
    const iot = client(IoTClient, 'iot')
    await rejectsWith(iot.send(new ListTopicRuleDestinationsCommand({})), 'ThrottlingException')
    await rejectsWith(iot.send(new ListTopicRuleDestinationsCommand({})), 'ThrottlingException')
    await iot.send(new ListTopicRuleDestinationsCommand({}))

    const posted = await fetch(`${aws.endpoint}/_standin/faults`, {
      method: 'POST',
      body: JSON.stringify({service: 'IoTSecuredTunneling', operation: 'ListTunnels', code: 'InternalFailure', status: 500}),
    })
    assert.equal(posted.status, 200)
    await rejectsWith(client(IoTSecureTunnelingClient, 'iot').send(new ListTunnelsCommand({})), 'InternalFailure', 500)

    aws.injectFault({service: 'sts', operation: 'GetCallerIdentity', code: 'ExpiredToken', status: 400, times: 100})
    await rejectsWith(client(STSClient, 'iot').send(new GetCallerIdentityCommand({})), 'ExpiredToken', 400)
    await fetch(`${aws.endpoint}/_standin/faults`, {method: 'DELETE'})
    await client(STSClient, 'iot').send(new GetCallerIdentityCommand({}))
    assert.ok(aws.log().some((e) => e.by === 'fault' && e.operation === 'GetCallerIdentity'))
  })
})

describe('lifecycle', () => {
  test('starts quickly, and stop() leaves no process or file behind', async (t) => {
    const started = Date.now()
    const second = await startLocalAws()
    const startupMs = Date.now() - started
    t.diagnostic(`startLocalAws() took ${startupMs} ms`)
    const {motoPid, dir} = second
    await second.warmedUp
    assert.equal(process.kill(motoPid, 0), true)
    const id = await new STSClient(second.clientConfig('msk')).send(new GetCallerIdentityCommand({}))
    assert.equal(id.Account, second.accounts.msk)
    await second.stop()
    assert.throws(() => process.kill(-motoPid, 0), {code: 'ESRCH'}, 'the moto process group is gone')
    assert.equal(existsSync(dir), false)
  })

  test('main.ts prints one JSON line (with the Kafka broker), serves, and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, ['test/support/local-aws/main.ts', '--no-throttle'], {cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit']})
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const [line] = await createInterface({input: child.stdout})[Symbol.asyncIterator]().next().then((r) => [r.value!])
    const info = JSON.parse(line)
    assert.deepEqual(Object.keys(info.env).sort(), ['AWS_CA_BUNDLE', 'AWS_CONFIG_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_IOT_DATA_PLANE', 'AWS_SHARED_CREDENTIALS_FILE'])
    assert.equal(info.env.AWS_ENDPOINT_URL, info.endpoint)
    assert.match(info.kafka.bootstrap, /^localhost:\d+$/)
    assert.equal(existsSync(info.kafka.caFile), true)
    assert.equal(info.env.AWS_ENDPOINT_URL_IOT_DATA_PLANE, `https://${info.iotData.host}:${info.iotData.port}`)
    assert.equal(info.env.AWS_CA_BUNDLE, info.iotData.caFile)
    assert.equal(((await (await fetch(`${info.control}/settings`)).json()) as {openTunnelsPerSecond: number}).openTunnelsPerSecond, 0)
    const script = `
      const {STSClient, GetCallerIdentityCommand} = await import('@aws-sdk/client-sts')
      const {fromIni} = await import('@aws-sdk/credential-providers')
      console.log((await new STSClient({region: 'us-east-1', credentials: fromIni({profile: 'msk'})}).send(new GetCallerIdentityCommand({}))).Account)
    `
    const {stdout} = await run(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, env: {...aws.childEnv(), ...info.env}})
    assert.equal(stdout.trim(), info.accounts.msk)
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.throws(() => process.kill(-info.motoPid, 0), {code: 'ESRCH'})
    assert.equal(existsSync(info.configFile), false)
    assert.equal(existsSync(info.kafka.caFile), false, "the Kafka broker's folder is removed")
  })
})
