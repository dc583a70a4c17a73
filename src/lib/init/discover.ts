// Read-only look-ups `iotctl init` offers as choices: profiles, VPCs, subnets,
// route tables, security groups and MSK clusters of an account.
import type {Tag} from '@aws-sdk/client-ec2'
import {loadSharedConfigFiles} from '@smithy/shared-ini-file-loader'
import type {AwsAccount} from '../aws/account.ts'
import * as ec2api from '../aws/ec2.ts'
import {listClusters} from '../msk/clusters.ts'

export interface VpcChoice {vpcId: string; cidrs: string[]; name?: string; isDefault: boolean}
export interface SubnetChoice {subnetId: string; cidr: string; availabilityZone: string; availabilityZoneId?: string; name?: string}
export interface RouteTableChoice {routeTableId: string; name?: string; main: boolean; subnetIds: string[]}
export interface SecurityGroupChoice {groupId: string; groupName: string; description?: string}
export interface ClusterChoice {arn: string; name: string; state: string; subnetIds: string[]; securityGroupIds: string[]; scram: boolean}

const nameOf = (tags: Tag[] | undefined) => tags?.find((t) => t.Key === 'Name')?.Value

/** Profile names of the shared config and credentials files (AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE). */
export async function profileNames(): Promise<string[]> {
  const {configFile, credentialsFile} = await loadSharedConfigFiles({ignoreCache: true})
  return [...new Set([...Object.keys(configFile), ...Object.keys(credentialsFile)])].sort()
}

export async function listVpcs(account: AwsAccount): Promise<VpcChoice[]> {
  const ec2 = await account.ec2()
  return (await ec2api.describeAllVpcs(ec2, `listing VPCs (${account.label})`)).map((vpc) => {
    const extra = (vpc.CidrBlockAssociationSet ?? []).filter((a) => a.CidrBlockState?.State === 'associated' && a.CidrBlock !== vpc.CidrBlock).map((a) => a.CidrBlock!)
    return {vpcId: vpc.VpcId!, cidrs: [vpc.CidrBlock!, ...extra], name: nameOf(vpc.Tags), isDefault: vpc.IsDefault ?? false}
  })
}

export async function listSubnets(account: AwsAccount, vpcId: string): Promise<SubnetChoice[]> {
  const ec2 = await account.ec2()
  const answer = await ec2api.describeSubnets(ec2, {Filters: [{Name: 'vpc-id', Values: [vpcId]}]}, `listing subnets of ${vpcId}`)
  return (answer.Subnets ?? []).map((s) => ({subnetId: s.SubnetId!, cidr: s.CidrBlock ?? '', availabilityZone: s.AvailabilityZone ?? '', availabilityZoneId: s.AvailabilityZoneId, name: nameOf(s.Tags)}))
    .sort((a, b) => a.availabilityZone.localeCompare(b.availabilityZone) || a.subnetId.localeCompare(b.subnetId))
}

export async function listRouteTables(account: AwsAccount, vpcId: string): Promise<RouteTableChoice[]> {
  const tables = await ec2api.describeAllRouteTables(await account.ec2(), [{Name: 'vpc-id', Values: [vpcId]}], `listing route tables of ${vpcId}`)
  return tables.map((t) => ({
    routeTableId: t.RouteTableId!,
    name: nameOf(t.Tags),
    main: t.Associations?.some((a) => a.Main) ?? false,
    subnetIds: (t.Associations ?? []).map((a) => a.SubnetId).filter((id): id is string => Boolean(id)),
  }))
}

export async function listSecurityGroups(account: AwsAccount, vpcId: string): Promise<SecurityGroupChoice[]> {
  const ec2 = await account.ec2()
  const answer = await ec2api.describeSecurityGroups(ec2, {Filters: [{Name: 'vpc-id', Values: [vpcId]}]}, `listing security groups of ${vpcId}`)
  return (answer.SecurityGroups ?? []).map((g) => ({groupId: g.GroupId!, groupName: g.GroupName ?? '', description: g.Description}))
}

export async function listMskClusters(account: AwsAccount): Promise<ClusterChoice[]> {
  const clusters = await listClusters(await account.kafka(), `listing MSK clusters (${account.label})`)
  return clusters.filter((c) => c.State !== 'DELETING').map((c) => {
    const provisioned = c.Provisioned
    return {
      arn: c.ClusterArn!,
      name: c.ClusterName ?? '',
      state: c.State ?? '',
      subnetIds: provisioned?.BrokerNodeGroupInfo?.ClientSubnets ?? [],
      securityGroupIds: provisioned?.BrokerNodeGroupInfo?.SecurityGroups ?? [],
      scram: provisioned?.ClientAuthentication?.Sasl?.Scram?.Enabled === true,
    }
  })
}

/** The VPC a subnet belongs to (for a cluster, whose description names subnets only). */
export async function vpcOfSubnet(account: AwsAccount, subnetId: string): Promise<string | undefined> {
  const ec2 = await account.ec2()
  const answer = await ec2api.describeSubnets(ec2, {SubnetIds: [subnetId]}, `reading subnet ${subnetId}`)
  return answer.Subnets?.[0]?.VpcId
}
