// Doctor's check of the rule's Kafka topic: it exists on the cluster (MSK's
// DescribeTopic), or doctor says it cannot tell (no topic API on the cluster:
// Kafka before 3.6.0 or not ACTIVE) and how to look with Kafka's own tools.
import {defaultKafkaTopic} from '../iot/names.ts'
import {clusterLabel, clusterOf} from '../msk/clusters.ts'
import {isTemplatedTopic, kafkaVersionHasTopicApi, topicSettingsOf} from '../msk/topic.ts'
import {lookUpTopic} from '../msk/topic-step.ts'
import {fail, pass, warn, type CheckDefinition} from './check.ts'

export const kafkaChecks: CheckDefinition[] = [
  {
    id: 'kafka-topic',
    step: 'kafka-topic',
    title: 'the rule\'s Kafka topic exists on the cluster',
    async run(ctx) {
      const {name} = topicSettingsOf(ctx.settings, defaultKafkaTopic)
      const describeCommand = `kafka-topics.sh --bootstrap-server <iotctl msk brokers> --command-config client.properties --describe --topic ${name}`
      if (isTemplatedTopic(name)) return warn(`cannot tell: the rule's Kafka topic '${name}' is a substitution template`, 'make sure each topic it expands to exists (the cluster does not create topics on first use)')
      const cluster = await clusterOf(ctx)
      if (!cluster?.ClusterArn) return fail(`no MSK cluster for stack '${ctx.stack}', so no topic '${name}'`, 'set msk.clusterArn (or --cluster-arn), or `iotctl up --create-cluster`')
      const version = cluster.Provisioned?.CurrentBrokerSoftwareInfo?.KafkaVersion
      if (kafkaVersionHasTopicApi(version) === false) {
        return warn(`cannot tell whether topic '${name}' exists: cluster ${cluster.ClusterName} runs Kafka ${version}, which has no MSK topic API (3.6.0 or later)`, `look with ${describeCommand}`)
      }
      if (cluster.State !== 'ACTIVE') return warn(`cannot tell whether topic '${name}' exists: cluster ${clusterLabel(cluster)} is not ACTIVE`, 'wait for the cluster, then run doctor again')
      const lookup = await lookUpTopic(await ctx.accounts.msk.kafka(), cluster.ClusterArn, name)
      if (lookup.state === 'unsupported') return warn(`cannot tell whether topic '${name}' exists: the MSK topic API answered ${lookup.reason}`, `look with ${describeCommand}`)
      if (lookup.state === 'unreachable') return warn(`cannot tell whether topic '${name}' exists: MSK answered ${lookup.reason}`, `run doctor again later, or look with ${describeCommand}`)
      if (lookup.state === 'missing') {
        return fail(`Kafka topic '${name}' does not exist on cluster ${cluster.ClusterName}: the cluster does not create topics on first use, so every message the rule sends is refused`, 'run `iotctl up` (it creates the topic)')
      }
      const topic = lookup.topic
      return pass(`topic '${name}' exists on cluster ${cluster.ClusterName} (${topic.PartitionCount ?? '?'} partition(s), replication factor ${topic.ReplicationFactor ?? '?'}${topic.Status && topic.Status !== 'ACTIVE' ? `, ${topic.Status}` : ''})`)
    },
  },
]
