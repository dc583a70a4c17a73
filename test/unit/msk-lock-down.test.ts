// `msk acl --lock-down`'s order, request by request, over a fake Kafka admin and
// a mocked MSK client sharing one log: the ACLs (the managing user's on the
// cluster included, never ClusterAction) are created BEFORE CreateConfiguration
// and UpdateClusterConfiguration, whose payloads are pinned; a failed or DENIED
// grant never reaches the lock; a dry run mutates nothing; a cluster already on
// the configuration revision is left alone. MSK has no super user a SCRAM client
// can be, so a cluster locked first could never be granted (MSK developer guide,
// "Apache Kafka ACLs").
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  CreateConfigurationCommand,
  DescribeClusterV2Command,
  DescribeConfigurationRevisionCommand,
  KafkaClient,
  ListConfigurationsCommand,
  UpdateClusterConfigurationCommand,
  type Cluster,
} from '@aws-sdk/client-kafka'
import type {Acl} from '@platformatic/kafka'
import {mockClient} from 'aws-sdk-client-mock'
import type {AclAdmin, DescribeAclsResponseResource} from '../../src/lib/msk/acl.ts'
import {grantThenLockDown} from '../../src/lib/msk/acl-stack.ts'
import {testContext} from '../support/step-context.ts'

const account = '111111111111'
const clusterArn = `arn:aws:kafka:us-east-1:${account}:cluster/iotctl-demo/0f8e7d6c-aaaa-bbbb-cccc-0123456789ab-1`
const configurationArn = `arn:aws:kafka:us-east-1:${account}:configuration/iotctl-demo-acls/0f8e7d6c-1111-2222-3333-0123456789ab-1`
const description = 'iotctl stack demo: Kafka ACLs deny by default (allow.everyone.if.no.acl.found=false)'

const brokers = {BrokerNodeGroupInfo: {ClientSubnets: [], InstanceType: 'kafka.t3.small'}, NumberOfBrokerNodes: 2}
const openCluster: Cluster = {ClusterArn: clusterArn, ClusterName: 'iotctl-demo', State: 'ACTIVE', CurrentVersion: 'K3AEGXETSR30VB', Provisioned: brokers}
const onConfiguration = {...brokers, CurrentBrokerSoftwareInfo: {ConfigurationArn: configurationArn, ConfigurationRevision: 1}}

function setUp(options: {existing?: DescribeAclsResponseResource[]; failCreate?: boolean; configured?: boolean} = {}) {
  const log: string[] = []
  const created: Acl[] = []
  const admin: AclAdmin = {
    async describeAcls() {
      log.push('DescribeAcls')
      return options.existing ?? []
    },
    async createAcls({creations}) {
      log.push('CreateAcls')
      if (options.failCreate) throw new Error('CLUSTER_AUTHORIZATION_FAILED')
      created.push(...creations)
    },
  }
  const kafka = new KafkaClient({region: 'us-east-1'})
  const mock = mockClient(kafka)
  const logged = <T>(name: string, value: T) => () => {
    log.push(name)
    return value
  }
  mock.on(ListConfigurationsCommand).callsFake(logged('ListConfigurations', {Configurations: options.configured ? [{Arn: configurationArn, Name: 'iotctl-demo-acls', Description: description, State: 'ACTIVE', KafkaVersions: [], CreationTime: new Date(), LatestRevision: {Revision: 1, CreationTime: new Date()}}] : []}))
  mock.on(DescribeConfigurationRevisionCommand).callsFake(logged('DescribeConfigurationRevision', {Arn: configurationArn, Revision: 1, ServerProperties: new TextEncoder().encode('allow.everyone.if.no.acl.found=false\n')}))
  mock.on(CreateConfigurationCommand).callsFake(logged('CreateConfiguration', {Arn: configurationArn, Name: 'iotctl-demo-acls', State: 'ACTIVE', LatestRevision: {Revision: 1, CreationTime: new Date()}}))
  mock.on(UpdateClusterConfigurationCommand).callsFake(logged('UpdateClusterConfiguration', {ClusterArn: clusterArn, ClusterOperationArn: `${clusterArn}/op`}))
  mock.on(DescribeClusterV2Command).callsFake(logged('DescribeClusterV2', {ClusterInfo: {...openCluster, Provisioned: onConfiguration}}))
  const handle = {accountId: account, clients: {kafka}}
  // msk.clusterArn: the cluster is given, so the configuration is looked for in the ledger and by name only.
  const ctx = testContext({settings: {stack: 'demo', msk: {clusterArn}}, msk: handle, iot: handle})
  const request = {producers: ['iotctl-demo'], topic: 'device-data', admin: 'iotctl-demo', brokers: 'b-1:9096'}
  return {log, created, mock, ctx, admin, request}
}

const mutating = (log: string[]) => log.filter((name) => /^(Create|Update)/.test(name))

test('--lock-down: every ACL first (the managing user\'s Alter, Describe, Create, AlterConfigs, DescribeConfigs on the cluster, never ClusterAction), then CreateConfiguration, then UpdateClusterConfiguration against the CurrentVersion', async () => {
  const {log, created, mock, ctx, admin, request} = setUp()
  const result = await grantThenLockDown(ctx, admin, {...request, dryRun: false}, openCluster)

  assert.deepEqual(mutating(log), ['CreateAcls', 'CreateConfiguration', 'UpdateClusterConfiguration'])
  assert.equal(result.lockDown?.state, 'applied')
  const cluster = created.filter((a) => a.resourceType === 4)
  assert.deepEqual(cluster.map((a) => [a.principal, a.resourceName, a.operation, a.permissionType]), [
    ['User:iotctl-demo', 'kafka-cluster', 7, 3], // Alter: manage ACLs
    ['User:iotctl-demo', 'kafka-cluster', 8, 3], // Describe: read ACLs
    ['User:iotctl-demo', 'kafka-cluster', 5, 3], // Create: topics
    ['User:iotctl-demo', 'kafka-cluster', 11, 3], // AlterConfigs
    ['User:iotctl-demo', 'kafka-cluster', 10, 3], // DescribeConfigs
  ])
  assert.ok(!created.some((a) => a.operation === 9), 'no ClusterAction')
  assert.deepEqual(mock.commandCalls(CreateConfigurationCommand).map((c) => c.args[0].input), [{
    Name: 'iotctl-demo-acls',
    Description: description,
    ServerProperties: new TextEncoder().encode('allow.everyone.if.no.acl.found=false\n'),
  }])
  assert.deepEqual(mock.commandCalls(UpdateClusterConfigurationCommand).map((c) => c.args[0].input), [{
    ClusterArn: clusterArn,
    ConfigurationInfo: {Arn: configurationArn, Revision: 1},
    CurrentVersion: 'K3AEGXETSR30VB',
  }])
})

test('a grant that fails never reaches the lock: no configuration, no update', async () => {
  const {log, ctx, admin, request} = setUp({failCreate: true})
  await assert.rejects(grantThenLockDown(ctx, admin, {...request, dryRun: false}, openCluster), /not allowed to administer ACLs/)
  assert.deepEqual(mutating(log), ['CreateAcls'])
})

test('a DENY overriding a grant: the cluster is not locked (the user would be cut off)', async () => {
  const deny: DescribeAclsResponseResource = {resourceType: 2, resourceName: 'device-data', resourcePatternType: 3, acls: [{principal: 'User:iotctl-demo', host: '*', operation: 4, permissionType: 2}]}
  const {log, ctx, admin, request} = setUp({existing: [deny]})
  const result = await grantThenLockDown(ctx, admin, {...request, dryRun: false}, openCluster)
  assert.ok(result.grants.some((g) => g.state === 'denied'))
  assert.equal(result.lockDown, undefined)
  assert.ok(!mutating(log).some((name) => name !== 'CreateAcls'), log.join(' '))
})

test('--dry-run: reads only, and says the ACLs, then the configuration, then the update', async () => {
  const {log, ctx, admin, request} = setUp()
  const result = await grantThenLockDown(ctx, admin, {...request, dryRun: true}, openCluster)
  assert.deepEqual(mutating(log), [])
  assert.equal(result.lockDown?.state, 'planned')
  assert.deepEqual(result.lockDown?.actions.map((a) => a.split(' (')[0]), ['create MSK configuration iotctl-demo-acls', 'apply iotctl-demo-acls to cluster iotctl-demo'])
})

test('a cluster already on the configuration revision: nothing changes', async () => {
  const {log, ctx, admin, request} = setUp({configured: true})
  const locked: Cluster = {...openCluster, Provisioned: onConfiguration}
  // Every ACL is there already (All on the topic and on the cluster).
  const result = await grantThenLockDown(ctx, {...admin, describeAcls: async () => {
    log.push('DescribeAcls')
    return [
      {resourceType: 2, resourceName: 'device-data', resourcePatternType: 3, acls: [{principal: 'User:iotctl-demo', host: '*', operation: 2, permissionType: 3}]},
      {resourceType: 4, resourceName: 'kafka-cluster', resourcePatternType: 3, acls: [{principal: 'User:iotctl-demo', host: '*', operation: 2, permissionType: 3}]},
    ]
  }}, {...request, dryRun: false}, locked)
  assert.equal(result.lockDown?.state, 'locked')
  assert.deepEqual(mutating(log), [])
})

test('a cluster on a configuration of the user\'s own is not switched to the stack\'s (its other settings would be lost)', async () => {
  const {log, ctx, admin, request} = setUp()
  const theirs: Cluster = {...openCluster, Provisioned: {...brokers, CurrentBrokerSoftwareInfo: {ConfigurationArn: `arn:aws:kafka:us-east-1:${account}:configuration/tuned/1111-1`, ConfigurationRevision: 3}}}
  await assert.rejects(grantThenLockDown(ctx, admin, {...request, dryRun: false}, theirs), /uses MSK configuration .*configuration\/tuned\/.*iotctl does not replace it/)
  assert.deepEqual(mutating(log), ['CreateAcls'])
})
