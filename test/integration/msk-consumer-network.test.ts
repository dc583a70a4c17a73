// `iotctl msk consumer-network`: the network a Lambda event source mapping (or any
// consumer in the cluster's VPC) needs, per the Lambda developer guide's
// "Configuring your Amazon MSK cluster and Amazon VPC network for Lambda". Both
// ways out (interface endpoints, a NAT gateway per zone), each zone of the cluster
// served, a second run changes nothing, doctor checks it zone by zone, and cleanup
// finds it all by tags after the ledger is lost. Bad input changes nothing.
// The built binary against the local two-account AWS (one for the whole file).
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {
  AllocateAddressCommand, CreateNatGatewayCommand, CreateVpcCommand, ReleaseAddressCommand,
  AssociateRouteTableCommand, AttachInternetGatewayCommand, CreateInternetGatewayCommand, CreateRouteCommand, CreateRouteTableCommand,
  CreateSubnetCommand, CreateVpcEndpointCommand, DescribeAddressesCommand, DescribeNatGatewaysCommand, DescribeRouteTablesCommand,
  DescribeSecurityGroupRulesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcEndpointsCommand, EC2Client, ModifyVpcAttributeCommand,
  ReplaceRouteTableAssociationCommand,
} from '@aws-sdk/client-ec2'
import {CreateClusterV2Command, KafkaClient} from '@aws-sdk/client-kafka'
import {assertBadInput} from '../support/bad-input.ts'
import {runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
let ec2: EC2Client
let clusterArn: string
/** The private subnets' route tables: one per zone. */
let tables: string[]
const stack = 'consumer'
const tagFilter = [{Name: 'tag:iotctl:stack', Values: [stack]}]

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 120_000})
const json = <T>(stdout: string): T => JSON.parse(stdout) as T

function writeConfig(consumerNetwork?: Record<string, unknown>): void {
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack,
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, securityGroupId: network.msk.securityGroupId, clusterArn, ...(consumerNetwork ? {consumerNetwork} : {})},
  }))
}

async function publicSubnet(zone: string, cidr: string, table: string): Promise<void> {
  const subnet = await ec2.send(new CreateSubnetCommand({VpcId: network.msk.vpcId, CidrBlock: cidr, AvailabilityZone: zone}))
  await ec2.send(new AssociateRouteTableCommand({RouteTableId: table, SubnetId: subnet.Subnet!.SubnetId}))
}

before(async () => {
  // The cluster is ACTIVE at once: this file is about its network, not its creation.
  aws = await startLocalAws({kafka: false, clusterActivationDelayMs: 0})
  network = await aws.createNetwork()
  ec2 = new EC2Client(aws.clientConfig('msk'))
  const kafka = new KafkaClient(aws.clientConfig('msk'))
  clusterArn = (await kafka.send(new CreateClusterV2Command({ClusterName: 'consumers', Provisioned: {
    KafkaVersion: '3.8.x', NumberOfBrokerNodes: 2,
    BrokerNodeGroupInfo: {ClientSubnets: network.msk.subnetIds, InstanceType: 'kafka.t3.small', SecurityGroups: [network.msk.securityGroupId]},
    ClientAuthentication: {Sasl: {Scram: {Enabled: true}, Iam: {Enabled: true}}},
  }}))).ClusterArn!
  kafka.destroy()
  // Private subnets with a route table each (per zone), and an internet gateway with a public subnet in the first zone only.
  const second = await ec2.send(new CreateRouteTableCommand({VpcId: network.msk.vpcId}))
  const {RouteTables: [shared] = []} = await ec2.send(new DescribeRouteTablesCommand({RouteTableIds: [network.msk.routeTableId]}))
  const association = shared.Associations!.find((a) => a.SubnetId === network.msk.subnetIds[1])!
  await ec2.send(new ReplaceRouteTableAssociationCommand({AssociationId: association.RouteTableAssociationId, RouteTableId: second.RouteTable!.RouteTableId}))
  tables = [network.msk.routeTableId, second.RouteTable!.RouteTableId!]
  const igw = await ec2.send(new CreateInternetGatewayCommand({}))
  await ec2.send(new AttachInternetGatewayCommand({InternetGatewayId: igw.InternetGateway!.InternetGatewayId, VpcId: network.msk.vpcId}))
  const publicTable = await ec2.send(new CreateRouteTableCommand({VpcId: network.msk.vpcId}))
  await ec2.send(new CreateRouteCommand({RouteTableId: publicTable.RouteTable!.RouteTableId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGateway!.InternetGatewayId}))
  await publicSubnet(network.msk.subnets[0].availabilityZone, '10.10.100.0/24', publicTable.RouteTable!.RouteTableId!)
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-consumer-'))
  writeConfig()
})

after(async () => {
  ec2?.destroy()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

async function clusterGroupRules() {
  const {SecurityGroupRules: rules = []} = await ec2.send(new DescribeSecurityGroupRulesCommand({Filters: [{Name: 'group-id', Values: [network.msk.securityGroupId]}, ...tagFilter]}))
  return rules.map((r) => `${r.IsEgress ? 'out' : 'in'} ${r.IpProtocol}/${r.FromPort ?? -1} ${r.ReferencedGroupInfo?.GroupId === network.msk.securityGroupId ? 'self' : r.CidrIpv4}`).sort()
}

async function nothingLeft(): Promise<void> {
  assert.deepEqual(await clusterGroupRules(), [])
  const {VpcEndpoints = []} = await ec2.send(new DescribeVpcEndpointsCommand({Filters: tagFilter}))
  assert.deepEqual(VpcEndpoints.filter((e) => e.State?.toLowerCase() !== 'deleted').map((e) => e.VpcEndpointId), [])
  assert.deepEqual((await ec2.send(new DescribeSecurityGroupsCommand({Filters: tagFilter}))).SecurityGroups ?? [], [])
  const {NatGateways = []} = await ec2.send(new DescribeNatGatewaysCommand({Filter: tagFilter}))
  assert.deepEqual(NatGateways.filter((n) => n.State !== 'deleted').map((n) => n.NatGatewayId), [])
  assert.deepEqual((await ec2.send(new DescribeAddressesCommand({Filters: tagFilter}))).Addresses ?? [], [])
  const {RouteTables = []} = await ec2.send(new DescribeRouteTablesCommand({RouteTableIds: tables}))
  assert.deepEqual(RouteTables.flatMap((t) => t.Routes ?? []).filter((r) => r.DestinationCidrBlock === '0.0.0.0/0'), [])
}

/** Cleanup with the ledger gone: what it finds by tags and construction only. */
async function cleanupWithoutLedger(): Promise<void> {
  rmSync(join(cwd, '.iotctl'), {recursive: true, force: true})
  const cleanup = await cli(['cleanup', '--yes', '--json'])
  assert.equal(cleanup.code, 0, cleanup.stdout + cleanup.stderr)
  await nothingLeft()
}

interface Result {via: string; brokerPorts: {port: number}[]; zones: {zone: string; through: string[]}[]; changed: boolean}
interface Doctor {checks: {id: string; status: string; detail: string}[]}

describe('msk consumer-network', () => {
  test('bad input changes nothing: --via nat without a public subnet in a cluster zone names the zone; an unknown --via; no --via', async () => {
    aws.resetLog()
    const zoneB = network.msk.subnets[1].availabilityZone
    assertBadInput(aws, await cli(['msk', 'consumer-network', '--via', 'nat']), new RegExp(`--via nat \\(msk\\.consumerNetwork\\.via\\): ${network.msk.vpcId} has no public subnet .* in ${zoneB}, where cluster consumers has ${network.msk.subnetIds[1]}`))
    assertBadInput(aws, await cli(['msk', 'consumer-network', '--via', 'vpn']), /--via|vpn/)
    assertBadInput(aws, await cli(['msk', 'consumer-network']), /missing --via/)
  })

  test('--via endpoints with DNS hostnames off on the cluster\'s VPC: exit 2 naming the attribute; the local AWS refuses private DNS there, and a public NAT gateway without an internet gateway, as AWS does', async () => {
    aws.resetLog()
    assertBadInput(aws, await cli(['msk', 'consumer-network', '--via', 'endpoints']), new RegExp(`private DNS needs DNS support and DNS hostnames on the cluster's VPC ${network.msk.vpcId}: enableDnsHostnames is off`))
    await assert.rejects(ec2.send(new CreateVpcEndpointCommand({VpcId: network.msk.vpcId, VpcEndpointType: 'Interface', ServiceName: 'com.amazonaws.us-east-1.sts', SubnetIds: [network.msk.subnetIds[0]]})), /InvalidParameter|enableDnsHostnames/)
    // A public NAT gateway in a VPC with no internet gateway: refused as EC2 refuses it.
    const bare = await ec2.send(new CreateVpcCommand({CidrBlock: '10.99.0.0/16'}))
    const bareSubnet = await ec2.send(new CreateSubnetCommand({VpcId: bare.Vpc!.VpcId, CidrBlock: '10.99.0.0/24'}))
    const address = await ec2.send(new AllocateAddressCommand({Domain: 'vpc'}))
    await assert.rejects(ec2.send(new CreateNatGatewayCommand({SubnetId: bareSubnet.Subnet!.SubnetId, AllocationId: address.AllocationId})), /has no Internet gateway attached/)
    await ec2.send(new ReleaseAddressCommand({AllocationId: address.AllocationId}))
  })

  test('--via endpoints: rules on the cluster\'s group for the cluster\'s ports, three endpoints in both zones with private DNS; again: nothing to change; doctor passes; cleanup finds it without the ledger', async () => {
    await ec2.send(new ModifyVpcAttributeCommand({VpcId: network.msk.vpcId, EnableDnsHostnames: {Value: true}}))
    aws.resetLog()
    const dry = await cli(['msk', 'consumer-network', '--via', 'endpoints', '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /create interface endpoint com\.amazonaws\.us-east-1\.sts in us-east-1a \(subnet-\w+\), us-east-1b \(subnet-\w+\), private DNS on/)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [], 'a dry run changes nothing')
    const first = await cli(['msk', 'consumer-network', '--via', 'endpoints', '--json'])
    assert.equal(first.code, 0, first.stdout + first.stderr)
    const result = json<Result>(first.stdout)
    // Read from the cluster: SASL/SCRAM and IAM are on, so 9096 and 9098.
    assert.deepEqual(result.brokerPorts.map((p) => p.port), [9096, 9098])
    assert.deepEqual(await clusterGroupRules(), ['in tcp/9096 self', 'in tcp/9098 self', 'out tcp/443 0.0.0.0/0', 'out tcp/9096 self', 'out tcp/9098 self'])
    const {VpcEndpoints: endpoints = []} = await ec2.send(new DescribeVpcEndpointsCommand({Filters: tagFilter}))
    assert.deepEqual(endpoints.map((e) => e.ServiceName).sort(), ['com.amazonaws.us-east-1.lambda', 'com.amazonaws.us-east-1.secretsmanager', 'com.amazonaws.us-east-1.sts'])
    const {SecurityGroups: [group] = []} = await ec2.send(new DescribeSecurityGroupsCommand({Filters: tagFilter}))
    for (const endpoint of endpoints) {
      assert.deepEqual([...endpoint.SubnetIds ?? []].sort(), [...network.msk.subnetIds].sort(), 'one subnet in each zone of the cluster')
      assert.equal(endpoint.PrivateDnsEnabled, true)
      assert.deepEqual(endpoint.Groups?.map((g) => g.GroupId), [group.GroupId])
      assert.match(endpoint.PolicyDocument ?? '', new RegExp(`"(aws:PrincipalAccount|aws:SourceAccount)":"${network.msk.accountId}"`))
    }
    assert.deepEqual(group.IpPermissions?.map((p) => [p.FromPort, p.UserIdGroupPairs?.map((g) => g.GroupId)]), [[443, [network.msk.securityGroupId]]])
    assert.deepEqual(result.zones.map((z) => [z.zone, z.through.length]), network.msk.subnets.map((s) => [s.availabilityZone, 3]))

    aws.resetLog()
    const again = await cli(['msk', 'consumer-network', '--via', 'endpoints', '--json'])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(json<Result>(again.stdout).changed, false)
    assert.deepEqual(aws.mutatingRequests().filter((r) => r.service === 'ec2').map((r) => r.operation), [], 'a second run changes nothing')

    writeConfig({via: 'endpoints'})
    const doctor = json<Doctor>((await cli(['doctor', '--json'])).stdout)
    const consumer = doctor.checks.filter((c) => c.id.startsWith('consumer-'))
    assert.deepEqual(consumer.map((c) => [c.id, c.status]), [['consumer-sg-rules', 'pass'], ['consumer-endpoints', 'pass']])
    await cleanupWithoutLedger()
    const broken = json<Doctor>((await cli(['doctor', '--json'])).stdout).checks.find((c) => c.id === 'consumer-endpoints')
    assert.equal(broken?.status, 'fail')
    assert.match(broken?.detail ?? '', /missing: create interface endpoint com\.amazonaws\.us-east-1\.sts/)
  })

  test('--via nat with --self-referencing: a NAT gateway with an Elastic IP in each zone\'s public subnet, each zone\'s table routes 0.0.0.0/0 to its own; again: nothing; up plans it from the config; cleanup finds it without the ledger', async () => {
    writeConfig()
    const publicTable = (await ec2.send(new DescribeRouteTablesCommand({Filters: [{Name: 'route.destination-cidr-block', Values: ['0.0.0.0/0']}]}))).RouteTables![0].RouteTableId!
    await publicSubnet(network.msk.subnets[1].availabilityZone, '10.10.101.0/24', publicTable)
    const first = await cli(['msk', 'consumer-network', '--via', 'nat', '--self-referencing', '--json'])
    assert.equal(first.code, 0, first.stdout + first.stderr)
    assert.deepEqual(await clusterGroupRules(), ['in -1/-1 self', 'out -1/-1 self', 'out tcp/443 0.0.0.0/0'])
    const {NatGateways: nats = []} = await ec2.send(new DescribeNatGatewaysCommand({Filter: tagFilter}))
    assert.equal(nats.length, 2)
    const {Subnets: natSubnets = []} = await ec2.send(new DescribeSubnetsCommand({SubnetIds: nats.map((n) => n.SubnetId!)}))
    assert.deepEqual(natSubnets.map((s) => [s.AvailabilityZone, s.CidrBlock]).sort(), [[network.msk.subnets[0].availabilityZone, '10.10.100.0/24'], [network.msk.subnets[1].availabilityZone, '10.10.101.0/24']])
    assert.ok(nats.every((n) => n.NatGatewayAddresses?.[0]?.AllocationId), 'each with an Elastic IP')
    const {RouteTables: routed = []} = await ec2.send(new DescribeRouteTablesCommand({RouteTableIds: tables}))
    for (const [i, table] of tables.entries()) {
      const natOfZone = nats.find((n) => n.SubnetId === natSubnets.find((s) => s.AvailabilityZone === network.msk.subnets[i].availabilityZone)?.SubnetId)
      assert.equal(routed.find((t) => t.RouteTableId === table)?.Routes?.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')?.NatGatewayId, natOfZone?.NatGatewayId, `zone ${network.msk.subnets[i].availabilityZone} goes out through its own NAT gateway`)
    }
    aws.resetLog()
    const again = await cli(['msk', 'consumer-network', '--via', 'nat', '--self-referencing', '--json'])
    assert.equal(again.code, 0, again.stderr)
    assert.deepEqual(aws.mutatingRequests().filter((r) => r.service === 'ec2').map((r) => r.operation), [], 'a second run changes nothing')

    writeConfig({via: 'nat', selfReferencing: true})
    const plan = await cli(['up', '--dry-run', '--json'])
    const planned = json<{steps: {id: string}[]}>(plan.stdout).steps.map((s) => s.id)
    assert.ok(['consumer-sg-rules', 'consumer-endpoints', 'consumer-nat'].every((id) => planned.includes(id)), plan.stdout)
    const doctor = json<Doctor>((await cli(['doctor', '--json'])).stdout).checks.filter((c) => c.id.startsWith('consumer-'))
    assert.deepEqual(doctor.map((c) => [c.id, c.status]), [['consumer-sg-rules', 'pass'], ['consumer-nat', 'pass']])
    assert.match(doctor[1].detail, new RegExp(`${network.msk.subnets[0].availabilityZone}: nat-.*; ${network.msk.subnets[1].availabilityZone}: nat-`))
    await cleanupWithoutLedger()
  })
})
