// Read-only MSK and EC2 look-ups shared by the cluster and SCRAM steps and
// `msk brokers`: the stack's cluster (by ARN, ledger or tag), subnets, and
// the wait for ACTIVE (the Kafka client has no SDK waiter).
import type {Cluster, GetBootstrapBrokersResponse, KafkaClient} from '@aws-sdk/client-kafka'
import * as kafkaapi from '../aws/kafka.ts'
import * as ec2api from '../aws/ec2.ts'
import type {AwsAccount} from '../aws/account.ts'
import {waitFor} from '../aws/wait.ts'
import {AwsError, InputError, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {hasStackTag} from '../plan/tags.ts'
import type {StepContext} from '../plan/types.ts'
import {clusterNameOf, type SubnetFacts} from './cluster-spec.ts'
import {factKey} from '../plan/facts.ts'

/** The stack's cluster once it is ACTIVE (read, created or waited for in this run): its ARN, name, brokers and version. */
export const clusterFact = factKey<Cluster>('msk.cluster')

/** States in which a cluster is gone or going: never adopted, never counted for cleanup. */
export const goneStates = new Set(['DELETING'])

export async function describeCluster(kafka: KafkaClient, arn: string, step: string): Promise<Cluster | undefined> {
  try {
    return (await kafkaapi.describeClusterV2(kafka, {ClusterArn: arn})).ClusterInfo
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(step, error)
  }
}

/** Every provisioned cluster of the account, optionally only those whose name starts with `prefix`. */
export async function listClusters(kafka: KafkaClient, step: string, prefix?: string): Promise<Cluster[]> {
  return kafkaapi.listAllProvisionedClusters(kafka, prefix, step)
}

/** The stack's live clusters: by tag, plus any the ledger names that still carry the tag. */
export async function findStackClusters(ctx: StepContext): Promise<Cluster[]> {
  const kafka = await ctx.accounts.msk.kafka()
  const found = new Map<string, Cluster>()
  for (const cluster of await listClusters(kafka, 'finding the stack\'s MSK clusters')) {
    if (cluster.ClusterArn && hasStackTag(cluster.Tags, ctx.stack)) found.set(cluster.ClusterArn, cluster)
  }
  for (const record of ctx.ledger.forStep('msk-cluster')) {
    if (found.has(record.id)) continue
    const cluster = await describeCluster(kafka, record.id, `reading cluster ${record.attrs?.name ?? record.id}`)
    if (cluster?.ClusterArn && hasStackTag(cluster.Tags, ctx.stack)) found.set(cluster.ClusterArn, cluster)
  }
  return [...found.values()].filter((c) => !goneStates.has(c.State ?? ''))
}

/**
 * The cluster the stack works with: --cluster-arn / msk.clusterArn, else the
 * stack's cluster (read or created in this run, in the ledger, or by tag).
 */
export async function clusterOf(ctx: StepContext): Promise<Cluster | undefined> {
  const provided = ctx.facts.get(clusterFact)
  if (provided) return provided
  const kafka = await ctx.accounts.msk.kafka()
  const configured = ctx.settings.msk?.clusterArn
  if (configured) return describeCluster(kafka, configured, `reading cluster ${configured}`)
  const known = ctx.outputs.get('msk-cluster')?.[0]?.id
  if (known) {
    const cluster = await describeCluster(kafka, known, `reading cluster ${known}`)
    if (cluster && !goneStates.has(cluster.State ?? '')) return cluster
  }
  const clusters = await findStackClusters(ctx)
  return clusters.find((c) => c.ClusterName === clusterNameOf(ctx.settings)) ?? clusters[0]
}

export function clusterLabel(cluster: Cluster): string {
  return `${cluster.ClusterName ?? cluster.ClusterArn} (${cluster.State ?? 'unknown state'})`
}

/** Why SASL/SCRAM cannot be used on this cluster, or undefined when it can. */
export function scramProblem(cluster: Cluster): string | undefined {
  if (cluster.ClusterType === 'SERVERLESS' || cluster.Serverless) return `cluster ${cluster.ClusterName} is serverless, and serverless clusters authenticate with IAM only, not SASL/SCRAM`
  if (cluster.Provisioned?.ClientAuthentication?.Sasl?.Scram?.Enabled !== true) {
    return `cluster ${cluster.ClusterName} does not have SASL/SCRAM client authentication enabled; enable it (UpdateSecurity) or create one with \`iotctl msk create\``
  }
  if (cluster.State === 'FAILED' || cluster.State === 'DELETING') return `cluster ${cluster.ClusterName} is ${cluster.State}`
  return undefined
}

/** Waits for a cluster to become ACTIVE, saying its state as it goes; FAILED stops the wait (exit 1). */
export async function waitForActive(ctx: StepContext, arn: string, name: string): Promise<Cluster> {
  const kafka = await ctx.accounts.msk.kafka()
  return waitFor(async () => {
    const cluster = await describeCluster(kafka, arn, `reading cluster ${name}`)
    if (!cluster) throw new AwsError(`waiting for cluster ${name}`, 'NotFoundException', `${arn} disappeared while it was being created`)
    if (cluster.State === 'FAILED' || goneStates.has(cluster.State ?? '')) {
      throw new AwsError(`waiting for cluster ${name}`, `Cluster${cluster.State}`, cluster.StateInfo?.Message ?? `the cluster is ${cluster.State}`)
    }
    return cluster.State === 'ACTIVE' ? cluster : undefined
  }, {
    what: `cluster ${name} to become ACTIVE (MSK takes 15–30 minutes)`,
    timeoutSeconds: 90 * 60,
    intervalMs: 2000,
    maxIntervalMs: 30_000,
    progress: ctx.progress,
    checkpoint: ctx.checkpoint,
  })
}

/** Subnets the user named, each of which must exist in the MSK account. */
export async function describeSubnets(account: AwsAccount, ids: string[], flag: string): Promise<SubnetFacts[]> {
  const ec2 = await account.ec2()
  const facts: SubnetFacts[] = []
  for (const id of ids) {
    let subnet
    try {
      subnet = (await ec2api.describeSubnets(ec2, {SubnetIds: [id]})).Subnets?.[0]
    } catch (error) {
      if (!(awsErrorCode(error) ?? '').includes('InvalidSubnetID')) throw toAwsError(`reading subnet ${id}`, error)
    }
    if (!subnet) throw new InputError(`${flag}: ${id}: no such subnet in ${account.label} (${account.region})`)
    facts.push({subnetId: id, vpcId: subnet.VpcId ?? '', availabilityZone: subnet.AvailabilityZone ?? subnet.AvailabilityZoneId ?? ''})
  }
  return facts
}

export type BootstrapBrokers = Omit<GetBootstrapBrokersResponse, '$metadata'>

export async function getBootstrapBrokers(kafka: KafkaClient, arn: string): Promise<BootstrapBrokers> {
  const {$metadata: _, ...answer} = await kafkaapi.getBootstrapBrokers(kafka, {ClusterArn: arn}, `reading the bootstrap brokers of ${arn}`)
  return answer
}

/** The secret ARNs associated with a cluster; a cluster that is gone has none. */
export async function associatedSecrets(kafka: KafkaClient, clusterArn: string): Promise<string[]> {
  try {
    return await kafkaapi.listAllScramSecrets(kafka, clusterArn)
  } catch (error) {
    if (isNotFound(error)) return []
    throw toAwsError(`listing the SCRAM secrets of ${clusterArn}`, error)
  }
}
