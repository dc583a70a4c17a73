// What a user already has before running iotctl: in the MSK account a VPC with
// two subnets in two AZs, a route table associated with them and a security
// group for the brokers; the same in the IoT account for the rule destination.
import type {EC2Client} from '@aws-sdk/client-ec2'

export interface NetworkSideOptions {
  /** The VPC's CIDR (default 10.10.0.0/16 for MSK, 10.20.0.0/16 for IoT). */
  cidr?: string
  /** Two subnet CIDRs inside it (default: the first two blocks 8 bits longer than the VPC's). */
  subnetCidrs?: [string, string]
  availabilityZones?: [string, string]
  /**
   * Zones by zone id instead (takes precedence): e.g. `['use1-az1', 'use1-az3']`
   * puts the second subnet where AWS IoT refuses VPC destinations (moto: us-east-1e).
   */
  availabilityZoneIds?: [string, string]
  securityGroupName?: string
}

export interface NetworkOptions {
  msk?: NetworkSideOptions
  iot?: NetworkSideOptions
  /** Prefix of the Name tags (default "iotctl-test"). */
  name?: string
}

export interface NetworkSide {
  accountId: string
  vpcId: string
  cidr: string
  subnetIds: [string, string]
  subnets: {subnetId: string; cidr: string; availabilityZone: string}[]
  routeTableId: string
  securityGroupId: string
  securityGroupName: string
}

export interface Network {
  msk: NetworkSide
  iot: NetworkSide
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0)
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')
}

/** The first two subnets of a CIDR, each 8 bits longer (at most /28). */
export function defaultSubnets(cidr: string): [string, string] {
  const [ip, bits] = cidr.split('/')
  const prefix = Number(bits)
  const sub = Math.min(prefix + 8, 28)
  const base = ipToInt(ip)
  const size = 2 ** (32 - sub)
  return [`${intToIp(base)}/${sub}`, `${intToIp(base + size)}/${sub}`]
}

export async function createNetworkSide(
  ec2: EC2Client,
  accountId: string,
  name: string,
  options: NetworkSideOptions & {cidr: string; securityGroupName: string},
  region: string,
): Promise<NetworkSide> {
  const {CreateVpcCommand, CreateSubnetCommand, CreateRouteTableCommand, AssociateRouteTableCommand, CreateSecurityGroupCommand} = await import(
    '@aws-sdk/client-ec2',
  )
  const tag = (resourceType: 'vpc' | 'subnet' | 'route-table' | 'security-group', value: string) => [
    {ResourceType: resourceType, Tags: [{Key: 'Name', Value: value}]},
  ]
  const vpc = await ec2.send(new CreateVpcCommand({CidrBlock: options.cidr, TagSpecifications: tag('vpc', `${name}-vpc`)}))
  const vpcId = vpc.Vpc!.VpcId!
  const cidrs = options.subnetCidrs ?? defaultSubnets(options.cidr)
  const zones = options.availabilityZones ?? [`${region}a`, `${region}b`]
  const subnets = []
  for (const [i, cidr] of cidrs.entries()) {
    const zoneId = options.availabilityZoneIds?.[i]
    const placement = zoneId ? {AvailabilityZoneId: zoneId} : {AvailabilityZone: zones[i]}
    const subnet = await ec2.send(
      new CreateSubnetCommand({VpcId: vpcId, CidrBlock: cidr, ...placement, TagSpecifications: tag('subnet', `${name}-private-${i + 1}`)}),
    )
    subnets.push({subnetId: subnet.Subnet!.SubnetId!, cidr, availabilityZone: subnet.Subnet!.AvailabilityZone ?? zones[i]})
  }
  const table = await ec2.send(new CreateRouteTableCommand({VpcId: vpcId, TagSpecifications: tag('route-table', `${name}-private`)}))
  const routeTableId = table.RouteTable!.RouteTableId!
  for (const subnet of subnets) await ec2.send(new AssociateRouteTableCommand({RouteTableId: routeTableId, SubnetId: subnet.subnetId}))
  const group = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: options.securityGroupName,
      Description: `${options.securityGroupName} (${name})`,
      VpcId: vpcId,
      TagSpecifications: tag('security-group', `${name}-${options.securityGroupName}`),
    }),
  )
  return {
    accountId,
    vpcId,
    cidr: options.cidr,
    subnetIds: [subnets[0].subnetId, subnets[1].subnetId],
    subnets,
    routeTableId,
    securityGroupId: group.GroupId!,
    securityGroupName: options.securityGroupName,
  }
}
