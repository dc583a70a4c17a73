// Request-level: the payloads of the peering steps that matter (owner, region,
// who accepts, the construction mark on the ingress rule).
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcPeeringConnectionsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyVpcPeeringConnectionOptionsCommand,
} from '@aws-sdk/client-ec2'
import {mockClient} from 'aws-sdk-client-mock'
import {applySteps} from '../../src/lib/plan/runner.ts'
import {peeringSteps} from '../../src/lib/peering/steps.ts'
import {testContext} from '../support/step-context.ts'

function networkMocks() {
  const iotEc2 = new EC2Client({region: 'eu-west-1'})
  const mskEc2 = new EC2Client({region: 'us-east-1'})
  const iot = mockClient(iotEc2)
  const msk = mockClient(mskEc2)
  iot.on(DescribeVpcsCommand).resolves({Vpcs: [{VpcId: 'vpc-0000000b', CidrBlock: '10.20.0.0/16'}]})
  msk.on(DescribeVpcsCommand).resolves({Vpcs: [{VpcId: 'vpc-0000000a', CidrBlock: '10.10.0.0/16'}]})
  iot.on(DescribeRouteTablesCommand).resolves({RouteTables: [{RouteTableId: 'rtb-0000000b', VpcId: 'vpc-0000000b', Associations: [{SubnetId: 'subnet-1'}], Routes: []}]})
  msk.on(DescribeRouteTablesCommand).resolves({RouteTables: [{RouteTableId: 'rtb-0000000a', VpcId: 'vpc-0000000a', Associations: [{Main: true}], Routes: []}]})
  msk.on(DescribeSecurityGroupsCommand).resolves({SecurityGroups: [{GroupId: 'sg-0000000a', VpcId: 'vpc-0000000a'}]})
  msk.on(DescribeSecurityGroupRulesCommand).resolves({SecurityGroupRules: []})
  const pcx = {VpcPeeringConnectionId: 'pcx-00000001', RequesterVpcInfo: {VpcId: 'vpc-0000000b'}, AccepterVpcInfo: {VpcId: 'vpc-0000000a', OwnerId: '111111111111'}}
  // The general answer first: aws-sdk-client-mock lets the more specific matcher registered later win.
  iot.on(DescribeVpcPeeringConnectionsCommand).resolves({VpcPeeringConnections: []})
  iot.on(DescribeVpcPeeringConnectionsCommand, {VpcPeeringConnectionIds: ['pcx-00000001']})
    .resolvesOnce({VpcPeeringConnections: [{...pcx, Status: {Code: 'pending-acceptance'}}]})
    .resolves({VpcPeeringConnections: [{...pcx, Status: {Code: 'active'}}]})
  iot.on(CreateVpcPeeringConnectionCommand).resolves({VpcPeeringConnection: {...pcx, Status: {Code: 'initiating-request'}}})
  // New VPCs have DNS support on and DNS hostnames off (VPC user guide, "DNS attributes for your VPC").
  for (const side of [iot, msk]) {
    side.on(DescribeVpcAttributeCommand, {Attribute: 'enableDnsSupport'}).callsFake((input: {VpcId: string}) => ({VpcId: input.VpcId, EnableDnsSupport: {Value: true}}))
    side.on(DescribeVpcAttributeCommand, {Attribute: 'enableDnsHostnames'}).callsFake((input: {VpcId: string}) => ({VpcId: input.VpcId, EnableDnsHostnames: {Value: false}}))
  }
  msk.on(AuthorizeSecurityGroupIngressCommand).resolves({Return: true, SecurityGroupRules: [{SecurityGroupRuleId: 'sgr-1', GroupId: 'sg-0000000a', CidrIpv4: '10.20.0.0/16', FromPort: 9096}]})
  return {iotEc2, mskEc2, iot, msk}
}

test('the peering is requested by B with A as owner and region, and accepted with A\'s credentials', async () => {
  const {iotEc2, mskEc2, iot, msk} = networkMocks()
  const ctx = testContext({
    settings: {stack: 'demo', iot: {vpcId: 'vpc-0000000b'}, msk: {vpcId: 'vpc-0000000a', securityGroupId: 'sg-0000000a'}},
    iot: {accountId: '222222222222', region: 'eu-west-1', clients: {ec2: iotEc2}},
    msk: {accountId: '111111111111', region: 'us-east-1', clients: {ec2: mskEc2}},
  })
  await applySteps(peeringSteps, ctx, {dryRun: false})

  const request = iot.commandCalls(CreateVpcPeeringConnectionCommand)
  assert.equal(request.length, 1)
  assert.deepEqual(request[0].args[0].input, {
    VpcId: 'vpc-0000000b',
    PeerVpcId: 'vpc-0000000a',
    PeerOwnerId: '111111111111',
    PeerRegion: 'us-east-1',
    TagSpecifications: [{ResourceType: 'vpc-peering-connection', Tags: [
      {Key: 'iotctl:stack', Value: 'demo'}, {Key: 'iotctl:managed', Value: 'true'}, {Key: 'Name', Value: 'iotctl-demo'},
    ]}],
  })
  assert.equal(msk.commandCalls(CreateVpcPeeringConnectionCommand).length, 0)
  assert.deepEqual(msk.commandCalls(AcceptVpcPeeringConnectionCommand).map((c) => c.args[0].input), [{VpcPeeringConnectionId: 'pcx-00000001'}])
  assert.equal(iot.commandCalls(AcceptVpcPeeringConnectionCommand).length, 0, 'B cannot accept its own request')

  assert.deepEqual(iot.commandCalls(CreateRouteCommand).map((c) => c.args[0].input), [
    {RouteTableId: 'rtb-0000000b', DestinationCidrBlock: '10.10.0.0/16', VpcPeeringConnectionId: 'pcx-00000001'},
  ])
  assert.deepEqual(msk.commandCalls(CreateRouteCommand).map((c) => c.args[0].input), [
    {RouteTableId: 'rtb-0000000a', DestinationCidrBlock: '10.20.0.0/16', VpcPeeringConnectionId: 'pcx-00000001'},
  ])

  const ingress = msk.commandCalls(AuthorizeSecurityGroupIngressCommand)[0].args[0].input
  assert.deepEqual(ingress.IpPermissions, [{IpProtocol: 'tcp', FromPort: 9096, ToPort: 9096, IpRanges: [{CidrIp: '10.20.0.0/16', Description: 'iotctl:stack=demo IoT VPC vpc-0000000b to MSK brokers'}]}])
  assert.equal(ingress.GroupId, 'sg-0000000a')
})

test('overlapping VPCs are refused before any request that changes something', async () => {
  const {iotEc2, mskEc2, iot, msk} = networkMocks()
  msk.on(DescribeVpcsCommand).resolves({Vpcs: [{VpcId: 'vpc-0000000a', CidrBlock: '10.20.128.0/17'}]})
  const ctx = testContext({
    settings: {stack: 'demo', iot: {vpcId: 'vpc-0000000b'}, msk: {vpcId: 'vpc-0000000a', securityGroupId: 'sg-0000000a'}},
    iot: {accountId: '222222222222', clients: {ec2: iotEc2}},
    msk: {accountId: '111111111111', clients: {ec2: mskEc2}},
  })
  await assert.rejects(applySteps(peeringSteps, ctx, {dryRun: false}), /--iot-vpc vpc-0000000b \(10\.20\.0\.0\/16\) overlaps --msk-vpc vpc-0000000a \(10\.20\.128\.0\/17\)/)
  const mutating = [...iot.calls(), ...msk.calls()].map((c) => (c.args[0] as object).constructor.name).filter((n) => !n.startsWith('Describe'))
  assert.deepEqual(mutating, [])
})

test('a route to the peer CIDR through another target is a conflict, not something to replace', async () => {
  const {iotEc2, mskEc2, iot} = networkMocks()
  iot.on(DescribeRouteTablesCommand).resolves({RouteTables: [{RouteTableId: 'rtb-0000000b', VpcId: 'vpc-0000000b', Associations: [{SubnetId: 'subnet-1'}], Routes: [{DestinationCidrBlock: '10.10.0.0/16', TransitGatewayId: 'tgw-1'}]}]})
  const ctx = testContext({
    settings: {stack: 'demo', iot: {vpcId: 'vpc-0000000b'}, msk: {vpcId: 'vpc-0000000a', securityGroupId: 'sg-0000000a'}},
    iot: {accountId: '222222222222', clients: {ec2: iotEc2}},
    msk: {accountId: '111111111111', clients: {ec2: mskEc2}},
  })
  await assert.rejects(applySteps(peeringSteps, ctx, {dryRun: false}), /rtb-0000000b already routes 10\.10\.0\.0\/16 to tgw-1/)
  assert.equal(iot.commandCalls(CreateVpcPeeringConnectionCommand).length, 0)
})

function dnsContext(iotEc2: EC2Client, mskEc2: EC2Client) {
  return testContext({
    settings: {stack: 'demo', iot: {vpcId: 'vpc-0000000b'}, msk: {vpcId: 'vpc-0000000a', securityGroupId: 'sg-0000000a'}, peering: {dnsResolution: true}},
    iot: {accountId: '222222222222', profile: 'iot', clients: {ec2: iotEc2}},
    msk: {accountId: '111111111111', profile: 'msk', clients: {ec2: mskEc2}},
  })
}

test('--dns-resolution: both VPCs\' DNS attributes are read first; one that is off is bad input naming the VPC, the attribute and the command that enables it', async () => {
  const {iotEc2, mskEc2, iot, msk} = networkMocks()
  msk.on(DescribeVpcAttributeCommand, {Attribute: 'enableDnsHostnames'}).resolves({VpcId: 'vpc-0000000a', EnableDnsHostnames: {Value: true}})
  await assert.rejects(applySteps(peeringSteps, dnsContext(iotEc2, mskEc2), {dryRun: false}), (e: Error) => e.name === 'InputError' && e.message ===
    '--dns-resolution (peering.dnsResolution) needs DNS hostnames and DNS support on both VPCs: --iot-vpc vpc-0000000b has enableDnsHostnames off; ' +
    'enable it with: aws ec2 modify-vpc-attribute --vpc-id vpc-0000000b --enable-dns-hostnames \'{"Value":true}\' --region us-east-1 --profile iot')
  for (const side of [iot, msk]) {
    assert.deepEqual(side.commandCalls(DescribeVpcAttributeCommand).map((c) => c.args[0].input.Attribute).sort(), ['enableDnsHostnames', 'enableDnsSupport'])
  }
  const mutating = [...iot.calls(), ...msk.calls()].map((c) => (c.args[0] as object).constructor.name).filter((n) => !n.startsWith('Describe'))
  assert.deepEqual(mutating, [])
})

test('--dns-resolution: every attribute that is off is named, on both sides', async () => {
  const {iotEc2, mskEc2, msk} = networkMocks()
  msk.on(DescribeVpcAttributeCommand, {Attribute: 'enableDnsSupport'}).resolves({VpcId: 'vpc-0000000a', EnableDnsSupport: {Value: false}})
  await assert.rejects(applySteps(peeringSteps, dnsContext(iotEc2, mskEc2), {dryRun: false}), (e: Error) => {
    const named = [...e.message.matchAll(/(--\w+-vpc vpc-\w+) has (\w+) off/g)].map((m) => `${m[1]} ${m[2]}`)
    assert.deepEqual(named, ['--iot-vpc vpc-0000000b enableDnsHostnames', '--msk-vpc vpc-0000000a enableDnsHostnames', '--msk-vpc vpc-0000000a enableDnsSupport'])
    assert.match(e.message, /--vpc-id vpc-0000000a --enable-dns-support '\{"Value":true\}' --region us-east-1 --profile msk/)
    return true
  })
})

test('--dns-resolution with DNS hostnames and support on both VPCs: the peering allows DNS resolution from each side', async () => {
  const {iotEc2, mskEc2, iot, msk} = networkMocks()
  for (const [side, vpcId] of [[iot, 'vpc-0000000b'], [msk, 'vpc-0000000a']] as const) {
    side.on(DescribeVpcAttributeCommand, {Attribute: 'enableDnsHostnames'}).resolves({VpcId: vpcId, EnableDnsHostnames: {Value: true}})
  }
  await applySteps(peeringSteps, dnsContext(iotEc2, mskEc2), {dryRun: false})
  assert.deepEqual(iot.commandCalls(ModifyVpcPeeringConnectionOptionsCommand).map((c) => c.args[0].input),
    [{VpcPeeringConnectionId: 'pcx-00000001', RequesterPeeringConnectionOptions: {AllowDnsResolutionFromRemoteVpc: true}}])
  assert.deepEqual(msk.commandCalls(ModifyVpcPeeringConnectionOptionsCommand).map((c) => c.args[0].input),
    [{VpcPeeringConnectionId: 'pcx-00000001', AccepterPeeringConnectionOptions: {AllowDnsResolutionFromRemoteVpc: true}}])
})

test('without --dns-resolution the VPCs\' DNS attributes are not read', async () => {
  const {iotEc2, mskEc2, iot, msk} = networkMocks()
  const ctx = dnsContext(iotEc2, mskEc2)
  ctx.settings.peering = {}
  await applySteps(peeringSteps, ctx, {dryRun: true})
  assert.equal(iot.commandCalls(DescribeVpcAttributeCommand).length + msk.commandCalls(DescribeVpcAttributeCommand).length, 0)
})
