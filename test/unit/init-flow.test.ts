// `iotctl init` with a scripted prompter over mocked accounts: the choices it
// offers, the defaults it suggests, and the config it writes.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {DescribeRouteTablesCommand, DescribeSecurityGroupsCommand, DescribeSubnetsCommand, DescribeVpcsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {KafkaClient, ListClustersV2Command} from '@aws-sdk/client-kafka'
import {mockClient} from 'aws-sdk-client-mock'
import {loadConfig} from '../../src/lib/config/schema.ts'
import {runInit, type Choice, type Prompter} from '../../src/lib/init/index.ts'
import {fakeAccount} from '../support/step-context.ts'

/** Accepts every suggestion and records what was offered. */
function acceptingPrompter(asked: {message: string; choices?: Choice<unknown>[]}[]): Prompter {
  return {
    async select(message, choices, defaultValue) {
      asked.push({message, choices: choices})
      return defaultValue === undefined && choices.some((c) => c.value === undefined) ? undefined as never : defaultValue ?? choices[0].value
    },
    async checkbox(message, choices) {
      asked.push({message, choices: choices})
      return choices.filter((c) => c.checked).map((c) => c.value)
    },
    async input(message, defaultValue, validate) {
      asked.push({message})
      assert.equal(validate(defaultValue), true, `${message}: the suggestion ${defaultValue} is valid`)
      return defaultValue
    },
    async confirm() {
      return true
    },
    note() {},
  }
}

function accounts() {
  const iotEc2 = new EC2Client({})
  const mskEc2 = new EC2Client({})
  const kafka = new KafkaClient({})
  const iot = mockClient(iotEc2)
  const msk = mockClient(mskEc2)
  mockClient(kafka).on(ListClustersV2Command).resolves({ClusterInfoList: [
    {ClusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/plain/1', ClusterName: 'plain', State: 'ACTIVE', Provisioned: {NumberOfBrokerNodes: 1, BrokerNodeGroupInfo: {ClientSubnets: ['subnet-0000000a1'], InstanceType: 'kafka.t3.small'}, ClientAuthentication: {Unauthenticated: {Enabled: true}}}},
    {ClusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/demo/2', ClusterName: 'demo', State: 'ACTIVE', Provisioned: {NumberOfBrokerNodes: 2, BrokerNodeGroupInfo: {ClientSubnets: ['subnet-0000000a1', 'subnet-0000000a2'], SecurityGroups: ['sg-0000000a2'], InstanceType: 'kafka.t3.small'}, ClientAuthentication: {Sasl: {Scram: {Enabled: true}}}}},
  ]})
  msk.on(DescribeSubnetsCommand, {SubnetIds: ['subnet-0000000a1']}).resolves({Subnets: [{SubnetId: 'subnet-0000000a1', VpcId: 'vpc-0000000a'}]})
  msk.on(DescribeVpcsCommand).resolves({Vpcs: [{VpcId: 'vpc-0000000a', CidrBlock: '10.10.0.0/16'}]})
  msk.on(DescribeSecurityGroupsCommand).resolves({SecurityGroups: [{GroupId: 'sg-0000000a1', GroupName: 'default'}, {GroupId: 'sg-0000000a2', GroupName: 'msk-brokers'}]})
  msk.on(DescribeRouteTablesCommand).resolves({RouteTables: [
    {RouteTableId: 'rtb-0000000a1', Associations: [{Main: true}]},
    {RouteTableId: 'rtb-0000000a2', Associations: [{SubnetId: 'subnet-0000000a1'}, {SubnetId: 'subnet-0000000a2'}]},
  ]})
  iot.on(DescribeVpcsCommand).resolves({Vpcs: [
    {VpcId: 'vpc-00000b01', CidrBlock: '10.10.0.0/16', Tags: [{Key: 'Name', Value: 'clash'}]},
    {VpcId: 'vpc-00000b02', CidrBlock: '10.20.0.0/16', Tags: [{Key: 'Name', Value: 'iot'}]},
  ]})
  iot.on(DescribeSubnetsCommand).resolves({Subnets: [
    {SubnetId: 'subnet-0000000b1', CidrBlock: '10.20.0.0/24', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az6'},
    {SubnetId: 'subnet-0000000b3', CidrBlock: '10.20.3.0/24', AvailabilityZone: 'us-east-1e', AvailabilityZoneId: 'use1-az3'},
  ]})
  iot.on(DescribeSecurityGroupsCommand).resolves({SecurityGroups: [{GroupId: 'sg-0000000b1', GroupName: 'default'}, {GroupId: 'sg-0000000b2', GroupName: 'iot-destination'}]})
  iot.on(DescribeRouteTablesCommand).resolves({RouteTables: [{RouteTableId: 'rtb-0000000b1', Associations: [{Main: true}]}]})
  return {
    iot: fakeAccount({accountId: '222222222222', profile: 'iot', clients: {ec2: iotEc2}}),
    msk: fakeAccount({accountId: '111111111111', profile: 'msk', clients: {ec2: mskEc2, kafka}}),
  }
}

test('init offers what both accounts have, suggests working defaults and writes a config every command accepts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-init-'))
  const awsConfig = join(dir, 'aws-config')
  writeFileSync(awsConfig, '[profile iot]\nregion = us-east-1\n[profile msk]\nregion = us-east-1\n')
  process.env.AWS_CONFIG_FILE = awsConfig
  process.env.AWS_SHARED_CREDENTIALS_FILE = join(dir, 'none')
  const handles = accounts()
  const asked: {message: string; choices?: Choice<unknown>[]}[] = []
  const configFile = join(dir, 'iotctl.json')
  const result = await runInit(acceptingPrompter(asked), {
    configFile, dryRun: false, yes: false, stack: 'demo',
    openAccount: async (profile) => (profile === 'iot' ? handles.iot : handles.msk),
  })

  assert.equal(result.written, true)
  assert.deepEqual(loadConfig(configFile, true), {
    stack: 'demo',
    iot: {profile: 'iot', vpcId: 'vpc-00000b02', subnetIds: ['subnet-0000000b1'], securityGroupIds: ['sg-0000000b2'], routeTableIds: ['rtb-0000000b1']},
    msk: {profile: 'msk', vpcId: 'vpc-0000000a', securityGroupId: 'sg-0000000a2', routeTableIds: ['rtb-0000000a2'], clusterArn: 'arn:aws:kafka:us-east-1:111111111111:cluster/demo/2'},
    secret: {name: 'AmazonMSK_demo'},
    rule: {name: 'iotctl_demo_to_kafka', kafkaTopic: 'device-data'},
  })
  assert.deepEqual(JSON.parse(readFileSync(configFile, 'utf8')).stack, 'demo')

  const profiles = asked.find((q) => q.message.startsWith('AWS profile of the IoT account'))
  assert.deepEqual(profiles?.choices?.map((c) => c.value), ['iot', 'msk'])
  const clusters = asked.find((q) => q.message === 'MSK cluster')
  assert.equal(clusters?.choices?.find((c) => c.value === 'arn:aws:kafka:us-east-1:111111111111:cluster/plain/1')?.disabled, 'SASL/SCRAM authentication is off')
  const iotVpcs = asked.find((q) => q.message.startsWith('VPC of the IoT rule destination'))
  assert.equal(iotVpcs?.choices?.find((c) => c.value === 'vpc-00000b01')?.disabled, 'overlaps 10.10.0.0/16')
  const iotSubnets = asked.find((q) => q.message.startsWith('Subnets for the destination'))
  assert.equal(iotSubnets?.choices?.find((c) => c.value === 'subnet-0000000b3')?.disabled, 'use1-az3: AWS IoT does not accept VPC destination subnets there')
})
