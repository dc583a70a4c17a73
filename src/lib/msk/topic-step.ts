// kafka-topic: the Kafka topic the rule writes to, made with MSK's topic API
// (CreateTopic / DescribeTopic / DeleteTopic, MSK API reference, "Topics").
// MSK topics take no tags (CreateTopic has no Tags member; iotctl does not rely
// on TagResource for topic ARNs, which the topic guide does not document), so the ledger is the only
// ownership record: cleanup deletes a topic the ledger says this stack created
// (attrs.createdBy carries the stack's mark), never one it found.
import type {Cluster, DescribeTopicResponse, KafkaClient} from '@aws-sdk/client-kafka'
import * as kafkaapi from '../aws/kafka.ts'
import {AwsError, InputError, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {defaultKafkaTopic} from '../iot/names.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import {deleteEach} from '../plan/delete.ts'
import {stackMark} from '../plan/tags.ts'
import type {LeftInPlace, Observation, ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {clusterFact, clusterLabel, clusterOf, getBootstrapBrokers, waitForActive} from './clusters.ts'
import {createTopicRequest, isClusterUnreachable, isTemplatedTopic, isTopicApiUnsupported, kafkaTopicsCommand, kafkaVersionHasTopicApi, topicSettingsOf, topicSpecOf, type TopicSpec} from './topic.ts'

export const kafkaTopicStepId = 'kafka-topic'

/** The rule's topic on the stack's cluster, once it exists (or cannot be made through MSK's API and was said so). */
export const kafkaTopicFact = factKey<string>('msk.kafkaTopic')

export type TopicLookup =
  | {state: 'found'; topic: DescribeTopicResponse}
  | {state: 'missing'}
  | {state: 'unsupported'; reason: string}
  | {state: 'unreachable'; reason: string}

/** DescribeTopic as a value: found, missing, or the cluster has no topic API. */
export async function lookUpTopic(kafka: KafkaClient, clusterArn: string, topic: string): Promise<TopicLookup> {
  try {
    const {$metadata: _, ...answer} = await kafkaapi.describeTopic(kafka, {ClusterArn: clusterArn, TopicName: topic})
    return {state: 'found', topic: answer}
  } catch (error) {
    if (isTopicApiUnsupported(error)) return {state: 'unsupported', reason: `${awsErrorCode(error)}: ${(error as Error).message}`}
    if (isClusterUnreachable(error)) return {state: 'unreachable', reason: `${awsErrorCode(error)}: ${(error as Error).message}`}
    if (isNotFound(error)) return {state: 'missing'}
    throw toAwsError(`reading Kafka topic ${topic} of ${clusterArn}`, error)
  }
}

function brokerCountOf(cluster: Cluster): number | undefined {
  return cluster.Provisioned?.NumberOfBrokerNodes
}

function specOf(ctx: StepContext, cluster: Cluster | undefined): TopicSpec {
  return topicSpecOf(topicSettingsOf(ctx.settings, defaultKafkaTopic), cluster ? brokerCountOf(cluster) : undefined)
}

function topicRecord(ctx: StepContext, clusterArn: string, spec: TopicSpec, topicArn: string | undefined): ResourceRecord {
  return {
    step: kafkaTopicStepId, kind: 'kafka:topic', id: topicArn ?? `${clusterArn}/${spec.name}`, ...recordBase(ctx, 'msk'),
    attrs: {clusterArn, topicName: spec.name, partitions: String(spec.partitions), replicationFactor: String(spec.replicationFactor), createdBy: stackMark(ctx.stack)},
  }
}

async function brokersOrUndefined(kafka: KafkaClient, clusterArn: string): Promise<string | undefined> {
  try {
    return (await getBootstrapBrokers(kafka, clusterArn)).BootstrapBrokerStringSaslScram
  } catch {
    return undefined
  }
}

/** What to tell the user when the cluster has no topic API: that, and the kafka-topics.sh command. */
async function unsupportedNote(kafka: KafkaClient, cluster: Cluster, spec: TopicSpec, why: string): Promise<string> {
  const brokers = await brokersOrUndefined(kafka, cluster.ClusterArn!)
  return `cluster ${cluster.ClusterName} cannot create topics through the MSK API (${why}; it needs MSK Provisioned with Kafka 3.6.0 or later, ACTIVE); ` +
    `create topic '${spec.name}' yourself, or the rule's messages are refused: ${kafkaTopicsCommand(spec, brokers)}`
}

const isOurs = (record: ResourceRecord, clusterArn: string, topic: string) => record.attrs?.clusterArn === clusterArn && record.attrs?.topicName === topic

async function readTopic(ctx: StepContext, cluster: Cluster | undefined, recorded: ResourceRecord[]): Promise<Observation> {
  const spec = specOf(ctx, cluster)
  const what = `create Kafka topic ${spec.name} (${spec.partitions} partition(s), replication factor ${spec.replicationFactor})`
  if (!cluster?.ClusterArn) return {resources: recorded, missing: [`${what} on the stack's MSK cluster`]}
  const kafka = await ctx.accounts.msk.kafka()
  const version = cluster.Provisioned?.CurrentBrokerSoftwareInfo?.KafkaVersion
  if (kafkaVersionHasTopicApi(version) === false) {
    return {resources: recorded, missing: [], notes: [await unsupportedNote(kafka, cluster, spec, `Kafka ${version}`)]}
  }
  if (cluster.State !== 'ACTIVE') return {resources: recorded, missing: [`${what} on cluster ${clusterLabel(cluster)} once it is ACTIVE`]}
  const lookup = await lookUpTopic(kafka, cluster.ClusterArn, spec.name)
  if (lookup.state === 'unsupported') return {resources: recorded, missing: [], notes: [await unsupportedNote(kafka, cluster, spec, lookup.reason)]}
  if (lookup.state === 'unreachable') {
    const brokers = await brokersOrUndefined(kafka, cluster.ClusterArn)
    return {resources: recorded, missing: [], notes: [`could not check Kafka topic '${spec.name}': MSK answered ${lookup.reason}; run \`iotctl up\` again later, or create it yourself: ${kafkaTopicsCommand(spec, brokers)}`]}
  }
  if (lookup.state === 'missing') return {resources: recorded, missing: [`${what} on cluster ${cluster.ClusterName}`]}
  const notes: string[] = []
  if (!recorded.some((r) => isOurs(r, cluster.ClusterArn!, spec.name))) {
    notes.push(`using Kafka topic ${spec.name}, which the stack did not create; cleanup leaves it alone`)
  }
  const found = lookup.topic
  ctx.facts.set(kafkaTopicFact, spec.name)
  if (found.PartitionCount !== undefined && found.PartitionCount !== spec.partitions) notes.push(`topic ${spec.name} has ${found.PartitionCount} partition(s), not ${spec.partitions}; iotctl does not change an existing topic`)
  return {resources: recorded, missing: [], notes}
}

function confirmedTopics(ctx: StepContext, cluster: Cluster | undefined): {recorded: ResourceRecord[]; leftInPlace: LeftInPlace[]} {
  const recorded: ResourceRecord[] = []
  const leftInPlace: LeftInPlace[] = []
  for (const record of ctx.ledger.forStep(kafkaTopicStepId)) {
    if (record.attrs?.createdBy === stackMark(ctx.stack) && cluster?.ClusterArn !== undefined && record.attrs.clusterArn === cluster.ClusterArn) {
      recorded.push(record)
    } else {
      leftInPlace.push({kind: record.kind, id: record.id, account: record.account,
        reason: `named by the ledger, but ${record.attrs?.createdBy === stackMark(ctx.stack) ? `not on the stack's cluster${cluster?.ClusterName ? ` ${cluster.ClusterName}` : ''}` : 'without the stack\'s mark'}: not deleted`})
    }
  }
  return {recorded, leftInPlace}
}

export const kafkaTopicStep: Step = {
  id: kafkaTopicStepId,
  title: 'Kafka topic the rule writes to',
  account: 'msk',
  // The topic API answers only for ACTIVE clusters.
  needs: [clusterFact],
  provides: [kafkaTopicFact],

  async validate(ctx) {
    const settings = topicSettingsOf(ctx.settings, defaultKafkaTopic)
    if (isTemplatedTopic(settings.name)) return
    // Partitions and replication factor against the cluster's broker count, before any change.
    specOf(ctx, await clusterOf(ctx))
  },

  async read(ctx) {
    const settings = topicSettingsOf(ctx.settings, defaultKafkaTopic)
    const templated = isTemplatedTopic(settings.name)
    // A templated topic is never created: the cluster matters only for what the ledger names.
    const cluster = templated && ctx.ledger.forStep(kafkaTopicStepId).length === 0 ? undefined : await clusterOf(ctx)
    // Topics take no tags: the ledger is the only record, so an entry counts only
    // with the stack's mark and on the cluster the stack uses; cleanup leaves any other.
    const {recorded, leftInPlace} = confirmedTopics(ctx, cluster)
    const read = async (): Promise<Observation> => {
      if (templated) {
        return {resources: recorded, missing: [], notes: [`the rule's Kafka topic '${settings.name}' is a substitution template: create the topics it expands to yourself (the cluster does not create topics on first use)`]}
      }
      return readTopic(ctx, cluster, recorded)
    }
    const observed = await read()
    return leftInPlace.length > 0 ? {...observed, leftInPlace} : observed
  },
  async create(ctx, observed) {
    let cluster = await clusterOf(ctx)
    if (!cluster?.ClusterArn) throw new InputError(`no MSK cluster for stack '${ctx.stack}': pass --cluster-arn, or create one with \`iotctl up --create-cluster\``)
    const clusterArn = cluster.ClusterArn
    // The topic API answers only for ACTIVE clusters.
    if (cluster.State !== 'ACTIVE') cluster = await waitForActive(ctx, clusterArn, cluster.ClusterName ?? clusterArn)
    const spec = specOf(ctx, cluster)
    const kafka = await ctx.accounts.msk.kafka()
    const step = `creating Kafka topic ${spec.name} on cluster ${cluster.ClusterName}`
    ctx.checkpoint()
    let topicArn: string | undefined
    try {
      topicArn = (await kafkaapi.createTopic(kafka, createTopicRequest(clusterArn, spec))).TopicArn
    } catch (error) {
      if (isTopicApiUnsupported(error)) throw new AwsError(step, awsErrorCode(error) ?? 'Unsupported', await unsupportedNote(kafka, cluster, spec, (error as Error).message), {cause: error})
      // Topic reads lag about a minute behind changes (MSK developer guide,
      // "Topic Operations"): a topic read as missing may exist already.
      // Recorded, it is ours; otherwise someone else made it and it stays theirs.
      if (/Conflict|AlreadyExists/i.test(awsErrorCode(error) ?? '')) return observed.resources
      throw toAwsError(step, error)
    }
    const record = topicRecord(ctx, clusterArn, spec, topicArn)
    ctx.ledger.put(record)
    ctx.facts.set(kafkaTopicFact, spec.name)
    return [record, ...observed.resources.filter((r) => r.id !== record.id)]
  },

  async delete(ctx, resources) {
    const kafka = await ctx.accounts.msk.kafka()
    const ours = resources.filter((r) => r.attrs?.createdBy === stackMark(ctx.stack))
    await deleteEach(ctx, ours, {what: (record) => `deleting Kafka topic ${record.attrs?.topicName} of ${record.attrs?.clusterArn}`, gone: isTopicApiUnsupported},
      (record) => kafkaapi.deleteTopic(kafka, {ClusterArn: record.attrs?.clusterArn, TopicName: record.attrs?.topicName}))
  },
}
