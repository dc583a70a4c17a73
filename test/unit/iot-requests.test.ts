// Request-level: the payloads of steps 5–7 that matter — the role's trust
// policy with its condition and its inline policy, the key-policy statement,
// the destination's vpcConfiguration, the rule's SQL and Kafka action with the
// get_secret expressions — and the IAM-propagation retry.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client} from '@aws-sdk/client-ec2'
import {
  CreateRoleCommand, GetRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand, SimulatePrincipalPolicyCommand, UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import {
  CreateTopicRuleCommand, CreateTopicRuleDestinationCommand, GetTopicRuleCommand, GetTopicRuleDestinationCommand, IoTClient,
  ListTopicRuleDestinationsCommand, ListTopicRulesCommand, ReplaceTopicRuleCommand,
} from '@aws-sdk/client-iot'
import {GetBootstrapBrokersCommand, KafkaClient} from '@aws-sdk/client-kafka'
import {GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand} from '@aws-sdk/client-kms'
import {mockClient} from 'aws-sdk-client-mock'
import {InputError} from '../../src/lib/errors.ts'
import {iotDestinationStep} from '../../src/lib/iot/destination-step.ts'
import {setupIot} from '../../src/lib/iot/index.ts'
import {iotRoleStep} from '../../src/lib/iot/role-steps.ts'
import type {ResourceRecord, StackSettings} from '../../src/lib/plan/types.ts'
import {testContext} from '../support/step-context.ts'

const B = '222222222222'
const A = '111111111111'
const secretArn = `arn:aws:secretsmanager:us-east-1:${B}:secret:AmazonMSK_demo-AbCdEf`
const roleArn = `arn:aws:iam::${B}:role/iotctl-demo-iot-to-msk`
const clusterArn = `arn:aws:kafka:us-east-1:${A}:cluster/demo/1111-2222`
const destinationArn = `arn:aws:iot:us-east-1:${B}:ruledestination/vpc/0000-1111`
const brokers = 'b-1.demo.kafka.us-east-1.amazonaws.com:9096,b-2.demo.kafka.us-east-1.amazonaws.com:9096'
const rootStatement = {Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${B}:root`}, Action: 'kms:*', Resource: '*'}

function record(step: string, kind: string, id: string, attrs: Record<string, string> = {}): ResourceRecord {
  return {step, kind, id, account: 'iot', accountId: B, region: 'us-east-1', attrs}
}

function setup(settings: Partial<StackSettings> = {}) {
  const clients = {iam: new IAMClient({}), iot: new IoTClient({}), kms: new KMSClient({}), ec2: new EC2Client({}), kafka: new KafkaClient({})}
  const mocks = {iam: mockClient(clients.iam), iot: mockClient(clients.iot), kms: mockClient(clients.kms), ec2: mockClient(clients.ec2), kafka: mockClient(clients.kafka)}
  const ctx = testContext({
    settings: {stack: 'demo', iot: {vpcId: 'vpc-0000000b', subnetIds: ['subnet-0000000b1', 'subnet-0000000b2'], securityGroupIds: ['sg-0000000b']}, msk: {clusterArn}, ...settings},
    iot: {accountId: B, clients: {iam: clients.iam, iot: clients.iot, kms: clients.kms, ec2: clients.ec2}},
    msk: {accountId: A, clients: {kafka: clients.kafka}},
  })
  ctx.outputs.set('secret:iot', [record('secret:iot', 'secretsmanager:secret', secretArn, {name: 'AmazonMSK_demo', kmsKeyId: 'key-b'})])
  // A stack without the second user (alternating users) yet: read, nothing there.
  ctx.outputs.set('secret-b:iot', [])
  ctx.outputs.set('kms-key:iot', [record('kms-key:iot', 'kms:key', 'key-b', {arn: `arn:aws:kms:us-east-1:${B}:key/key-b`})])
  ctx.outputs.set('msk-cluster', [])
  ctx.outputs.set('scram-association', [])
  ctx.outputs.set('scram-association-b', [])
  // Read already in this context: the rule's slice does not read them again.
  ctx.outputs.set('kafka-topic', [])
  ctx.outputs.set('iot-key-user', [])
  mocks.ec2.on(DescribeSubnetsCommand).resolves({Subnets: [{SubnetId: 'subnet-x', VpcId: 'vpc-0000000b'}]})
  mocks.ec2.on(DescribeSecurityGroupsCommand).resolves({SecurityGroups: [{GroupId: 'sg-0000000b', VpcId: 'vpc-0000000b'}]})
  mocks.iot.on(ListTopicRulesCommand).resolves({rules: []})
  mocks.iot.on(ListTopicRuleDestinationsCommand).resolves({destinationSummaries: []})
  mocks.kafka.on(GetBootstrapBrokersCommand).resolves({BootstrapBrokerStringSaslScram: brokers})
  return {ctx, mocks}
}

const noSuchEntity = Object.assign(new Error('Role not found'), {name: 'NoSuchEntity', $metadata: {httpStatusCode: 404}})

/** The two documents `iot role` writes, exactly (IoT developer guide: "Apache Kafka Virtual Private Cloud (VPC) destinations" and "Cross-service confused deputy prevention"). */
const expectedTrust = {
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole',
    Condition: {StringEquals: {'aws:SourceAccount': B}, ArnLike: {'aws:SourceArn': `arn:aws:iot:us-east-1:${B}:*`}},
  }],
}
const expectedPolicy = {
  Version: '2012-10-17',
  Statement: [
    {Sid: 'VpcDestinationNetworkInterfaces', Effect: 'Allow', Action: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeVpcs', 'ec2:DeleteNetworkInterface',
      'ec2:DescribeSubnets', 'ec2:DescribeVpcAttribute', 'ec2:DescribeSecurityGroups',
    ], Resource: '*'},
    {Sid: 'VpcDestinationInterfacePermission', Effect: 'Allow', Action: 'ec2:CreateNetworkInterfacePermission', Resource: '*',
      Condition: {StringEquals: {'ec2:ResourceTag/VPCDestinationENI': 'true'}}},
    {Sid: 'VpcDestinationInterfaceTags', Effect: 'Allow', Action: 'ec2:CreateTags', Resource: `arn:aws:ec2:us-east-1:${B}:network-interface/*`,
      Condition: {StringEquals: {'ec2:CreateAction': 'CreateNetworkInterface', 'aws:RequestTag/VPCDestinationENI': 'true'}}},
    {Sid: 'ReadKafkaCredentials', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn},
  ],
}

test('iot role: the documented trust (aws:SourceAccount and aws:SourceArn) and policy (VPCDestinationENI conditions, the exact secret), key-policy statement beside the root statement', async () => {
  const {ctx, mocks} = setup()
  mocks.iam.on(GetRoleCommand).rejects(noSuchEntity)
  mocks.iam.on(GetRolePolicyCommand).rejects(noSuchEntity)
  mocks.iam.on(CreateRoleCommand).resolves({Role: {RoleName: 'iotctl-demo-iot-to-msk', Arn: roleArn, Path: '/', RoleId: 'AROA1', CreateDate: new Date()}})
  mocks.kms.on(GetKeyPolicyCommand).resolves({Policy: JSON.stringify({Version: '2012-10-17', Statement: [rootStatement]})})
  await setupIot('role', ctx, {dryRun: false})

  const created = mocks.iam.commandCalls(CreateRoleCommand)[0].args[0].input
  assert.equal(created.RoleName, 'iotctl-demo-iot-to-msk')
  assert.deepEqual(JSON.parse(created.AssumeRolePolicyDocument!), expectedTrust)
  assert.deepEqual(created.Tags, [{Key: 'iotctl:stack', Value: 'demo'}, {Key: 'iotctl:managed', Value: 'true'}])

  const policy = mocks.iam.commandCalls(PutRolePolicyCommand)[0].args[0].input
  assert.equal(policy.PolicyName, 'iotctl-vpc-destination-and-secret')
  assert.deepEqual(JSON.parse(policy.PolicyDocument!), expectedPolicy)

  const keyPolicy = mocks.kms.commandCalls(PutKeyPolicyCommand)[0].args[0].input
  assert.equal(keyPolicy.KeyId, 'key-b')
  assert.deepEqual(JSON.parse(keyPolicy.Policy!).Statement, [rootStatement, {
    Sid: 'iotctldemoZIotRuleRoleKeyUser',
    Effect: 'Allow',
    Principal: {AWS: roleArn},
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
    Condition: {StringEquals: {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com'}},
  }])
  assert.deepEqual(ctx.ledger.resources.map((r) => `${r.step} ${r.id}`), ['iot-role iotctl-demo-iot-to-msk', 'iot-key-user key-b/iotctldemoZIotRuleRoleKeyUser'])
})

test('iot role on a role an older iotctl made: trust and policy updated in place, each change said; a second run changes nothing', async () => {
  const {ctx, mocks} = setup()
  const olderTrust = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole', Condition: {StringEquals: {'aws:SourceAccount': B}}}]}
  const olderPolicy = {Version: '2012-10-17', Statement: [
    {Sid: 'VpcDestinationNetworkInterfaces', Effect: 'Allow', Resource: '*', Action: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
      'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute', 'ec2:DescribeSecurityGroups',
    ]},
    {Sid: 'ReadKafkaCredentials', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn},
  ]}
  const role = (trust: object) => ({Role: {RoleName: 'iotctl-demo-iot-to-msk', Arn: roleArn, Path: '/', RoleId: 'AROA1', CreateDate: new Date(),
    Tags: [{Key: 'iotctl:stack', Value: 'demo'}], AssumeRolePolicyDocument: encodeURIComponent(JSON.stringify(trust))}})
  const inline = (policy: object) => ({RoleName: 'iotctl-demo-iot-to-msk', PolicyName: 'iotctl-vpc-destination-and-secret', PolicyDocument: encodeURIComponent(JSON.stringify(policy))})
  mocks.iam.on(GetRoleCommand).resolves(role(olderTrust))
  mocks.iam.on(GetRolePolicyCommand).resolves(inline(olderPolicy))
  const keyUser = {Sid: 'iotctldemoZIotRuleRoleKeyUser', Effect: 'Allow', Principal: {AWS: roleArn}, Action: ['kms:Decrypt', 'kms:DescribeKey'], Resource: '*',
    Condition: {StringEquals: {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com'}}}
  mocks.kms.on(GetKeyPolicyCommand).resolves({Policy: JSON.stringify({Version: '2012-10-17', Statement: [rootStatement, keyUser]})})
  const result = await setupIot('role', ctx, {dryRun: false})

  assert.equal(mocks.iam.commandCalls(CreateRoleCommand).length, 0, 'the role is kept')
  assert.deepEqual(mocks.iam.commandCalls(UpdateAssumeRolePolicyCommand).map((c) => [c.args[0].input.RoleName, JSON.parse(c.args[0].input.PolicyDocument!)]),
    [['iotctl-demo-iot-to-msk', expectedTrust]])
  assert.deepEqual(mocks.iam.commandCalls(PutRolePolicyCommand).map((c) => JSON.parse(c.args[0].input.PolicyDocument!)), [expectedPolicy])
  const roleStep = result.steps.find((r) => r.id === 'iot-role')
  assert.equal(roleStep?.outcome, 'created')
  assert.deepEqual(roleStep?.changes, [
    `update the trust policy of iotctl-demo-iot-to-msk to iot.amazonaws.com with aws:SourceAccount ${B} and aws:SourceArn arn:aws:iot:us-east-1:${B}:*`,
    'update inline policy iotctl-vpc-destination-and-secret of iotctl-demo-iot-to-msk: change the EC2 network-interface calls of the VPC destination; ' +
      'add ec2:CreateNetworkInterfacePermission on interfaces tagged VPCDestinationENI=true; add ec2:CreateTags of the VPCDestinationENI=true tag on new interfaces',
  ])

  mocks.iam.on(GetRoleCommand).resolves(role(expectedTrust))
  mocks.iam.on(GetRolePolicyCommand).resolves(inline(expectedPolicy))
  const again = await setupIot('role', ctx, {dryRun: false})
  assert.deepEqual(again.steps.map((r) => r.outcome), ['unchanged', 'unchanged'])
  assert.equal(mocks.iam.commandCalls(UpdateAssumeRolePolicyCommand).length + mocks.iam.commandCalls(PutRolePolicyCommand).length, 2, 'no further writes')
})

test('iot role refuses a role of the same name that the stack did not create, before any change', async () => {
  const {ctx, mocks} = setup()
  mocks.iam.on(GetRoleCommand).resolves({Role: {RoleName: 'iotctl-demo-iot-to-msk', Arn: roleArn, Path: '/', RoleId: 'AROA1', CreateDate: new Date(), Tags: []}})
  await assert.rejects(setupIot('role', ctx, {dryRun: false}), (e: Error) => e instanceof InputError && e.message.includes('without the tag iotctl:stack=demo'))
  assert.equal(mocks.iam.commandCalls(CreateRoleCommand).length + mocks.kms.commandCalls(PutKeyPolicyCommand).length, 0)
})

test('iot destination: vpcConfiguration as configured; IAM\'s "cannot assume role" refusal is retried, saying it waits for IAM; waits for ENABLED', async () => {
  const {ctx, mocks} = setup()
  ctx.outputs.set('iot-role', [record('iot-role', 'iam:role', 'iotctl-demo-iot-to-msk', {arn: roleArn})])
  const refusal = Object.assign(new Error(`AWS IoT (iot.amazonaws.com) is unable to assume role (sts:AssumeRole) on resource: ${roleArn}. If the role was just created or updated, please try again in a few seconds.`), {name: 'InvalidRequestException', $metadata: {httpStatusCode: 400}})
  mocks.iot.on(CreateTopicRuleDestinationCommand).rejectsOnce(refusal).resolves({topicRuleDestination: {arn: destinationArn, status: 'IN_PROGRESS'}})
  mocks.iot.on(GetTopicRuleDestinationCommand).resolvesOnce({topicRuleDestination: {arn: destinationArn, status: 'IN_PROGRESS'}}).resolves({topicRuleDestination: {arn: destinationArn, status: 'ENABLED'}})
  const progress: string[] = []
  const result = await setupIot('destination', {...ctx, progress: (m) => progress.push(m)}, {dryRun: false})

  const calls = mocks.iot.commandCalls(CreateTopicRuleDestinationCommand)
  assert.equal(calls.length, 2)
  assert.deepEqual(calls[1].args[0].input, {destinationConfiguration: {vpcConfiguration: {
    vpcId: 'vpc-0000000b', subnetIds: ['subnet-0000000b1', 'subnet-0000000b2'], securityGroups: ['sg-0000000b'], roleArn,
  }}})
  assert.ok(progress.some((m) => m.includes('waiting for IAM to let AWS IoT assume iotctl-demo-iot-to-msk')), progress.join('\n'))
  assert.ok(progress.some((m) => /waiting for .* to become ENABLED/.test(m)), progress.join('\n'))
  assert.equal(result.destinationArn, destinationArn)
  assert.deepEqual(ctx.ledger.resources.map((r) => r.id), [destinationArn])
})

test('iot destination needs the role first: bad input naming the command, no change', async () => {
  const {ctx, mocks} = setup()
  mocks.iam.on(GetRoleCommand).rejects(noSuchEntity)
  await assert.rejects(setupIot('destination', ctx, {dryRun: false}), (e: Error) => e instanceof InputError && e.message.includes('run `iotctl iot role` first'))
  assert.equal(mocks.iot.commandCalls(CreateTopicRuleDestinationCommand).length, 0)
})

function ruleSetup(settings: Partial<StackSettings> = {}) {
  const s = setup(settings)
  s.ctx.outputs.set('iot-role', [record('iot-role', 'iam:role', 'iotctl-demo-iot-to-msk', {arn: roleArn})])
  s.mocks.iot.on(ListTopicRuleDestinationsCommand).resolves({destinationSummaries: [{arn: destinationArn, status: 'ENABLED', vpcDestinationSummary: {vpcId: 'vpc-0000000b', roleArn, subnetIds: [], securityGroups: []}}]})
  return s
}

test('iot rule: SQL, the Kafka action through the destination, get_secret with the secret name and role, tags', async () => {
  const {ctx, mocks} = ruleSetup({rule: {name: 'device_data', kafkaTopic: 'telemetry', errorTopic: 'iotctl/errors'}})
  mocks.iot.on(GetTopicRuleCommand).rejects(Object.assign(new Error('not found'), {name: 'ResourceNotFoundException', $metadata: {}}))
  mocks.iam.on(SimulatePrincipalPolicyCommand, {PolicySourceArn: roleArn, ActionNames: ['iot:Publish'], ResourceArns: [`arn:aws:iot:us-east-1:${B}:topic/iotctl/errors`]})
    .resolves({EvaluationResults: [{EvalActionName: 'iot:Publish', EvalDecision: 'allowed'}]})
  const result = await setupIot('rule', ctx, {dryRun: false})
  assert.deepEqual(result.steps[0].notes, [], 'the role may publish to the error topic')
  const input = mocks.iot.commandCalls(CreateTopicRuleCommand)[0].args[0].input
  assert.equal(input.ruleName, 'device_data')
  assert.equal(input.tags, 'iotctl%3Astack=demo&iotctl%3Amanaged=true')
  assert.deepEqual(input.topicRulePayload, {
    sql: "SELECT topic(2) as device_id, temperature FROM 'device/+/data'",
    description: 'iotctl:stack=demo IoT rule to Apache Kafka (MSK) through a VPC destination',
    awsIotSqlVersion: '2016-03-23',
    ruleDisabled: false,
    actions: [{kafka: {destinationArn, topic: 'telemetry', clientProperties: {
      'bootstrap.servers': brokers,
      'security.protocol': 'SASL_SSL',
      'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.scram.username': `\${get_secret('AmazonMSK_demo', 'SecretString', 'username', '${roleArn}')}`,
      'sasl.scram.password': `\${get_secret('AmazonMSK_demo', 'SecretString', 'password', '${roleArn}')}`,
    }}}],
    errorAction: {republish: {roleArn, topic: 'iotctl/errors', qos: 0}},
  })
  assert.ok(mocks.kafka.commandCalls(GetBootstrapBrokersCommand).every((c) => c.args[0].input.ClusterArn === clusterArn))
})

test('iot rule with a changed SQL and topic: ReplaceTopicRule, saying what changed', async () => {
  const {ctx, mocks} = ruleSetup({rule: {name: 'device_data', kafkaTopic: 'telemetry', sql: "SELECT * FROM 'device/+/data'"}})
  const existing = {
    ruleName: 'device_data', sql: "SELECT topic(2) as device_id, temperature FROM 'device/+/data'", description: 'iotctl:stack=demo IoT rule', awsIotSqlVersion: '2016-03-23', ruleDisabled: false,
    actions: [{kafka: {destinationArn, topic: 'device-data', clientProperties: {
      'bootstrap.servers': brokers, 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'SCRAM-SHA-512',
      'sasl.scram.username': `\${get_secret('AmazonMSK_demo', 'SecretString', 'username', '${roleArn}')}`,
      'sasl.scram.password': `\${get_secret('AmazonMSK_demo', 'SecretString', 'password', '${roleArn}')}`,
    }}}],
  }
  mocks.iot.on(ListTopicRulesCommand).resolves({rules: [{ruleName: 'device_data'}]})
  mocks.iot.on(GetTopicRuleCommand).resolves({ruleArn: `arn:aws:iot:us-east-1:${B}:rule/device_data`, rule: existing})
  const result = await setupIot('rule', ctx, {dryRun: false})
  assert.equal(mocks.iot.commandCalls(CreateTopicRuleCommand).length, 0)
  const replaced = mocks.iot.commandCalls(ReplaceTopicRuleCommand)[0].args[0].input
  assert.equal(replaced.topicRulePayload?.sql, "SELECT * FROM 'device/+/data'")
  assert.equal(replaced.topicRulePayload?.actions?.[0].kafka?.topic, 'telemetry')
  assert.deepEqual(result.steps[0].changes, [
    `replace rule device_data: SQL "SELECT topic(2) as device_id, temperature FROM 'device/+/data'" → "SELECT * FROM 'device/+/data'"; Kafka topic 'device-data' → 'telemetry'`,
  ])
})

test('iot rule refuses a dashed name before any call', async () => {
  const {ctx, mocks} = ruleSetup({rule: {name: 'device-data'}})
  await assert.rejects(setupIot('rule', ctx, {dryRun: false}), (e: Error) => e instanceof InputError && e.message.includes('no dashes'))
  assert.equal(mocks.iot.calls().length + mocks.iam.calls().length + mocks.kafka.calls().length, 0)
})

test('iot rule --error-topic with a role that may not publish there says how to fix it', async () => {
  const {ctx, mocks} = ruleSetup({rule: {name: 'device_data', errorTopic: 'iotctl/errors'}})
  mocks.iot.on(GetTopicRuleCommand).rejects(Object.assign(new Error('not found'), {name: 'ResourceNotFoundException', $metadata: {}}))
  mocks.iam.on(SimulatePrincipalPolicyCommand).resolves({EvaluationResults: [{EvalActionName: 'iot:Publish', EvalDecision: 'implicitDeny'}]})
  const result = await setupIot('rule', ctx, {dryRun: false})
  assert.deepEqual(result.steps[0].notes, ["the role may not publish to 'iotctl/errors' yet: run `iotctl iot role --error-topic iotctl/errors` (or `iotctl up`) so the error action can republish"])
})

test('cleanup\'s read: a role of the stack\'s name without its tag is somebody else\'s, and so are the destinations using it', async () => {
  const {ctx, mocks} = setup()
  mocks.iam.on(GetRoleCommand).resolves({Role: {RoleName: 'iotctl-demo-iot-to-msk', Arn: roleArn, Path: '/', RoleId: 'AROA1', CreateDate: new Date(), Tags: []}})
  mocks.iot.on(ListTopicRuleDestinationsCommand).resolves({destinationSummaries: [{arn: destinationArn, status: 'ENABLED', vpcDestinationSummary: {vpcId: 'vpc-0000000b', roleArn, subnetIds: [], securityGroups: []}}]})
  const role = await iotRoleStep.read(ctx)
  assert.deepEqual(role.resources, [])
  const destinations = await iotDestinationStep.read(ctx)
  assert.deepEqual(destinations.resources, [])

  const tagged = setup()
  tagged.mocks.iam.on(GetRoleCommand).resolves({Role: {RoleName: 'iotctl-demo-iot-to-msk', Arn: roleArn, Path: '/', RoleId: 'AROA1', CreateDate: new Date(), Tags: [{Key: 'iotctl:stack', Value: 'demo'}]}})
  tagged.mocks.iot.on(ListTopicRuleDestinationsCommand).resolves({destinationSummaries: [{arn: destinationArn, status: 'ENABLED', vpcDestinationSummary: {vpcId: 'vpc-0000000b', roleArn, subnetIds: [], securityGroups: []}}]})
  tagged.mocks.iam.on(GetRolePolicyCommand).rejects(noSuchEntity)
  await iotRoleStep.read(tagged.ctx)
  assert.deepEqual((await iotDestinationStep.read(tagged.ctx)).resources.map((r) => r.id), [destinationArn])
})
