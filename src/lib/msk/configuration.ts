// The locked-down cluster: an MSK configuration with
// allow.everyone.if.no.acl.found=false, made before the cluster and named in
// its CreateCluster ConfigurationInfo, so that Kafka's authorizer denies every
// principal an ACL does not allow (`iotctl msk acl` grants the stack's users).
//
// MSK sets allow.everyone.if.no.acl.found=true by default; false makes a
// resource without ACLs reachable by super users only (MSK developer guide,
// "Apache Kafka ACLs", https://docs.aws.amazon.com/msk/latest/developerguide/msk-acls.html).
// A configuration is server.properties text (API reference, "Configurations":
// CreateConfiguration takes Name and ServerProperties, base64 on the wire, which
// the SDK does for a Uint8Array; https://docs.aws.amazon.com/msk/1.0/apireference/configurations.html).
// Configurations take no tags: the stack's is found by its name and the
// description that names the stack.
import type {CreateConfigurationRequest, KafkaClient} from '@aws-sdk/client-kafka'
import * as kafkaapi from '../aws/kafka.ts'
import {waitFor} from '../aws/wait.ts'
import {AwsError, CheckFailed, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import type {ResourceRecord, Step, StepContext, StackSettings} from '../plan/types.ts'
import {clusterNameOf} from './cluster-spec.ts'
import {findStackClusters, goneStates, listClusters} from './clusters.ts'

/** ctx.options key: --open-cluster (no configuration: MSK's default, everyone allowed where no ACL is found). */
export const openClusterOption = 'mskOpenCluster'

/** The configuration (ARN and revision) the cluster step names in ConfigurationInfo. */
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

async function describeConfiguration(kafka: KafkaClient, arn: string): Promise<Configuration | undefined> {
  try {
    const found = await kafkaapi.describeConfiguration(kafka, {Arn: arn})
    return found.State === 'DELETING' ? undefined : found
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading MSK configuration ${arn}`, error)
  }
}

/** What the read found, for create. */
const configurationFindingFact = factKey<Configuration | undefined>('msk.configurationFinding')

export const mskConfigurationStep: Step = {
  id: 'msk-configuration',
  title: 'MSK configuration: Kafka ACLs deny by default',
  account: 'msk',
  // It belongs to the cluster: kept and deleted with it (cleanup --include-cluster).
  cleanupByDefault: false,
  provides: [clusterConfigurationFact],

  async read(ctx) {
    const kafka = await ctx.accounts.msk.kafka()
    const name = configurationNameOf(ctx.settings)
    const found = new Map<string, Configuration>()
    for (const record of ctx.ledger.forStep('msk-configuration')) {
      const configuration = await describeConfiguration(kafka, record.id)
      if (configuration?.Arn) found.set(configuration.Arn, configuration)
    }
    const open = ctx.options[openClusterOption] === true
    const clusters = ctx.settings.msk?.clusterArn ? [] : await findStackClusters(ctx)
    // A stack whose ledger was lost: the configuration its cluster names, or the one of its name.
    for (const cluster of clusters) {
      const arn = cluster.Provisioned?.CurrentBrokerSoftwareInfo?.ConfigurationArn
      if (arn && !found.has(arn)) {
        const configuration = await describeConfiguration(kafka, arn)
        if (configuration && isStacks(configuration, name, ctx.stack)) found.set(arn, configuration)
      }
    }
    if (found.size === 0 && clusters.length === 0 && !ctx.settings.msk?.clusterArn) {
      for (const configuration of await kafkaapi.listAllConfigurations(kafka, 'listing MSK configurations')) {
        if (configuration.Arn && isStacks(configuration, name, ctx.stack)) found.set(configuration.Arn, configuration)
      }
    }
    const resources = [...found.values()].map((c) => configurationRecord(ctx, c.Arn!, c.Name ?? name, c.LatestRevision?.Revision ?? 1))
    const current = [...found.values()].find((c) => c.Name === name)
    ctx.facts.set(configurationFindingFact, current)
    const missing: string[] = []
    if (current?.Arn) ctx.facts.set(clusterConfigurationFact, {arn: current.Arn, revision: current.LatestRevision?.Revision ?? 1})
    else if (!open && clusters.length === 0 && !ctx.settings.msk?.clusterArn) {
      missing.push(`create MSK configuration ${name} (allow.everyone.if.no.acl.found=false: only users granted Kafka ACLs reach a topic; \`iotctl msk acl\` grants them; --open-cluster for MSK's default)`)
    }
    return {resources, missing}
  },

  async create(ctx, observed) {
    const existing = ctx.facts.get(configurationFindingFact)
    if (existing?.Arn) return observed.resources
    const kafka = await ctx.accounts.msk.kafka()
    const name = configurationNameOf(ctx.settings)
    const created = await kafkaapi.createConfiguration(kafka, createConfigurationRequest(name, ctx.stack), `creating MSK configuration ${name}`)
    const revision = created.LatestRevision?.Revision ?? 1
    const record = configurationRecord(ctx, created.Arn!, name, revision)
    ctx.ledger.put(record)
    ctx.facts.set(clusterConfigurationFact, {arn: created.Arn!, revision})
    return [record, ...observed.resources]
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
