// Steps 1 and 3 of the walkthrough: the MSK cluster (only with
// --create-cluster or `msk create`; kept by cleanup unless --include-cluster)
// and the association of A's AmazonMSK_ secret with it.
import type {Cluster, UnprocessedScramSecret} from '@aws-sdk/client-kafka'
import * as kafkaapi from '../aws/kafka.ts'
import {AwsError, InputError, isNotFound, toAwsError} from '../errors.ts'
import {checkSecurityGroup} from '../peering/network.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import {hasStackTag} from '../plan/tags.ts'
import type {ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {otherSlot, slotSecretName, type SecretSlot} from '../secrets/names.ts'
import {describeSecret, isStackSecret} from '../secrets/store.ts'
import {mskSecretOf, secretFact, secretPlannedFact, secretStepId} from '../secrets/secret-steps.ts'
import {clusterConfigurationFact} from './configuration.ts'
import {checkBrokerCount, checkSubnetLayout, clusterSpecOf, createClusterRequest} from './cluster-spec.ts'
import {associatedSecrets, clusterFact, clusterLabel, clusterOf, describeCluster, describeSubnets, findStackClusters, goneStates, listClusters, scramProblem, waitForActive} from './clusters.ts'

/** ctx.options key: --no-wait (create the cluster, do not wait for ACTIVE). */
export const noWaitOption = 'mskNoWait'
/** Set by the cluster step's validate: this run creates (or adopts) the cluster, so later steps need not find it yet. */
export const clusterPlannedFact = factKey<boolean>('msk.clusterPlanned')
/** What the cluster step's read found, for its create (undefined: no cluster yet). */
const clusterFindingFact = factKey<Cluster | undefined>('msk.clusterFinding')
/** The association of the stack's secret with its cluster, once made or found. */
export const scramAssociationFact = factKey<{clusterArn: string; secretArn: string}>('msk.scramAssociation')

function clusterRecord(ctx: StepContext, cluster: Cluster): ResourceRecord {
  return {step: 'msk-cluster', kind: 'kafka:cluster', id: cluster.ClusterArn!, ...recordBase(ctx, 'msk'), attrs: {name: cluster.ClusterName ?? ''}}
}

const settling = new Set(['CREATING', 'UPDATING', 'REBOOTING_BROKER', 'HEALING', 'MAINTENANCE'])

export const mskClusterStep: Step = {
  id: 'msk-cluster',
  title: 'MSK cluster with SASL/SCRAM and TLS',
  account: 'msk',
  cleanupByDefault: false,
  // Not read: cleanup deletes the cluster before the locked-down configuration it uses (MSK refuses the other order).
  needs: [clusterConfigurationFact],
  provides: [clusterFact],

  check(settings) {
    clusterSpecOf(settings)
  },

  async validate(ctx) {
    ctx.facts.set(clusterPlannedFact, true)
    const spec = clusterSpecOf(ctx.settings)
    const kafka = await ctx.accounts.msk.kafka()
    const configured = ctx.settings.msk?.clusterArn
    if (configured) {
      if (!await describeCluster(kafka, configured, `reading cluster ${configured}`)) throw new InputError(`--cluster-arn ${configured}: no such cluster in the MSK account (${ctx.accounts.msk.label}, ${ctx.accounts.msk.region})`)
      return
    }
    const owned = await findStackClusters(ctx)
    if (owned.length > 0) return
    const namesake = (await listClusters(kafka, 'looking up cluster names', spec.name)).find((c) => c.ClusterName === spec.name && !goneStates.has(c.State ?? ''))
    if (namesake && !hasStackTag(namesake.Tags, ctx.stack)) {
      throw new InputError(`--cluster-name ${spec.name}: a cluster of that name exists in the MSK account and stack '${ctx.stack}' did not create it; choose another --cluster-name or pass --cluster-arn to use it`)
    }
    if (spec.subnetIds.length === 0) throw new InputError('missing --subnets (or msk.subnetIds in the config file): two or three subnets of the MSK VPC, in different Availability Zones')
    const subnets = await describeSubnets(ctx.accounts.msk, spec.subnetIds, '--subnets')
    checkSubnetLayout(subnets, ctx.settings.msk?.vpcId)
    checkBrokerCount(spec.brokers, subnets.length)
    if (spec.securityGroupIds[0]) await checkSecurityGroup(ctx.accounts.msk, spec.securityGroupIds[0], subnets[0].vpcId, '--security-group')
  },

  async read(ctx) {
    const spec = clusterSpecOf(ctx.settings)
    const noWait = ctx.options[noWaitOption] === true
    const owned = await findStackClusters(ctx)
    const resources = owned.map((c) => clusterRecord(ctx, c))
    const configured = ctx.settings.msk?.clusterArn
    const notes: string[] = []
    let current: Cluster | undefined
    if (configured) {
      current = await describeCluster(await ctx.accounts.msk.kafka(), configured, `reading cluster ${configured}`)
      if (current && !hasStackTag(current.Tags, ctx.stack)) notes.push(`using cluster ${clusterLabel(current)}, which the stack did not create; cleanup leaves it alone`)
    } else {
      current = owned.find((c) => c.ClusterName === spec.name) ?? owned[0]
    }
    const missing: string[] = []
    if (!current) {
      missing.push(`create MSK cluster ${spec.name}: ${spec.brokers} × ${spec.brokerType}, Kafka ${spec.kafkaVersion}, SASL/SCRAM, TLS in transit and in the cluster (15–30 minutes)`)
    } else if (current.State === 'FAILED') {
      notes.push(`cluster ${clusterLabel(current)} failed: ${current.StateInfo?.Message ?? 'no reason given'}; delete it (cleanup --include-cluster) and create it again`)
    } else if (settling.has(current.State ?? '')) {
      if (noWait) notes.push(`cluster ${clusterLabel(current)} is not ACTIVE yet; \`iotctl msk create\` without --no-wait waits for it`)
      else missing.push(`wait for cluster ${clusterLabel(current)} to become ACTIVE`)
    }
    ctx.facts.set(clusterFindingFact, current)
    if (current?.State === 'ACTIVE') ctx.facts.set(clusterFact, current)
    return {resources, missing, notes}
  },

  async create(ctx, observed) {
    const kafka = await ctx.accounts.msk.kafka()
    const spec = clusterSpecOf(ctx.settings)
    let current = ctx.facts.get(clusterFindingFact)
    let resources = observed.resources
    if (!current) {
      const created = await kafkaapi.createCluster(kafka, createClusterRequest(spec, ctx.stack), `creating MSK cluster ${spec.name}`)
      current = {ClusterArn: created.ClusterArn, ClusterName: created.ClusterName ?? spec.name, State: created.State}
      const record = clusterRecord(ctx, current)
      ctx.ledger.put(record)
      resources = [record, ...resources]
      ctx.checkpoint()
    }
    if (ctx.options[noWaitOption] !== true && current.State !== 'ACTIVE') {
      ctx.progress(`cluster ${current.ClusterName} is ${current.State ?? 'being created'}; MSK takes 15–30 minutes`)
      current = await waitForActive(ctx, current.ClusterArn ?? '', current.ClusterName ?? spec.name)
    }
    if (current.State === 'ACTIVE') ctx.facts.set(clusterFact, current)
    return resources
  },

  async delete(ctx, resources) {
    const kafka = await ctx.accounts.msk.kafka()
    for (const record of resources) {
      const cluster = await describeCluster(kafka, record.id, `reading cluster ${record.attrs?.name ?? record.id}`)
      if (cluster && !goneStates.has(cluster.State ?? '')) {
        try {
          await kafkaapi.deleteCluster(kafka, {ClusterArn: record.id, CurrentVersion: cluster.CurrentVersion})
        } catch (error) {
          if (!isNotFound(error)) throw toAwsError(`deleting cluster ${record.attrs?.name ?? record.id}`, error)
        }
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

function associationRecord(ctx: StepContext, clusterArn: string, secretArn: string, slot: SecretSlot): ResourceRecord {
  return {
    step: associationStepId(slot), kind: 'kafka:scram-association', id: `${clusterArn}|${secretArn}`, ...recordBase(ctx, 'msk'),
    attrs: {clusterArn, secretArn},
  }
}

function unprocessedError(step: string, failures: UnprocessedScramSecret[]): AwsError {
  const first = failures[0]
  return new AwsError(step, first.ErrorCode ?? 'UnprocessedScramSecret', `${first.SecretArn ?? ''}: ${first.ErrorMessage ?? 'not processed'}`)
}

/** `scram-association` for the first user (as before alternating users), `scram-association-b` for the alternate. */
export function associationStepId(slot: SecretSlot): string {
  return slot === 'a' ? 'scram-association' : `scram-association-${slot}`
}

/** The alternate user's association, once in place. */
export const alternateAssociationFact = factKey<{clusterArn: string; secretArn: string}>('msk.scramAssociation.b')

/** Step 3: A's secret of each user associated with the cluster (BatchAssociateScramSecret); both stay associated, so either user may sign in. */
export const scramAssociationStep: Step = scramAssociationStepOf('a')

export function scramAssociationStepOf(slot: SecretSlot): Step {
  const id = associationStepId(slot)
  const fact = slot === 'a' ? scramAssociationFact : alternateAssociationFact
  return {
    id,
    title: slot === 'a' ? 'SCRAM secret associated with the MSK cluster' : `alternate SCRAM secret (${slot}) associated with the MSK cluster`,
    account: 'msk',
    // MSK associates secrets with ACTIVE clusters only; one association at a time on a cluster
    // (two concurrent updates of its secret list race), so the alternate's comes after the first's.
    needs: slot === 'a' ? [clusterFact, secretFact('msk', slot)] : [clusterFact, secretFact('msk', slot), scramAssociationFact],
    provides: [fact],

    async validate(ctx) {
      const cluster = await clusterOf(ctx)
      if (!cluster && !ctx.facts.get(clusterPlannedFact)) {
        const configured = ctx.settings.msk?.clusterArn
        throw new InputError(configured
          ? `--cluster-arn ${configured}: no such cluster in the MSK account (${ctx.accounts.msk.label}, ${ctx.accounts.msk.region})`
          : `no MSK cluster for stack '${ctx.stack}': pass --cluster-arn (or msk.clusterArn in the config file), or create one with \`iotctl msk create\``)
      }
      const problem = cluster && scramProblem(cluster)
      if (problem) throw new InputError(problem)
      if (ctx.facts.get(secretPlannedFact(slot))) return
      const secret = await mskSecretOf(ctx, slot)
      if (!secret) throw new InputError(`no secret ${slotSecretName(ctx.settings, slot)} of stack '${ctx.stack}' in the MSK account; run \`iotctl secret mirror\` first`)
      if (!secret.KmsKeyId) throw new InputError(`secret ${secret.Name} is encrypted with the default aws/secretsmanager key, which MSK rejects; run \`iotctl secret mirror\` to re-encrypt it with the stack's key`)
    },

    async read(ctx) {
      const cluster = await clusterOf(ctx)
      // The stack's secrets: read in this run, named by the config, or recorded with an earlier association.
      const stackSecrets = new Set((ctx.outputs.get(secretStepId('msk', slot)) ?? []).map((r) => r.id))
      const secret = await mskSecretOf(ctx, slot)
      if (secret?.ARN) stackSecrets.add(secret.ARN)
      // The other user's secret is the other step's: each association is deleted once.
      const other = await mskSecretOf(ctx, otherSlot(slot))
      if (other?.ARN) stackSecrets.delete(other.ARN)
      const ledger = ctx.ledger.forStep(id)
      // A secret the ledger names is the stack's only when its tag says so: cleanup never disassociates somebody else's.
      for (const record of ledger) {
        const secretArn = record.attrs?.secretArn
        if (!secretArn || stackSecrets.has(secretArn) || secretArn === other?.ARN) continue
        const described = await describeSecret(await ctx.accounts.msk.secrets(), secretArn, `reading secret ${secretArn} (MSK account)`)
        if (isStackSecret(described, ctx.stack)) stackSecrets.add(secretArn)
      }
      const clusters = new Set([cluster?.ClusterArn, ...ledger.map((r) => r.attrs?.clusterArn)].filter((arn): arn is string => Boolean(arn)))
      const resources: ResourceRecord[] = []
      let associatedWithCurrent: string[] = []
      for (const clusterArn of clusters) {
        const associated = await associatedSecrets(await ctx.accounts.msk.kafka(), clusterArn)
        if (clusterArn === cluster?.ClusterArn) associatedWithCurrent = associated
        for (const secretArn of associated) if (stackSecrets.has(secretArn)) resources.push(associationRecord(ctx, clusterArn, secretArn, slot))
      }
      const missing: string[] = []
      const name = secret?.Name ?? slotSecretName(ctx.settings, slot)
      if (!cluster) missing.push(`associate ${name} with the stack's MSK cluster (none yet: --cluster-arn or \`iotctl msk create\`)`)
      else if (!secret?.ARN || !associatedWithCurrent.includes(secret.ARN)) missing.push(`associate ${name} with cluster ${clusterLabel(cluster)}`)
      else if (cluster.ClusterArn) ctx.facts.set(fact, {clusterArn: cluster.ClusterArn, secretArn: secret.ARN})
      return {resources, missing}
    },

    async create(ctx, observed) {
      let cluster = await clusterOf(ctx)
      if (!cluster?.ClusterArn) throw new InputError(`no MSK cluster for stack '${ctx.stack}': pass --cluster-arn, or create one with \`iotctl msk create\``)
      const secret = await mskSecretOf(ctx, slot)
      if (!secret?.ARN) throw new InputError(`no secret ${slotSecretName(ctx.settings, slot)} of stack '${ctx.stack}' in the MSK account; run \`iotctl secret mirror\` first`)
      const clusterArn = cluster.ClusterArn
      const secretArn = secret.ARN
      if (observed.resources.some((r) => r.attrs?.clusterArn === clusterArn && r.attrs.secretArn === secretArn)) return observed.resources
      // MSK associates secrets with ACTIVE clusters only.
      if (cluster.State !== 'ACTIVE') cluster = await waitForActive(ctx, clusterArn, cluster.ClusterName ?? clusterArn)
      const kafka = await ctx.accounts.msk.kafka()
      const step = `associating ${secret.Name} with cluster ${cluster.ClusterName}`
      ctx.checkpoint()
      const answer = await kafkaapi.batchAssociateScramSecret(kafka, {ClusterArn: clusterArn, SecretArnList: [secretArn]}, step)
      const failures = answer.UnprocessedScramSecrets ?? []
      if (failures.length > 0) throw unprocessedError(step, failures)
      const record = associationRecord(ctx, clusterArn, secretArn, slot)
      ctx.ledger.put(record)
      ctx.facts.set(fact, {clusterArn, secretArn})
      return [record, ...observed.resources]
    },

    async delete(ctx, resources) {
      const kafka = await ctx.accounts.msk.kafka()
      for (const record of resources) {
        const {clusterArn, secretArn} = record.attrs ?? {}
        const step = `disassociating ${secretArn} from ${clusterArn}`
        try {
          const answer = await kafkaapi.batchDisassociateScramSecret(kafka, {ClusterArn: clusterArn, SecretArnList: [secretArn ?? '']})
          const failures = (answer.UnprocessedScramSecrets ?? []).filter((f) => !/NotFound/i.test(f.ErrorCode ?? ''))
          if (failures.length > 0) throw unprocessedError(step, failures)
        } catch (error) {
          if (!isNotFound(error)) throw toAwsError(step, error)
        }
        ctx.ledger.remove(record)
        ctx.checkpoint()
      }
    },
  }
}
