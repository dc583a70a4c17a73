// iot-destination (walkthrough step 6): the VPC topic rule destination. The
// stack's are the ones whose role is the stack's role (destinations cannot be
// tagged), so they are found again when the ledger is lost.
import type {Subnet} from '@aws-sdk/client-ec2'
import type {IoTClient, TopicRuleDestinationSummary} from '@aws-sdk/client-iot'
import * as iotapi from '../aws/iot.ts'
import * as ec2api from '../aws/ec2.ts'
import {waitFor} from '../aws/wait.ts'
import {AwsError, InputError, MissingSettings, aws, awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {checkSecurityGroup} from '../peering/network.ts'
import {recordBase} from '../plan/context.ts'
import {factKey} from '../plan/facts.ts'
import type {ResourceRecord, Step, StepContext} from '../plan/types.ts'
import {destinationArnFact, foreignRoleFact, iotRoleArnOf, propagationSeconds, requireInputs, roleArnFact} from './inputs.ts'
import {isRefusedDestinationZone} from './names.ts'
import {iotRoleName} from './policies.ts'
import {isRoleNotUsableYet, retryWhileIamPropagates} from './propagation.ts'

const destinationFacts = {
  subnets: factKey<DestinationSubnets>('iot.destination.subnets'),
  securityGroups: factKey<string[]>('iot.destination.securityGroups'),
}

/** The destination's subnets, once checked: the ones to use, and defaulted ones left out (with why). */
export interface DestinationSubnets {
  subnetIds: string[]
  skipped: {subnetId: string; zoneId: string}[]
}

export async function listDestinations(iot: IoTClient): Promise<TopicRuleDestinationSummary[]> {
  return iotapi.listAllTopicRuleDestinations(iot, 'listing topic rule destinations (IoT account)')
}

/** The stack's destinations, best first (ENABLED, then IN_PROGRESS, DISABLED, ERROR). */
/** The stack's destinations as the destination step's read found them (best first): doctor reads them instead of listing again. */
export const foundDestinationsFact = factKey<TopicRuleDestinationSummary[]>('iot.destinations.found')

export async function stackDestinations(ctx: StepContext): Promise<TopicRuleDestinationSummary[]> {
  // The construction mark is the stack's role: a role of that name without the stack's tag is
  // somebody else's, and so are the destinations using it (cleanup leaves them alone).
  if (ctx.facts.get(foreignRoleFact) === true) return []
  const role = iotRoleArnOf(ctx)
  const rank = ['ENABLED', 'IN_PROGRESS', 'DISABLED', 'ERROR']
  const ours = (await listDestinations(await ctx.accounts.iot.iot())).filter((d) => d.vpcDestinationSummary?.roleArn === role && d.status !== 'DELETING')
  return ours.sort((a, b) => rank.indexOf(a.status ?? '') - rank.indexOf(b.status ?? ''))
}

function sameSet(a: string[] | undefined, b: string[] | undefined): boolean {
  const [x, y] = [[...(a ?? [])].sort(), [...(b ?? [])].sort()]
  return x.length === y.length && x.every((v, i) => v === y[i])
}

function destinationRecord(ctx: StepContext, arn: string): ResourceRecord {
  return {step: 'iot-destination', kind: 'iot:topic-rule-destination', id: arn, ...recordBase(ctx, 'iot')}
}

function requireIotVpc(ctx: StepContext): string {
  const vpcId = ctx.settings.iot?.vpcId
  if (!vpcId) throw new InputError('missing --iot-vpc (or iot.vpcId in the config file): the VPC the rule destination reaches the brokers from')
  return vpcId
}

/**
 * The subnets named (each must be in the IoT VPC and in a zone IoT accepts),
 * else every subnet of the IoT VPC in such a zone; the others are skipped,
 * saying so. Read-only: it runs in validate, before any change.
 */
async function destinationSubnets(ctx: StepContext, vpcId: string): Promise<DestinationSubnets> {
  const ec2 = await ctx.accounts.iot.ec2()
  const named = ctx.settings.iot?.subnetIds
  const flag = '--iot-subnets'
  if (named && named.length > 0) {
    for (const id of named) {
      let subnet: Subnet | undefined
      try {
        subnet = (await ec2api.describeSubnets(ec2, {SubnetIds: [id]})).Subnets?.[0]
      } catch (error) {
        if (!/InvalidSubnetID\.(NotFound|Malformed)/.test(awsErrorCode(error) ?? '')) throw toAwsError(`reading subnet ${id} (IoT account)`, error)
      }
      if (!subnet) throw new InputError(`${flag} ${id}: no such subnet in ${ctx.accounts.iot.label} (${ctx.accounts.iot.region})`)
      if (subnet.VpcId !== vpcId) throw new InputError(`${flag} ${id}: subnet belongs to ${subnet.VpcId}, not to the IoT VPC ${vpcId}`)
      const refused = refusedZone(subnet)
      if (refused) throw new InputError(`${flag} ${id}: ${refused}; name subnets in other availability zones`)
    }
    return {subnetIds: named, skipped: []}
  }
  const answer = await ec2api.describeSubnets(ec2, {Filters: [{Name: 'vpc-id', Values: [vpcId]}]}, `listing subnets of ${vpcId} (IoT account)`)
  const all = [...(answer.Subnets ?? [])].sort((a, b) => (a.SubnetId ?? '').localeCompare(b.SubnetId ?? ''))
  if (all.length === 0) throw new InputError(`the IoT VPC ${vpcId} has no subnets; create one or pass --iot-subnets`)
  const usable = all.filter((s) => !refusedZone(s))
  const skipped = all.filter((s) => refusedZone(s)).map((s) => ({subnetId: s.SubnetId!, zoneId: s.AvailabilityZoneId ?? ''}))
  if (usable.length === 0) {
    throw new InputError(`the IoT VPC ${vpcId} has subnets only in ${[...new Set(skipped.map((s) => s.zoneId))].join(', ')}, where AWS IoT does not accept VPC destination subnets; create a subnet in another availability zone and pass --iot-subnets`)
  }
  return {subnetIds: usable.map((s) => s.SubnetId!), skipped}
}

/** Why AWS IoT refuses a subnet for a VPC destination, or undefined when it accepts it. */
function refusedZone(subnet: Subnet): string | undefined {
  const zoneId = subnet.AvailabilityZoneId
  if (!isRefusedDestinationZone(zoneId)) return undefined
  return `in availability zone ${zoneId} (${subnet.AvailabilityZone}), where AWS IoT does not accept VPC destination subnets`
}

/** The security groups named (each must be in the IoT VPC), else the VPC's default group. */
async function destinationSecurityGroups(ctx: StepContext, vpcId: string): Promise<string[]> {
  const named = ctx.settings.iot?.securityGroupIds
  if (named && named.length > 0) {
    for (const id of named) await checkSecurityGroup(ctx.accounts.iot, id, vpcId, '--iot-security-groups')
    return named
  }
  const ec2 = await ctx.accounts.iot.ec2()
  const answer = await ec2api.describeSecurityGroups(ec2, {
    Filters: [{Name: 'vpc-id', Values: [vpcId]}, {Name: 'group-name', Values: ['default']}],
  }, `finding the default security group of ${vpcId} (IoT account)`)
  const id = answer.SecurityGroups?.[0]?.GroupId
  if (!id) throw new InputError(`the IoT VPC ${vpcId} has no default security group; pass --iot-security-groups`)
  return [id]
}

export const iotDestinationStep: Step = {
  id: 'iot-destination',
  title: 'IoT VPC topic rule destination',
  account: 'iot',
  needs: [roleArnFact],
  provides: [destinationArnFact],

  check(settings) {
    MissingSettings.check([{flag: '--iot-vpc', key: 'iot.vpcId', value: settings.iot?.vpcId}])
  },

  async validate(ctx) {
    const vpcId = requireIotVpc(ctx)
    ctx.facts.set(destinationFacts.subnets, await destinationSubnets(ctx, vpcId))
    ctx.facts.set(destinationFacts.securityGroups, await destinationSecurityGroups(ctx, vpcId))
    requireInputs(ctx, ['iot-role'])
  },

  async read(ctx) {
    const ours = await stackDestinations(ctx)
    ctx.facts.set(foundDestinationsFact, ours)
    const vpcId = ctx.settings.iot?.vpcId
    const checked = ctx.facts.get(destinationFacts.subnets)
    const subnets = checked?.subnetIds
    const groups = ctx.facts.get(destinationFacts.securityGroups)
    const fits = (d: TopicRuleDestinationSummary) => (!vpcId || d.vpcDestinationSummary?.vpcId === vpcId) &&
      (!subnets || sameSet(d.vpcDestinationSummary?.subnetIds, subnets)) && (!groups || sameSet(d.vpcDestinationSummary?.securityGroups, groups))
    const current = ours.find((d) => fits(d) && d.status !== 'ERROR')
    const resources = [...(current ? [current] : []), ...ours.filter((d) => d !== current)].map((d) => destinationRecord(ctx, d.arn!))
    const notes = ours.filter((d) => d !== current).map((d) => `the stack also owns ${d.arn} (${d.status}${d.statusReason ? `: ${d.statusReason}` : ''}, other settings); cleanup removes it`)
    for (const s of checked?.skipped ?? []) notes.push(`subnet ${s.subnetId} skipped: it is in ${s.zoneId}, where AWS IoT does not accept VPC destination subnets`)
    const missing: string[] = []
    if (!current) {
      missing.push(`create a VPC topic rule destination in ${vpcId ?? 'the IoT VPC'} (subnets ${subnets?.join(', ') ?? '?'}; security groups ${groups?.join(', ') ?? '?'}) with role ${iotRoleName(ctx.stack)}`, 'wait until it is ENABLED')
    } else if (current.status === 'IN_PROGRESS') {
      missing.push(`wait for ${current.arn} to become ENABLED`)
    } else if (current.status === 'DISABLED') {
      missing.push(`enable ${current.arn}`)
    } else if (current.status === 'ENABLED' && current.arn) {
      notes.unshift(`${current.arn} is ENABLED`)
      ctx.facts.set(destinationArnFact, current.arn)
    }
    return {resources, missing, notes}
  },

  async create(ctx, observed) {
    const iot = await ctx.accounts.iot.iot()
    const current = observed.resources[0] && !observed.missing.some((m) => m.startsWith('create ')) ? observed.resources[0] : undefined
    let arn = current?.id
    const resources = [...observed.resources]
    if (!arn) {
      const subnets = ctx.facts.get(destinationFacts.subnets)
      const securityGroups = ctx.facts.get(destinationFacts.securityGroups)
      if (!subnets || !securityGroups) throw new Error('iot-destination: create ran before validate')
      const vpcConfiguration = {
        vpcId: requireIotVpc(ctx),
        subnetIds: subnets.subnetIds,
        securityGroups,
        roleArn: iotRoleArnOf(ctx),
      }
      const created = await aws('creating the VPC topic rule destination (IoT account)', () => retryWhileIamPropagates(
        () => iotapi.createTopicRuleDestination(iot, {destinationConfiguration: {vpcConfiguration}}),
        {transient: isRoleNotUsableYet, what: `IAM to let AWS IoT assume ${iotRoleName(ctx.stack)}`, progress: ctx.progress, checkpoint: ctx.checkpoint, timeoutSeconds: propagationSeconds(ctx)},
      ))
      arn = created.topicRuleDestination!.arn!
      const record = destinationRecord(ctx, arn)
      resources.unshift(record)
      ctx.ledger.put(record)
      ctx.checkpoint()
    } else if (observed.missing.some((m) => m.startsWith('enable '))) {
      const target = arn
      await iotapi.updateTopicRuleDestination(iot, {arn: target, status: 'ENABLED'}, `enabling ${target}`)
      ctx.checkpoint()
    }
    await waitUntilEnabled(ctx, iot, arn)
    ctx.facts.set(destinationArnFact, arn)
    return resources
  },

  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    for (const record of resources) {
      try {
        await iotapi.deleteTopicRuleDestination(iot, {arn: record.id})
        // Its network interfaces are removed with the role's permissions: wait
        // until it is gone before the role can be deleted (reverse order).
        await waitFor(async () => ((await describeDestination(iot, record.id)) === undefined ? true : undefined),
          // Deletion takes minutes: polled at most every 5 s so the wait ends close to when it is gone.
          {what: `${record.id} to be deleted`, timeoutSeconds: 600, maxIntervalMs: 5000, progress: ctx.progress, checkpoint: ctx.checkpoint})
      } catch (error) {
        if (!isDestinationGone(error)) throw toAwsError(`deleting ${record.id}`, error)
      }
      ctx.ledger.remove(record)
      ctx.checkpoint()
    }
  },
}

/**
 * The destination APIs have no ResourceNotFoundException (IoT API reference,
 * GetTopicRuleDestination "Errors"): an unknown ARN is an InvalidRequestException.
 */
function isDestinationGone(error: unknown): boolean {
  return isNotFound(error) || (awsErrorCode(error) === 'InvalidRequestException' && /does not exist|not found/i.test((error as Error).message ?? ''))
}

export async function describeDestination(iot: IoTClient, arn: string) {
  try {
    return (await iotapi.getTopicRuleDestination(iot, {arn})).topicRuleDestination
  } catch (error) {
    if (isDestinationGone(error)) return undefined
    throw toAwsError(`reading ${arn}`, error)
  }
}

async function waitUntilEnabled(ctx: StepContext, iot: IoTClient, arn: string): Promise<void> {
  await waitFor(async () => {
    const destination = await describeDestination(iot, arn)
    if (!destination) throw new AwsError(`waiting for ${arn}`, 'ResourceNotFoundException', 'the destination disappeared')
    if (destination.status === 'ERROR') {
      throw new AwsError(`waiting for ${arn} to become ENABLED`, 'DestinationError', `${destination.statusReason ?? 'no reason given'}; check the role's EC2 permissions, the subnets and the security groups, then run again`)
    }
    return destination.status === 'ENABLED' ? true : undefined
  }, {what: `${arn} to become ENABLED`, timeoutSeconds: 900, intervalMs: 1000, maxIntervalMs: 5000, progress: ctx.progress, checkpoint: ctx.checkpoint})
}
