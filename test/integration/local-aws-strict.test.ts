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
  CreateSubnetCommand,
  CreateVpcCommand,
  EC2Client,
} from '@aws-sdk/client-ec2'
import {CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {CreateThingCommand, DescribeThingCommand, IoTClient} from '@aws-sdk/client-iot'
import {DescribeTunnelCommand, IoTSecureTunnelingClient, OpenTunnelCommand} from '@aws-sdk/client-iotsecuretunneling'
import {KafkaClient, ListClustersV2Command} from '@aws-sdk/client-kafka'
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
    const opened = await tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'strict-thing_1', services: ['SSH']}}))
    const described = await tunneling.send(new DescribeTunnelCommand({tunnelId: opened.tunnelId!}))
    assert.equal(described.tunnel?.destinationConfig?.thingName, 'strict-thing_1')
  })
})
