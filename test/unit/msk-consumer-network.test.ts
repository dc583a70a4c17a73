// The consumer network's requests, pinned over mocked EC2 and MSK clients: the
// broker port comes from the cluster's client authentication, the rules sit on
// the cluster's group, endpoints get one subnet per zone with private DNS and an
// account-limited policy, a NAT gateway goes into each zone's public subnet and
// each zone's table routes to its own. And where the registry puts the steps.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  AllocateAddressCommand, AuthorizeSecurityGroupEgressCommand, AuthorizeSecurityGroupIngressCommand, CreateNatGatewayCommand, CreateRouteCommand,
  CreateSecurityGroupCommand, CreateVpcEndpointCommand, DescribeAddressesCommand, DescribeNatGatewaysCommand, DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcAttributeCommand, DescribeVpcEndpointsCommand, EC2Client,
} from '@aws-sdk/client-ec2'
import {DescribeClusterV2Command, KafkaClient, type Cluster} from '@aws-sdk/client-kafka'
import {mockClient} from 'aws-sdk-client-mock'
import {parseConfig} from '../../src/lib/config/schema.ts'
import {brokerPortsOf, consumerEndpointsStep, consumerNatStep, consumerSecurityGroupStep, endpointPolicy} from '../../src/lib/msk/consumer-network.ts'
import {applySteps} from '../../src/lib/plan/runner.ts'
import {stackGraph, upGraph} from '../../src/lib/stack/steps.ts'
import {testContext} from '../support/step-context.ts'

const clusterArn = 'arn:aws:kafka:us-east-1:111111111111:cluster/c/1'
const subnets = [{SubnetId: 'subnet-aaaa0001', AvailabilityZone: 'us-east-1a', VpcId: 'vpc-00000001'}, {SubnetId: 'subnet-bbbb0001', AvailabilityZone: 'us-east-1b', VpcId: 'vpc-00000001'}]
const publics = [{SubnetId: 'subnet-aaaa0002', AvailabilityZone: 'us-east-1a', VpcId: 'vpc-00000001'}, {SubnetId: 'subnet-bbbb0002', AvailabilityZone: 'us-east-1b', VpcId: 'vpc-00000001'}]
const tables = [
  {RouteTableId: 'rtb-0000000a', Associations: [{SubnetId: 'subnet-aaaa0001'}], Routes: []},
  {RouteTableId: 'rtb-0000000b', Associations: [{SubnetId: 'subnet-bbbb0001'}], Routes: []},
  {RouteTableId: 'rtb-0000000c', Associations: [{SubnetId: 'subnet-aaaa0002'}, {SubnetId: 'subnet-bbbb0002'}], Routes: [{DestinationCidrBlock: '0.0.0.0/0', GatewayId: 'igw-00000001'}]},
  {RouteTableId: 'rtb-0000000d', Associations: [{Main: true}], Routes: []},
]

function cluster(auth: NonNullable<Cluster['Provisioned']>['ClientAuthentication']): Cluster {
  return {ClusterArn: clusterArn, ClusterName: 'c', State: 'ACTIVE', Provisioned: {ClientAuthentication: auth, BrokerNodeGroupInfo: {ClientSubnets: subnets.map((s) => s.SubnetId), SecurityGroups: ['sg-0000000c'], InstanceType: 'kafka.t3.small'}, CurrentBrokerSoftwareInfo: {}, NumberOfBrokerNodes: 2}}
}

function mocks(info: Cluster) {
  const ec2 = mockClient(EC2Client)
  const kafka = mockClient(KafkaClient)
  kafka.on(DescribeClusterV2Command).resolves({ClusterInfo: info})
  ec2.on(DescribeSubnetsCommand).callsFake((input: {Filters?: {Name: string; Values: string[]}[]}) => {
    const filter = input.Filters?.[0]
    return {Subnets: filter?.Name === 'vpc-id' ? [...subnets, ...publics] : [...subnets, ...publics].filter((s) => filter?.Values.includes(s.SubnetId))}
  })
  ec2.on(DescribeRouteTablesCommand).callsFake((input: {Filters?: {Name: string; Values: string[]}[]}) => {
    const filter = input.Filters?.[0]
    return {RouteTables: filter?.Name === 'route-table-id' ? tables.filter((t) => filter.Values.includes(t.RouteTableId)) : tables}
  })
  for (const command of [DescribeSecurityGroupRulesCommand, DescribeVpcEndpointsCommand, DescribeSecurityGroupsCommand, DescribeNatGatewaysCommand, DescribeAddressesCommand]) ec2.on(command).resolves({})
  ec2.on(DescribeVpcAttributeCommand).resolves({EnableDnsHostnames: {Value: true}, EnableDnsSupport: {Value: true}})
  const context = (consumerNetwork: {via: 'endpoints' | 'nat' | 'none'; selfReferencing?: boolean}) => testContext({
    settings: {msk: {clusterArn, consumerNetwork}},
    iot: {accountId: '222222222222'},
    msk: {accountId: '111111111111', clients: {ec2: new EC2Client({region: 'us-east-1'}), kafka: new KafkaClient({region: 'us-east-1'})}},
  })
  return {ec2, kafka, context, restore: () => {
    ec2.restore()
    kafka.restore()
  }}
}

test('the broker ports are read from the cluster\'s client authentication', () => {
  const ports = (auth: NonNullable<Cluster['Provisioned']>['ClientAuthentication']) => brokerPortsOf(cluster(auth)).map((p) => p.port)
  assert.deepEqual(ports({Sasl: {Scram: {Enabled: true}}}), [9096])
  assert.deepEqual(ports({Tls: {Enabled: true}}), [9094])
  assert.deepEqual(ports({Sasl: {Iam: {Enabled: true}}}), [9098])
  assert.deepEqual(ports({Sasl: {Scram: {Enabled: true}, Iam: {Enabled: true}}, Tls: {Enabled: true}}), [9096, 9098, 9094])
})

test('a TLS cluster: its group admits itself on 9094 and lets 443 out, tagged; --self-referencing: all traffic from itself instead', async () => {
  const {ec2, context, restore} = mocks(cluster({Tls: {Enabled: true}}))
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({SecurityGroupRules: [{SecurityGroupRuleId: 'sgr-1', GroupId: 'sg-0000000c'}]})
  ec2.on(AuthorizeSecurityGroupEgressCommand).resolves({SecurityGroupRules: [{SecurityGroupRuleId: 'sgr-2', GroupId: 'sg-0000000c', IsEgress: true}]})
  await applySteps([consumerSecurityGroupStep], context({via: 'none'}), {dryRun: false})
  const ingress = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => c.args[0].input)
  assert.deepEqual(ingress.map((i) => [i.GroupId, i.IpPermissions?.[0].IpProtocol, i.IpPermissions?.[0].FromPort, i.IpPermissions?.[0].UserIdGroupPairs?.[0].GroupId]), [['sg-0000000c', 'tcp', 9094, 'sg-0000000c']])
  assert.deepEqual(ingress[0].TagSpecifications?.[0].Tags, [{Key: 'iotctl:stack', Value: 'test'}, {Key: 'iotctl:managed', Value: 'true'}, {Key: 'iotctl:part', Value: 'consumer-network'}])
  const egress = ec2.commandCalls(AuthorizeSecurityGroupEgressCommand).map((c) => c.args[0].input.IpPermissions?.[0])
  assert.deepEqual(egress.map((p) => [p?.FromPort, p?.UserIdGroupPairs?.[0]?.GroupId ?? p?.IpRanges?.[0]?.CidrIp]), [[9094, 'sg-0000000c'], [443, '0.0.0.0/0']])
  ec2.resetHistory()
  await applySteps([consumerSecurityGroupStep], context({via: 'none', selfReferencing: true}), {dryRun: false})
  assert.deepEqual(ec2.commandCalls(AuthorizeSecurityGroupIngressCommand).map((c) => [c.args[0].input.IpPermissions?.[0].IpProtocol, c.args[0].input.IpPermissions?.[0].FromPort]), [['-1', undefined]])
  restore()
})

test('--via endpoints: a group admitting 443 from the cluster\'s group, then STS, Secrets Manager and Lambda endpoints with one subnet per zone, private DNS and policies limited to the account', async () => {
  const {ec2, context, restore} = mocks(cluster({Sasl: {Scram: {Enabled: true}}}))
  ec2.on(CreateSecurityGroupCommand).resolves({GroupId: 'sg-0000000e'})
  ec2.on(AuthorizeSecurityGroupIngressCommand).resolves({})
  ec2.on(CreateVpcEndpointCommand).callsFake((input: {ServiceName: string}) => ({VpcEndpoint: {VpcEndpointId: `vpce-${input.ServiceName.split('.').pop()}`, ServiceName: input.ServiceName}}))
  await applySteps([consumerEndpointsStep], context({via: 'endpoints'}), {dryRun: false})
  assert.equal(ec2.commandCalls(CreateSecurityGroupCommand)[0].args[0].input.VpcId, 'vpc-00000001')
  const admit = ec2.commandCalls(AuthorizeSecurityGroupIngressCommand)[0].args[0].input
  assert.deepEqual([admit.GroupId, admit.IpPermissions?.[0].FromPort, admit.IpPermissions?.[0].UserIdGroupPairs?.[0].GroupId], ['sg-0000000e', 443, 'sg-0000000c'])
  const endpoints = ec2.commandCalls(CreateVpcEndpointCommand).map((c) => c.args[0].input)
  assert.deepEqual(endpoints.map((e) => e.ServiceName), ['com.amazonaws.us-east-1.sts', 'com.amazonaws.us-east-1.secretsmanager', 'com.amazonaws.us-east-1.lambda'])
  for (const endpoint of endpoints) {
    assert.deepEqual([endpoint.VpcEndpointType, endpoint.SubnetIds, endpoint.SecurityGroupIds, endpoint.PrivateDnsEnabled], ['Interface', ['subnet-aaaa0001', 'subnet-bbbb0001'], ['sg-0000000e'], true])
  }
  for (const service of ['sts', 'secretsmanager', 'lambda'] as const) {
    const policy = JSON.parse(endpointPolicy(service, '111111111111', 'us-east-1')) as {Statement: {Condition: {StringEquals: Record<string, string>}; Resource: string}[]}
    assert.deepEqual(Object.values(policy.Statement[0].Condition.StringEquals), ['111111111111'])
    assert.match(policy.Statement[0].Resource, /111111111111/)
  }
  restore()
})

test('--via nat: an Elastic IP and a NAT gateway in each zone\'s public subnet, then each zone\'s table routes 0.0.0.0/0 to its own', async () => {
  const {ec2, context, restore} = mocks(cluster({Sasl: {Scram: {Enabled: true}}}))
  let n = 0
  ec2.on(AllocateAddressCommand).callsFake(() => ({AllocationId: `eipalloc-${++n}`}))
  ec2.on(CreateNatGatewayCommand).callsFake((input: {SubnetId: string; AllocationId: string}) => ({NatGateway: {NatGatewayId: `nat-${input.SubnetId}`, SubnetId: input.SubnetId, VpcId: 'vpc-00000001', State: 'available', NatGatewayAddresses: [{AllocationId: input.AllocationId}]}}))
  ec2.on(CreateRouteCommand).resolves({})
  await applySteps([consumerNatStep], context({via: 'nat'}), {dryRun: false})
  const nats = ec2.commandCalls(CreateNatGatewayCommand).map((c) => c.args[0].input)
  assert.deepEqual(nats.map((x) => [x.SubnetId, x.AllocationId, x.ConnectivityType]), [['subnet-aaaa0002', 'eipalloc-1', 'public'], ['subnet-bbbb0002', 'eipalloc-2', 'public']])
  assert.deepEqual(ec2.commandCalls(CreateRouteCommand).map((c) => [c.args[0].input.RouteTableId, c.args[0].input.DestinationCidrBlock, c.args[0].input.NatGatewayId]),
    [['rtb-0000000a', '0.0.0.0/0', 'nat-subnet-aaaa0002'], ['rtb-0000000b', '0.0.0.0/0', 'nat-subnet-bbbb0002']])
  restore()
})

test('the registry: up leaves the consumer network out unless msk.consumerNetwork is set; cleanup always has it; it waits for the cluster', () => {
  const ids = ['consumer-sg-rules', 'consumer-endpoints', 'consumer-nat']
  assert.ok(ids.every((id) => !upGraph({createCluster: true}).get(id)))
  const graph = upGraph({createCluster: true, consumerNetwork: true})
  for (const id of ids) assert.deepEqual(graph.needsOf(graph.get(id)!).map((s) => s.id), ['msk-cluster'])
  assert.ok(ids.every((id) => stackGraph().get(id)))
})

test('msk.consumerNetwork in iotctl.json: via is endpoints, nat or none; an unknown key is named', () => {
  assert.deepEqual(parseConfig('{"msk": {"consumerNetwork": {"via": "nat", "selfReferencing": true}}}', 'iotctl.json').msk?.consumerNetwork, {via: 'nat', selfReferencing: true})
  assert.throws(() => parseConfig('{"msk": {"consumerNetwork": {"via": "vpn"}}}', 'iotctl.json'), /iotctl\.json: msk\.consumerNetwork\.via: expected endpoints, nat or none/)
  assert.throws(() => parseConfig('{"msk": {"consumerNetwork": {"mode": "nat"}}}', 'iotctl.json'), /unknown key 'msk\.consumerNetwork\.mode'/)
})
