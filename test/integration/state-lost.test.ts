// The ledger is a hint, not the truth: with .iotctl/ gone, `up` adopts what
// the stack owns instead of duplicating it, and `cleanup` finds the stack's
// resources by tags and construction marks in both accounts and removes them
// all — never a look-alike without the stack's marks. Two stacks live side by
// side in the same two accounts: "plant" and "plant2" (a name that starts like
// the other, so a prefix match would be caught), each with its own network.
// Decoys beside "plant", made by hand: an untagged peering between the same
// VPCs, routes to the same CIDRs through other targets, ingress rules with
// look-alike descriptions, secrets, keys, a role, a destination and a rule with
// similar names but no marks.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {
  AcceptVpcPeeringConnectionCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateVpcPeeringConnectionCommand,
  DescribeRouteTablesCommand,
  EC2Client,
} from '@aws-sdk/client-ec2'
import {CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {CreateTopicRuleCommand, CreateTopicRuleDestinationCommand, IoTClient} from '@aws-sdk/client-iot'
import {CreateAliasCommand, CreateKeyCommand, KMSClient} from '@aws-sdk/client-kms'
import {CreateSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'
import {counts, inventory, itemKey, keysOf, ledgerRecords, oneOfEach, type Item} from '../support/stack-inventory.ts'

let aws: LocalAws
const stacks = ['plant', 'plant2'] as const
type Stack = (typeof stacks)[number]
const networks = {} as Record<Stack, Network>
const cwds = {} as Record<Stack, string>
/** What each stack owns, from its ledger right after `up`. */
const owned = {} as Record<Stack, string[]>
/** The hand-made look-alikes (of the kinds the inventory counts), and the route through an internet gateway. */
let decoys: Item[] = []
let gatewayRoute: {routeTableId: string; cidr: string}

const cli = (stack: Stack, args: string[], cwd = cwds[stack]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 120_000})
const everything = () => inventory(aws, Object.values(networks))
const forgetLedger = (stack: Stack) => rmSync(join(cwds[stack], '.iotctl'), {recursive: true, force: true})

async function makeDecoys(network: Network): Promise<void> {
  const iot = {ec2: new EC2Client(aws.clientConfig('iot')), iam: new IAMClient(aws.clientConfig('iot')), iot: new IoTClient(aws.clientConfig('iot')), kms: new KMSClient(aws.clientConfig('iot')), secrets: new SecretsManagerClient(aws.clientConfig('iot'))}
  const msk = {ec2: new EC2Client(aws.clientConfig('msk')), kms: new KMSClient(aws.clientConfig('msk')), secrets: new SecretsManagerClient(aws.clientConfig('msk'))}
  // An untagged peering between the very same VPCs, accepted, with a route to the MSK CIDR through it in another table.
  const pcx = (await iot.ec2.send(new CreateVpcPeeringConnectionCommand({VpcId: network.iot.vpcId, PeerVpcId: network.msk.vpcId, PeerOwnerId: aws.accounts.msk, PeerRegion: aws.region}))).VpcPeeringConnection!.VpcPeeringConnectionId!
  await msk.ec2.send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: pcx}))
  const iotTable = (await iot.ec2.send(new CreateRouteTableCommand({VpcId: network.iot.vpcId}))).RouteTable!.RouteTableId!
  await iot.ec2.send(new CreateRouteCommand({RouteTableId: iotTable, DestinationCidrBlock: network.msk.cidr, VpcPeeringConnectionId: pcx}))
  // In the MSK VPC, a route to the IoT CIDR through an internet gateway.
  const gateway = (await msk.ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!
  await msk.ec2.send(new AttachInternetGatewayCommand({InternetGatewayId: gateway, VpcId: network.msk.vpcId}))
  const mskTable = (await msk.ec2.send(new CreateRouteTableCommand({VpcId: network.msk.vpcId}))).RouteTable!.RouteTableId!
  await msk.ec2.send(new CreateRouteCommand({RouteTableId: mskTable, DestinationCidrBlock: network.iot.cidr, GatewayId: gateway}))
  gatewayRoute = {routeTableId: mskTable, cidr: network.iot.cidr}
  // Ingress on the brokers' group: the broker port from elsewhere, and a mark of a stack whose name starts the same.
  await msk.ec2.send(new AuthorizeSecurityGroupIngressCommand({GroupId: network.msk.securityGroupId, IpPermissions: [
    {IpProtocol: 'tcp', FromPort: 9096, ToPort: 9096, IpRanges: [{CidrIp: '10.99.0.0/16', Description: 'bastion, by hand'}]},
    {IpProtocol: 'tcp', FromPort: 9094, ToPort: 9094, IpRanges: [{CidrIp: network.iot.cidr, Description: 'iotctl:stack=plantX IoT VPC to MSK brokers'}]},
  ]}))
  // Secrets with similar names and keys with similar aliases, in both accounts, without the stack's tag.
  for (const side of [iot, msk]) {
    await side.secrets.send(new CreateSecretCommand({Name: 'AmazonMSK_plant_old', SecretString: '{"username":"u","password":"decoy-password"}'}))
    await side.secrets.send(new CreateSecretCommand({Name: 'AmazonMSK_plan', SecretString: '{"username":"u","password":"decoy-password"}', Tags: [{Key: 'iotctl:stack', Value: 'plan'}]}))
    const key = (await side.kms.send(new CreateKeyCommand({Description: 'iotctl stack plant: a key made by hand'}))).KeyMetadata!.KeyId!
    await side.kms.send(new CreateAliasCommand({AliasName: 'alias/iotctl-plant-old', TargetKeyId: key}))
  }
  // A role AWS IoT may assume, a destination in the same VPC using it, and a rule named like the stack's.
  const trust = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole'}]})
  const role = (await iot.iam.send(new CreateRoleCommand({RoleName: 'iotctl-plant-iot-to-msk-v1', AssumeRolePolicyDocument: trust}))).Role!.Arn!
  await iot.iot.send(new CreateTopicRuleDestinationCommand({destinationConfiguration: {vpcConfiguration: {
    vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroups: [network.iot.securityGroupId], roleArn: role,
  }}}))
  await iot.iot.send(new CreateTopicRuleCommand({ruleName: 'iotctl_plant_to_kafka_v1', topicRulePayload: {
    sql: "SELECT * FROM 'device/+/data'", description: 'iotctl:stack=plant-v1 made by hand', actions: [{republish: {topic: 'copy', roleArn: role}}],
  }}))
  for (const side of [...Object.values(iot), ...Object.values(msk)]) side.destroy()
}

async function gatewayRouteExists(): Promise<boolean> {
  const ec2 = new EC2Client(aws.clientConfig('msk'))
  try {
    const table = (await ec2.send(new DescribeRouteTablesCommand({RouteTableIds: [gatewayRoute.routeTableId]}))).RouteTables?.[0]
    return Boolean(table?.Routes?.some((r) => r.DestinationCidrBlock === gatewayRoute.cidr && r.GatewayId))
  } finally {
    ec2.destroy()
  }
}

/** Items minus the given keys, as sorted keys. */
const without = (items: Item[], gone: string[]) => items.map(itemKey).filter((k) => !gone.includes(k)).sort()

before(async () => {
  aws = await startLocalAws({destinationActivationDelayMs: 0, clusterActivationDelayMs: 0})
  networks.plant = await aws.createNetwork({name: 'plant'})
  networks.plant2 = await aws.createNetwork({name: 'plant2', iot: {cidr: '10.40.0.0/16'}, msk: {cidr: '10.50.0.0/16'}})
  for (const stack of stacks) {
    const network = networks[stack]
    cwds[stack] = mkdtempSync(join(tmpdir(), `iotctl-${stack}-`))
    writeStackConfig(cwds[stack], stack, network)
    const up = await cli(stack, ['up', '--create-cluster'])
    assert.equal(up.code, 0, up.stderr)
    owned[stack] = keysOf(ledgerRecords(cwds[stack], stack))
  }
  const stacksOnly = await everything()
  await makeDecoys(networks.plant)
  const made = new Set(stacksOnly.map(itemKey))
  decoys = (await everything()).filter((item) => !made.has(itemKey(item)))
})

after(async () => {
  await aws?.stop()
  for (const cwd of Object.values(cwds)) rmSync(cwd, {recursive: true, force: true})
})

describe('with the ledger lost, up adopts and cleanup finds by tags and marks, never touching a look-alike', () => {
  test('each stack owns one of each, and the decoys are what they seem', async () => {
    const all = await everything()
    for (const stack of stacks) {
      const mine = all.filter((item) => owned[stack].includes(itemKey(item)))
      assert.deepEqual(counts(mine), oneOfEach, stack)
    }
    assert.deepEqual(counts(decoys), {
      'iot ec2:vpc-peering-connection': 1, 'iot ec2:route': 1, 'msk ec2:security-group-rule': 2,
      'iot secretsmanager:secret': 2, 'msk secretsmanager:secret': 2, 'iot kms:key': 1, 'msk kms:key': 1,
      'iot iam:role': 1, 'iot iot:topic-rule-destination': 1, 'iot iot:topic-rule': 1,
    })
  })

  test('two stacks side by side: each one\'s cleanup plan is exactly its own resources', async () => {
    for (const stack of stacks) {
      aws.resetLog()
      const plan = await cli(stack, ['cleanup', '--dry-run', '--include-cluster', '--json'])
      assert.equal(plan.code, 0, plan.stderr)
      const planned = jsonOf<{steps: {outcome: string; resources: Item[]}[]}>(plan).steps.filter((s) => s.outcome === 'would-delete').flatMap((s) => s.resources)
      assert.deepEqual(keysOf(planned), owned[stack])
      assert.deepEqual(aws.mutatingRequests(), [])
    }
  })

  test('up with .iotctl/ deleted adopts everything the stack owns: no change, and the ledger is rebuilt', async () => {
    forgetLedger('plant')
    aws.resetLog()
    const result = await cli('plant', ['up', '--create-cluster', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf<{changed: boolean; summary: Record<'iot' | 'msk', {created: string[]; adopted: string[]}>}>(result)
    assert.equal(document.changed, false)
    assert.deepEqual([...document.summary.iot.created, ...document.summary.msk.created], [])
    assert.equal(document.summary.iot.adopted.length + document.summary.msk.adopted.length, owned.plant.length)
    assert.deepEqual(aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`), [], 'nothing created twice')
    assert.deepEqual(keysOf(ledgerRecords(cwds.plant, 'plant')), owned.plant)
  })

  test('cleanup with .iotctl/ deleted removes every resource of the stack in both accounts and nothing else', async () => {
    forgetLedger('plant')
    const before = await everything()
    const result = await cli('plant', ['cleanup', '--yes', '--include-cluster'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(keysOf(await everything()), without(before, owned.plant), 'exactly the stack\'s resources are gone')
    assert.ok(await gatewayRouteExists(), 'the route through the internet gateway is still there')
  })

  test('on a fresh machine (no config, no ledger), cleanup --stack with the two profiles removes the other stack, and only it', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'iotctl-fresh-'))
    try {
      const before = await everything()
      const result = await cli('plant2', ['cleanup', '--stack', 'plant2', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes', '--include-cluster'], fresh)
      assert.equal(result.code, 0, result.stderr)
      assert.deepEqual(keysOf(await everything()), without(before, owned.plant2))
    } finally {
      rmSync(fresh, {recursive: true, force: true})
    }
    assert.deepEqual(keysOf(await everything()), keysOf(decoys), 'only the decoys are left')
    assert.ok(await gatewayRouteExists())
  })

  test('cleanup again finds nothing and changes nothing', async () => {
    for (const stack of stacks) {
      forgetLedger(stack)
      aws.resetLog()
      const result = await cli(stack, ['cleanup', '--yes', '--include-cluster'])
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stdout, /nothing to delete/)
      assert.deepEqual(aws.mutatingRequests(), [])
    }
  })
})
