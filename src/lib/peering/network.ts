// Read-only EC2 look-ups shared by the peering steps and `peer status`.
import type {Filter, RouteTable, VpcPeeringConnection} from '@aws-sdk/client-ec2'
import type {AwsAccount, AccountRole} from '../aws/account.ts'
import * as ec2api from '../aws/ec2.ts'
import {InputError, awsErrorCode} from '../errors.ts'
import {stackTagKey} from '../plan/tags.ts'

export interface VpcFacts {
  vpcId: string
  /** Associated IPv4 blocks, primary first. */
  cidrs: string[]
}

/** Describes a VPC the user named; one that does not exist in that account is bad input. */
export async function describeVpc(account: AwsAccount, accountId: string, vpcId: string, flag: string): Promise<VpcFacts> {
  const ec2 = await account.ec2()
  try {
    const answer = await ec2api.describeVpcs(ec2, {VpcIds: [vpcId]})
    const vpc = answer.Vpcs?.[0]
    if (!vpc) throw new InputError(`${flag} ${vpcId}: no such VPC in account ${accountId} (${account.label}, ${account.region})`)
    const associated = (vpc.CidrBlockAssociationSet ?? [])
      .filter((a) => a.CidrBlockState?.State === 'associated' && a.CidrBlock)
      .map((a) => a.CidrBlock!)
    const cidrs = [vpc.CidrBlock!, ...associated.filter((c) => c !== vpc.CidrBlock)]
    return {vpcId, cidrs}
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidVpcID.NotFound') {
      throw new InputError(`${flag} ${vpcId}: no such VPC in account ${accountId} (${account.label}, ${account.region})`)
    }
    throw error
  }
}

/**
 * The route tables to route through the peering: the ones named (each must
 * belong to the VPC), else those associated with the VPC's subnets, else its main table.
 */
export async function routeTablesFor(account: AwsAccount, vpcId: string, named: string[] | undefined, flag: string): Promise<RouteTable[]> {
  const ec2 = await account.ec2()
  if (named && named.length > 0) {
    const tables: RouteTable[] = []
    for (const id of named) {
      let table: RouteTable | undefined
      try {
        table = (await ec2api.describeRouteTables(ec2, {RouteTableIds: [id]})).RouteTables?.[0]
      } catch (error) {
        if (awsErrorCode(error) !== 'InvalidRouteTableID.NotFound') throw error
      }
      if (!table) throw new InputError(`${flag} ${id}: no such route table in ${account.label} (${account.region})`)
      if (table.VpcId !== vpcId) throw new InputError(`${flag} ${id}: route table belongs to ${table.VpcId}, not to ${vpcId}`)
      tables.push(table)
    }
    return tables
  }
  const all = await ec2api.describeAllRouteTables(ec2, [{Name: 'vpc-id', Values: [vpcId]}], `listing route tables of ${vpcId}`)
  const withSubnets = all.filter((t) => t.Associations?.some((a) => a.SubnetId))
  if (withSubnets.length > 0) return withSubnets
  const main = all.filter((t) => t.Associations?.some((a) => a.Main))
  if (main.length === 0) throw new InputError(`${vpcId} has no route table; pass ${flag}`)
  return main
}

/** Checks that a security group exists and belongs to the VPC. */
export async function checkSecurityGroup(account: AwsAccount, groupId: string, vpcId: string, flag: string): Promise<void> {
  const ec2 = await account.ec2()
  let vpcOfGroup: string | undefined
  try {
    vpcOfGroup = (await ec2api.describeSecurityGroups(ec2, {GroupIds: [groupId]})).SecurityGroups?.[0]?.VpcId
  } catch (error) {
    if (awsErrorCode(error) !== 'InvalidGroup.NotFound' && awsErrorCode(error) !== 'InvalidGroupId.Malformed') throw error
  }
  if (!vpcOfGroup) throw new InputError(`${flag} ${groupId}: no such security group in ${account.label} (${account.region})`)
  if (vpcOfGroup !== vpcId) throw new InputError(`${flag} ${groupId}: security group belongs to ${vpcOfGroup}, not to ${vpcId}`)
}

// Peerings in these states are gone or going; they are never adopted.
const deadPeeringStates = new Set(['deleted', 'deleting', 'rejected', 'failed', 'expired'])

/** The stack's live peering connections, found by tag in the requester (IoT) account. */
export async function findStackPeerings(account: AwsAccount, stack: string, extraIds: string[] = []): Promise<VpcPeeringConnection[]> {
  const ec2 = await account.ec2()
  const found = new Map<string, VpcPeeringConnection>()
  const queries: Filter[][] = [[{Name: `tag:${stackTagKey}`, Values: [stack]}]]
  if (extraIds.length > 0) queries.push([{Name: 'vpc-peering-connection-id', Values: extraIds}])
  for (const Filters of queries) {
    for (const pcx of await ec2api.describeAllVpcPeeringConnections(ec2, Filters, 'finding the stack\'s VPC peering')) {
      const tagged = pcx.Tags?.some((t) => t.Key === stackTagKey && t.Value === stack)
      if (tagged && !deadPeeringStates.has(pcx.Status?.Code ?? '')) found.set(pcx.VpcPeeringConnectionId!, pcx)
    }
  }
  return [...found.values()]
}

export async function describePeering(account: AwsAccount, id: string): Promise<VpcPeeringConnection | undefined> {
  const ec2 = await account.ec2()
  try {
    const answer = await ec2api.describeVpcPeeringConnections(ec2, {VpcPeeringConnectionIds: [id]})
    return answer.VpcPeeringConnections?.[0]
  } catch (error) {
    if (awsErrorCode(error) === 'InvalidVpcPeeringConnectionID.NotFound') return undefined
    throw error
  }
}

export function otherSide(role: AccountRole): AccountRole {
  return role === 'iot' ? 'msk' : 'iot'
}
