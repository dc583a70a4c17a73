// `iotctl peer setup` → `peer status` → a second setup is a no-op → cleanup
// leaves nothing in either account → cleanup again is a no-op; run as a user
// would (the built binary) against the local two-account AWS.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {DeleteRouteCommand, DescribeRouteTablesCommand, DescribeSecurityGroupRulesCommand, DescribeVpcPeeringConnectionsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
let iotEc2: EC2Client
let mskEc2: EC2Client

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv()})
const setupArgs = () => [
  'peer', 'setup', '--iot-profile', 'iot', '--msk-profile', 'msk',
  '--iot-vpc', network.iot.vpcId, '--msk-vpc', network.msk.vpcId, '--msk-security-group', network.msk.securityGroupId,
]
const statusArgs = () => ['peer', 'status', '--iot-profile', 'iot', '--msk-profile', 'msk', '--iot-vpc', network.iot.vpcId, '--msk-vpc', network.msk.vpcId, '--msk-security-group', network.msk.securityGroupId]

async function livePeerings(ec2: EC2Client) {
  const answer = await ec2.send(new DescribeVpcPeeringConnectionsCommand({}))
  return (answer.VpcPeeringConnections ?? []).filter((p) => !['deleted', 'rejected', 'failed'].includes(p.Status?.Code ?? ''))
}

async function peeringRoutes(ec2: EC2Client, vpcId: string) {
  const tables = (await ec2.send(new DescribeRouteTablesCommand({Filters: [{Name: 'vpc-id', Values: [vpcId]}]}))).RouteTables ?? []
  return tables.flatMap((t) => (t.Routes ?? []).filter((r) => r.VpcPeeringConnectionId).map((r) => ({table: t.RouteTableId, destination: r.DestinationCidrBlock, pcx: r.VpcPeeringConnectionId})))
}

async function ingressRules() {
  const rules = (await mskEc2.send(new DescribeSecurityGroupRulesCommand({Filters: [{Name: 'group-id', Values: [network.msk.securityGroupId]}]}))).SecurityGroupRules ?? []
  return rules.filter((r) => !r.IsEgress)
}

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  iotEc2 = new EC2Client(aws.clientConfig('iot'))
  mskEc2 = new EC2Client(aws.clientConfig('msk'))
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-peer-'))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('peer setup across two accounts', () => {
  test('--dry-run shows the plan and makes no mutating call', async () => {
    aws.resetLog()
    const result = await cli([...setupArgs(), '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /request VPC peering .* → .*111111111111/)
    assert.match(result.stdout, /allow tcp\/9096 from 10\.20\.0\.0\/16/)
    assert.match(result.stdout, /dry run: nothing was changed/)
    assert.deepEqual(aws.mutatingRequests(), [])
    assert.equal(existsSync(join(cwd, '.iotctl', 'iotctl.json')), false, 'a dry run writes no ledger')
  })

  test('setup peers the VPCs, routes both ways and opens the broker port', async () => {
    const result = await cli([...setupArgs(), '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    assert.equal(document.changed, true)
    assert.deepEqual(document.accounts.iot.accountId, aws.accounts.iot)
    assert.deepEqual(document.accounts.msk.accountId, aws.accounts.msk)

    const fromB = await livePeerings(iotEc2)
    assert.equal(fromB.length, 1)
    assert.equal(fromB[0].Status?.Code, 'active')
    assert.equal(fromB[0].VpcPeeringConnectionId, document.peeringId)
    assert.equal(fromB[0].RequesterVpcInfo?.VpcId, network.iot.vpcId)
    assert.equal(fromB[0].AccepterVpcInfo?.VpcId, network.msk.vpcId)
    assert.equal(fromB[0].AccepterVpcInfo?.OwnerId, aws.accounts.msk)
    assert.ok(fromB[0].Tags?.some((t) => t.Key === 'iotctl:stack' && t.Value === 'iotctl'))

    assert.deepEqual(await peeringRoutes(iotEc2, network.iot.vpcId), [{table: network.iot.routeTableId, destination: network.msk.cidr, pcx: document.peeringId}])
    assert.deepEqual(await peeringRoutes(mskEc2, network.msk.vpcId), [{table: network.msk.routeTableId, destination: network.iot.cidr, pcx: document.peeringId}])
    const rules = await ingressRules()
    assert.equal(rules.length, 1)
    assert.equal(rules[0].CidrIpv4, network.iot.cidr)
    assert.equal(rules[0].FromPort, 9096)
    assert.match(rules[0].Description ?? '', /^iotctl:stack=iotctl /)

    const ledgerFile = join(cwd, '.iotctl', 'iotctl.json')
    assert.equal(statSync(ledgerFile).mode & 0o777, 0o600)
    const ledger = JSON.parse(readFileSync(ledgerFile, 'utf8'))
    assert.deepEqual(ledger.resources.map((r: {kind: string}) => r.kind).sort(), ['ec2:route', 'ec2:route', 'ec2:security-group-rule', 'ec2:vpc-peering-connection'])
  })

  test('status shows every link in place', async () => {
    const result = await cli([...statusArgs(), '--json'])
    assert.equal(result.code, 0, result.stderr)
    const status = jsonOf(result)
    assert.equal(status.healthy, true)
    assert.equal(status.links.length, 4)
    const table = await cli(statusArgs())
    assert.match(table.stdout, /all links are in place/)
  })

  test('a second setup changes nothing and says so', async () => {
    aws.resetLog()
    const result = await cli(setupArgs())
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /nothing to change/)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('a route deleted behind iotctl\'s back: status exits 1 naming it, setup repairs it', async () => {
    await mskEc2.send(new DeleteRouteCommand({RouteTableId: network.msk.routeTableId, DestinationCidrBlock: network.iot.cidr}))
    const broken = await cli(statusArgs())
    assert.equal(broken.code, 1)
    assert.match(broken.stdout, new RegExp(`1 link\\(s\\) missing or broken: route ${network.iot.cidr.replace(/\./g, '\\.').replace('/', '\\/')} → pcx-\\w+ in ${network.msk.routeTableId}`))
    const repaired = await cli(setupArgs())
    assert.equal(repaired.code, 0, repaired.stderr)
    assert.equal((await cli(statusArgs())).code, 0)
    assert.equal((await peeringRoutes(mskEc2, network.msk.vpcId)).length, 1)
  })

  test('cleanup without --yes and without a terminal refuses, changing nothing', async () => {
    aws.resetLog()
    const result = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk'])
    assert.equal(result.code, 2)
    assert.match(result.stderr, /pass --yes/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('cleanup removes everything in both accounts; a second cleanup is a no-op', async () => {
    const result = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).deleted, 4)
    assert.deepEqual(await livePeerings(iotEc2), [])
    assert.deepEqual(await livePeerings(mskEc2), [])
    assert.deepEqual(await peeringRoutes(iotEc2, network.iot.vpcId), [])
    assert.deepEqual(await peeringRoutes(mskEc2, network.msk.vpcId), [])
    assert.deepEqual(await ingressRules(), [])

    aws.resetLog()
    const again = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to delete/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('with the ledger lost, cleanup finds the stack by tags and marks and spares another stack', async () => {
    assert.equal((await cli(setupArgs())).code, 0)
    rmSync(join(cwd, '.iotctl'), {recursive: true})
    // Another stack, peering two other VPCs, with its own ledger in another folder.
    const otherNetwork = await aws.createNetwork({name: 'other', iot: {cidr: '10.40.0.0/16'}, msk: {cidr: '10.50.0.0/16'}})
    const otherCwd = mkdtempSync(join(tmpdir(), 'iotctl-peer-other-'))
    const otherArgs = ['--stack', 'other', '--iot-profile', 'iot', '--msk-profile', 'msk']
    const other = await runCli(['peer', 'setup', ...otherArgs, '--iot-vpc', otherNetwork.iot.vpcId, '--msk-vpc', otherNetwork.msk.vpcId,
      '--msk-security-group', otherNetwork.msk.securityGroupId], {cwd: otherCwd, env: aws.childEnv()})
    assert.equal(other.code, 0, other.stderr)

    const result = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).deleted, 4)
    const left = await livePeerings(iotEc2)
    assert.equal(left.length, 1)
    assert.ok(left[0].Tags?.some((t) => t.Key === 'iotctl:stack' && t.Value === 'other'))
    assert.equal((await peeringRoutes(iotEc2, otherNetwork.iot.vpcId)).length, 1)
    assert.equal((await peeringRoutes(mskEc2, otherNetwork.msk.vpcId)).length, 1)

    const otherCleanup = await runCli(['cleanup', ...otherArgs, '--yes'], {cwd: otherCwd, env: aws.childEnv()})
    assert.equal(otherCleanup.code, 0, otherCleanup.stderr)
    assert.deepEqual(await livePeerings(iotEc2), [])
    rmSync(otherCwd, {recursive: true, force: true})
  })
})
