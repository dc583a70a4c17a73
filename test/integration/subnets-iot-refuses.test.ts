// AWS IoT refuses VPC destination subnets in use1-az3 (IoT developer guide,
// "Apache Kafka Virtual Private Cloud (VPC) destinations"). The IoT VPC here has
// a third subnet in us-east-1e, which is use1-az3. Named, it is bad input before
// any change; defaulted, `up` leaves it out and says so. The built binary
// against the local two-account AWS.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {CreateSubnetCommand, DescribeSubnetsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {GetTopicRuleDestinationCommand, IoTClient, ListTopicRuleDestinationsCommand} from '@aws-sdk/client-iot'
import {assertBadInput} from '../support/bad-input.ts'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
let refusedSubnet: string

const stack = 'azs'
const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 180_000})

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  const ec2 = new EC2Client(aws.clientConfig('iot'))
  const created = await ec2.send(new CreateSubnetCommand({VpcId: network.iot.vpcId, CidrBlock: '10.20.200.0/24', AvailabilityZone: 'us-east-1e'}))
  refusedSubnet = created.Subnet!.SubnetId!
  const zone = (await ec2.send(new DescribeSubnetsCommand({SubnetIds: [refusedSubnet]}))).Subnets?.[0]?.AvailabilityZoneId
  assert.equal(zone, 'use1-az3', 'the local AWS maps us-east-1e to use1-az3, as the test assumes')
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-azs-'))
  // No iot.subnetIds: the destination's subnets default to the VPC's.
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack,
    iot: {profile: 'iot', vpcId: network.iot.vpcId, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId},
    rule: {name: 'azs_device_data'},
  }))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('destination subnets in an availability zone AWS IoT refuses', () => {
  test('named with --iot-subnets: up stops before any change, naming the subnet and its zone (exit 2)', async () => {
    aws.resetLog()
    const result = await cli(['up', '--create-cluster', '--iot-subnets', `${network.iot.subnetIds[0]},${refusedSubnet}`])
    assertBadInput(aws, result, new RegExp(`--iot-subnets ${refusedSubnet}: in availability zone use1-az3 \\(us-east-1e\\), where AWS IoT does not accept VPC destination subnets`))
  })

  test('named in the config (iot.subnetIds): iot destination refuses it the same way', async () => {
    const config = join(cwd, 'named.json')
    writeFileSync(config, JSON.stringify({stack, iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: [refusedSubnet]}, msk: {profile: 'msk'}}))
    aws.resetLog()
    const result = await cli(['iot', 'destination', '-c', config, '--json'])
    assert.equal(result.code, 2, result.stdout + result.stderr)
    assert.match(jsonOf<{error: {message: string}}>(result).error.message, new RegExp(`--iot-subnets ${refusedSubnet}: in availability zone use1-az3`))
    assert.deepEqual(aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`), [])
  })

  test('defaulted: the plan says the subnet is skipped, and up makes an ENABLED destination in the other subnets', async () => {
    const plan = await cli(['up', '--create-cluster', '--dry-run'])
    assert.equal(plan.code, 0, plan.stderr)
    assert.match(plan.stdout, new RegExp(`\\(subnet ${refusedSubnet} skipped: it is in use1-az3, where AWS IoT does not accept VPC destination subnets\\)`))

    const up = await cli(['up', '--create-cluster'])
    assert.equal(up.code, 0, up.stdout + up.stderr)
    assert.match(up.stdout, new RegExp(`subnet ${refusedSubnet} skipped`))
    const iot = new IoTClient(aws.clientConfig('iot'))
    const [summary] = (await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? []
    const destination = (await iot.send(new GetTopicRuleDestinationCommand({arn: summary?.arn}))).topicRuleDestination
    assert.equal(destination?.status, 'ENABLED', destination?.statusReason)
    assert.deepEqual([...(destination?.vpcProperties?.subnetIds ?? [])].sort(), [...network.iot.subnetIds].sort())
  })
})
