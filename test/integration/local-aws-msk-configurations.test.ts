// The local AWS's MSK configurations (moto has none): CreateConfiguration,
// Describe*, List, Delete, with MSK's refusals, and CreateCluster's
// ConfigurationInfo checked as MSK checks it; UpdateClusterConfiguration as MSK
// answers it. No Kafka broker here.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {
  CreateClusterCommand,
  CreateConfigurationCommand,
  DeleteClusterCommand,
  DeleteConfigurationCommand,
  DescribeClusterV2Command,
  DescribeConfigurationCommand,
  DescribeConfigurationRevisionCommand,
  KafkaClient,
  ListConfigurationsCommand,
  UpdateClusterConfigurationCommand,
} from '@aws-sdk/client-kafka'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let kafka: KafkaClient
let other: KafkaClient
let subnets: string[]

before(async () => {
  // A cluster delay: CREATING and UPDATING are seen, then ACTIVE.
  aws = await startLocalAws({clusterActivationDelayMs: 1500})
  kafka = new KafkaClient({...aws.clientConfig('msk'), maxAttempts: 1})
  other = new KafkaClient({...aws.clientConfig('iot'), maxAttempts: 1})
  subnets = (await aws.createNetwork({name: 'configurations', msk: {cidr: '10.42.0.0/16'}, iot: {cidr: '10.43.0.0/16'}})).msk.subnetIds
})
after(() => aws?.stop())

const text = (s: string) => new TextEncoder().encode(s)

async function refused(promise: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  await assert.rejects(promise, (error: Error & {invalidParameter?: string}) => {
    assert.equal(error.name, name)
    assert.match(error.message, message)
    return true
  })
}

const cluster = (name: string, configurationInfo?: {Arn: string; Revision: number}) => new CreateClusterCommand({
  ClusterName: name,
  KafkaVersion: '3.8.x',
  NumberOfBrokerNodes: 2,
  BrokerNodeGroupInfo: {InstanceType: 'kafka.t3.small', ClientSubnets: subnets},
  ClientAuthentication: {Sasl: {Scram: {Enabled: true}}},
  ...(configurationInfo ? {ConfigurationInfo: configurationInfo} : {}),
})

describe('MSK configurations', () => {
  test('create, describe, its revision, list; only in its own account', async () => {
    const created = await kafka.send(new CreateConfigurationCommand({Name: 'locked', Description: 'deny by default', ServerProperties: text('allow.everyone.if.no.acl.found=false\n')}))
    assert.match(created.Arn!, /^arn:aws:kafka:us-east-1:111111111111:configuration\/locked\//)
    assert.equal(created.State, 'ACTIVE')
    assert.equal(created.LatestRevision?.Revision, 1)
    const described = await kafka.send(new DescribeConfigurationCommand({Arn: created.Arn}))
    assert.equal(described.Name, 'locked')
    assert.equal(described.Description, 'deny by default')
    const revision = await kafka.send(new DescribeConfigurationRevisionCommand({Arn: created.Arn, Revision: 1}))
    assert.equal(new TextDecoder().decode(revision.ServerProperties), 'allow.everyone.if.no.acl.found=false\n')
    assert.deepEqual((await kafka.send(new ListConfigurationsCommand({}))).Configurations?.map((c) => c.Name), ['locked'])
    assert.deepEqual((await other.send(new ListConfigurationsCommand({}))).Configurations, [])
    await refused(other.send(new DescribeConfigurationCommand({Arn: created.Arn})), 'NotFoundException', /not found/)
    await refused(kafka.send(new DescribeConfigurationRevisionCommand({Arn: created.Arn, Revision: 2})), 'NotFoundException', /Revision 2/)
  })

  test('refusals: name, properties, versions, a second of one name', async () => {
    await refused(kafka.send(new CreateConfigurationCommand({Name: 'bad_name', ServerProperties: text('a=b')})), 'BadRequestException', /name bad_name is not valid/)
    await refused(kafka.send(new CreateConfigurationCommand({Name: 'no-equals', ServerProperties: text('just words')})), 'BadRequestException', /not key=value/)
    await refused(kafka.send(new CreateConfigurationCommand({Name: 'maybe', ServerProperties: text('allow.everyone.if.no.acl.found=maybe')})), 'BadRequestException', /true or false/)
    await refused(kafka.send(new CreateConfigurationCommand({Name: 'old', KafkaVersions: ['0.1.0'], ServerProperties: text('a=b')})), 'BadRequestException', /Unsupported KafkaVersion \[0\.1\.0\]/)
    await refused(kafka.send(new CreateConfigurationCommand({Name: 'locked', ServerProperties: text('a=b')})), 'ConflictException', /already exists/)
    // The request model first: a missing required member never reaches the handler.
    await refused(kafka.send(new CreateConfigurationCommand({Name: 'x'} as never)), 'BadRequestException', /serverProperties/)
  })

  test('CreateCluster: ConfigurationInfo must name an existing configuration and revision of the caller; one in use cannot be deleted', async () => {
    const arn = (await kafka.send(new ListConfigurationsCommand({}))).Configurations![0].Arn!
    await refused(kafka.send(cluster('c-unknown', {Arn: arn.replace(/configuration\/locked\/.*/, 'configuration/locked/00000000-0000-0000-0000-000000000000-1'), Revision: 1})), 'BadRequestException', /does not exist in this account/)
    await refused(kafka.send(cluster('c-revision', {Arn: arn, Revision: 7})), 'BadRequestException', /Revision 7/)
    await refused(kafka.send(cluster('c-missing-revision', {Arn: arn} as never)), 'BadRequestException', /revision/)
    const made = await kafka.send(cluster('c-locked', {Arn: arn, Revision: 1}))
    const info = (await kafka.send(new DescribeClusterV2Command({ClusterArn: made.ClusterArn}))).ClusterInfo
    assert.equal(info?.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn, arn)
    assert.equal(info?.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationRevision, 1)
    await refused(kafka.send(new DeleteConfigurationCommand({Arn: arn})), 'BadRequestException', /in use by cluster/)
    await kafka.send(new DeleteClusterCommand({ClusterArn: made.ClusterArn}))
    assert.equal((await kafka.send(new DeleteConfigurationCommand({Arn: arn}))).State, 'DELETING')
    await refused(kafka.send(new DescribeConfigurationCommand({Arn: arn})), 'NotFoundException', /not found/)
  })

  test('UpdateClusterConfiguration: required fields, ACTIVE clusters only, the CurrentVersion must match; UPDATING, then ACTIVE with the new configuration and a new CurrentVersion', async () => {
    const configuration = await kafka.send(new CreateConfigurationCommand({Name: 'later', ServerProperties: text('allow.everyone.if.no.acl.found=false\n')}))
    const made = await kafka.send(cluster('c-update'))
    const describe = async () => (await kafka.send(new DescribeClusterV2Command({ClusterArn: made.ClusterArn}))).ClusterInfo!
    const first = await describe()
    assert.equal(first.State, 'CREATING')
    assert.equal(first.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn, undefined, 'MSK\'s default configuration: no ARN')
    const update = (currentVersion: string, info = {Arn: configuration.Arn!, Revision: 1}) =>
      kafka.send(new UpdateClusterConfigurationCommand({ClusterArn: made.ClusterArn, ConfigurationInfo: info, CurrentVersion: currentVersion}))
    await refused(update(first.CurrentVersion!), 'BadRequestException', /CREATING state/)
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const active = await describe()
    assert.equal(active.State, 'ACTIVE')
    await refused(update('K0000STALE0000'), 'BadRequestException', /does not match the cluster's current version/)
    await refused(update(active.CurrentVersion!, {Arn: configuration.Arn!, Revision: 9}), 'BadRequestException', /Revision 9/)
    await refused(kafka.send(new UpdateClusterConfigurationCommand({ClusterArn: made.ClusterArn, ConfigurationInfo: {Arn: configuration.Arn!, Revision: 1}} as never)), 'BadRequestException', /currentVersion/)
    await refused(kafka.send(new UpdateClusterConfigurationCommand({ClusterArn: made.ClusterArn!.replace(/cluster\/.*/, 'cluster/c-none/00000000-0000-0000-0000-000000000000-1'), ConfigurationInfo: {Arn: configuration.Arn!, Revision: 1}, CurrentVersion: active.CurrentVersion!})), 'NotFoundException', /not found/)

    const answer = await update(active.CurrentVersion!)
    assert.equal(answer.ClusterArn, made.ClusterArn)
    assert.match(answer.ClusterOperationArn!, /:cluster-operation\//)
    const updating = await describe()
    assert.equal(updating.State, 'UPDATING')
    assert.notEqual(updating.CurrentVersion, active.CurrentVersion)
    await refused(update(updating.CurrentVersion!), 'BadRequestException', /UPDATING state/)
    await new Promise((resolve) => setTimeout(resolve, 1600))
    const done = await describe()
    assert.equal(done.State, 'ACTIVE')
    assert.equal(done.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn, configuration.Arn)
    assert.equal(done.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationRevision, 1)
    // In use now: MSK refuses to delete it until the cluster is gone.
    await refused(kafka.send(new DeleteConfigurationCommand({Arn: configuration.Arn})), 'BadRequestException', /in use by cluster/)
    await kafka.send(new DeleteClusterCommand({ClusterArn: made.ClusterArn}))
    assert.equal((await kafka.send(new DeleteConfigurationCommand({Arn: configuration.Arn}))).State, 'DELETING')
  })
})
