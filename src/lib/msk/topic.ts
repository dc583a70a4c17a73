// The rule's Kafka topic as data: what `up` asks MSK's topic API for, and
// what to tell the user when the cluster cannot take that request. Pure
// functions; the step that calls AWS is ./topic-step.ts.
//
// MSK's topic operations (CreateTopic, DescribeTopic, ListTopics, DeleteTopic;
// MSK developer guide, "Topic Operations",
// https://docs.aws.amazon.com/msk/latest/developerguide/msk-topic-operations-information.html,
// and `aws kafka create-topic`, https://docs.aws.amazon.com/cli/latest/reference/kafka/create-topic.html:
// --partition-count and --replication-factor, at least 1, no tags) need an MSK
// Provisioned cluster running Apache Kafka 3.6.0 or later, in the ACTIVE state. The default MSK configuration has auto.create.topics.enable=false,
// so without this topic every message the rule sends is refused.
import type {CreateTopicRequest} from '@aws-sdk/client-kafka'
import {InputError, awsErrorCode} from '../errors.ts'
import type {StackSettings} from '../plan/types.ts'

/** MSK's default configuration: num.partitions=1. */
export const defaultPartitions = 1
/** MSK's default configuration: default.replication.factor=3 (2 on a cluster in two Availability Zones). */
export const maxDefaultReplicationFactor = 3

export interface TopicSpec {
  name: string
  partitions: number
  replicationFactor: number
}

export interface TopicSettings {
  name: string
  partitions?: number
  replicationFactor?: number
}

export function topicSettingsOf(settings: StackSettings, defaultName: string): TopicSettings {
  return {
    name: settings.rule?.kafkaTopic ?? defaultName,
    partitions: settings.rule?.kafkaTopicPartitions,
    replicationFactor: settings.rule?.kafkaTopicReplicationFactor,
  }
}

/** A topic name with a substitution template (`${topic(2)}`) names many topics, known only at run time. */
export function isTemplatedTopic(name: string): boolean {
  return name.includes('${')
}

/**
 * Partitions and replication factor: the settings, else MSK's defaults. The
 * replication factor cannot exceed the brokers (Kafka refuses it with
 * InvalidReplicationFactorException), checked here so the run stops before
 * any change with the flag named.
 */
export function topicSpecOf(settings: TopicSettings, brokers: number | undefined): TopicSpec {
  const partitions = settings.partitions ?? defaultPartitions
  if (!Number.isInteger(partitions) || partitions < 1) throw new InputError(`--kafka-topic-partitions ${partitions}: expected a whole number of at least 1`)
  const replicationFactor = settings.replicationFactor ?? Math.min(maxDefaultReplicationFactor, brokers ?? maxDefaultReplicationFactor)
  if (!Number.isInteger(replicationFactor) || replicationFactor < 1) {
    throw new InputError(`--kafka-topic-replication-factor ${replicationFactor}: expected a whole number of at least 1`)
  }
  if (brokers !== undefined && replicationFactor > brokers) {
    throw new InputError(`--kafka-topic-replication-factor (rule.kafkaTopicReplicationFactor) ${replicationFactor}: the cluster has ${brokers} broker(s), and Kafka keeps at most one replica per broker`)
  }
  return {name: settings.name, partitions, replicationFactor}
}

export function createTopicRequest(clusterArn: string, spec: TopicSpec): CreateTopicRequest {
  return {ClusterArn: clusterArn, TopicName: spec.name, PartitionCount: spec.partitions, ReplicationFactor: spec.replicationFactor}
}

/** The topic API needs Kafka 3.6.0 or later; versions look like 3.6.0, 2.8.2.tiered, 3.7.x, 3.7.x.kraft. */
export function kafkaVersionHasTopicApi(version: string | undefined): boolean | undefined {
  const match = /^(\d+)\.(\d+)\./.exec(version ?? '')
  if (!match) return undefined
  const [major, minor] = [Number(match[1]), Number(match[2])]
  return major > 3 || (major === 3 && minor >= 6)
}

/**
 * True when MSK answered that the topic API is not available on this cluster
 * (too old a Kafka version, serverless, not ACTIVE): the API answers
 * BadRequestException with a message saying so rather than a dedicated code.
 */
export function isTopicApiUnsupported(error: unknown): boolean {
  const code = awsErrorCode(error) ?? ''
  if (/Unsupported|NotImplemented|UnknownOperation/i.test(code)) return true
  const message = error instanceof Error ? error.message : ''
  return /BadRequest/i.test(code) && /not supported|unsupported|version/i.test(message)
}

/**
 * True when MSK could not reach the cluster's brokers to answer (CreateTopic /
 * DeleteTopic ClusterConnectivityException, ListTopics ServiceUnavailableException,
 * a 500 from DescribeTopic): the topic's state is unknown for now.
 */
export function isClusterUnreachable(error: unknown): boolean {
  return /ClusterConnectivity|ServiceUnavailable|InternalServerError/i.test(awsErrorCode(error) ?? '')
}

/** The command to create the topic with Kafka's own tools, from a host that reaches the brokers. */
export function kafkaTopicsCommand(spec: TopicSpec, brokers: string | undefined): string {
  return `kafka-topics.sh --bootstrap-server ${brokers ?? '<SASL/SCRAM bootstrap brokers: iotctl msk brokers>'} --command-config client.properties ` +
    `--create --topic ${spec.name} --partitions ${spec.partitions} --replication-factor ${spec.replicationFactor}` +
    ' (client.properties: security.protocol=SASL_SSL, sasl.mechanism=SCRAM-SHA-512, sasl.jaas.config with the stack secret\'s username and password)'
}
