// Without startLocalAws({kafka: true}) there is no broker behind the MSK clusters:
// the topic operations fail as AWS fails them when it cannot reach a cluster's
// brokers, and MSK broker names are left as they are.
import assert from 'node:assert/strict'
import {after, before, test} from 'node:test'
import {CreateTopicCommand, DeleteTopicCommand, DescribeTopicCommand, KafkaClient, ListTopicsCommand} from '@aws-sdk/client-kafka'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {createScramCluster, type ScramCluster} from '../support/kafka/msk-cluster.ts'

let aws: LocalAws
let cluster: ScramCluster

before(async () => {
  aws = await startLocalAws({clusterActivationDelayMs: 0})
  cluster = await createScramCluster(aws, 'no-broker')
})

after(async () => {
  cluster?.destroy()
  await aws?.stop()
})

test('topic operations answer as for a cluster whose brokers cannot be reached', async () => {
  assert.equal(aws.kafka, undefined)
  // One attempt: the SDK would retry the 5xx answers.
  const kafka = new KafkaClient({...aws.clientConfig('msk'), maxAttempts: 1})
  const ClusterArn = cluster.clusterArn
  const expectations: [() => Promise<unknown>, string, number][] = [
    [() => kafka.send(new CreateTopicCommand({ClusterArn, TopicName: 't', PartitionCount: 1, ReplicationFactor: 1})), 'ClusterConnectivityException', 409],
    [() => kafka.send(new DeleteTopicCommand({ClusterArn, TopicName: 't'})), 'ClusterConnectivityException', 409],
    [() => kafka.send(new ListTopicsCommand({ClusterArn})), 'ServiceUnavailableException', 503],
    [() => kafka.send(new DescribeTopicCommand({ClusterArn, TopicName: 't'})), 'InternalServerErrorException', 500],
  ]
  try {
    for (const [call, name, status] of expectations) {
      await assert.rejects(call(), (error: Error & {$metadata?: {httpStatusCode?: number}}) => {
        assert.equal(error.name, name)
        assert.equal(error.$metadata?.httpStatusCode, status)
        return true
      })
    }
  } finally {
    kafka.destroy()
  }
  const broker = 'b-1.no-broker.abc123.c2.kafka.us-east-1.amazonaws.com:9096'
  assert.equal(aws.resolveBroker(broker), broker)
})
