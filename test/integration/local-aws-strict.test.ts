// The local AWS refuses what AWS refuses: requests that break the service
// model (required members, types, enums, lengths, patterns, ranges) get the
// service's own validation error naming the member, before moto sees them;
// MSK's CreateCluster checks (instance types, Kafka versions, brokers per
// subnet, subnets in distinct zones, SCRAM needs TLS); EC2 peering of
// overlapping CIDRs fails, a deleted peering's routes turn blackhole, DNS
// resolution over a peering needs DNS hostnames and support on both VPCs.
// Each refusal has its well-formed counterpart accepted.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {
  AcceptVpcPeeringConnectionCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeVpcPeeringConnectionsCommand,
  EC2Client,
  ModifyVpcAttributeCommand,
  ModifyVpcPeeringConnectionOptionsCommand,
} from '@aws-sdk/client-ec2'
import {CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {CreateThingCommand, CreateThingGroupCommand, DescribeThingCommand, IoTClient} from '@aws-sdk/client-iot'
import {DescribeTunnelCommand, IoTSecureTunnelingClient, OpenTunnelCommand} from '@aws-sdk/client-iotsecuretunneling'
import {CreateClusterCommand, CreateClusterV2Command, KafkaClient, ListClustersV2Command} from '@aws-sdk/client-kafka'
import {CreateKeyCommand, DescribeKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {AssumeRoleCommand, STSClient} from '@aws-sdk/client-sts'
import {startLocalAws, type LocalAws, type ProfileName} from '../support/local-aws/index.ts'

let aws: LocalAws

before(async () => {
  aws = await startLocalAws({clusterActivationDelayMs: 0})
})

after(async () => {
  await aws?.stop()
})

function client<T>(Client: new (config: object) => T, profile: ProfileName = 'msk'): T {
  return new Client({...aws.clientConfig(profile), maxAttempts: 1})
}

type AwsError = Error & {$metadata?: {httpStatusCode?: number}; invalidParameter?: string}

async function refused(promise: Promise<unknown>, name: string, message: RegExp): Promise<AwsError> {
  const error = await promise.then(
    () => assert.fail(`expected ${name}, got success`),
    (e: AwsError) => e,
  )
  assert.equal(error.name, name, `${error.name}: ${error.message}`)
  assert.equal(error.$metadata?.httpStatusCode, 400, error.message)
  assert.match(error.message, message)
  return error
}

describe('requests are validated against the service model', () => {
  test('EC2: a missing required parameter and a value outside the enum are refused, naming the parameter', async () => {
    const ec2 = client(EC2Client)
    await refused(ec2.send(new CreateSubnetCommand({CidrBlock: '10.1.1.0/24'} as never)), 'MissingParameter', /The request must contain the parameter VpcId/)
    await refused(ec2.send(new CreateVpcCommand({CidrBlock: '10.1.0.0/16', InstanceTenancy: 'shared' as never})), 'InvalidParameterValue', /InstanceTenancy/)
    const vpc = await ec2.send(new CreateVpcCommand({CidrBlock: '10.1.0.0/16', InstanceTenancy: 'default'}))
    const subnet = await ec2.send(new CreateSubnetCommand({VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.1.1.0/24'}))
    assert.match(subnet.Subnet!.SubnetId!, /^subnet-/)
  })

  test('IAM: a role name outside the pattern is refused with ValidationError', async () => {
    const iam = client(IAMClient)
    const trust = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole'}]})
    await refused(iam.send(new CreateRoleCommand({RoleName: 'not a role name', AssumeRolePolicyDocument: trust})), 'ValidationError', /at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern/)
    await refused(iam.send(new CreateRoleCommand({RoleName: 'x'.repeat(65), AssumeRolePolicyDocument: trust})), 'ValidationError', /'roleName'.*length less than or equal to 64/)
    const role = await iam.send(new CreateRoleCommand({RoleName: 'strict-role_1', AssumeRolePolicyDocument: trust}))
    assert.equal(role.Role?.RoleName, 'strict-role_1')
  })

  test('STS: a session name shorter than the minimum is refused with ValidationError', async () => {
    const sts = client(STSClient, 'base')
    const roleArn = `arn:aws:iam::${aws.accounts.msk}:role/iotctl-admin`
    await refused(sts.send(new AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 'a'})), 'ValidationError', /'roleSessionName'.*greater than or equal to 2/)
    const assumed = await sts.send(new AssumeRoleCommand({RoleArn: roleArn, RoleSessionName: 'ab'}))
    assert.ok(assumed.Credentials?.AccessKeyId)
  })

  test('KMS: an empty key id and an unknown key usage are refused with ValidationException', async () => {
    const kms = client(KMSClient)
    await refused(kms.send(new DescribeKeyCommand({KeyId: ''})), 'ValidationException', /at 'keyId' failed to satisfy constraint: Member must have length greater than or equal to 1/)
    await refused(kms.send(new CreateKeyCommand({KeyUsage: 'SIGN_EVERYTHING' as never})), 'ValidationException', /'keyUsage'.*enum value set/)
    const key = await kms.send(new CreateKeyCommand({KeyUsage: 'ENCRYPT_DECRYPT'}))
    const described = await kms.send(new DescribeKeyCommand({KeyId: key.KeyMetadata!.KeyId!}))
    assert.equal(described.KeyMetadata?.KeyUsage, 'ENCRYPT_DECRYPT')
  })

  test('Secrets Manager: a name longer than 512 and an empty secret id are refused with ValidationException', async () => {
    const secrets = client(SecretsManagerClient)
    await refused(secrets.send(new CreateSecretCommand({Name: 'n'.repeat(513), SecretString: 'x'})), 'ValidationException', /'name'.*less than or equal to 512/)
    await refused(secrets.send(new GetSecretValueCommand({SecretId: ''})), 'ValidationException', /'secretId'/)
    const created = await secrets.send(new CreateSecretCommand({Name: 'strict/secret', SecretString: 'x'}))
    const value = await secrets.send(new GetSecretValueCommand({SecretId: created.ARN!}))
    assert.equal(value.SecretString, 'x')
  })

  test('IoT: a thing name outside the pattern is refused with InvalidRequestException', async () => {
    const iot = client(IoTClient, 'iot')
    await refused(iot.send(new CreateThingCommand({thingName: 'no spaces allowed'})), 'InvalidRequestException', /at 'thingName' failed to satisfy constraint: Member must satisfy regular expression pattern: \[a-zA-Z0-9:_-\]\+/)
    await iot.send(new CreateThingCommand({thingName: 'strict-thing_1'}))
    const thing = await iot.send(new DescribeThingCommand({thingName: 'strict-thing_1'}))
    assert.equal(thing.thingName, 'strict-thing_1')
  })

  test('IoT: a Java pattern (\\p{Graph}) is applied as Java reads it: a tab in a thing group description is refused', async () => {
    const iot = client(IoTClient, 'iot')
    await refused(
      iot.send(new CreateThingGroupCommand({thingGroupName: 'strict-group', thingGroupProperties: {thingGroupDescription: 'sensors\tfloor 1'}})),
      'InvalidRequestException',
      /'thingGroupProperties.thingGroupDescription' failed to satisfy constraint: Member must satisfy regular expression pattern: \[\\p\{Graph\}\\x20\]\*/,
    )
    const group = await iot.send(new CreateThingGroupCommand({thingGroupName: 'strict-group', thingGroupProperties: {thingGroupDescription: 'sensors, floor 1'}}))
    assert.equal(group.thingGroupName, 'strict-group')
  })

  test('Kafka: maxResults out of range in the query string is refused with BadRequestException naming it', async () => {
    const kafka = client(KafkaClient)
    const error = await refused(kafka.send(new ListClustersV2Command({MaxResults: 101})), 'BadRequestException', /'maxResults'.*less than or equal to 100/)
    assert.equal(error.invalidParameter, 'maxResults')
    const listed = await kafka.send(new ListClustersV2Command({MaxResults: 100}))
    assert.ok(Array.isArray(listed.ClusterInfoList))
  })

  test('Secure Tunneling: a tunnel id or thing name outside the pattern is refused with ValidationException', async () => {
    const tunneling = client(IoTSecureTunnelingClient, 'iot')
    await refused(tunneling.send(new DescribeTunnelCommand({tunnelId: 'not a tunnel id'})), 'ValidationException', /'tunnelId'.*regular expression pattern/)
    await refused(
      tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'bad thing', services: ['SSH']}})),
      'ValidationException',
      /'destinationConfig.thingName'/,
    )
    await refused(
      tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'strict-thing_1', services: []}})),
      'ValidationException',
      /'destinationConfig.services'.*length greater than or equal to 1/,
    )
    const opened = await tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'strict-thing_1', services: ['SSH']}}))
    const described = await tunneling.send(new DescribeTunnelCommand({tunnelId: opened.tunnelId!}))
    assert.equal(described.tunnel?.destinationConfig?.thingName, 'strict-thing_1')
  })
})

describe('MSK CreateCluster refuses what MSK refuses', () => {
  let subnets: string[]
  let sameZone: string[]
  let securityGroup: string

  before(async () => {
    const network = await aws.createNetwork({name: 'strict-msk', msk: {cidr: '10.40.0.0/16'}, iot: {cidr: '10.41.0.0/16'}})
    subnets = network.msk.subnetIds
    securityGroup = network.msk.securityGroupId
    const ec2 = client(EC2Client)
    const third = await ec2.send(new CreateSubnetCommand({VpcId: network.msk.vpcId, CidrBlock: '10.40.2.0/24', AvailabilityZone: network.msk.subnets[0].availabilityZone}))
    sameZone = [subnets[0], third.Subnet!.SubnetId!]
  })

  const provisioned = (overrides: Record<string, unknown> = {}) => ({
    KafkaVersion: '3.6.0',
    NumberOfBrokerNodes: 2,
    BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: subnets, SecurityGroups: [securityGroup]},
    ClientAuthentication: {Sasl: {Scram: {Enabled: true}}},
    EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS' as const, InCluster: true}},
    ...overrides,
  })

  const cases: {name: string; overrides: () => Record<string, unknown>; parameter: string; message: RegExp}[] = [
    {name: 'an instance type MSK does not offer', overrides: () => ({BrokerNodeGroupInfo: {InstanceType: 'kafka.bogus.huge', ClientSubnets: subnets}}), parameter: 'instanceType', message: /kafka\.bogus\.huge is not supported/},
    {name: 'a Kafka version MSK does not offer', overrides: () => ({KafkaVersion: '0.0.1'}), parameter: 'kafkaVersion', message: /Unsupported KafkaVersion \[0\.0\.1\]/},
    {name: '3 brokers on 2 subnets', overrides: () => ({NumberOfBrokerNodes: 3}), parameter: 'numberOfBrokerNodes', message: /multiple of Availability Zones in the Client Subnets/},
    {name: 'two subnets in one Availability Zone', overrides: () => ({BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: sameZone}}), parameter: 'clientSubnets', message: /distinct Availability Zones/},
    {name: 'a subnet that does not exist', overrides: () => ({BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: [subnets[0], 'subnet-0000000000000dead']}}), parameter: 'clientSubnets', message: /subnet-0000000000000dead could not be found/},
    {name: 'SASL/SCRAM with PLAINTEXT between clients and brokers', overrides: () => ({EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'PLAINTEXT'}}}), parameter: 'clientBroker', message: /SASL\/SCRAM .*TLS/},
  ]
  for (const {name, overrides, parameter, message} of cases) {
    test(`CreateClusterV2: ${name} is refused, naming ${parameter}`, async () => {
      const error = await refused(client(KafkaClient).send(new CreateClusterV2Command({ClusterName: 'strict-refused', Provisioned: provisioned(overrides())})), 'BadRequestException', message)
      assert.equal(error.invalidParameter, parameter)
    })
  }

  test('CreateCluster (v1) applies the same checks; the well-formed request is accepted by both', async () => {
    const kafka = client(KafkaClient)
    const v1 = (overrides: Record<string, unknown> = {}) => new CreateClusterCommand({ClusterName: 'strict-v1', ...provisioned(overrides)})
    await refused(kafka.send(v1({NumberOfBrokerNodes: 3})), 'BadRequestException', /multiple of Availability Zones/)
    await refused(kafka.send(v1({KafkaVersion: '0.0.1'})), 'BadRequestException', /KafkaVersion/)
    assert.match((await kafka.send(v1({NumberOfBrokerNodes: 4, KafkaVersion: '3.8.x'}))).ClusterArn!, /^arn:aws:kafka:us-east-1:111111111111:cluster\//)
    const v2 = await kafka.send(new CreateClusterV2Command({ClusterName: 'strict-v2', Provisioned: provisioned({BrokerNodeGroupInfo: {InstanceType: 'kafka.m7g.large', ClientSubnets: subnets}})}))
    assert.match(v2.ClusterArn!, /^arn:aws:kafka:us-east-1:111111111111:cluster\//)
    const tlsPlaintext = await kafka.send(new CreateClusterV2Command({ClusterName: 'strict-scram-tls-plaintext', Provisioned: provisioned({EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS_PLAINTEXT'}}})}))
    assert.ok(tlsPlaintext.ClusterArn)
  })
})

describe('EC2 VPC peering as AWS does it', () => {
  const ec2 = (profile: ProfileName = 'msk') => client(EC2Client, profile)
  const vpc = async (cidr: string, profile: ProfileName = 'msk') => (await ec2(profile).send(new CreateVpcCommand({CidrBlock: cidr}))).Vpc!.VpcId!
  const status = async (id: string, profile: ProfileName = 'msk') =>
    (await ec2(profile).send(new DescribeVpcPeeringConnectionsCommand({VpcPeeringConnectionIds: [id]}))).VpcPeeringConnections![0].Status!

  test('peering VPCs with overlapping CIDRs fails; non-overlapping ones wait for acceptance', async () => {
    const a = await vpc('10.50.0.0/16')
    const overlapping = await vpc('10.50.128.0/17', 'iot')
    const separate = await vpc('10.51.0.0/16', 'iot')
    const bad = await ec2().send(new CreateVpcPeeringConnectionCommand({VpcId: a, PeerVpcId: overlapping, PeerOwnerId: aws.accounts.iot}))
    const badId = bad.VpcPeeringConnection!.VpcPeeringConnectionId!
    assert.deepEqual(await status(badId), {Code: 'failed', Message: 'Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range'})
    assert.equal((await status(badId, 'iot')).Code, 'failed')
    await assert.rejects(ec2('iot').send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: badId})), {name: 'InvalidStateTransition'})

    const good = await ec2().send(new CreateVpcPeeringConnectionCommand({VpcId: a, PeerVpcId: separate, PeerOwnerId: aws.accounts.iot}))
    const goodId = good.VpcPeeringConnection!.VpcPeeringConnectionId!
    assert.equal((await status(goodId)).Code, 'pending-acceptance')
    await ec2('iot').send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: goodId}))
    assert.equal((await status(goodId)).Code, 'active')
  })

  test('an accepted peering is provisioning for peeringActivationDelayMs, from both accounts, then active', async () => {
    const requester = await vpc('10.52.0.0/16')
    const accepter = await vpc('10.53.0.0/16', 'iot')
    const created = await ec2().send(new CreateVpcPeeringConnectionCommand({VpcId: requester, PeerVpcId: accepter, PeerOwnerId: aws.accounts.iot}))
    const id = created.VpcPeeringConnection!.VpcPeeringConnectionId!
    aws.settings.peeringActivationDelayMs = 1500
    try {
      await ec2('iot').send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: id}))
      const acceptedAt = Date.now()
      assert.deepEqual(await status(id), {Code: 'provisioning', Message: 'Provisioning'})
      assert.equal((await status(id, 'iot')).Code, 'provisioning')
      let code = 'provisioning'
      while (code === 'provisioning') {
        await new Promise((resolve) => setTimeout(resolve, 100))
        code = (await status(id)).Code!
      }
      assert.equal(code, 'active')
      assert.ok(Date.now() - acceptedAt >= 1400, `active after ${Date.now() - acceptedAt} ms`)
      assert.equal((await status(id, 'iot')).Code, 'active')
    } finally {
      aws.settings.peeringActivationDelayMs = 0
    }
  })

  test("a deleted peering's routes turn blackhole; routes of a live peering stay active", async () => {
    const network = await aws.createNetwork({name: 'strict-routes', msk: {cidr: '10.60.0.0/16'}, iot: {cidr: '10.61.0.0/16'}})
    const peer = async () => {
      const created = await ec2().send(new CreateVpcPeeringConnectionCommand({VpcId: network.msk.vpcId, PeerVpcId: network.iot.vpcId, PeerOwnerId: aws.accounts.iot}))
      const id = created.VpcPeeringConnection!.VpcPeeringConnectionId!
      await ec2('iot').send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: id}))
      return id
    }
    const kept = await peer()
    const deleted = await peer()
    await ec2().send(new CreateRouteCommand({RouteTableId: network.msk.routeTableId, DestinationCidrBlock: '10.61.0.0/17', VpcPeeringConnectionId: kept}))
    await ec2().send(new CreateRouteCommand({RouteTableId: network.msk.routeTableId, DestinationCidrBlock: '10.61.128.0/17', VpcPeeringConnectionId: deleted}))
    const states = async () => {
      const table = (await ec2().send(new DescribeRouteTablesCommand({RouteTableIds: [network.msk.routeTableId]}))).RouteTables![0]
      return Object.fromEntries(table.Routes!.filter((r) => r.VpcPeeringConnectionId).map((r) => [r.VpcPeeringConnectionId, r.State]))
    }
    assert.deepEqual(await states(), {[kept]: 'active', [deleted]: 'active'})
    await ec2().send(new DeleteVpcPeeringConnectionCommand({VpcPeeringConnectionId: deleted}))
    assert.deepEqual(await states(), {[kept]: 'active', [deleted]: 'blackhole'})
  })

  test('DNS resolution over a peering is refused until both VPCs have DNS hostnames and DNS support', async () => {
    const network = await aws.createNetwork({name: 'strict-dns', msk: {cidr: '10.70.0.0/16'}, iot: {cidr: '10.71.0.0/16'}})
    const created = await ec2('iot').send(new CreateVpcPeeringConnectionCommand({VpcId: network.iot.vpcId, PeerVpcId: network.msk.vpcId, PeerOwnerId: aws.accounts.msk}))
    const id = created.VpcPeeringConnection!.VpcPeeringConnectionId!
    await ec2().send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: id}))
    const enable = () =>
      ec2('iot').send(new ModifyVpcPeeringConnectionOptionsCommand({VpcPeeringConnectionId: id, RequesterPeeringConnectionOptions: {AllowDnsResolutionFromRemoteVpc: true}}))
    await refused(enable(), 'OperationNotPermitted', new RegExp(`VPC ${network.iot.vpcId} does not have enableDnsHostnames enabled`))
    await ec2('iot').send(new ModifyVpcAttributeCommand({VpcId: network.iot.vpcId, EnableDnsHostnames: {Value: true}}))
    await refused(enable(), 'OperationNotPermitted', new RegExp(`VPC ${network.msk.vpcId} does not have enableDnsHostnames enabled`))
    await ec2().send(new ModifyVpcAttributeCommand({VpcId: network.msk.vpcId, EnableDnsHostnames: {Value: true}}))
    await ec2().send(new ModifyVpcAttributeCommand({VpcId: network.msk.vpcId, EnableDnsSupport: {Value: false}}))
    await refused(enable(), 'OperationNotPermitted', new RegExp(`VPC ${network.msk.vpcId} does not have enableDnsSupport enabled`))
    await ec2().send(new ModifyVpcAttributeCommand({VpcId: network.msk.vpcId, EnableDnsSupport: {Value: true}}))
    const answer = await enable()
    assert.equal(answer.RequesterPeeringConnectionOptions?.AllowDnsResolutionFromRemoteVpc, true)
  })
})
