// Step 4 of the walkthrough as steps: the peering (requested by B, accepted
// with A's credentials), routes on both sides, and A's security-group ingress.
import type {EC2Client, Route, SecurityGroupRule, VpcPeeringConnection} from '@aws-sdk/client-ec2'
import type {AccountRole} from '../aws/account.ts'
import * as ec2api from '../aws/ec2.ts'
import {waitFor} from '../aws/wait.ts'
import {InputError, MissingSettings, aws, awsErrorCode} from '../errors.ts'
import {deleteEach} from '../plan/delete.ts'
import {factKey} from '../plan/facts.ts'
import {recordBase} from '../plan/context.ts'
import {hasStackTag, stackMark, stackTags} from '../plan/tags.ts'
import type {Finding, LeftInPlace, ResourceRecord, StackSettings, Step, StepContext} from '../plan/types.ts'
import {firstOverlap} from './cidr.ts'
import {checkDnsResolution} from './dns.ts'
import {checkSecurityGroup, describePeering, describeVpc, findStackPeerings, otherSide, routeTablesFor, type VpcFacts} from './network.ts'
import {stackPrefix} from '../config/stack-names.ts'

export const defaultBrokerPort = 9096

const vpcFlag: Record<AccountRole, string> = {iot: '--iot-vpc', msk: '--msk-vpc'}
const routeTablesFlag: Record<AccountRole, string> = {iot: '--iot-route-tables', msk: '--msk-route-tables'}

/** Facts the peering steps share: what validate found (VPCs, route tables) and the peering itself. */
const fact = {
  vpc: (role: AccountRole) => factKey<VpcFacts>(`peering.vpc.${role}`),
  routeTables: (role: AccountRole) => factKey<string[]>(`peering.routeTables.${role}`),
}

/** The id of the stack's peering between the configured VPCs: what the routes go through. */
export const peeringIdFact = factKey<string>('peering.id')

function vpcFacts(ctx: StepContext, role: AccountRole): VpcFacts | undefined {
  return ctx.facts.get(fact.vpc(role))
}

/** The id of the stack's peering: created or found earlier in this run, or recorded in the ledger. */
export function peeringIdOf(ctx: StepContext): string | undefined {
  return ctx.facts.get(peeringIdFact) ?? ctx.outputs.get('peering')?.[0]?.id
}

function requireVpcId(ctx: StepContext, role: AccountRole): string {
  return configuredVpcId(ctx.settings, role)
}

const vpcSetting = (settings: StackSettings, role: AccountRole) => ({flag: vpcFlag[role], key: `${role}.vpcId`, value: settings[role]?.vpcId})

function configuredVpcId(settings: StackSettings, role: AccountRole): string {
  const vpcId = settings[role]?.vpcId
  if (!vpcId) throw new MissingSettings([vpcSetting(settings, role)])
  return vpcId
}

/** Both VPCs named: what every step of the peering needs before it reads anything. */
function checkVpcs(settings: StackSettings): void {
  MissingSettings.check([vpcSetting(settings, 'iot'), vpcSetting(settings, 'msk')])
}

async function loadVpcFacts(ctx: StepContext, role: AccountRole): Promise<VpcFacts> {
  let facts = vpcFacts(ctx, role)
  if (!facts) {
    facts = await describeVpc(ctx.accounts[role], ctx.identities[role].accountId, requireVpcId(ctx, role), vpcFlag[role])
    ctx.facts.set(fact.vpc(role), facts)
  }
  return facts
}

function peeringRecord(ctx: StepContext, pcx: VpcPeeringConnection): ResourceRecord {
  return {
    step: 'peering',
    kind: 'ec2:vpc-peering-connection',
    id: pcx.VpcPeeringConnectionId!,
    ...recordBase(ctx, 'iot'),
    attrs: {
      requesterVpc: pcx.RequesterVpcInfo?.VpcId ?? '',
      accepterVpc: pcx.AccepterVpcInfo?.VpcId ?? '',
      accepterAccountId: pcx.AccepterVpcInfo?.OwnerId ?? '',
    },
  }
}

export const peeringStep: Step = {
  id: 'peering',
  title: 'VPC peering (requested by the IoT account, accepted by the MSK account)',
  account: 'iot',
  provides: [peeringIdFact],
  check: checkVpcs,

  async validate(ctx) {
    const [iot, msk] = [await loadVpcFacts(ctx, 'iot'), await loadVpcFacts(ctx, 'msk')]
    const overlap = firstOverlap(iot.cidrs, msk.cidrs)
    if (overlap) {
      throw new InputError(`${vpcFlag.iot} ${iot.vpcId} (${overlap[0]}) overlaps ${vpcFlag.msk} ${msk.vpcId} (${overlap[1]}): peered VPCs need non-overlapping CIDR blocks`)
    }
    if (ctx.settings.peering?.dnsResolution) await checkDnsResolution(ctx.accounts, {iot: iot.vpcId, msk: msk.vpcId})
  },

  async read(ctx) {
    const ledgerIds = ctx.ledger.forStep('peering').map((r) => r.id)
    const peerings = await findStackPeerings(ctx.accounts.iot, ctx.stack, ledgerIds)
    const iotVpc = ctx.settings.iot?.vpcId
    const mskVpc = ctx.settings.msk?.vpcId
    const wanted = peerings.filter((p) => (!iotVpc || p.RequesterVpcInfo?.VpcId === iotVpc) && (!mskVpc || p.AccepterVpcInfo?.VpcId === mskVpc))
    const notes: string[] = []
    const others = peerings.filter((p) => !wanted.includes(p))
    if (others.length > 0 && iotVpc && mskVpc) {
      notes.push(`the stack also owns ${others.map((p) => p.VpcPeeringConnectionId).join(', ')} between other VPCs; cleanup removes it`)
    }
    const resources = peerings.map((p) => peeringRecord(ctx, p))
    if (!iotVpc || !mskVpc) return {resources, missing: wanted.length ? [] : ['VPC peering (needs --iot-vpc and --msk-vpc)'], notes}
    const current = wanted[0]
    const missing: string[] = []
    const target = `${iotVpc} (IoT account ${ctx.identities.iot.accountId}) → ${mskVpc} (MSK account ${ctx.identities.msk.accountId}, ${ctx.accounts.msk.region})`
    if (!current) {
      missing.push(`request VPC peering ${target}`, 'accept it with the MSK account\'s credentials')
    } else if (current.Status?.Code === 'pending-acceptance') {
      missing.push(`accept ${current.VpcPeeringConnectionId} with the MSK account's credentials`)
    } else if (current.Status?.Code !== 'active') {
      missing.push(`wait for ${current.VpcPeeringConnectionId} (${current.Status?.Code}) to become active`)
    }
    if (ctx.settings.peering?.dnsResolution && current?.Status?.Code === 'active' &&
      !(current.RequesterVpcInfo?.PeeringOptions?.AllowDnsResolutionFromRemoteVpc && current.AccepterVpcInfo?.PeeringOptions?.AllowDnsResolutionFromRemoteVpc)) {
      missing.push(`allow DNS resolution across ${current.VpcPeeringConnectionId}`)
    } else if (ctx.settings.peering?.dnsResolution && current?.Status?.Code !== 'active') {
      missing.push('allow DNS resolution across the peering')
    }
    const findings: Finding[] = []
    const status = current?.Status?.Code ?? ''
    // A peering in one of these states never becomes active again (EC2 API reference, VpcPeeringConnectionStateReason).
    if (current && ['failed', 'rejected', 'expired', 'deleted'].includes(status)) {
      findings.push({kind: 'broken', code: `peering-${status}`, text: `${current.VpcPeeringConnectionId} is ${status}${current.Status?.Message ? `: ${current.Status.Message}` : ''}`, fix: 'iotctl cleanup, then iotctl peer setup'})
    } else if (current) {
      notes.push(`${current.VpcPeeringConnectionId} is ${status}`)
    }
    if (current?.VpcPeeringConnectionId) ctx.facts.set(peeringIdFact, current.VpcPeeringConnectionId)
    return {resources: current ? [peeringRecord(ctx, current), ...resources.filter((r) => r.id !== current.VpcPeeringConnectionId)] : resources, missing, notes, findings}
  },

  async create(ctx, observed) {
    const iotEc2 = await ctx.accounts.iot.ec2()
    const mskEc2 = await ctx.accounts.msk.ec2()
    const iotVpc = requireVpcId(ctx, 'iot')
    const mskVpc = requireVpcId(ctx, 'msk')
    let id = observed.resources.find((r) => r.attrs?.requesterVpc === iotVpc && r.attrs?.accepterVpc === mskVpc)?.id
    if (!id) {
      const created = await ec2api.createVpcPeeringConnection(iotEc2, {
        VpcId: iotVpc,
        PeerVpcId: mskVpc,
        PeerOwnerId: ctx.identities.msk.accountId,
        PeerRegion: ctx.accounts.msk.region,
        TagSpecifications: [{ResourceType: 'vpc-peering-connection', Tags: [...stackTags(ctx.stack), {Key: 'Name', Value: stackPrefix(ctx.stack)}]}],
      }, 'requesting the VPC peering (IoT account)')
      const pcx = created.VpcPeeringConnection!
      id = pcx.VpcPeeringConnectionId!
      ctx.ledger.put(peeringRecord(ctx, pcx))
      ctx.checkpoint()
    }
    const peeringId = id
    let pcx = await waitFor(async () => {
      const current = await aws('reading the VPC peering', () => describePeering(ctx.accounts.iot, peeringId))
      return current && current.Status?.Code !== 'initiating-request' && current.Status?.Code !== 'provisioning' ? current : undefined
    }, {what: `${peeringId} to be requested`, timeoutSeconds: 300, progress: ctx.progress, checkpoint: ctx.checkpoint})
    if (pcx.Status?.Code === 'pending-acceptance') {
      ctx.checkpoint()
      await ec2api.acceptVpcPeeringConnection(mskEc2, {VpcPeeringConnectionId: peeringId}, 'accepting the VPC peering (MSK account)')
      ctx.checkpoint()
    }
    pcx = await waitFor(async () => {
      const current = await aws('reading the VPC peering', () => describePeering(ctx.accounts.iot, peeringId))
      if (current?.Status?.Code === 'failed' || current?.Status?.Code === 'rejected') {
        throw new InputError(`${peeringId} is ${current.Status.Code}: ${current.Status.Message ?? ''}`)
      }
      return current?.Status?.Code === 'active' ? current : undefined
    }, {what: `${peeringId} to become active`, timeoutSeconds: 300, progress: ctx.progress, checkpoint: ctx.checkpoint})
    // Tags are per account: tag the accepter's view too, so the MSK account's console shows the owner.
    ctx.checkpoint()
    await ec2api.createTags(mskEc2, {Resources: [peeringId], Tags: stackTags(ctx.stack)}, 'tagging the VPC peering (MSK account)')
    if (ctx.settings.peering?.dnsResolution) {
      ctx.checkpoint()
      await ec2api.modifyVpcPeeringConnectionOptions(iotEc2, {
        VpcPeeringConnectionId: peeringId, RequesterPeeringConnectionOptions: {AllowDnsResolutionFromRemoteVpc: true},
      }, 'allowing DNS resolution (IoT account)')
      ctx.checkpoint()
      await ec2api.modifyVpcPeeringConnectionOptions(mskEc2, {
        VpcPeeringConnectionId: peeringId, AccepterPeeringConnectionOptions: {AllowDnsResolutionFromRemoteVpc: true},
      }, 'allowing DNS resolution (MSK account)')
    }
    ctx.facts.set(peeringIdFact, peeringId)
    return [peeringRecord(ctx, pcx), ...observed.resources.filter((r) => r.id !== peeringId)]
  },

  async delete(ctx, resources) {
    const ec2 = await ctx.accounts.iot.ec2()
    await deleteEach(ctx, resources, {what: (record) => `deleting ${record.id}`},
      (record) => ec2api.deleteVpcPeeringConnection(ec2, {VpcPeeringConnectionId: record.id}))
  },
}

/**
 * The peerings whose routes are the stack's: the peering step's (found by tag),
 * and those the ledger's route records name once their tags confirm them (also a
 * deleted peering, whose routes remain as blackholes). A ledger entry naming a
 * peering without the stack's tag is ignored: its routes are somebody else's.
 */
async function stackPeeringIds(ctx: StepContext, step: string): Promise<Set<string>> {
  const ids = new Set((ctx.outputs.get('peering') ?? []).map((r) => r.id))
  const hinted = new Set(ctx.ledger.forStep(step).map((r) => r.attrs?.peeringId ?? '').filter((pcx) => pcx && !ids.has(pcx)))
  if (hinted.size === 0) return ids
  const ec2 = await ctx.accounts.iot.ec2()
  const found = await ec2api.describeAllVpcPeeringConnections(ec2, [{Name: 'vpc-peering-connection-id', Values: [...hinted]}], 'confirming the peerings the ledger names')
  for (const pcx of found) {
    if (pcx.VpcPeeringConnectionId && hasStackTag(pcx.Tags, ctx.stack)) ids.add(pcx.VpcPeeringConnectionId)
  }
  return ids
}

/** The route of a table to a CIDR as EC2 has it now (undefined when the table or the route is gone). */
async function currentRoute(ec2: EC2Client, tableId: string, destination: string): Promise<Route | undefined> {
  try {
    const table = (await ec2api.describeRouteTables(ec2, {RouteTableIds: [tableId]})).RouteTables?.[0]
    return table?.Routes?.find((r) => r.DestinationCidrBlock === destination)
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidRouteTableID.NotFound') return undefined
    throw error
  }
}

function routeTarget(route: Route): string {
  return route.VpcPeeringConnectionId ?? route.GatewayId ?? route.TransitGatewayId ?? route.NatGatewayId ?? route.NetworkInterfaceId ?? route.InstanceId ?? 'another target'
}

function routeRecord(ctx: StepContext, role: AccountRole, tableId: string, cidr: string, peeringId: string): ResourceRecord {
  return {step: `routes:${role}`, kind: 'ec2:route', id: `${tableId}:${cidr}`, ...recordBase(ctx, role), attrs: {routeTableId: tableId, destination: cidr, peeringId}}
}

/** Routes in `role`'s route tables to the other VPC's CIDR blocks through the stack's peering. */
export function routesStep(role: AccountRole): Step {
  const id = `routes:${role}`
  const peer = otherSide(role)
  return {
    id,
    title: `routes in the ${role === 'iot' ? 'IoT' : 'MSK'} account to the ${peer === 'iot' ? 'IoT' : 'MSK'} VPC through the peering`,
    account: role,
    needs: [peeringIdFact],
    check: checkVpcs,

    async validate(ctx) {
      const vpc = await loadVpcFacts(ctx, role)
      const peerVpc = await loadVpcFacts(ctx, peer)
      const tables = await routeTablesFor(ctx.accounts[role], vpc.vpcId, ctx.settings[role]?.routeTableIds, routeTablesFlag[role])
      ctx.facts.set(fact.routeTables(role), tables.flatMap((t) => (t.RouteTableId ? [t.RouteTableId] : [])))
      // A route to the peer's CIDR through something else is not ours to replace.
      // Ours: peerings carrying the stack's tag (a ledger entry alone proves nothing).
      const ours = new Set<string>()
      for (const pcx of await findStackPeerings(ctx.accounts.iot, ctx.stack)) ours.add(pcx.VpcPeeringConnectionId!)
      for (const table of tables) {
        for (const route of table.Routes ?? []) {
          if (!route.DestinationCidrBlock || !peerVpc.cidrs.includes(route.DestinationCidrBlock)) continue
          const target = routeTarget(route)
          if (!route.VpcPeeringConnectionId || !ours.has(route.VpcPeeringConnectionId)) {
            throw new InputError(`route table ${table.RouteTableId} already routes ${route.DestinationCidrBlock} to ${target}, which the stack did not create; remove that route or choose other ${routeTablesFlag[role]}`)
          }
        }
      }
    },

    async read(ctx) {
      const ec2 = await ctx.accounts[role].ec2()
      const peeringIds = await stackPeeringIds(ctx, id)
      const resources: ResourceRecord[] = []
      const findings: Finding[] = []
      if (peeringIds.size > 0) {
        const tables = await ec2api.describeAllRouteTables(ec2, [{Name: 'route.vpc-peering-connection-id', Values: [...peeringIds]}], `finding routes through the peering (${role} account)`)
        for (const table of tables) {
          for (const route of table.Routes ?? []) {
            if (route.VpcPeeringConnectionId && peeringIds.has(route.VpcPeeringConnectionId) && route.DestinationCidrBlock) {
              resources.push(routeRecord(ctx, role, table.RouteTableId!, route.DestinationCidrBlock, route.VpcPeeringConnectionId))
              if (route.State === 'blackhole') findings.push({kind: 'broken', code: 'route-blackhole', text: `route ${table.RouteTableId} → ${route.DestinationCidrBlock} is a blackhole`, fix: 'iotctl cleanup, then iotctl up (routes through a deleted peering stay as blackholes)'})
            }
          }
        }
      }
      const tableIds = ctx.facts.get(fact.routeTables(role))
      const peerVpc = vpcFacts(ctx, peer)
      const peeringId = peeringIdOf(ctx)
      const missing: string[] = []
      if (tableIds && peerVpc) {
        for (const tableId of tableIds) {
          for (const cidr of peerVpc.cidrs) {
            const present = resources.some((r) => r.attrs?.routeTableId === tableId && r.attrs.destination === cidr && r.attrs.peeringId === (peeringId ?? r.attrs.peeringId))
            if (!present) missing.push(`route ${cidr} → ${peeringId ?? 'the peering'} in ${tableId}`)
          }
        }
      } else if (resources.length === 0) {
        missing.push(`routes to the ${peer} VPC (needs ${vpcFlag.iot} and ${vpcFlag.msk})`)
      }
      return {resources, missing, findings}
    },

    async create(ctx, observed) {
      const ec2 = await ctx.accounts[role].ec2()
      const peeringId = peeringIdOf(ctx)
      if (!peeringId) throw new InputError('no VPC peering to route through; run `iotctl peer setup` first')
      const tableIds = ctx.facts.get(fact.routeTables(role))
      const peerVpc = vpcFacts(ctx, peer)
      if (!tableIds || !peerVpc) throw new Error('routes: create ran before validate')
      const resources = [...observed.resources]
      for (const tableId of tableIds) {
        for (const cidr of peerVpc.cidrs) {
          if (resources.some((r) => r.attrs?.routeTableId === tableId && r.attrs.destination === cidr && r.attrs.peeringId === peeringId)) continue
          await ec2api.createRoute(ec2, {
            RouteTableId: tableId, DestinationCidrBlock: cidr, VpcPeeringConnectionId: peeringId,
          }, `adding route ${cidr} → ${peeringId} to ${tableId} (${role} account)`)
          const record = routeRecord(ctx, role, tableId, cidr, peeringId)
          resources.push(record)
          ctx.ledger.put(record)
          ctx.checkpoint()
        }
      }
      return resources
    },

    async delete(ctx, resources) {
      const ec2 = await ctx.accounts[role].ec2()
      const leftInPlace: LeftInPlace[] = []
      // DeleteRoute names a table and a CIDR, not a target, and the plan may have
      // waited at the prompt for hours: each route is read again just before its
      // deletion and left alone unless it still goes through the stack's peering.
      // (EC2 has no conditional DeleteRoute; this narrows the window to one round trip.)
      await deleteEach(ctx, resources, {what: (record) => `deleting route ${record.attrs?.destination} from ${record.attrs?.routeTableId}`}, async (record) => {
        const tableId = record.attrs?.routeTableId ?? ''
        const destination = record.attrs?.destination ?? ''
        const route = await currentRoute(ec2, tableId, destination)
        if (!route) return
        const target = routeTarget(route)
        if (!record.attrs?.peeringId || route.VpcPeeringConnectionId !== record.attrs.peeringId) {
          ctx.progress(`route ${destination} in ${tableId} now targets ${target}: left in place`)
          leftInPlace.push({kind: record.kind, id: record.id, account: record.account, reason: `now targets ${target}, not the stack's peering ${record.attrs?.peeringId ?? ''}; not deleted`})
          return
        }
        await ec2api.deleteRoute(ec2, {RouteTableId: tableId, DestinationCidrBlock: destination})
      })
      return {leftInPlace}
    },
  }
}

function ingressRecord(ctx: StepContext, rule: SecurityGroupRule): ResourceRecord {
  return {
    step: 'sg-ingress', kind: 'ec2:security-group-rule', id: rule.SecurityGroupRuleId!, ...recordBase(ctx, 'msk'),
    attrs: {groupId: rule.GroupId ?? '', cidr: rule.CidrIpv4 ?? '', port: String(rule.FromPort ?? '')},
  }
}

/** The rule description is the construction mark: it names the stack. */
function ingressDescription(ctx: StepContext): string {
  return `${stackMark(ctx.stack)} IoT VPC ${ctx.settings.iot?.vpcId ?? ''} to MSK brokers`.trim()
}

async function stackIngressRules(ctx: StepContext): Promise<SecurityGroupRule[]> {
  const ec2 = await ctx.accounts.msk.ec2()
  const mark = stackMark(ctx.stack)
  const groupId = ctx.settings.msk?.securityGroupId
  const rules = await ec2api.describeAllSecurityGroupRules(ec2, groupId ? [{Name: 'group-id', Values: [groupId]}] : undefined, 'finding the stack\'s security-group rules (MSK account)')
  // The mark is followed by a space or ends the description, so stack "a" never matches "a2".
  return rules.filter((r) => !r.IsEgress && (r.Description === mark || r.Description?.startsWith(`${mark} `)))
}

/** Inbound on A's broker security group from B's CIDR on the broker port. */
export const ingressStep: Step = {
  id: 'sg-ingress',
  title: 'security-group ingress on the MSK brokers from the IoT VPC',
  account: 'msk',

  check(settings) {
    MissingSettings.check([vpcSetting(settings, 'iot'), vpcSetting(settings, 'msk'), {flag: '--msk-security-group', key: 'msk.securityGroupId', value: settings.msk?.securityGroupId}])
  },

  async validate(ctx) {
    const groupId = ctx.settings.msk?.securityGroupId ?? ''
    await checkSecurityGroup(ctx.accounts.msk, groupId, requireVpcId(ctx, 'msk'), '--msk-security-group')
    await loadVpcFacts(ctx, 'iot')
  },

  async read(ctx) {
    const rules = await stackIngressRules(ctx)
    const resources = rules.map((r) => ingressRecord(ctx, r))
    const iotVpc = vpcFacts(ctx, 'iot')
    const groupId = ctx.settings.msk?.securityGroupId
    const port = ctx.settings.msk?.port ?? defaultBrokerPort
    const missing: string[] = []
    if (iotVpc && groupId) {
      for (const cidr of iotVpc.cidrs) {
        if (!rules.some((r) => r.GroupId === groupId && r.CidrIpv4 === cidr && r.FromPort === port && r.ToPort === port)) {
          missing.push(`allow tcp/${port} from ${cidr} into ${groupId}`)
        }
      }
    } else if (resources.length === 0) {
      missing.push('security-group ingress (needs --msk-security-group and --iot-vpc)')
    }
    return {resources, missing}
  },

  async create(ctx, observed) {
    const ec2 = await ctx.accounts.msk.ec2()
    const groupId = ctx.settings.msk?.securityGroupId ?? ''
    const port = ctx.settings.msk?.port ?? defaultBrokerPort
    const iotVpc = vpcFacts(ctx, 'iot')
    if (!iotVpc) throw new Error('sg-ingress: create ran before validate')
    const resources = [...observed.resources]
    for (const cidr of iotVpc.cidrs) {
      if (resources.some((r) => r.attrs?.groupId === groupId && r.attrs.cidr === cidr && r.attrs.port === String(port))) continue
      const answer = await ec2api.authorizeSecurityGroupIngress(ec2, {
        GroupId: groupId,
        IpPermissions: [{IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: [{CidrIp: cidr, Description: ingressDescription(ctx)}]}],
        TagSpecifications: [{ResourceType: 'security-group-rule', Tags: stackTags(ctx.stack)}],
      }, `allowing tcp/${port} from ${cidr} into ${groupId} (MSK account)`)
      for (const rule of answer.SecurityGroupRules ?? []) {
        const record = ingressRecord(ctx, {...rule, GroupId: rule.GroupId ?? groupId, CidrIpv4: rule.CidrIpv4 ?? cidr, FromPort: rule.FromPort ?? port})
        resources.push(record)
        ctx.ledger.put(record)
      }
      ctx.checkpoint()
    }
    return resources
  },

  async delete(ctx, resources) {
    const ec2 = await ctx.accounts.msk.ec2()
    await deleteEach(ctx, resources, {what: (record) => `revoking ${record.id} on ${record.attrs?.groupId}`},
      (record) => ec2api.revokeSecurityGroupIngress(ec2, {GroupId: record.attrs?.groupId, SecurityGroupRuleIds: [record.id]}))
  },
}

/** Step 4 in order. */
export const peeringSteps: Step[] = [peeringStep, routesStep('iot'), routesStep('msk'), ingressStep]
