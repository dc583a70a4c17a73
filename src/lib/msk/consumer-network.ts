// The network an MSK consumer needs in the cluster's VPC: a Lambda event source
// mapping (ESM), or any consumer placed in the cluster's subnets with the cluster's
// security group. From the Lambda developer guide, "Configuring your Amazon MSK
// cluster and Amazon VPC network for Lambda"
// (https://docs.aws.amazon.com/lambda/latest/dg/with-msk-cluster-network.html):
// - the ESM polls the brokers from network interfaces in the cluster's subnets with
//   the cluster's security groups, so the cluster's group must admit itself on the
//   broker port of the cluster's authentication (9096 SASL/SCRAM, 9094 TLS, 9098 IAM;
//   MSK developer guide, "Port information"), or all traffic from itself (a
//   self-referencing group), and let out 443 to every destination and the broker
//   port to itself;
// - a provisioned-mode ESM needs nothing more (`--via none`); an on-demand ESM calls
//   STS, Lambda and (with SASL/SCRAM) Secrets Manager from the cluster's subnets, so
//   the subnets need either a NAT gateway in a public subnet of each of their zones
//   (`--via nat`) or interface VPC endpoints for those three services with private DNS
//   (`--via endpoints`, "Configuring AWS PrivateLink endpoints for an MSK event source").
// Three steps of the registry, all in the MSK account, all found by tags (an
// endpoint, its group, a NAT gateway, an EIP) or by construction (a route whose
// target is the stack's NAT gateway) when the ledger is lost.
import type {Cluster} from '@aws-sdk/client-kafka'
import type {IpPermission, NatGateway, RouteTable, SecurityGroupRule, Subnet, VpcEndpoint} from '@aws-sdk/client-ec2'
import * as ec2api from '../aws/ec2.ts'
import {waitFor} from '../aws/wait.ts'
import {stackPrefix} from '../config/stack-names.ts'
import {InputError, awsErrorCode} from '../errors.ts'
import {describeVpcDns, dnsAttributes, enableCommand} from '../peering/dns.ts'
import {recordBase} from '../plan/context.ts'
import {deleteEach} from '../plan/delete.ts'
import {factKey} from '../plan/facts.ts'
import {applySteps, type StepReport, type TaskRunner} from '../plan/runner.ts'
import {stackMark, stackTagKey, stackTags} from '../plan/tags.ts'
import type {Finding, ResourceRecord, StackSettings, Step, StepContext} from '../plan/types.ts'
import {clusterFact, clusterOf} from './clusters.ts'

export const consumerNetworkModes = ['endpoints', 'nat', 'none'] as const
export type ConsumerNetworkMode = (typeof consumerNetworkModes)[number]

/** The tag that tells the consumer network's resources from the stack's others (both carry iotctl:stack). */
export const partTagKey = 'iotctl:part'
const partTagValue = 'consumer-network'
const partTags = (stack: string) => [...stackTags(stack), {Key: partTagKey, Value: partTagValue}]
const partFilters = (stack: string) => [{Name: `tag:${stackTagKey}`, Values: [stack]}, {Name: `tag:${partTagKey}`, Values: [partTagValue]}]

/** The services an on-demand ESM calls from the cluster's subnets (Lambda developer guide, as above). */
export const endpointServices = ['sts', 'secretsmanager', 'lambda'] as const

/** The chosen mode, or undefined when msk.consumerNetwork is not set (then `up` leaves the consumer network out). */
export function consumerNetworkOf(settings: StackSettings): {via: ConsumerNetworkMode; selfReferencing: boolean} | undefined {
  const section = settings.msk?.consumerNetwork
  if (!section) return undefined
  return {via: section.via ?? 'none', selfReferencing: section.selfReferencing === true}
}

export interface BrokerPort {
  port: number
  auth: string
}

/**
 * The broker ports of the cluster's client authentication (MSK developer guide,
 * "Port information"): 9096 SASL/SCRAM, 9098 IAM, 9094 TLS; unauthenticated
 * clients use 9094 over TLS and 9092 in plaintext.
 */
export function brokerPortsOf(cluster: Cluster): BrokerPort[] {
  const auth = cluster.Provisioned?.ClientAuthentication
  const inTransit = cluster.Provisioned?.EncryptionInfo?.EncryptionInTransit?.ClientBroker ?? 'TLS'
  const ports: BrokerPort[] = []
  if (auth?.Sasl?.Scram?.Enabled) ports.push({port: 9096, auth: 'SASL/SCRAM'})
  if (auth?.Sasl?.Iam?.Enabled) ports.push({port: 9098, auth: 'IAM'})
  if (auth?.Tls?.Enabled) ports.push({port: 9094, auth: 'TLS'})
  if (auth?.Unauthenticated?.Enabled || !auth) {
    if (inTransit !== 'PLAINTEXT' && !ports.some((p) => p.port === 9094)) ports.push({port: 9094, auth: 'unauthenticated TLS'})
    if (inTransit !== 'TLS') ports.push({port: 9092, auth: 'plaintext'})
  }
  return ports
}

export interface ConsumerZone {
  zone: string
  /** The cluster's subnets in the zone. */
  subnetIds: string[]
  /** Their route tables (explicit association, else the VPC's main table). */
  routeTableIds: string[]
  /** A public subnet of the zone (its table routes 0.0.0.0/0 to an internet gateway), for the NAT gateway. */
  publicSubnetId?: string
}

/** The cluster as the consumer network sees it. */
export interface ConsumerTarget {
  clusterArn: string
  clusterName: string
  vpcId: string
  groupId: string
  ports: BrokerPort[]
  zones: ConsumerZone[]
}

const targetFact = factKey<ConsumerTarget>('msk.consumerNetwork.target')

function tableOf(tables: RouteTable[], subnetId: string): RouteTable | undefined {
  return tables.find((t) => t.Associations?.some((a) => a.SubnetId === subnetId)) ?? tables.find((t) => t.Associations?.some((a) => a.Main))
}

const isPublic = (table: RouteTable | undefined) => table?.Routes?.some((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.GatewayId?.startsWith('igw-') && r.State !== 'blackhole') === true

/** The cluster, its group, ports, subnets by zone; undefined while there is no cluster (a run that creates it reads again later). */
async function loadTarget(ctx: StepContext): Promise<ConsumerTarget | undefined> {
  const known = ctx.facts.get(targetFact)
  if (known) return known
  const cluster = ctx.facts.get(clusterFact) ?? await clusterOf(ctx)
  if (!cluster?.ClusterArn || cluster.State !== 'ACTIVE') return undefined
  const groupId = cluster.Provisioned?.BrokerNodeGroupInfo?.SecurityGroups?.[0]
  const clientSubnets = cluster.Provisioned?.BrokerNodeGroupInfo?.ClientSubnets ?? []
  if (!groupId || clientSubnets.length === 0) throw new InputError(`cluster ${cluster.ClusterName} has no broker security group or subnets (is it serverless? the consumer network is for provisioned clusters)`)
  const ec2 = await ctx.accounts.msk.ec2()
  const subnets = await ec2api.describeAllSubnets(ec2, [{Name: 'subnet-id', Values: clientSubnets}], 'reading the cluster\'s subnets')
  const vpcId = subnets[0]?.VpcId ?? ''
  const [vpcSubnets, tables] = [
    await ec2api.describeAllSubnets(ec2, [{Name: 'vpc-id', Values: [vpcId]}], `listing the subnets of ${vpcId}`),
    await ec2api.describeAllRouteTables(ec2, [{Name: 'vpc-id', Values: [vpcId]}], `listing the route tables of ${vpcId}`),
  ]
  const zones = new Map<string, ConsumerZone>()
  for (const subnet of [...subnets].sort((a, b) => (a.AvailabilityZone ?? '').localeCompare(b.AvailabilityZone ?? ''))) {
    const zone = subnet.AvailabilityZone ?? ''
    const entry = zones.get(zone) ?? {zone, subnetIds: [], routeTableIds: [], publicSubnetId: publicSubnetIn(vpcSubnets, tables, zone, clientSubnets)}
    entry.subnetIds.push(subnet.SubnetId!)
    const table = tableOf(tables, subnet.SubnetId!)
    if (table?.RouteTableId && !entry.routeTableIds.includes(table.RouteTableId)) entry.routeTableIds.push(table.RouteTableId)
    zones.set(zone, entry)
  }
  const target = {clusterArn: cluster.ClusterArn, clusterName: cluster.ClusterName ?? cluster.ClusterArn, vpcId, groupId, ports: brokerPortsOf(cluster), zones: [...zones.values()]}
  ctx.facts.set(targetFact, target)
  return target
}

function publicSubnetIn(subnets: Subnet[], tables: RouteTable[], zone: string, clusterSubnets: string[]): string | undefined {
  const candidates = subnets.filter((s) => s.AvailabilityZone === zone && isPublic(tableOf(tables, s.SubnetId!)))
  return (candidates.find((s) => !clusterSubnets.includes(s.SubnetId!)) ?? candidates[0])?.SubnetId
}

/** A resource just made: into the step's list and the ledger at once (a run cut after it still knows it). */
function remember(ctx: StepContext, resources: ResourceRecord[], record: ResourceRecord): void {
  resources.push(record)
  ctx.ledger.put(record)
}

const viaFlag = (settings: StackSettings) => `--via ${consumerNetworkOf(settings)?.via ?? ''} (msk.consumerNetwork.via)`

// --- security-group rules ------------------------------------------------------

interface WantedRule {
  egress: boolean
  protocol: string
  port?: number
  /** A group id or a CIDR. */
  peer: string
  what: string
}

function wantedRules(target: ConsumerTarget, selfReferencing: boolean): WantedRule[] {
  const self = target.groupId
  const rules: WantedRule[] = []
  if (selfReferencing) {
    rules.push({egress: false, protocol: '-1', peer: self, what: `all traffic into ${self} from itself`})
    rules.push({egress: true, protocol: '-1', peer: self, what: `all traffic out of ${self} to itself`})
  } else {
    for (const {port, auth} of target.ports) {
      rules.push({egress: false, protocol: 'tcp', port, peer: self, what: `tcp/${port} (${auth}) into ${self} from itself`})
      rules.push({egress: true, protocol: 'tcp', port, peer: self, what: `tcp/${port} (${auth}) out of ${self} to itself`})
    }
  }
  rules.push({egress: true, protocol: 'tcp', port: 443, peer: '0.0.0.0/0', what: `tcp/443 out of ${self} to 0.0.0.0/0`})
  return rules
}

const ruleKey = (r: {egress: boolean; protocol: string; port?: number; peer: string}) => `${r.egress ? 'out' : 'in'}:${r.protocol}:${r.port ?? 'all'}:${r.peer}`

function keyOfRule(rule: SecurityGroupRule): string {
  const protocol = rule.IpProtocol ?? ''
  return ruleKey({egress: rule.IsEgress === true, protocol, port: protocol === '-1' ? undefined : rule.FromPort, peer: rule.ReferencedGroupInfo?.GroupId ?? rule.CidrIpv4 ?? ''})
}

function sgRuleRecord(ctx: StepContext, rule: SecurityGroupRule): ResourceRecord {
  return {step: 'consumer-sg-rules', kind: 'ec2:security-group-rule', id: rule.SecurityGroupRuleId!, ...recordBase(ctx, 'msk'), attrs: {groupId: rule.GroupId ?? '', key: keyOfRule(rule), egress: String(rule.IsEgress === true)}}
}

export const consumerSecurityGroupStep: Step = {
  id: 'consumer-sg-rules',
  title: 'security-group rules for consumers on the MSK cluster\'s group',
  account: 'msk',
  needs: [clusterFact],

  async read(ctx) {
    const ec2 = await ctx.accounts.msk.ec2()
    const rules = await ec2api.describeAllSecurityGroupRules(ec2, partFilters(ctx.stack), 'finding the consumer network\'s security-group rules')
    const resources = rules.map((r) => sgRuleRecord(ctx, r))
    const chosen = consumerNetworkOf(ctx.settings)
    if (!chosen) return {resources, missing: []}
    const target = await loadTarget(ctx)
    if (!target) return {resources, missing: ['security-group rules for consumers (once the cluster is ACTIVE)']}
    const have = new Set(rules.filter((r) => r.GroupId === target.groupId).map(keyOfRule))
    return {resources, missing: wantedRules(target, chosen.selfReferencing).filter((w) => !have.has(ruleKey(w))).map((w) => `allow ${w.what}`)}
  },

  async create(ctx, observed) {
    const chosen = consumerNetworkOf(ctx.settings)
    const target = await loadTarget(ctx)
    if (!chosen || !target) return observed.resources
    const ec2 = await ctx.accounts.msk.ec2()
    const resources = [...observed.resources]
    for (const wanted of wantedRules(target, chosen.selfReferencing)) {
      if (resources.some((r) => r.attrs?.groupId === target.groupId && r.attrs.key === ruleKey(wanted))) continue
      const description = `${stackMark(ctx.stack)}/consumer-network`
      const permission: IpPermission = {
        IpProtocol: wanted.protocol,
        ...(wanted.port === undefined ? {} : {FromPort: wanted.port, ToPort: wanted.port}),
        ...(wanted.peer.startsWith('sg-') ? {UserIdGroupPairs: [{GroupId: wanted.peer, Description: description}]} : {IpRanges: [{CidrIp: wanted.peer, Description: description}]}),
      }
      const input = {GroupId: target.groupId, IpPermissions: [permission], TagSpecifications: [{ResourceType: 'security-group-rule' as const, Tags: partTags(ctx.stack)}]}
      const what = `allowing ${wanted.what} (MSK account)`
      const answer = wanted.egress ? await ec2api.authorizeSecurityGroupEgress(ec2, input, what) : await ec2api.authorizeSecurityGroupIngress(ec2, input, what)
      for (const rule of answer.SecurityGroupRules ?? []) {
        remember(ctx, resources, sgRuleRecord(ctx, rule))
      }
      ctx.checkpoint()
    }
    return resources
  },

  async delete(ctx, resources) {
    const ec2 = await ctx.accounts.msk.ec2()
    await deleteEach(ctx, resources, {what: (record) => `revoking ${record.id} on ${record.attrs?.groupId}`, gone: (error) => awsErrorCode(error) === 'InvalidSecurityGroupRuleId.NotFound'}, (record) => {
      const input = {GroupId: record.attrs?.groupId, SecurityGroupRuleIds: [record.id]}
      return record.attrs?.egress === 'true' ? ec2api.revokeSecurityGroupEgress(ec2, input) : ec2api.revokeSecurityGroupIngress(ec2, input)
    })
  },
}

// --- interface VPC endpoints ---------------------------------------------------

/**
 * Endpoint policies that let only the account's principals through (and, for
 * STS, Lambda's service principal acting for this account, which assumes the
 * ESM's execution role): the Lambda guide's example policies, limited to the account.
 */
export function endpointPolicy(service: (typeof endpointServices)[number], accountId: string, region: string): string {
  const statement = service === 'sts'
    ? {Sid: 'LambdaAssumesRolesOfThisAccount', Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole', Resource: `arn:aws:iam::${accountId}:role/*`, Condition: {StringEquals: {'aws:SourceAccount': accountId}}}
    : service === 'lambda'
      ? {Sid: 'InvokeFunctionsOfThisAccount', Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunction', Resource: `arn:aws:lambda:${region}:${accountId}:function:*`, Condition: {StringEquals: {'aws:PrincipalAccount': accountId}}}
      : {Sid: 'ReadSecretsOfThisAccount', Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: `arn:aws:secretsmanager:${region}:${accountId}:secret:*`, Condition: {StringEquals: {'aws:PrincipalAccount': accountId}}}
  return JSON.stringify({Version: '2012-10-17', Statement: [statement]})
}

const serviceName = (region: string, service: string) => `com.amazonaws.${region}.${service}`
const liveEndpoint = (e: VpcEndpoint) => !['deleted', 'deleting', 'rejected', 'failed'].includes((e.State ?? '').toLowerCase())

function endpointRecord(ctx: StepContext, endpoint: VpcEndpoint): ResourceRecord {
  return {step: 'consumer-endpoints', kind: 'ec2:vpc-endpoint', id: endpoint.VpcEndpointId!, ...recordBase(ctx, 'msk'), attrs: {service: endpoint.ServiceName ?? '', vpcId: endpoint.VpcId ?? '', subnets: (endpoint.SubnetIds ?? []).join(',')}}
}

function endpointGroupRecord(ctx: StepContext, groupId: string, vpcId: string): ResourceRecord {
  return {step: 'consumer-endpoints', kind: 'ec2:security-group', id: groupId, ...recordBase(ctx, 'msk'), attrs: {vpcId}}
}

const endpointGroupName = (stack: string) => `${stackPrefix(stack)}-consumer-endpoints`

async function findEndpoints(ctx: StepContext): Promise<{endpoints: VpcEndpoint[]; groups: {id: string; vpcId: string; admits: string[]}[]}> {
  const ec2 = await ctx.accounts.msk.ec2()
  const endpoints = (await ec2api.describeAllVpcEndpoints(ec2, partFilters(ctx.stack), 'finding the consumer network\'s VPC endpoints')).filter(liveEndpoint)
  const groups = (await ec2api.describeAllSecurityGroups(ec2, partFilters(ctx.stack), 'finding the consumer network\'s security group')).map((g) => ({
    id: g.GroupId!,
    vpcId: g.VpcId ?? '',
    admits: (g.IpPermissions ?? []).filter((p) => p.IpProtocol === 'tcp' && p.FromPort === 443 && p.ToPort === 443).flatMap((p) => (p.UserIdGroupPairs ?? []).map((pair) => pair.GroupId ?? '')),
  }))
  return {endpoints, groups}
}

/** Private DNS on an interface endpoint needs DNS support and DNS hostnames on the VPC (PrivateLink guide, "DNS attributes for your VPC"). */
async function checkEndpointDns(ctx: StepContext, target: ConsumerTarget): Promise<void> {
  const state = await describeVpcDns(ctx.accounts.msk, 'msk', target.vpcId)
  const off = dnsAttributes.filter((attribute) => !state[attribute])
  if (off.length > 0) {
    throw new InputError(`${viaFlag(ctx.settings)}: the endpoints' private DNS needs DNS support and DNS hostnames on the cluster's VPC ${target.vpcId}: ${off.map((a) => `${a} is off; enable it with: ${enableCommand(state, a)}`).join('; ')}`)
  }
}

export const consumerEndpointsStep: Step = {
  id: 'consumer-endpoints',
  title: 'interface VPC endpoints for STS, Secrets Manager and Lambda in the cluster\'s subnets',
  account: 'msk',
  needs: [clusterFact],

  async validate(ctx) {
    if (consumerNetworkOf(ctx.settings)?.via !== 'endpoints') return
    const target = await loadTarget(ctx)
    if (target) await checkEndpointDns(ctx, target)
  },

  async read(ctx) {
    const {endpoints, groups} = await findEndpoints(ctx)
    const resources = [...endpoints.map((e) => endpointRecord(ctx, e)), ...groups.map((g) => endpointGroupRecord(ctx, g.id, g.vpcId))]
    if (consumerNetworkOf(ctx.settings)?.via !== 'endpoints') return {resources, missing: []}
    const target = await loadTarget(ctx)
    if (!target) return {resources, missing: ['interface VPC endpoints (once the cluster is ACTIVE)']}
    const missing: string[] = []
    const findings: Finding[] = []
    const group = groups.find((g) => g.vpcId === target.vpcId)
    if (!group) missing.push(`create security group ${endpointGroupName(ctx.stack)} in ${target.vpcId} admitting tcp/443 from ${target.groupId}`)
    else if (!group.admits.includes(target.groupId)) missing.push(`allow tcp/443 from ${target.groupId} into ${group.id}`)
    const region = ctx.accounts.msk.region
    for (const service of endpointServices) {
      const endpoint = endpoints.find((e) => e.VpcId === target.vpcId && e.ServiceName === serviceName(region, service))
      if (!endpoint) {
        missing.push(`create interface endpoint ${serviceName(region, service)} in ${target.zones.map((z) => `${z.zone} (${z.subnetIds[0]})`).join(', ')}, private DNS on`)
        continue
      }
      for (const zone of target.zones) {
        if (!zone.subnetIds.some((s) => endpoint.SubnetIds?.includes(s))) findings.push({kind: 'broken', code: 'endpoint-zone-missing', text: `${endpoint.VpcEndpointId} (${service}) has no subnet in ${zone.zone}, where the cluster has ${zone.subnetIds.join(', ')}`, fix: 'iotctl cleanup, then iotctl msk consumer-network --via endpoints'})
      }
      if (endpoint.PrivateDnsEnabled !== true) findings.push({kind: 'broken', code: 'endpoint-private-dns-off', text: `${endpoint.VpcEndpointId} (${service}) has private DNS off: the ESM resolves the public name`, fix: `aws ec2 modify-vpc-endpoint --vpc-endpoint-id ${endpoint.VpcEndpointId} --private-dns-enabled`})
    }
    return {resources, missing, findings}
  },

  async create(ctx, observed) {
    const target = await loadTarget(ctx)
    if (!target || consumerNetworkOf(ctx.settings)?.via !== 'endpoints') return observed.resources
    const ec2 = await ctx.accounts.msk.ec2()
    const resources = [...observed.resources]
    const {endpoints, groups} = await findEndpoints(ctx)
    let group = groups.find((g) => g.vpcId === target.vpcId)
    if (!group) {
      const created = await ec2api.createSecurityGroup(ec2, {
        GroupName: endpointGroupName(ctx.stack), Description: `${stackMark(ctx.stack)} VPC endpoints for MSK consumers`, VpcId: target.vpcId,
        TagSpecifications: [{ResourceType: 'security-group', Tags: [...partTags(ctx.stack), {Key: 'Name', Value: endpointGroupName(ctx.stack)}]}],
      }, `creating security group ${endpointGroupName(ctx.stack)} (MSK account)`)
      group = {id: created.GroupId!, vpcId: target.vpcId, admits: []}
      remember(ctx, resources, endpointGroupRecord(ctx, group.id, target.vpcId))
      ctx.checkpoint()
    }
    if (!group.admits.includes(target.groupId)) {
      await ec2api.authorizeSecurityGroupIngress(ec2, {
        GroupId: group.id,
        IpPermissions: [{IpProtocol: 'tcp', FromPort: 443, ToPort: 443, UserIdGroupPairs: [{GroupId: target.groupId, Description: `${stackMark(ctx.stack)}/consumer-network`}]}],
      }, `allowing tcp/443 from ${target.groupId} into ${group.id} (MSK account)`)
      ctx.checkpoint()
    }
    const region = ctx.accounts.msk.region
    // An interface endpoint takes one subnet per zone (PrivateLink guide, "Create an interface endpoint").
    const subnetIds = target.zones.map((z) => z.subnetIds[0])
    for (const service of endpointServices) {
      if (endpoints.some((e) => e.VpcId === target.vpcId && e.ServiceName === serviceName(region, service))) continue
      const answer = await ec2api.createVpcEndpoint(ec2, {
        VpcId: target.vpcId, VpcEndpointType: 'Interface', ServiceName: serviceName(region, service), SubnetIds: subnetIds, SecurityGroupIds: [group.id],
        PrivateDnsEnabled: true, PolicyDocument: endpointPolicy(service, ctx.identities.msk.accountId, region),
        TagSpecifications: [{ResourceType: 'vpc-endpoint', Tags: [...partTags(ctx.stack), {Key: 'Name', Value: `${stackPrefix(ctx.stack)}-${service}`}]}],
      }, `creating the ${service} interface endpoint in ${target.vpcId} (MSK account)`)
      remember(ctx, resources, endpointRecord(ctx, answer.VpcEndpoint!))
      ctx.checkpoint()
    }
    return resources
  },

  async delete(ctx, resources) {
    const ec2 = await ctx.accounts.msk.ec2()
    const endpoints = resources.filter((r) => r.kind === 'ec2:vpc-endpoint')
    await deleteEach(ctx, endpoints, {what: (record) => `deleting VPC endpoint ${record.id}`, gone: (error) => awsErrorCode(error) === 'InvalidVpcEndpointId.NotFound'},
      (record) => ec2api.deleteVpcEndpoints(ec2, {VpcEndpointIds: [record.id]}))
    // The group goes once no endpoint's network interface uses it (DependencyViolation until then).
    if (endpoints.length > 0) {
      await waitFor(async () => {
        const ids = new Set(endpoints.map((e) => e.id))
        const left = (await ec2api.describeAllVpcEndpoints(ec2, partFilters(ctx.stack), 'waiting for the VPC endpoints to go')).filter((e) => ids.has(e.VpcEndpointId ?? '') && liveEndpoint(e))
        return left.length === 0 ? true : undefined
      }, {what: 'the VPC endpoints to be deleted', timeoutSeconds: 600, progress: ctx.progress, checkpoint: ctx.checkpoint})
    }
    await deleteEach(ctx, resources.filter((r) => r.kind === 'ec2:security-group'), {what: (record) => `deleting security group ${record.id}`, gone: (error) => awsErrorCode(error) === 'InvalidGroup.NotFound'},
      (record) => ec2api.deleteSecurityGroup(ec2, {GroupId: record.id}))
  },
}

// --- NAT gateways ----------------------------------------------------------------

const liveNat = (n: NatGateway) => n.State !== 'deleted' && n.State !== 'deleting' && n.State !== 'failed'

function natRecord(ctx: StepContext, nat: NatGateway, zone: string): ResourceRecord {
  return {step: 'consumer-nat', kind: 'ec2:nat-gateway', id: nat.NatGatewayId!, ...recordBase(ctx, 'msk'), attrs: {subnetId: nat.SubnetId ?? '', zone, allocationId: nat.NatGatewayAddresses?.[0]?.AllocationId ?? ''}}
}

function eipRecord(ctx: StepContext, allocationId: string): ResourceRecord {
  return {step: 'consumer-nat', kind: 'ec2:elastic-ip', id: allocationId, ...recordBase(ctx, 'msk')}
}

function natRouteRecord(ctx: StepContext, tableId: string, natId: string, zone: string): ResourceRecord {
  return {step: 'consumer-nat', kind: 'ec2:route', id: `${tableId}:0.0.0.0/0`, ...recordBase(ctx, 'msk'), attrs: {routeTableId: tableId, destination: '0.0.0.0/0', natGatewayId: natId, zone}}
}

interface NatState {
  nats: NatGateway[]
  addresses: string[]
  routes: {tableId: string; natId: string}[]
  zoneOf: (subnetId: string) => string
}

async function findNat(ctx: StepContext): Promise<NatState> {
  const ec2 = await ctx.accounts.msk.ec2()
  const nats = (await ec2api.describeAllNatGateways(ec2, partFilters(ctx.stack), 'finding the consumer network\'s NAT gateways')).filter(liveNat)
  const addresses = (await ec2api.describeAllAddresses(ec2, partFilters(ctx.stack), 'finding the consumer network\'s Elastic IPs')).flatMap((a) => (a.AllocationId ? [a.AllocationId] : []))
  const routes: NatState['routes'] = []
  const natIds = nats.map((n) => n.NatGatewayId!)
  if (natIds.length > 0) {
    // Routes take no tags: the stack's are those whose target is the stack's NAT gateway.
    for (const table of await ec2api.describeAllRouteTables(ec2, [{Name: 'route.nat-gateway-id', Values: natIds}], 'finding routes to the NAT gateways')) {
      for (const route of table.Routes ?? []) if (route.NatGatewayId && natIds.includes(route.NatGatewayId) && route.DestinationCidrBlock === '0.0.0.0/0') routes.push({tableId: table.RouteTableId!, natId: route.NatGatewayId})
    }
  }
  const subnetZones = new Map<string, string>()
  const subnetIds = nats.map((n) => n.SubnetId ?? '').filter(Boolean)
  if (subnetIds.length > 0) for (const s of await ec2api.describeAllSubnets(ec2, [{Name: 'subnet-id', Values: subnetIds}], 'reading the NAT gateways\' subnets')) subnetZones.set(s.SubnetId!, s.AvailabilityZone ?? '')
  return {nats, addresses, routes, zoneOf: (subnetId) => subnetZones.get(subnetId) ?? ''}
}

function natResources(ctx: StepContext, state: NatState): ResourceRecord[] {
  const natZone = (natId: string) => state.zoneOf(state.nats.find((n) => n.NatGatewayId === natId)?.SubnetId ?? '')
  return [
    ...state.routes.map((r) => natRouteRecord(ctx, r.tableId, r.natId, natZone(r.natId))),
    ...state.nats.map((n) => natRecord(ctx, n, state.zoneOf(n.SubnetId ?? ''))),
    ...state.addresses.map((a) => eipRecord(ctx, a)),
  ]
}

/** Each cluster zone's NAT gateway must sit in a public subnet of that zone: none is bad input naming the zone. */
function checkPublicSubnets(settings: StackSettings, target: ConsumerTarget): void {
  const without = target.zones.filter((z) => !z.publicSubnetId)
  if (without.length > 0) {
    throw new InputError(`${viaFlag(settings)}: ${target.vpcId} has no public subnet (a route 0.0.0.0/0 to an internet gateway) in ${without.map((z) => z.zone).join(', ')}, where cluster ${target.clusterName} has ${without.flatMap((z) => z.subnetIds).join(', ')}; a NAT gateway needs one in each zone of the cluster: add one, or use --via endpoints`)
  }
}

/** Route tables the NAT routes would replace: a 0.0.0.0/0 route to something other than the stack's NAT gateway is not ours. */
async function checkDefaultRoutes(ctx: StepContext, target: ConsumerTarget, ours: string[]): Promise<void> {
  const ec2 = await ctx.accounts.msk.ec2()
  const tableIds = target.zones.flatMap((z) => z.routeTableIds)
  if (tableIds.length === 0) return
  for (const table of await ec2api.describeAllRouteTables(ec2, [{Name: 'route-table-id', Values: tableIds}], 'reading the cluster subnets\' route tables')) {
    const route = table.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')
    if (route && !(route.NatGatewayId && ours.includes(route.NatGatewayId))) {
      throw new InputError(`${viaFlag(ctx.settings)}: route table ${table.RouteTableId} of the cluster's subnets already routes 0.0.0.0/0 to ${route.NatGatewayId ?? route.GatewayId ?? route.TransitGatewayId ?? route.NetworkInterfaceId ?? 'another target'}, which the stack did not create; the cluster's subnets are not private, or already have a way out`)
    }
  }
}

export const consumerNatStep: Step = {
  id: 'consumer-nat',
  title: 'a NAT gateway per zone of the MSK cluster and default routes to it',
  account: 'msk',
  needs: [clusterFact],

  async validate(ctx) {
    if (consumerNetworkOf(ctx.settings)?.via !== 'nat') return
    const target = await loadTarget(ctx)
    if (!target) return
    checkPublicSubnets(ctx.settings, target)
    await checkDefaultRoutes(ctx, target, (await findNat(ctx)).nats.map((n) => n.NatGatewayId!))
  },

  async read(ctx) {
    const state = await findNat(ctx)
    const resources = natResources(ctx, state)
    if (consumerNetworkOf(ctx.settings)?.via !== 'nat') return {resources, missing: []}
    const target = await loadTarget(ctx)
    if (!target) return {resources, missing: ['NAT gateways (once the cluster is ACTIVE)']}
    const missing: string[] = []
    const findings: Finding[] = []
    for (const zone of target.zones) {
      const nat = state.nats.find((n) => state.zoneOf(n.SubnetId ?? '') === zone.zone && n.VpcId === target.vpcId)
      if (!nat) missing.push(`create a NAT gateway with an Elastic IP in ${zone.publicSubnetId ?? `a public subnet of ${zone.zone}`} (${zone.zone})`)
      else if (nat.State !== 'available') missing.push(`wait for ${nat.NatGatewayId} (${nat.State}) in ${zone.zone} to become available`)
      for (const tableId of zone.routeTableIds) {
        const route = state.routes.find((r) => r.tableId === tableId)
        if (!route) missing.push(`route 0.0.0.0/0 → ${nat?.NatGatewayId ?? `the NAT gateway of ${zone.zone}`} in ${tableId} (${zone.zone})`)
        else if (nat && route.natId !== nat.NatGatewayId && target.zones.filter((z) => z.routeTableIds.includes(tableId)).length === 1) {
          findings.push({kind: 'drifted', code: 'nat-route-other-zone', text: `${tableId} (${zone.zone}) routes 0.0.0.0/0 to ${route.natId}, another zone's NAT gateway`})
        }
      }
    }
    return {resources, missing, findings}
  },

  async create(ctx, observed) {
    const target = await loadTarget(ctx)
    if (!target || consumerNetworkOf(ctx.settings)?.via !== 'nat') return observed.resources
    const ec2 = await ctx.accounts.msk.ec2()
    const state = await findNat(ctx)
    const resources = natResources(ctx, state)
    const natOfZone = new Map<string, NatGateway>()
    for (const zone of target.zones) {
      let nat = state.nats.find((n) => state.zoneOf(n.SubnetId ?? '') === zone.zone && n.VpcId === target.vpcId)
      if (!nat) {
        // An Elastic IP of the stack that no NAT gateway holds (a run cut between the two calls) is used first.
        const held = new Set(state.nats.map((n) => n.NatGatewayAddresses?.[0]?.AllocationId))
        let allocationId = state.addresses.find((a) => !held.has(a))
        if (!allocationId) {
          allocationId = (await ec2api.allocateAddress(ec2, {Domain: 'vpc', TagSpecifications: [{ResourceType: 'elastic-ip', Tags: [...partTags(ctx.stack), {Key: 'Name', Value: `${stackPrefix(ctx.stack)}-nat-${zone.zone}`}]}]}, `allocating an Elastic IP for ${zone.zone} (MSK account)`)).AllocationId!
          state.addresses.push(allocationId)
          remember(ctx, resources, eipRecord(ctx, allocationId))
          ctx.checkpoint()
        }
        const created = await ec2api.createNatGateway(ec2, {
          SubnetId: zone.publicSubnetId, AllocationId: allocationId, ConnectivityType: 'public',
          TagSpecifications: [{ResourceType: 'natgateway', Tags: [...partTags(ctx.stack), {Key: 'Name', Value: `${stackPrefix(ctx.stack)}-nat-${zone.zone}`}]}],
        }, `creating a NAT gateway in ${zone.publicSubnetId} (${zone.zone}, MSK account)`)
        nat = created.NatGateway!
        state.nats.push(nat)
        remember(ctx, resources, natRecord(ctx, nat, zone.zone))
        ctx.checkpoint()
      }
      const natId = nat.NatGatewayId!
      if (nat.State !== 'available') {
        nat = await waitFor(async () => {
          const [current] = await ec2api.describeAllNatGateways(ec2, [{Name: 'nat-gateway-id', Values: [natId]}], `reading NAT gateway ${natId}`)
          if (current?.State === 'failed') throw new InputError(`NAT gateway ${natId} failed: ${current.FailureMessage ?? 'no reason given'}`)
          return current?.State === 'available' ? current : undefined
        }, {what: `NAT gateway ${natId} to become available`, timeoutSeconds: 600, progress: ctx.progress, checkpoint: ctx.checkpoint})
      }
      natOfZone.set(zone.zone, nat)
    }
    for (const zone of target.zones) {
      const natId = natOfZone.get(zone.zone)!.NatGatewayId!
      for (const tableId of zone.routeTableIds) {
        if (state.routes.some((r) => r.tableId === tableId)) continue
        await ec2api.createRoute(ec2, {RouteTableId: tableId, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natId}, `adding route 0.0.0.0/0 → ${natId} to ${tableId} (MSK account)`)
        state.routes.push({tableId, natId})
        remember(ctx, resources, natRouteRecord(ctx, tableId, natId, zone.zone))
        ctx.checkpoint()
      }
    }
    return resources
  },

  async delete(ctx, resources) {
    const ec2 = await ctx.accounts.msk.ec2()
    // Routes first, then the gateways (an Elastic IP is released only once its gateway is deleted).
    await deleteEach(ctx, resources.filter((r) => r.kind === 'ec2:route'), {what: (record) => `deleting route 0.0.0.0/0 from ${record.attrs?.routeTableId}`, gone: (error) => awsErrorCode(error) === 'InvalidRoute.NotFound'}, async (record) => {
      const tableId = record.attrs?.routeTableId ?? ''
      const [table] = await ec2api.describeAllRouteTables(ec2, [{Name: 'route-table-id', Values: [tableId]}])
      const route = table?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')
      // Read again just before: only a route still through the stack's NAT gateway is deleted.
      if (route?.NatGatewayId && route.NatGatewayId === record.attrs?.natGatewayId) await ec2api.deleteRoute(ec2, {RouteTableId: tableId, DestinationCidrBlock: '0.0.0.0/0'})
    })
    const nats = resources.filter((r) => r.kind === 'ec2:nat-gateway')
    await deleteEach(ctx, nats, {what: (record) => `deleting NAT gateway ${record.id}`, gone: (error) => awsErrorCode(error) === 'NatGatewayNotFound'},
      (record) => ec2api.deleteNatGateway(ec2, {NatGatewayId: record.id}))
    if (nats.length > 0) {
      await waitFor(async () => {
        const left = (await ec2api.describeAllNatGateways(ec2, [{Name: 'nat-gateway-id', Values: nats.map((n) => n.id)}], 'waiting for the NAT gateways to go')).filter((n) => n.State !== 'deleted')
        return left.length === 0 ? true : undefined
      }, {what: 'the NAT gateways to be deleted', timeoutSeconds: 600, progress: ctx.progress, checkpoint: ctx.checkpoint})
    }
    await deleteEach(ctx, resources.filter((r) => r.kind === 'ec2:elastic-ip'), {what: (record) => `releasing Elastic IP ${record.id}`, gone: (error) => awsErrorCode(error) === 'InvalidAllocationID.NotFound'},
      (record) => ec2api.releaseAddress(ec2, {AllocationId: record.id}))
  },
}

/** The consumer network in registry order: the rules, then whichever way out was chosen (the others find nothing to do). */
export const consumerNetworkSteps: Step[] = [consumerSecurityGroupStep, consumerEndpointsStep, consumerNatStep]
export const consumerNetworkStepIds = consumerNetworkSteps.map((s) => s.id)

/** What `doctor` and `--json` say per zone. */
export interface ConsumerZoneReport {
  zone: string
  subnetIds: string[]
  via: ConsumerNetworkMode
  /** The NAT gateway or the endpoints serving the zone. */
  through: string[]
}

export function zoneReports(target: ConsumerTarget, via: ConsumerNetworkMode, resources: ResourceRecord[]): ConsumerZoneReport[] {
  return target.zones.map((zone) => ({
    zone: zone.zone,
    subnetIds: zone.subnetIds,
    via,
    through: via === 'nat'
      ? resources.filter((r) => r.kind === 'ec2:nat-gateway' && r.attrs?.zone === zone.zone).map((r) => r.id)
      : via === 'endpoints' ? resources.filter((r) => r.kind === 'ec2:vpc-endpoint' && zone.subnetIds.some((s) => r.attrs?.subnets?.split(',').includes(s))).map((r) => `${r.id} (${r.attrs?.service.split('.').pop()})`) : [],
  }))
}

export {loadTarget as consumerTargetOf}

export interface ConsumerNetworkResult {
  stack: string
  dryRun: boolean
  via: ConsumerNetworkMode
  selfReferencing: boolean
  clusterArn: string
  vpcId: string
  /** The cluster's security group the rules are on. */
  securityGroupId: string
  /** The broker ports of the cluster's authentication, as read from the cluster. */
  brokerPorts: BrokerPort[]
  zones: ConsumerZoneReport[]
  changed: boolean
  interrupted: boolean
  steps: StepReport[]
}

/** Settings alone (before any AWS call): a mode must be chosen. */
export function checkConsumerNetwork(settings: StackSettings): void {
  if (!consumerNetworkOf(settings)?.via) throw new InputError('missing --via (or msk.consumerNetwork.via in the config file): endpoints, nat or none')
}

/** `msk consumer-network`: the three steps, whichever way out was chosen; the others find nothing to do. */
export async function setUpConsumerNetwork(ctx: StepContext, options: {dryRun: boolean; runTask?: TaskRunner}): Promise<ConsumerNetworkResult> {
  const chosen = consumerNetworkOf(ctx.settings)
  if (!chosen) throw new InputError('missing --via: endpoints, nat or none')
  const target = await loadTarget(ctx)
  if (!target) {
    const configured = ctx.settings.msk?.clusterArn
    throw new InputError(configured
      ? `--cluster-arn ${configured}: no ACTIVE cluster of that ARN in the MSK account (${ctx.accounts.msk.label}, ${ctx.accounts.msk.region})`
      : `no ACTIVE MSK cluster for stack '${ctx.stack}': pass --cluster-arn (or msk.clusterArn in the config file), or create one with \`iotctl msk create\``)
  }
  const result = await applySteps(consumerNetworkSteps, ctx, options)
  const resources = consumerNetworkStepIds.flatMap((id) => ctx.outputs.get(id) ?? [])
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    via: chosen.via,
    selfReferencing: chosen.selfReferencing,
    clusterArn: target.clusterArn,
    vpcId: target.vpcId,
    securityGroupId: target.groupId,
    brokerPorts: target.ports,
    zones: zoneReports(target, chosen.via, resources),
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    steps: result.reports,
  }
}
