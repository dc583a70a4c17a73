// The EC2 operations iotctl uses, each a typed function over the client
// that AwsAccount.ec2() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  AcceptVpcPeeringConnectionCommandInput,
  Address,
  AllocateAddressCommandInput,
  AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupIngressCommandInput,
  CreateNatGatewayCommandInput,
  CreateRouteCommandInput,
  CreateSecurityGroupCommandInput,
  CreateTagsCommandInput,
  CreateVpcEndpointCommandInput,
  CreateVpcPeeringConnectionCommandInput,
  DeleteNatGatewayCommandInput,
  DeleteRouteCommandInput,
  DeleteSecurityGroupCommandInput,
  DeleteVpcEndpointsCommandInput,
  DeleteVpcPeeringConnectionCommandInput,
  DescribeAddressesCommandInput,
  DescribeRouteTablesCommandInput,
  DescribeSecurityGroupsCommandInput,
  DescribeSubnetsCommandInput,
  DescribeVpcAttributeCommandInput,
  DescribeVpcPeeringConnectionsCommandInput,
  DescribeVpcsCommandInput,
  EC2Client,
  Filter,
  ModifyVpcPeeringConnectionOptionsCommandInput,
  NatGateway,
  ReleaseAddressCommandInput,
  RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupIngressCommandInput,
  RouteTable,
  SecurityGroup,
  SecurityGroupRule,
  Subnet,
  Vpc,
  VpcEndpoint,
  VpcPeeringConnection,
} from '@aws-sdk/client-ec2'
import type {HttpHandlerOptions} from '@smithy/types'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-ec2')

export const acceptVpcPeeringConnection = (ec2: EC2Client, input: AcceptVpcPeeringConnectionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).AcceptVpcPeeringConnectionCommand(input), options))

export const authorizeSecurityGroupIngress = (ec2: EC2Client, input: AuthorizeSecurityGroupIngressCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).AuthorizeSecurityGroupIngressCommand(input), options))

export const createRoute = (ec2: EC2Client, input: CreateRouteCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).CreateRouteCommand(input), options))

export const createTags = (ec2: EC2Client, input: CreateTagsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).CreateTagsCommand(input), options))

export const createVpcPeeringConnection = (ec2: EC2Client, input: CreateVpcPeeringConnectionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).CreateVpcPeeringConnectionCommand(input), options))

export const deleteRoute = (ec2: EC2Client, input: DeleteRouteCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteRouteCommand(input), options))

export const deleteVpcPeeringConnection = (ec2: EC2Client, input: DeleteVpcPeeringConnectionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteVpcPeeringConnectionCommand(input), options))

export const describeRouteTables = (ec2: EC2Client, input: DescribeRouteTablesCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeRouteTablesCommand(input), options))

export const describeSecurityGroups = (ec2: EC2Client, input: DescribeSecurityGroupsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeSecurityGroupsCommand(input), options))

export const describeSubnets = (ec2: EC2Client, input: DescribeSubnetsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeSubnetsCommand(input), options))

export const describeVpcAttribute = (ec2: EC2Client, input: DescribeVpcAttributeCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeVpcAttributeCommand(input), options))

export const describeVpcPeeringConnections = (ec2: EC2Client, input: DescribeVpcPeeringConnectionsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeVpcPeeringConnectionsCommand(input), options))

export const describeVpcs = (ec2: EC2Client, input: DescribeVpcsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeVpcsCommand(input), options))

export const modifyVpcPeeringConnectionOptions = (ec2: EC2Client, input: ModifyVpcPeeringConnectionOptionsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).ModifyVpcPeeringConnectionOptionsCommand(input), options))

export const revokeSecurityGroupIngress = (ec2: EC2Client, input: RevokeSecurityGroupIngressCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).RevokeSecurityGroupIngressCommand(input), options))

export const allocateAddress = (ec2: EC2Client, input: AllocateAddressCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).AllocateAddressCommand(input), options))

export const authorizeSecurityGroupEgress = (ec2: EC2Client, input: AuthorizeSecurityGroupEgressCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).AuthorizeSecurityGroupEgressCommand(input), options))

export const createNatGateway = (ec2: EC2Client, input: CreateNatGatewayCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).CreateNatGatewayCommand(input), options))

export const createSecurityGroup = (ec2: EC2Client, input: CreateSecurityGroupCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).CreateSecurityGroupCommand(input), options))

export const createVpcEndpoint = (ec2: EC2Client, input: CreateVpcEndpointCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).CreateVpcEndpointCommand(input), options))

export const deleteNatGateway = (ec2: EC2Client, input: DeleteNatGatewayCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteNatGatewayCommand(input), options))

export const deleteSecurityGroup = (ec2: EC2Client, input: DeleteSecurityGroupCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteSecurityGroupCommand(input), options))

export const deleteVpcEndpoints = (ec2: EC2Client, input: DeleteVpcEndpointsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DeleteVpcEndpointsCommand(input), options))

export const describeAddresses = (ec2: EC2Client, input: DescribeAddressesCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).DescribeAddressesCommand(input), options))

export const releaseAddress = (ec2: EC2Client, input: ReleaseAddressCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).ReleaseAddressCommand(input), options))

export const revokeSecurityGroupEgress = (ec2: EC2Client, input: RevokeSecurityGroupEgressCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => ec2.send(new (await sdk()).RevokeSecurityGroupEgressCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every VPC of the account and region. */
export const describeAllVpcs = (ec2: EC2Client, what?: string): Promise<Vpc[]> =>
  collect(what, async () => (await sdk()).paginateDescribeVpcs({client: inputPerPage(ec2)}, {}), (page) => page.Vpcs)

/** Every route table the filters match. */
export const describeAllRouteTables = (ec2: EC2Client, filters: Filter[], what?: string): Promise<RouteTable[]> =>
  collect(what, async () => (await sdk()).paginateDescribeRouteTables({client: inputPerPage(ec2)}, {Filters: filters}), (page) => page.RouteTables)

/** Every security-group rule the filters match (all of the region's without filters). */
export const describeAllSecurityGroupRules = (ec2: EC2Client, filters: Filter[] | undefined, what?: string): Promise<SecurityGroupRule[]> =>
  collect(what, async () => (await sdk()).paginateDescribeSecurityGroupRules({client: inputPerPage(ec2)}, {Filters: filters}), (page) => page.SecurityGroupRules)

/** Every peering connection the filters match. */
export const describeAllVpcPeeringConnections = (ec2: EC2Client, filters: Filter[], what?: string): Promise<VpcPeeringConnection[]> =>
  collect(what, async () => (await sdk()).paginateDescribeVpcPeeringConnections({client: inputPerPage(ec2)}, {Filters: filters}), (page) => page.VpcPeeringConnections)

/** Every subnet the filters match. */
export const describeAllSubnets = (ec2: EC2Client, filters: Filter[], what?: string): Promise<Subnet[]> =>
  collect(what, async () => (await sdk()).paginateDescribeSubnets({client: inputPerPage(ec2)}, {Filters: filters}), (page) => page.Subnets)

/** Every security group the filters match. */
export const describeAllSecurityGroups = (ec2: EC2Client, filters: Filter[], what?: string): Promise<SecurityGroup[]> =>
  collect(what, async () => (await sdk()).paginateDescribeSecurityGroups({client: inputPerPage(ec2)}, {Filters: filters}), (page) => page.SecurityGroups)

/** Every NAT gateway the filters match. */
export const describeAllNatGateways = (ec2: EC2Client, filters: Filter[], what?: string): Promise<NatGateway[]> =>
  collect(what, async () => (await sdk()).paginateDescribeNatGateways({client: inputPerPage(ec2)}, {Filter: filters}), (page) => page.NatGateways)

/** Every VPC endpoint the filters match. */
export const describeAllVpcEndpoints = (ec2: EC2Client, filters: Filter[], what?: string): Promise<VpcEndpoint[]> =>
  collect(what, async () => (await sdk()).paginateDescribeVpcEndpoints({client: inputPerPage(ec2)}, {Filters: filters}), (page) => page.VpcEndpoints)

/** The Elastic IP addresses the filters match (DescribeAddresses has no pages). */
export const describeAllAddresses = async (ec2: EC2Client, filters: Filter[], what?: string): Promise<Address[]> =>
  (await describeAddresses(ec2, {Filters: filters} satisfies DescribeAddressesCommandInput, what)).Addresses ?? []
