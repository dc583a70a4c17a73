// The locked-down cluster, in stages: `iotctl msk acl --lock-down` first grants
// the ACLs (while MSK's default allow.everyone.if.no.acl.found=true still lets
// the admin principal in), then switches the cluster to an MSK configuration
// with allow.everyone.if.no.acl.found=false (UpdateClusterConfiguration).
//
// Why not lock at creation: MSK makes only its brokers super users and
// super.users cannot be set, so on a cluster locked from the start no SCRAM
// user may create the first ACL (MSK developer guide, "Apache Kafka ACLs",
// https://docs.aws.amazon.com/msk/latest/developerguide/msk-acls.html; applying
// a configuration to a running cluster: "Configuration operations",
// https://docs.aws.amazon.com/msk/latest/developerguide/msk-configuration-operations.html).
// A configuration is server.properties text (API reference, "Configurations":
// CreateConfiguration takes Name and ServerProperties, base64 on the wire, which
// the SDK does for a Uint8Array; https://docs.aws.amazon.com/msk/1.0/apireference/configurations.html).
// Configurations take no tags: the stack's is found by its name and the
// description that names the stack. `up` never makes one (a FoundStep in the
// registry): cleanup --include-cluster deletes it after the cluster.
import type {Cluster, CreateConfigurationRequest, KafkaClient, UpdateClusterConfigurationRequest} from '@aws-sdk/client-kafka'
import * as kafkaapi from '../aws/kafka.ts'
import {waitFor} from '../aws/wait.ts'
import {AwsError, CheckFailed, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import type {FoundStep, ResourceRecord, StepContext, StackSettings} from '../plan/types.ts'
import {clusterNameOf} from './cluster-spec.ts'
import {describeCluster, findStackClusters, goneStates, listClusters} from './clusters.ts'

/**
 * The stack's locked-down configuration (ARN and revision), when one exists. The cluster
 * step needs it only so that cleanup deletes the cluster before the configuration it uses.
 */
export const clusterConfigurationFact = factKey<{arn: string; revision: number}>('msk.clusterConfiguration')

/** The server.properties of the stack's configuration: deny where no ACL is found. */
export const lockedDownServerProperties = 'allow.everyone.if.no.acl.found=false\n'

/** Configuration names match ^[0-9A-Za-z][0-9A-Za-z-]{0,}$ (AWS::MSK::Configuration, Name); the cluster name already does. */
export function configurationNameOf(settings: StackSettings): string {
  return `${clusterNameOf(settings)}-acls`
}

export function configurationDescription(stack: string): string {
  return `iotctl stack ${stack}: Kafka ACLs deny by default (allow.everyone.if.no.acl.found=false)`
}

export function createConfigurationRequest(name: string, stack: string): CreateConfigurationRequest {
  return {
    Name: name,
    Description: configurationDescription(stack),
    // No KafkaVersions: the configuration works with every version (the list is optional).
    ServerProperties: new TextEncoder().encode(lockedDownServerProperties),
  }
}

/** Whether server.properties text sets allow.everyone.if.no.acl.found=false. */
export function deniesWithoutAcl(serverProperties: string): boolean {
  let value: string | undefined
  for (const line of serverProperties.split(/\r?\n/)) {
    const match = /^\s*allow\.everyone\.if\.no\.acl\.found\s*[=:]\s*(\S*)\s*$/.exec(line)
    if (match) value = match[1]
  }
  return value?.toLowerCase() === 'false'
}

/** What ListConfigurations and DescribeConfiguration both answer (the list's members are all required, Describe's optional). */
interface Configuration {
  Arn?: string
  Name?: string
  Description?: string
  State?: string
  LatestRevision?: {Revision?: number}
}

function configurationRecord(ctx: StepContext, arn: string, name: string, revision: number): ResourceRecord {
  return {step: 'msk-configuration', kind: 'kafka:configuration', id: arn, ...recordBase(ctx, 'msk'), attrs: {name, revision: String(revision)}}
}

const isStacks = (c: Configuration, name: string, stack: string): boolean =>
  c.Name === name && c.Description === configurationDescription(stack) && c.State !== 'DELETING'

/** The stack's configurations: the ledger's, the one its clusters use, else the one of its name and description. */
async function findStackConfigurations(ctx: StepContext, kafka: KafkaClient, name: string): Promise<Map<string, Configuration>> {
  const found = new Map<string, Configuration>()
  for (const record of ctx.ledger.forStep('msk-configuration')) {
    const configuration = await describeConfiguration(kafka, record.id)
    if (configuration?.Arn) found.set(configuration.Arn, configuration)
  }
  const clusters = ctx.settings.msk?.clusterArn ? [] : await findStackClusters(ctx)
  // A stack whose ledger was lost: the configuration its cluster names, or the one of its name.
  for (const cluster of clusters) {
    const arn = cluster.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn
    if (arn && !found.has(arn)) {
      const configuration = await describeConfiguration(kafka, arn)
      if (configuration && isStacks(configuration, name, ctx.stack)) found.set(arn, configuration)
    }
  }
  if (found.size === 0) {
    for (const configuration of await kafkaapi.listAllConfigurations(kafka, 'listing MSK configurations')) {
      if (configuration.Arn && isStacks(configuration, name, ctx.stack)) found.set(configuration.Arn, configuration)
    }
  }
  return found
}

async function describeConfiguration(kafka: KafkaClient, arn: string): Promise<Configuration | undefined> {
  try {
    const found = await kafkaapi.describeConfiguration(kafka, {Arn: arn})
    return found.State === 'DELETING' ? undefined : found
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading MSK configuration ${arn}`, error)
  }
}

export const mskConfigurationStep: FoundStep = {
  id: 'msk-configuration',
  title: 'MSK configuration locking Kafka ACLs down (msk acl --lock-down)',
  account: 'msk',
  // It belongs to the cluster: kept and deleted with it (cleanup --include-cluster), after it.
  cleanupByDefault: false,
  provides: [clusterConfigurationFact],

  async read(ctx) {
    const kafka = await ctx.accounts.msk.kafka()
    const name = configurationNameOf(ctx.settings)
    const found = await findStackConfigurations(ctx, kafka, name)
    const resources = [...found.values()].map((c) => configurationRecord(ctx, c.Arn!, c.Name ?? name, c.LatestRevision?.Revision ?? 1))
    const current = [...found.values()].find((c) => c.Name === name)
    if (current?.Arn) ctx.facts.set(clusterConfigurationFact, {arn: current.Arn, revision: current.LatestRevision?.Revision ?? 1})
    return {resources, missing: []}
  },

  async delete(ctx, resources) {
    const kafka = await ctx.accounts.msk.kafka()
    for (const record of resources) {
      const label = record.attrs?.name ?? record.id
      // MSK refuses to delete a configuration a cluster still uses, DELETING clusters included
      // (API reference, DeleteConfiguration: 400): wait until the clusters deleted before it are gone.
      await waitFor(async () => {
        const users = (await listClusters(kafka, `finding the clusters that use ${label}`)).filter((c) => c.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn === record.id)
        const live = users.find((c) => !goneStates.has(c.State ?? ''))
        if (live) throw new CheckFailed(`MSK configuration ${label} is used by cluster ${live.ClusterName ?? live.ClusterArn}, which is not being deleted: delete that cluster first (\`iotctl cleanup --include-cluster\`)`)
        return users.length === 0 ? true : undefined
      }, {what: `the clusters that use configuration ${label} to be deleted`, timeoutSeconds: 3600, intervalMs: 5000, maxIntervalMs: 30_000, progress: ctx.progress, checkpoint: ctx.checkpoint})
      try {
        await kafkaapi.deleteConfiguration(kafka, {Arn: record.id})
      } catch (error) {
        if (!isNotFound(error)) {
          const code = awsErrorCode(error)
          throw code === 'BadRequestException'
            ? new AwsError(`deleting MSK configuration ${label}`, code, `${(error as Error).message} (a cluster still uses it: delete the cluster first, \`iotctl cleanup --include-cluster\`)`)
            : toAwsError(`deleting MSK configuration ${label}`, error)
        }
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

/** UpdateClusterConfiguration: the configuration revision, against the cluster's CurrentVersion (MSK refuses a stale one). */
export function updateClusterConfigurationRequest(clusterArn: string, configuration: {arn: string; revision: number}, currentVersion: string): UpdateClusterConfigurationRequest {
  return {ClusterArn: clusterArn, ConfigurationInfo: {Arn: configuration.arn, Revision: configuration.revision}, CurrentVersion: currentVersion}
}

export interface LockDownResult {
  cluster: {name: string; arn: string}
  configuration: {name: string; arn?: string; revision?: number}
  /** locked: the cluster already used that revision (nothing done); applied: done now; planned: what a --dry-run would do. */
  state: 'locked' | 'applied' | 'planned'
  /** What was done (or, with dryRun, would be), in order. */
  actions: string[]
}

/**
 * The second stage of `msk acl --lock-down`, run only after the grants: makes (or reuses)
 * the stack's configuration and applies it to the cluster, waiting for ACTIVE. A cluster
 * already on that configuration revision is left alone.
 */
export async function lockDownCluster(ctx: StepContext, cluster: Cluster, options: {dryRun: boolean; progress?: (message: string) => void}): Promise<LockDownResult> {
  const kafka = await ctx.accounts.msk.kafka()
  const clusterArn = cluster.ClusterArn!
  const clusterName = cluster.ClusterName ?? clusterArn
  const name = configurationNameOf(ctx.settings)
  const existing = [...(await findStackConfigurations(ctx, kafka, name)).values()].find((c) => c.Name === name)
  let configuration = existing?.Arn ? {arn: existing.Arn, revision: existing.LatestRevision?.Revision ?? 1} : undefined
  if (configuration) {
    const revision = await kafkaapi.describeConfigurationRevision(kafka, {Arn: configuration.arn, Revision: configuration.revision}, `reading MSK configuration ${name}`)
    const text = revision.ServerProperties ? new TextDecoder().decode(revision.ServerProperties) : ''
    if (!deniesWithoutAcl(text)) throw new CheckFailed(`MSK configuration ${name} revision ${configuration.revision} does not set allow.everyone.if.no.acl.found=false; fix or delete it, then run \`iotctl msk acl --lock-down\` again`)
  }
  const software = cluster.Provisioned?.CurrentBrokerSoftwareInfo
  if (configuration && software?.ConfigurationArn === configuration.arn && software.ConfigurationRevision === configuration.revision) {
    return {cluster: {name: clusterName, arn: clusterArn}, configuration: {name, ...configuration}, state: 'locked', actions: []}
  }
  // A configuration of the user's own: replacing it would drop its other settings.
  if (software?.ConfigurationArn && software.ConfigurationArn !== configuration?.arn) {
    throw new CheckFailed(`cluster ${clusterName} uses MSK configuration ${software.ConfigurationArn}, not the stack's ${name}: add allow.everyone.if.no.acl.found=false to a new revision of it and apply that (UpdateClusterConfiguration); iotctl does not replace it`)
  }
  if (cluster.State !== 'ACTIVE') throw new CheckFailed(`cluster ${clusterName} is ${cluster.State ?? 'in an unknown state'}: MSK updates the configuration of ACTIVE clusters only; run this again once it is ACTIVE`)
  const actions = [
    ...(configuration ? [] : [`create MSK configuration ${name} (allow.everyone.if.no.acl.found=false)`]),
    `apply ${name} to cluster ${clusterName} (UpdateClusterConfiguration): from then on only users an ACL allows reach a topic`,
  ]
  if (options.dryRun) return {cluster: {name: clusterName, arn: clusterArn}, configuration: {name, ...configuration}, state: 'planned', actions}

  if (!configuration) {
    const created = await kafkaapi.createConfiguration(kafka, createConfigurationRequest(name, ctx.stack), `creating MSK configuration ${name}`)
    configuration = {arn: created.Arn!, revision: created.LatestRevision?.Revision ?? 1}
    ctx.ledger.put(configurationRecord(ctx, configuration.arn, name, configuration.revision))
  }
  ctx.checkpoint()
  await kafkaapi.updateClusterConfiguration(kafka, updateClusterConfigurationRequest(clusterArn, configuration, cluster.CurrentVersion ?? ''), `applying MSK configuration ${name} to cluster ${clusterName}`)
  await waitFor(async () => {
    const now = await describeCluster(kafka, clusterArn, `reading cluster ${clusterName}`)
    if (!now) throw new AwsError(`waiting for cluster ${clusterName}`, 'NotFoundException', `${clusterArn} disappeared while its configuration was being updated`)
    if (now.State === 'FAILED' || goneStates.has(now.State ?? '')) throw new AwsError(`waiting for cluster ${clusterName}`, `Cluster${now.State}`, now.StateInfo?.Message ?? `the cluster is ${now.State}`)
    return now.State === 'ACTIVE' ? now : undefined
  }, {
    what: `cluster ${clusterName} to apply configuration ${name} and become ACTIVE (MSK restarts the brokers one by one: minutes per broker)`,
    timeoutSeconds: 90 * 60,
    intervalMs: 2000,
    maxIntervalMs: 30_000,
    progress: options.progress ?? ctx.progress,
    checkpoint: ctx.checkpoint,
  })
  return {cluster: {name: clusterName, arn: clusterArn}, configuration: {name, ...configuration}, state: 'applied', actions}
}
