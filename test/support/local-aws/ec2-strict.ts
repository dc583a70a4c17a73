// EC2 VPC peering as AWS behaves and moto 5.2.5 does not (EC2 API reference and
// VPC Peering Guide):
// - CreateVpcPeeringConnection between VPCs with overlapping IPv4 CIDR blocks: "the VPC
//   peering connection has a status of failed" (API reference, CreateVpcPeeringConnection),
//   status message "Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range";
//   it cannot be accepted.
// - Routes whose VPC peering connection is gone (deleted, rejected, failed) show
//   `blackhole` in DescribeRouteTables (API reference, Route.State: "blackhole … the
//   route's target isn't available").
// - ModifyVpcPeeringConnectionOptions enabling AllowDnsResolutionFromRemoteVpc: "Both VPCs
//   must be enabled for DNS hostnames and DNS resolution" (VPC Peering Guide, "Enable DNS
//   resolution for a VPC peering connection") — refused with OperationNotPermitted (the
//   code EC2 gives for peering options it will not set), naming the VPC and the attribute.
// - An accepted peering is `provisioning` ("The VPC peering connection request has been
//   accepted, and is in the process of becoming active", VPC Peering Guide, "VPC peering
//   connection lifecycle") for `peeringActivationDelayMs`, then `active`; moto makes it
//   active at once.
// - CreateVpcEndpoint of an interface endpoint with private DNS (the default for an AWS
//   service, API reference PrivateDnsEnabled) in a VPC without enableDnsSupport and
//   enableDnsHostnames: refused with InvalidParameter ("DNS attributes for your VPC",
//   PrivateLink guide); two subnets of one zone: DuplicateSubnetsInSameZone (an interface
//   endpoint takes one subnet per zone). moto accepts both.
// - CreateNatGateway with public connectivity (the default) in a VPC with no internet
//   gateway attached: Gateway.NotAttached (as EC2 answers it); moto accepts it.
import {AwsServiceError} from './aws-errors.ts'
import {relay, type CallContext, type Handler} from './context.ts'
import {xmlText, xmlTexts, type MotoClient} from './moto-client.ts'

const overlapMessage = 'Failed due to incorrect VPC-ID, Account ID, or overlapping CIDR range'
const version = '2016-11-15'

function ipv4(cidr: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr)
  if (!match) return undefined
  const base = match.slice(1, 5).reduce((acc, part) => acc * 256 + Number(part), 0)
  const size = 2 ** (32 - Number(match[5]))
  const start = Math.floor(base / size) * size
  return [start, start + size - 1]
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = ipv4(a)
  const y = ipv4(b)
  return !!x && !!y && x[0] <= y[1] && y[0] <= x[1]
}

function formParams(c: CallContext): URLSearchParams {
  const params = new URLSearchParams(c.url.search)
  for (const [key, value] of new URLSearchParams(c.body.toString('utf8'))) params.append(key, value)
  return params
}

/** A VPC's IPv4 CIDR blocks (primary and associated), read in its owner's account. */
async function vpcCidrs(moto: MotoClient, account: string, region: string, vpcId: string): Promise<string[]> {
  const answer = await moto.query('ec2', account, region, {Action: 'DescribeVpcs', Version: version, 'VpcId.1': vpcId})
  if (answer.status !== 200) return []
  return [...new Set(xmlTexts(answer.body.toString('utf8'), 'cidrBlock'))]
}

async function vpcAttribute(moto: MotoClient, account: string, region: string, vpcId: string, attribute: string): Promise<boolean | undefined> {
  const answer = await moto.query('ec2', account, region, {Action: 'DescribeVpcAttribute', Version: version, VpcId: vpcId, Attribute: attribute})
  if (answer.status !== 200) return undefined
  const block = xmlText(answer.body.toString('utf8'), attribute)
  return block === undefined ? undefined : xmlText(block, 'value') === 'true'
}

/** [start, end) of each direct <item> child of the first <setTag>. */
function itemRanges(xml: string, setTag: string): [number, number][] {
  const open = xml.indexOf(`<${setTag}>`)
  if (open < 0) return []
  const close = xml.indexOf(`</${setTag}>`, open)
  const ranges: [number, number][] = []
  let depth = 0
  let start = 0
  const tags = /<(\/?)item>/g
  tags.lastIndex = open
  for (let m = tags.exec(xml); m && m.index < close; m = tags.exec(xml)) {
    if (!m[1]) {
      if (depth === 0) start = m.index
      depth++
    } else {
      depth--
      if (depth === 0) ranges.push([start, m.index + m[0].length])
    }
  }
  return ranges
}

interface PeeringFacts {
  status: string
  requester?: {vpcId: string; ownerId: string; region: string}
  accepter?: {vpcId: string; ownerId: string; region: string}
}

function side(item: string, tag: string): PeeringFacts['requester'] {
  const block = xmlText(item, tag)
  if (!block) return undefined
  const vpcId = xmlText(block, 'vpcId')
  const ownerId = xmlText(block, 'ownerId')
  return vpcId && ownerId ? {vpcId, ownerId, region: xmlText(block, 'region') ?? ''} : undefined
}

export interface Ec2Settings {
  /** How long an accepted VPC peering stays `provisioning` before `active`. Default 0. */
  peeringActivationDelayMs: number
}

export class Ec2StandIn {
  readonly settings: Ec2Settings
  /** Peerings that failed (overlapping CIDRs); AWS shows them `failed` and refuses to accept them. */
  readonly #failed = new Set<string>()
  /** When each peering was accepted, while it may still be provisioning. */
  readonly #accepted = new Map<string, number>()

  constructor(settings: Ec2Settings) {
    this.settings = settings
  }

  reset(): void {
    this.#failed.clear()
    this.#accepted.clear()
  }

  /** Whether an accepted peering is still provisioning; forgets it once it is not. */
  #provisioning(id: string, now: number): boolean {
    const accepted = this.#accepted.get(id)
    if (accepted === undefined) return false
    if (now < accepted + this.settings.peeringActivationDelayMs) return true
    this.#accepted.delete(id)
    return false
  }

  handlers(): Record<string, Handler> {
    return {
      CreateVpcPeeringConnection: (c) => this.#create(c),
      AcceptVpcPeeringConnection: (c) => this.#accept(c),
      DescribeVpcPeeringConnections: (c) => this.#describePeerings(c),
      DescribeRouteTables: (c) => this.#describeRouteTables(c),
      ModifyVpcPeeringConnectionOptions: (c) => this.#modifyOptions(c),
      CreateVpcEndpoint: (c) => this.#createVpcEndpoint(c),
      CreateNatGateway: (c) => this.#createNatGateway(c),
    }
  }

  async #create(c: CallContext) {
    const answer = await c.forward()
    if (answer.status !== 200) return relay(answer)
    const params = formParams(c)
    const id = xmlText(answer.body.toString('utf8'), 'vpcPeeringConnectionId')
    const vpcId = params.get('VpcId')
    const peerVpcId = params.get('PeerVpcId')
    if (!id || !vpcId || !peerVpcId) return relay(answer)
    const mine = await vpcCidrs(c.moto, c.account, c.region, vpcId)
    const theirs = await vpcCidrs(c.moto, params.get('PeerOwnerId') ?? c.account, params.get('PeerRegion') ?? c.region, peerVpcId)
    if (mine.some((a) => theirs.some((b) => cidrsOverlap(a, b)))) this.#failed.add(id)
    return relay(answer)
  }

  async #accept(c: CallContext) {
    const id = formParams(c).get('VpcPeeringConnectionId') ?? ''
    if (this.#failed.has(id)) {
      throw new AwsServiceError('InvalidStateTransition', 400, `Invalid state transition for ${id}, attempted to transition from failed to active`)
    }
    const answer = await c.forward()
    if (answer.status === 200 && this.settings.peeringActivationDelayMs > 0) this.#accepted.set(id, c.now())
    return relay(answer)
  }

  /** The peerings of one account as moto describes them, by id. */
  async #peerings(moto: MotoClient, account: string, region: string, ids: string[]): Promise<Map<string, PeeringFacts>> {
    const found = new Map<string, PeeringFacts>()
    if (ids.length === 0) return found
    const params: Record<string, string> = {Action: 'DescribeVpcPeeringConnections', Version: version}
    ids.forEach((id, i) => (params[`VpcPeeringConnectionId.${i + 1}`] = id))
    const answer = await moto.query('ec2', account, region, params)
    if (answer.status !== 200) return found
    const xml = answer.body.toString('utf8')
    for (const [start, end] of itemRanges(xml, 'vpcPeeringConnectionSet')) {
      const item = xml.slice(start, end)
      const id = xmlText(item, 'vpcPeeringConnectionId')
      if (!id) continue
      const motoStatus = xmlText(xmlText(item, 'status') ?? '', 'code') ?? ''
      const status = this.#failed.has(id) ? 'failed' : motoStatus === 'active' && this.#provisioning(id, Date.now()) ? 'provisioning' : motoStatus
      found.set(id, {status, requester: side(item, 'requesterVpcInfo'), accepter: side(item, 'accepterVpcInfo')})
    }
    return found
  }

  async #describePeerings(c: CallContext) {
    const answer = await c.forward()
    if (answer.status !== 200 || (this.#failed.size === 0 && this.#accepted.size === 0)) return relay(answer)
    let xml = answer.body.toString('utf8')
    const now = c.now()
    for (const [start, end] of itemRanges(xml, 'vpcPeeringConnectionSet').reverse()) {
      const item = xml.slice(start, end)
      const id = xmlText(item, 'vpcPeeringConnectionId') ?? ''
      const code = xmlText(xmlText(item, 'status') ?? '', 'code')
      const status = this.#failed.has(id)
        ? `<status><code>failed</code><message>${overlapMessage}</message></status>`
        : code === 'active' && this.#provisioning(id, now) ? '<status><code>provisioning</code><message>Provisioning</message></status>' : undefined
      if (!status) continue
      xml = xml.slice(0, start) + item.replace(/<status>[\s\S]*?<\/status>/, status) + xml.slice(end)
    }
    return relay(answer, xml)
  }

  async #describeRouteTables(c: CallContext) {
    const answer = await c.forward()
    if (answer.status !== 200) return relay(answer)
    let xml = answer.body.toString('utf8')
    const referenced = [...new Set(xmlTexts(xml, 'vpcPeeringConnectionId'))]
    if (referenced.length === 0) return relay(answer)
    const peerings = await this.#peerings(c.moto, c.account, c.region, referenced)
    const gone = new Set(referenced.filter((id) => ['deleted', 'rejected', 'failed', 'expired'].includes(peerings.get(id)?.status ?? '')))
    if (gone.size === 0) return relay(answer)
    // Route items hold no nested items: rewrite the innermost ones that target a gone peering.
    xml = xml.replace(/<item>((?:(?!<item>)[\s\S])*?)<\/item>/g, (whole, inner: string) => {
      const target = xmlText(inner, 'vpcPeeringConnectionId')
      if (!target || !gone.has(target)) return whole
      const state = /<state>[^<]*<\/state>/.test(inner) ? inner.replace(/<state>[^<]*<\/state>/, '<state>blackhole</state>') : `${inner}<state>blackhole</state>`
      return `<item>${state}</item>`
    })
    return relay(answer, xml)
  }

  async #modifyOptions(c: CallContext) {
    const params = formParams(c)
    const wants = ['RequesterPeeringConnectionOptions', 'AccepterPeeringConnectionOptions'].some(
      (options) => params.get(`${options}.AllowDnsResolutionFromRemoteVpc`) === 'true',
    )
    const id = params.get('VpcPeeringConnectionId') ?? ''
    if (wants && id) {
      const peering = (await this.#peerings(c.moto, c.account, c.region, [id])).get(id)
      for (const vpc of [peering?.requester, peering?.accepter]) {
        if (!vpc) continue
        for (const attribute of ['enableDnsHostnames', 'enableDnsSupport']) {
          const enabled = await vpcAttribute(c.moto, vpc.ownerId, vpc.region || c.region, vpc.vpcId, attribute)
          if (enabled === false) {
            throw new AwsServiceError(
              'OperationNotPermitted',
              400,
              `Cannot enable DNS resolution for ${id}: VPC ${vpc.vpcId} does not have ${attribute} enabled. Both VPCs must be enabled for DNS hostnames and DNS resolution.`,
            )
          }
        }
      }
    }
    return relay(await c.forward())
  }

  async #createVpcEndpoint(c: CallContext) {
    const params = formParams(c)
    const vpcId = params.get('VpcId') ?? ''
    if ((params.get('VpcEndpointType') ?? 'Gateway') === 'Interface') {
      if (params.get('PrivateDnsEnabled') !== 'false') {
        for (const attribute of ['enableDnsSupport', 'enableDnsHostnames']) {
          if (await vpcAttribute(c.moto, c.account, c.region, vpcId, attribute) === false) {
            throw new AwsServiceError('InvalidParameter', 400, `Enabling private DNS requires both enableDnsSupport and enableDnsHostnames VPC attributes set to true for ${vpcId}`)
          }
        }
      }
      const subnetIds = [...params.entries()].filter(([key]) => /^SubnetId\.\d+$/.test(key)).map(([, value]) => value)
      if (subnetIds.length > 1) {
        const query: Record<string, string> = {Action: 'DescribeSubnets', Version: version}
        subnetIds.forEach((id, i) => (query[`SubnetId.${i + 1}`] = id))
        const answer = await c.moto.query('ec2', c.account, c.region, query)
        const zones = answer.status === 200 ? xmlTexts(answer.body.toString('utf8'), 'availabilityZone') : []
        if (new Set(zones).size < zones.length) throw new AwsServiceError('DuplicateSubnetsInSameZone', 400, `Found another VPC endpoint subnet in the availability zone of ${subnetIds.join(', ')}. VPC endpoint subnets should be in different availability zones supported by the VPC endpoint service.`)
      }
    }
    return relay(await c.forward())
  }

  async #createNatGateway(c: CallContext) {
    const params = formParams(c)
    if ((params.get('ConnectivityType') ?? 'public') === 'public') {
      const subnet = await c.moto.query('ec2', c.account, c.region, {Action: 'DescribeSubnets', Version: version, 'SubnetId.1': params.get('SubnetId') ?? ''})
      const vpcId = subnet.status === 200 ? xmlText(subnet.body.toString('utf8'), 'vpcId') : undefined
      if (vpcId) {
        const gateways = await c.moto.query('ec2', c.account, c.region, {Action: 'DescribeInternetGateways', Version: version, 'Filter.1.Name': 'attachment.vpc-id', 'Filter.1.Value.1': vpcId})
        if (gateways.status === 200 && !xmlText(gateways.body.toString('utf8'), 'internetGatewayId')) {
          throw new AwsServiceError('Gateway.NotAttached', 400, `Network ${vpcId} has no Internet gateway attached`)
        }
      }
    }
    return relay(await c.forward())
  }
}
