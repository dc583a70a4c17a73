// The EC2 operations iotctl uses, each a typed function over the client
// that AwsAccount.ec2() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  AcceptVpcPeeringConnectionCommandInput,
  AuthorizeSecurityGroupIngressCommandInput,
  CreateRouteCommandInput,
  CreateTagsCommandInput,
  CreateVpcPeeringConnectionCommandInput,
  DeleteRouteCommandInput,
  DeleteVpcPeeringConnectionCommandInput,
  DescribeRouteTablesCommandInput,
  DescribeSecurityGroupsCommandInput,
  DescribeSubnetsCommandInput,
  DescribeVpcAttributeCommandInput,
  DescribeVpcPeeringConnectionsCommandInput,
  DescribeVpcsCommandInput,
  ModifyVpcPeeringConnectionOptionsCommandInput,
  RevokeSecurityGroupIngressCommandInput,
  EC2Client,
  Filter,
  RouteTable,
  SecurityGroupRule,
  Vpc,
  VpcPeeringConnection,
} from '@aws-sdk/client-ec2'
import {collect, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-ec2')

export const acceptVpcPeeringConnection = (ec2: EC2Client, input: AcceptVpcPeeringConnectionCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).AcceptVpcPeeringConnectionCommand(input)))

export const authorizeSecurityGroupIngress = (ec2: EC2Client, input: AuthorizeSecurityGroupIngressCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).AuthorizeSecurityGroupIngressCommand(input)))

export const createRoute = (ec2: EC2Client, input: CreateRouteCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).CreateRouteCommand(input)))

export const createTags = (ec2: EC2Client, input: CreateTagsCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).CreateTagsCommand(input)))

export const createVpcPeeringConnection = (ec2: EC2Client, input: CreateVpcPeeringConnectionCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).CreateVpcPeeringConnectionCommand(input)))

export const deleteRoute = (ec2: EC2Client, input: DeleteRouteCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteRouteCommand(input)))

export const deleteVpcPeeringConnection = (ec2: EC2Client, input: DeleteVpcPeeringConnectionCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteVpcPeeringConnectionCommand(input)))

export const describeRouteTables = (ec2: EC2Client, input: DescribeRouteTablesCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeRouteTablesCommand(input)))

export const describeSecurityGroups = (ec2: EC2Client, input: DescribeSecurityGroupsCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeSecurityGroupsCommand(input)))

export const describeSubnets = (ec2: EC2Client, input: DescribeSubnetsCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeSubnetsCommand(input)))

export const describeVpcAttribute = (ec2: EC2Client, input: DescribeVpcAttributeCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeVpcAttributeCommand(input)))

export const describeVpcPeeringConnections = (ec2: EC2Client, input: DescribeVpcPeeringConnectionsCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeVpcPeeringConnectionsCommand(input)))

export const describeVpcs = (ec2: EC2Client, input: DescribeVpcsCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeVpcsCommand(input)))

export const modifyVpcPeeringConnectionOptions = (ec2: EC2Client, input: ModifyVpcPeeringConnectionOptionsCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).ModifyVpcPeeringConnectionOptionsCommand(input)))

export const revokeSecurityGroupIngress = (ec2: EC2Client, input: RevokeSecurityGroupIngressCommandInput, what?: string) =>
  send(what, async () => ec2.send(new (await sdk()).RevokeSecurityGroupIngressCommand(input)))

// Lists, every page through the SDK's paginator.

/** Every VPC of the account and region. */
export const describeAllVpcs = (ec2: EC2Client, what?: string): Promise<Vpc[]> =>
  collect(what, async () => (await sdk()).paginateDescribeVpcs({client: ec2}, {}), (page) => page.Vpcs)

/** Every route table the filters match. */
export const describeAllRouteTables = (ec2: EC2Client, filters: Filter[], what?: string): Promise<RouteTable[]> =>
  collect(what, async () => (await sdk()).paginateDescribeRouteTables({client: ec2}, {Filters: filters}), (page) => page.RouteTables)

/** Every security-group rule the filters match (all of the region's without filters). */
export const describeAllSecurityGroupRules = (ec2: EC2Client, filters: Filter[] | undefined, what?: string): Promise<SecurityGroupRule[]> =>
  collect(what, async () => (await sdk()).paginateDescribeSecurityGroupRules({client: ec2}, {Filters: filters}), (page) => page.SecurityGroupRules)

/** Every peering connection the filters match. */
export const describeAllVpcPeeringConnections = (ec2: EC2Client, filters: Filter[], what?: string): Promise<VpcPeeringConnection[]> =>
  collect(what, async () => (await sdk()).paginateDescribeVpcPeeringConnections({client: ec2}, {Filters: filters}), (page) => page.VpcPeeringConnections)
