// Request-level: the rule's Kafka topic. `up` sends CreateTopic with the
// partitions and replication factor (defaults, flags, at most the brokers)
// and records it; a topic found is used and never deleted; a cluster without
// the topic API gets a note with the kafka-topics.sh command instead of a
// request; cleanup deletes what it recorded unless --keep-topic.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  CreateTopicCommand, DeleteTopicCommand, DescribeClusterV2Command, DescribeTopicCommand, GetBootstrapBrokersCommand, KafkaClient, ListClustersV2Command, type Cluster,
} from '@aws-sdk/client-kafka'
import {mockClient} from 'aws-sdk-client-mock'
import {InputError} from '../../src/lib/errors.ts'
import {kafkaTopicStep} from '../../src/lib/msk/topic-step.ts'
import {applySteps, destroySteps} from '../../src/lib/plan/runner.ts'
import type {StackSettings} from '../../src/lib/plan/types.ts'
import {testContext} from '../support/step-context.ts'

const account = '111111111111'
const clusterArn = `arn:aws:kafka:us-east-1:${account}:cluster/iotctl-demo/0f8e7d6c-1`
const topicArn = `arn:aws:kafka:us-east-1:${account}:topic/iotctl-demo/0f8e7d6c-1/device-data`
const brokers = 'b-1.iotctl-demo.abc.c2.kafka.us-east-1.amazonaws.com:9096,b-2.iotctl-demo.abc.c2.kafka.us-east-1.amazonaws.com:9096'

function cluster(version = '3.6.0', brokerCount = 2): Cluster {
  return {
    ClusterArn: clusterArn, ClusterName: 'iotctl-demo', ClusterType: 'PROVISIONED', State: 'ACTIVE',
    Provisioned: {BrokerNodeGroupInfo: {ClientSubnets: [], InstanceType: 'kafka.t3.small'}, NumberOfBrokerNodes: brokerCount, CurrentBrokerSoftwareInfo: {KafkaVersion: version}},
  }
}

const failure = (name: string, message: string, status: number) => Object.assign(new Error(message), {name, $metadata: {httpStatusCode: status}})

function setup(settings: Partial<StackSettings> = {}, found: Cluster = cluster()) {
  const kafka = new KafkaClient({region: 'us-east-1'})
  const mock = mockClient(kafka)
  mock.on(ListClustersV2Command).resolves({ClusterInfoList: []})
  mock.on(DescribeClusterV2Command, {ClusterArn: clusterArn}).resolves({ClusterInfo: found})
  mock.on(GetBootstrapBrokersCommand).resolves({BootstrapBrokerStringSaslScram: brokers})
  mock.on(DescribeTopicCommand).rejects(failure('NotFoundException', 'Topic not found', 404))
  mock.on(CreateTopicCommand).resolves({TopicArn: topicArn, TopicName: 'device-data', Status: 'CREATING'})
  mock.on(DeleteTopicCommand).resolves({TopicArn: topicArn, Status: 'DELETING'})
  const handle = {accountId: account, clients: {kafka}}
  const ctx = testContext({settings: {stack: 'demo', msk: {clusterArn}, ...settings}, msk: handle, iot: handle})
  return {ctx, mock}
}

test('up creates the rule\'s topic: 1 partition, replication factor min(3, brokers), recorded in the ledger with the stack\'s mark', async () => {
  const {ctx, mock} = setup()
  const result = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(result.reports[0].outcome, 'created')
  const calls = mock.commandCalls(CreateTopicCommand)
  assert.equal(calls.length, 1)
  assert.deepEqual(calls[0].args[0].input, {ClusterArn: clusterArn, TopicName: 'device-data', PartitionCount: 1, ReplicationFactor: 2})
  const [record] = ctx.ledger.forStep('kafka-topic')
  assert.equal(record.id, topicArn)
  assert.deepEqual(record.attrs, {clusterArn, topicName: 'device-data', partitions: '1', replicationFactor: '2', createdBy: 'iotctl:stack=demo'})

  // A second run finds it (DescribeTopic answers) and sends nothing.
  mock.on(DescribeTopicCommand).resolves({TopicArn: topicArn, TopicName: 'device-data', PartitionCount: 1, ReplicationFactor: 2, Status: 'ACTIVE'})
  const again = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(again.reports[0].outcome, 'unchanged')
  assert.equal(mock.commandCalls(CreateTopicCommand).length, 1)
  assert.equal(ctx.ledger.forStep('kafka-topic').length, 1)
})

test('partitions and replication factor from the config keys; three brokers give replication 3 by default', async () => {
  const {ctx, mock} = setup({rule: {kafkaTopic: 'telemetry', kafkaTopicPartitions: 6}}, cluster('3.7.x.kraft', 3))
  await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.deepEqual(mock.commandCalls(CreateTopicCommand)[0].args[0].input, {ClusterArn: clusterArn, TopicName: 'telemetry', PartitionCount: 6, ReplicationFactor: 3})
})

test('a replication factor above the broker count is bad input before any change', async () => {
  const {ctx, mock} = setup({rule: {kafkaTopicReplicationFactor: 3}})
  await assert.rejects(applySteps([kafkaTopicStep], ctx, {dryRun: false}), (error: Error) =>
    error instanceof InputError && /--kafka-topic-replication-factor .*3: the cluster has 2 broker/.test(error.message))
  assert.equal(mock.commandCalls(CreateTopicCommand).length, 0)
})

test('a topic that exists and the stack did not create is used, noted, and never deleted', async () => {
  const {ctx, mock} = setup()
  mock.on(DescribeTopicCommand).resolves({TopicArn: topicArn, TopicName: 'device-data', PartitionCount: 3, ReplicationFactor: 2, Status: 'ACTIVE'})
  const result = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(result.reports[0].outcome, 'unchanged')
  assert.match(result.reports[0].notes.join('\n'), /using Kafka topic device-data, which the stack did not create; cleanup leaves it alone/)
  assert.equal(mock.commandCalls(CreateTopicCommand).length, 0)
  const cleanup = await destroySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(cleanup.reports[0].outcome, 'absent')
  assert.equal(mock.commandCalls(DeleteTopicCommand).length, 0)
})

test('cleanup deletes the topic the stack created; with --keep-topic it keeps it', async () => {
  const {ctx, mock} = setup()
  await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  const kept = await destroySteps([kafkaTopicStep], ctx, {dryRun: false, include: () => false})
  assert.equal(kept.reports[0].outcome, 'kept')
  assert.equal(mock.commandCalls(DeleteTopicCommand).length, 0)
  const cleanup = await destroySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(cleanup.reports[0].outcome, 'deleted')
  assert.deepEqual(mock.commandCalls(DeleteTopicCommand).map((c) => c.args[0].input), [{ClusterArn: clusterArn, TopicName: 'device-data'}])
  assert.equal(ctx.ledger.forStep('kafka-topic').length, 0)
})

test('a cluster on Kafka before 3.6.0: no topic request, a note with the kafka-topics.sh command', async () => {
  const {ctx, mock} = setup({}, cluster('2.8.1'))
  const result = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(result.reports[0].outcome, 'unchanged')
  const note = result.reports[0].notes.join('\n')
  assert.match(note, /cannot create topics through the MSK API \(Kafka 2\.8\.1;/)
  assert.ok(note.includes(`kafka-topics.sh --bootstrap-server ${brokers} --command-config client.properties --create --topic device-data --partitions 1 --replication-factor 2`), note)
  assert.equal(mock.commandCalls(DescribeTopicCommand).length, 0)
  assert.equal(mock.commandCalls(CreateTopicCommand).length, 0)
})

test('the topic API answering that it is not supported: the same note, no CreateTopic', async () => {
  const {ctx, mock} = setup({}, cluster('3.6.0'))
  mock.on(DescribeTopicCommand).rejects(failure('BadRequestException', 'Topic operations are not supported for this cluster', 400))
  const result = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.match(result.reports[0].notes.join('\n'), /BadRequestException: Topic operations are not supported.*kafka-topics\.sh/)
  assert.equal(mock.commandCalls(CreateTopicCommand).length, 0)
})

test('a topic name with a substitution template: no request, a note', async () => {
  const {ctx, mock} = setup({rule: {kafkaTopic: 'device-${topic(2)}'}})
  const result = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.match(result.reports[0].notes.join('\n'), /substitution template/)
  assert.equal(mock.calls().length, 0)
})

test('MSK unable to reach the brokers: a note saying so and how to create the topic, no CreateTopic, up goes on', async () => {
  const {ctx, mock} = setup()
  mock.on(DescribeTopicCommand).rejects(failure('InternalServerErrorException', 'Unable to connect to the cluster', 500))
  const result = await applySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(result.reports[0].outcome, 'unchanged')
  assert.match(result.reports[0].notes.join('\n'), /could not check Kafka topic 'device-data': MSK answered InternalServerErrorException.*kafka-topics\.sh/)
  assert.equal(mock.commandCalls(CreateTopicCommand).length, 0)
})

test('cleanup: a ledger entry naming a topic on another cluster, or without the stack\'s mark, is left in place and said so', async () => {
  const {ctx, mock} = setup()
  const otherCluster = `arn:aws:kafka:us-east-1:${account}:cluster/team-cluster/1111-2`
  const entry = (id: string, attrs: Record<string, string>) => ({step: 'kafka-topic', kind: 'kafka:topic', id, account: 'msk' as const, accountId: account, region: 'us-east-1', attrs})
  ctx.ledger.put(entry(`${otherCluster}/payments`, {clusterArn: otherCluster, topicName: 'payments', createdBy: 'iotctl:stack=demo'}))
  ctx.ledger.put(entry(`${clusterArn}/audit`, {clusterArn, topicName: 'audit', createdBy: 'iotctl:stack=demo2'}))
  const result = await destroySteps([kafkaTopicStep], ctx, {dryRun: false})
  assert.equal(result.reports[0].outcome, 'absent')
  assert.deepEqual(result.reports[0].leftInPlace?.map((l) => [l.id, l.reason]), [
    [`${otherCluster}/payments`, 'named by the ledger, but not on the stack\'s cluster iotctl-demo: not deleted'],
    [`${clusterArn}/audit`, 'named by the ledger, but without the stack\'s mark: not deleted'],
  ])
  assert.equal(mock.commandCalls(DeleteTopicCommand).length, 0)
})
