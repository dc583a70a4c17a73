// Request-level: AWS IoT refuses VPC destination subnets in use1-az3 (IoT
// developer guide, "Apache Kafka Virtual Private Cloud (VPC) destinations").
// The destination's subnets are checked (DescribeSubnets → AvailabilityZoneId)
// before any change: a defaulted one there is skipped, saying so; a named one
// is bad input naming it.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client, type Subnet} from '@aws-sdk/client-ec2'
import {IAMClient} from '@aws-sdk/client-iam'
import {CreateTopicRuleDestinationCommand, GetTopicRuleDestinationCommand, IoTClient, ListTopicRuleDestinationsCommand} from '@aws-sdk/client-iot'
import {mockClient} from 'aws-sdk-client-mock'
import {InputError} from '../../src/lib/errors.ts'
import {setupIot} from '../../src/lib/iot/index.ts'
import type {StackSettings} from '../../src/lib/plan/types.ts'
import {testContext} from '../support/step-context.ts'

const B = '222222222222'
const roleArn = `arn:aws:iam::${B}:role/iotctl-demo-iot-to-msk`
const destinationArn = `arn:aws:iot:us-east-1:${B}:ruledestination/vpc/0000-1111`
const subnets: Subnet[] = [
  {SubnetId: 'subnet-0000000a', VpcId: 'vpc-0000000b', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az6'},
  {SubnetId: 'subnet-0000000e', VpcId: 'vpc-0000000b', AvailabilityZone: 'us-east-1e', AvailabilityZoneId: 'use1-az3'},
  {SubnetId: 'subnet-0000000f', VpcId: 'vpc-0000000b', AvailabilityZone: 'us-east-1f', AvailabilityZoneId: 'use1-az5'},
]

function setup(iot: StackSettings['iot'], vpcSubnets: Subnet[] = subnets) {
  const clients = {ec2: new EC2Client({}), iot: new IoTClient({}), iam: new IAMClient({})}
  const mocks = {ec2: mockClient(clients.ec2), iot: mockClient(clients.iot)}
  const ctx = testContext({settings: {stack: 'demo', iot}, iot: {accountId: B, clients}, msk: {accountId: '111111111111'}})
  ctx.outputs.set('iot-role', [{step: 'iot-role', kind: 'iam:role', id: 'iotctl-demo-iot-to-msk', account: 'iot', accountId: B, region: 'us-east-1', attrs: {arn: roleArn}}])
  mocks.ec2.on(DescribeSubnetsCommand).callsFake((input: {SubnetIds?: string[]; Filters?: {Name: string; Values: string[]}[]}) => ({
    Subnets: vpcSubnets.filter((s) => (input.SubnetIds ? input.SubnetIds.includes(s.SubnetId!) : s.VpcId === input.Filters?.[0]?.Values[0])),
  }))
  mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({SecurityGroups: [{GroupId: 'sg-0000000b', VpcId: 'vpc-0000000b'}]})
  mocks.iot.on(ListTopicRuleDestinationsCommand).resolves({destinationSummaries: []})
  mocks.iot.on(CreateTopicRuleDestinationCommand).resolves({topicRuleDestination: {arn: destinationArn, status: 'IN_PROGRESS'}})
  mocks.iot.on(GetTopicRuleDestinationCommand).resolves({topicRuleDestination: {arn: destinationArn, status: 'ENABLED'}})
  return {ctx, mocks}
}

test('defaulted subnets: the one in use1-az3 is left out of the destination, and the run says so', async () => {
  const {ctx, mocks} = setup({vpcId: 'vpc-0000000b'})
  const result = await setupIot('destination', ctx, {dryRun: false})
  const created = mocks.iot.commandCalls(CreateTopicRuleDestinationCommand)
  assert.equal(created.length, 1)
  assert.deepEqual(created[0].args[0].input.destinationConfiguration?.vpcConfiguration?.subnetIds, ['subnet-0000000a', 'subnet-0000000f'])
  const step = result.steps.find((r) => r.id === 'iot-destination')
  assert.ok(step?.notes.includes('subnet subnet-0000000e skipped: it is in use1-az3, where AWS IoT does not accept VPC destination subnets'), JSON.stringify(step?.notes))
  assert.match(step?.changes[0] ?? '', /subnets subnet-0000000a, subnet-0000000f;/)
})

test('defaulted subnets, all in use1-az3: bad input before any change', async () => {
  const {ctx, mocks} = setup({vpcId: 'vpc-0000000b'}, [subnets[1]])
  await assert.rejects(setupIot('destination', ctx, {dryRun: false}),
    (e: Error) => e instanceof InputError && e.message.includes('the IoT VPC vpc-0000000b has subnets only in use1-az3, where AWS IoT does not accept VPC destination subnets'))
  assert.equal(mocks.iot.commandCalls(CreateTopicRuleDestinationCommand).length, 0)
})

test('a named subnet in use1-az3: bad input naming it, before any change', async () => {
  const {ctx, mocks} = setup({vpcId: 'vpc-0000000b', subnetIds: ['subnet-0000000a', 'subnet-0000000e']})
  await assert.rejects(setupIot('destination', ctx, {dryRun: false}), (e: Error) => e instanceof InputError &&
    e.message === '--iot-subnets subnet-0000000e: in availability zone use1-az3 (us-east-1e), where AWS IoT does not accept VPC destination subnets; name subnets in other availability zones')
  assert.equal(mocks.iot.commandCalls(CreateTopicRuleDestinationCommand).length, 0)
  const described = mocks.ec2.commandCalls(DescribeSubnetsCommand).map((c) => c.args[0].input.SubnetIds)
  assert.deepEqual(described, [['subnet-0000000a'], ['subnet-0000000e']], 'each named subnet is described')
})

test('named subnets in zones IoT accepts: used as given', async () => {
  const {ctx, mocks} = setup({vpcId: 'vpc-0000000b', subnetIds: ['subnet-0000000f']})
  const result = await setupIot('destination', ctx, {dryRun: false})
  assert.deepEqual(mocks.iot.commandCalls(CreateTopicRuleDestinationCommand)[0].args[0].input.destinationConfiguration?.vpcConfiguration?.subnetIds, ['subnet-0000000f'])
  assert.ok(!result.steps[0].notes.some((n) => n.includes('skipped')))
})
