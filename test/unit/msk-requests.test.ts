// Request-level: what `msk create`, `msk associate-secret` and cleanup send to
// MSK — CreateCluster with SASL/SCRAM and TLS in the cluster, tagged with the
// stack; BatchAssociateScramSecret only when ListScramSecrets lacks the secret —
// and that bad input sends nothing mutating.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {
  BatchAssociateScramSecretCommand,
  BatchDisassociateScramSecretCommand,
  CreateClusterCommand,
  DescribeClusterV2Command,
  GetBootstrapBrokersCommand,
  KafkaClient,
  ListClustersV2Command,
  ListScramSecretsCommand,
  type Cluster,
} from '@aws-sdk/client-kafka'
import {DescribeSecretCommand, ListSecretsCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {mockClient} from 'aws-sdk-client-mock'
import {AwsError, CheckFailed, InputError} from '../../src/lib/errors.ts'
import {associateSecret, bootstrapBrokers, createCluster} from '../../src/lib/msk/index.ts'
import {noWaitOption, scramAssociationStep} from '../../src/lib/msk/steps.ts'
import type {ResourceRecord, StackSettings} from '../../src/lib/plan/types.ts'
import {testContext} from '../support/step-context.ts'

const account = '111111111111'
const clusterArn = `arn:aws:kafka:us-east-1:${account}:cluster/iotctl-demo/0f8e7d6c-aaaa-bbbb-cccc-0123456789ab-1`
const secretArn = `arn:aws:secretsmanager:us-east-1:${account}:secret:AmazonMSK_demo-AbCdEf`
const stackTags = {'iotctl:stack': 'demo', 'iotctl:managed': 'true'}

function awsFailure(name: string): Error {
  return Object.assign(new Error(name), {name, $metadata: {httpStatusCode: 404}})
}

function mskAccount(settings: Partial<StackSettings> = {}, options: Record<string, unknown> = {}) {
  const kafka = new KafkaClient({region: 'us-east-1'})
  const ec2 = new EC2Client({region: 'us-east-1'})
  const sm = new SecretsManagerClient({region: 'us-east-1'})
  const mocks = {kafka: mockClient(kafka), ec2: mockClient(ec2), sm: mockClient(sm)}
  mocks.kafka.on(ListClustersV2Command).resolves({ClusterInfoList: []})
  mocks.kafka.on(DescribeClusterV2Command).rejects(awsFailure('NotFoundException'))
  mocks.ec2.on(DescribeSubnetsCommand, {SubnetIds: ['subnet-0000000a']}).resolves({Subnets: [{SubnetId: 'subnet-0000000a', VpcId: 'vpc-0000000a', AvailabilityZone: 'us-east-1a'}]})
  mocks.ec2.on(DescribeSubnetsCommand, {SubnetIds: ['subnet-0000000b']}).resolves({Subnets: [{SubnetId: 'subnet-0000000b', VpcId: 'vpc-0000000a', AvailabilityZone: 'us-east-1b'}]})
  mocks.ec2.on(DescribeSubnetsCommand, {SubnetIds: ['subnet-0000000c']}).resolves({Subnets: [{SubnetId: 'subnet-0000000c', VpcId: 'vpc-0000000a', AvailabilityZone: 'us-east-1a'}]})
  mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({SecurityGroups: [{GroupId: 'sg-0000000a', VpcId: 'vpc-0000000a'}]})
  mocks.sm.on(DescribeSecretCommand).rejects(awsFailure('ResourceNotFoundException'))
  mocks.sm.on(ListSecretsCommand).resolves({SecretList: []})
  const handle = {accountId: account, clients: {kafka, ec2, secrets: sm}}
  const ctx = Object.assign(testContext({settings: {stack: 'demo', ...settings}, msk: handle, iot: handle}), {options})
  return {ctx, mocks}
}

const mutating = /^(Create|Batch|Delete|Update|Tag|Put)/

function mutatingCalls(mocks: ReturnType<typeof mskAccount>['mocks']): string[] {
  return [...mocks.kafka.calls(), ...mocks.ec2.calls(), ...mocks.sm.calls()]
    .map((call) => (call.args[0] as {constructor: {name: string}}).constructor.name.replace(/Command$/, ''))
    .filter((name) => mutating.test(name))
}

const scramCluster: Cluster = {
  ClusterArn: clusterArn, ClusterName: 'iotctl-demo', ClusterType: 'PROVISIONED', State: 'ACTIVE', Tags: stackTags,
  Provisioned: {BrokerNodeGroupInfo: {ClientSubnets: [], InstanceType: 'kafka.t3.small'}, NumberOfBrokerNodes: 2, ClientAuthentication: {Sasl: {Scram: {Enabled: true}}}},
}

test('msk create: one CreateCluster with SASL/SCRAM only, TLS to clients and inside the cluster, the stack\'s tags; then waits for ACTIVE', async () => {
  const {ctx, mocks} = mskAccount({msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000b'], securityGroupId: 'sg-0000000a', vpcId: 'vpc-0000000a', brokers: 4}})
  mocks.kafka.on(CreateClusterCommand).resolves({ClusterArn: clusterArn, ClusterName: 'iotctl-demo', State: 'CREATING'})
  mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster})
  const result = await createCluster(ctx, {dryRun: false})

  assert.deepEqual(mocks.kafka.commandCalls(CreateClusterCommand).map((c) => c.args[0].input), [{
    ClusterName: 'iotctl-demo',
    KafkaVersion: '3.8.x',
    NumberOfBrokerNodes: 4,
    BrokerNodeGroupInfo: {
      ClientSubnets: ['subnet-0000000a', 'subnet-0000000b'],
      InstanceType: 'kafka.t3.small',
      SecurityGroups: ['sg-0000000a'],
      StorageInfo: {EbsStorageInfo: {VolumeSize: 100}},
    },
    ClientAuthentication: {Sasl: {Scram: {Enabled: true}, Iam: {Enabled: false}}, Unauthenticated: {Enabled: false}},
    EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS', InCluster: true}},
    Tags: stackTags,
  }])
  assert.equal(result.state, 'ACTIVE')
  assert.equal(result.clusterArn, clusterArn)
  assert.deepEqual(ctx.ledger.forStep('msk-cluster').map((r) => [r.kind, r.id, r.attrs?.name]), [['kafka:cluster', clusterArn, 'iotctl-demo']])
})

test('msk create adopts the stack\'s cluster, and with --no-wait does not wait for it', async () => {
  const {ctx, mocks} = mskAccount({msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000b']}}, {[noWaitOption]: true})
  mocks.kafka.on(ListClustersV2Command).resolves({ClusterInfoList: [{...scramCluster, State: 'CREATING'}]})
  mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: {...scramCluster, State: 'CREATING'}})
  const result = await createCluster(ctx, {dryRun: false})
  assert.equal(result.changed, false)
  assert.equal(result.state, 'CREATING')
  assert.deepEqual(mutatingCalls(mocks), [])
  assert.match(result.steps[0].notes.join(' '), /not ACTIVE yet/)
})

test('msk create: bad input is exit 2 before any mutating call', async (t) => {
  const cases: [string, Partial<StackSettings>, RegExp][] = [
    ['two subnets in one zone', {msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000c']}}, /^--subnets: subnet-0000000a and subnet-0000000c are both in us-east-1a/],
    ['one subnet', {msk: {subnetIds: ['subnet-0000000a']}}, /^--subnets: MSK needs subnets in at least two Availability Zones/],
    ['no subnets', {msk: {}}, /^missing --subnets/],
    ['unknown subnet', {msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000f']}}, /^--subnets: subnet-0000000f: no such subnet/],
    ['subnets outside --msk-vpc', {msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000b'], vpcId: 'vpc-0000000e'}}, /not in --msk-vpc vpc-0000000e/],
    ['brokers not a multiple', {msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000b'], brokers: 3}}, /^--brokers 3: MSK needs a multiple of the number of subnets \(2\)/],
    ['a name MSK refuses', {msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000b'], clusterName: 'my_cluster'}}, /^--cluster-name 'my_cluster'/],
  ]
  for (const [name, settings, expected] of cases) {
    await t.test(name, async () => {
      const {ctx, mocks} = mskAccount(settings)
      mocks.ec2.on(DescribeSubnetsCommand, {SubnetIds: ['subnet-0000000f']}).rejects(awsFailure('InvalidSubnetID.NotFound'))
      await assert.rejects(createCluster(ctx, {dryRun: false}), (error: Error) => error instanceof InputError && expected.test(error.message) && !error.message.includes('\n'))
      assert.deepEqual(mutatingCalls(mocks), [])
    })
  }
  await t.test('a cluster of that name that is not the stack\'s', async () => {
    const {ctx, mocks} = mskAccount({msk: {subnetIds: ['subnet-0000000a', 'subnet-0000000b']}})
    mocks.kafka.on(ListClustersV2Command, {ClusterNameFilter: 'iotctl-demo'}).resolves({ClusterInfoList: [{...scramCluster, Tags: {}}]})
    await assert.rejects(createCluster(ctx, {dryRun: false}), /^InputError: --cluster-name iotctl-demo: a cluster of that name exists in the MSK account and stack 'demo' did not create it/)
    assert.deepEqual(mutatingCalls(mocks), [])
  })
})

function withSecret(mocks: ReturnType<typeof mskAccount>['mocks'], kmsKeyId: string | null = `arn:aws:kms:us-east-1:${account}:key/k`) {
  mocks.sm.on(DescribeSecretCommand, {SecretId: 'AmazonMSK_demo'}).resolves({ARN: secretArn, Name: 'AmazonMSK_demo', KmsKeyId: kmsKeyId ?? undefined, Tags: [{Key: 'iotctl:stack', Value: 'demo'}]})
}

test('associate-secret: BatchAssociateScramSecret with A\'s secret, once; a second run reads ListScramSecrets and sends nothing', async () => {
  const first = mskAccount({msk: {clusterArn}})
  first.mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster})
  first.mocks.kafka.on(ListScramSecretsCommand).resolves({SecretArnList: []})
  first.mocks.kafka.on(BatchAssociateScramSecretCommand).resolves({ClusterArn: clusterArn, UnprocessedScramSecrets: []})
  withSecret(first.mocks)
  const result = await associateSecret(first.ctx, {dryRun: false})
  assert.deepEqual(first.mocks.kafka.commandCalls(BatchAssociateScramSecretCommand).map((c) => c.args[0].input), [{ClusterArn: clusterArn, SecretArnList: [secretArn]}])
  assert.equal(result.changed, true)
  assert.deepEqual(first.ctx.ledger.forStep('scram-association').map((r) => r.id), [`${clusterArn}|${secretArn}`])

  const second = mskAccount({msk: {clusterArn}})
  second.mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster})
  second.mocks.kafka.on(ListScramSecretsCommand).resolves({SecretArnList: [secretArn]})
  withSecret(second.mocks)
  const again = await associateSecret(second.ctx, {dryRun: false})
  assert.equal(again.changed, false)
  assert.deepEqual(mutatingCalls(second.mocks), [])
})

test('associate-secret: MSK\'s per-secret refusal is exit 1 with its error code', async () => {
  const {ctx, mocks} = mskAccount({msk: {clusterArn}})
  mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster})
  mocks.kafka.on(ListScramSecretsCommand).resolves({SecretArnList: []})
  mocks.kafka.on(BatchAssociateScramSecretCommand).resolves({ClusterArn: clusterArn, UnprocessedScramSecrets: [{SecretArn: secretArn, ErrorCode: 'InvalidSecretKmsKeyException', ErrorMessage: 'uses the default key'}]})
  withSecret(mocks)
  await assert.rejects(associateSecret(ctx, {dryRun: false}), (error: Error) => error instanceof AwsError && error.code === 'InvalidSecretKmsKeyException' && error.exitCode === 1)
})

test('associate-secret: bad input is exit 2 before any mutating call', async (t) => {
  const cases: [string, (m: ReturnType<typeof mskAccount>['mocks']) => void, RegExp][] = [
    ['no cluster at all', () => {}, /^no MSK cluster for stack 'demo': pass --cluster-arn/],
    ['a cluster without SASL/SCRAM', (m) => m.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: {...scramCluster, Provisioned: {...scramCluster.Provisioned, ClientAuthentication: {}} as Cluster['Provisioned']}}), /does not have SASL\/SCRAM client authentication enabled/],
    ['a serverless cluster', (m) => m.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: {...scramCluster, ClusterType: 'SERVERLESS', Provisioned: undefined, Serverless: {VpcConfigs: []}}}), /serverless clusters authenticate with IAM only/],
    ['no secret yet', (m) => m.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster}), /^no secret AmazonMSK_demo of stack 'demo' in the MSK account; run `iotctl secret mirror` first/],
    ['a secret with the default key', (m) => { m.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster}); withSecret(m, null) }, /default aws\/secretsmanager key, which MSK rejects/],
  ]
  for (const [name, arrange, expected] of cases) {
    await t.test(name, async () => {
      const {ctx, mocks} = mskAccount(name === 'no cluster at all' ? {} : {msk: {clusterArn}})
      arrange(mocks)
      await assert.rejects(associateSecret(ctx, {dryRun: false}), (error: Error) => error instanceof InputError && expected.test(error.message))
      assert.deepEqual(mutatingCalls(mocks), [])
    })
  }
})

test('cleanup disassociates exactly the recorded pair; a cluster already gone counts as done', async () => {
  const {ctx, mocks} = mskAccount()
  mocks.kafka.on(BatchDisassociateScramSecretCommand).resolves({ClusterArn: clusterArn, UnprocessedScramSecrets: []})
  const record: ResourceRecord = {step: 'scram-association', kind: 'kafka:scram-association', id: `${clusterArn}|${secretArn}`, account: 'msk', accountId: account, region: 'us-east-1', attrs: {clusterArn, secretArn}}
  await scramAssociationStep.delete(ctx, [record])
  assert.deepEqual(mocks.kafka.commandCalls(BatchDisassociateScramSecretCommand).map((c) => c.args[0].input), [{ClusterArn: clusterArn, SecretArnList: [secretArn]}])

  const gone = mskAccount()
  gone.mocks.kafka.on(BatchDisassociateScramSecretCommand).rejects(awsFailure('NotFoundException'))
  await scramAssociationStep.delete(gone.ctx, [record])
})

test('cleanup\'s read: a secret the ledger names is the stack\'s only when its tag says so (a foreign secret on the cluster stays associated)', async () => {
  const foreignArn = `arn:aws:secretsmanager:us-east-1:${account}:secret:AmazonMSK_team-XyZ123`
  const taggedArn = `arn:aws:secretsmanager:us-east-1:${account}:secret:AmazonMSK_demo_old-QwErTy`
  const {ctx, mocks} = mskAccount({msk: {clusterArn}})
  mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster})
  mocks.kafka.on(ListScramSecretsCommand).resolves({SecretArnList: [foreignArn, taggedArn]})
  mocks.sm.on(DescribeSecretCommand, {SecretId: foreignArn}).resolves({ARN: foreignArn, Name: 'AmazonMSK_team', Tags: [{Key: 'owner', Value: 'team'}]})
  mocks.sm.on(DescribeSecretCommand, {SecretId: taggedArn}).resolves({ARN: taggedArn, Name: 'AmazonMSK_demo_old', Tags: [{Key: 'iotctl:stack', Value: 'demo'}]})
  const hint = (secret: string): ResourceRecord => ({step: 'scram-association', kind: 'kafka:scram-association', id: `${clusterArn}|${secret}`, account: 'msk', accountId: account, region: 'us-east-1', attrs: {clusterArn, secretArn: secret}})
  ctx.ledger.put(hint(foreignArn))
  ctx.ledger.put(hint(taggedArn))
  const observed = await scramAssociationStep.read(ctx)
  assert.deepEqual(observed.resources.map((r) => r.attrs?.secretArn), [taggedArn])
  assert.deepEqual(mutatingCalls(mocks), [])
})

test('brokers: the whole GetBootstrapBrokers answer; no SASL/SCRAM string is exit 1', async () => {
  const {ctx, mocks} = mskAccount({msk: {clusterArn}})
  mocks.kafka.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: scramCluster})
  mocks.kafka.on(GetBootstrapBrokersCommand).resolves({BootstrapBrokerStringSaslScram: 'b-1.demo:9096,b-2.demo:9096', BootstrapBrokerStringTls: 'b-1.demo:9094'})
  assert.deepEqual(await bootstrapBrokers(ctx), {clusterArn, clusterName: 'iotctl-demo', BootstrapBrokerStringSaslScram: 'b-1.demo:9096,b-2.demo:9096', BootstrapBrokerStringTls: 'b-1.demo:9094'})

  mocks.kafka.on(GetBootstrapBrokersCommand).resolves({BootstrapBrokerStringTls: 'b-1.demo:9094'})
  await assert.rejects(bootstrapBrokers(ctx), (error: Error) => error instanceof CheckFailed && error.message.includes('no SASL/SCRAM bootstrap brokers'))
})
