// The role's trust and permissions, what an update of them changes, and the
// key-policy statement.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  getSecretActions, iotRoleName, iotRolePolicy, iotTrustPolicy, keyPolicyAllows, keyUserSid, keyUserStatement,
  parsePolicy, policyChanges, samePolicy, trustsService, vpcDestinationActions, type PolicyDocument,
} from '../../src/lib/iot/policies.ts'

const secretArn = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:AmazonMSK_demo-AbCdEf'
const roleArn = 'arn:aws:iam::222222222222:role/iotctl-demo-iot-to-msk'
const account = {partition: 'aws', region: 'us-east-1', accountId: '222222222222'}

test('the role is trusted by AWS IoT only for the IoT account\'s rules and destinations (aws:SourceAccount and aws:SourceArn)', () => {
  assert.deepEqual(iotTrustPolicy({partition: 'aws-cn', region: 'cn-north-1', accountId: '222222222222'}), {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: {Service: 'iot.amazonaws.com'},
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: {'aws:SourceAccount': '222222222222'},
        ArnLike: {'aws:SourceArn': 'arn:aws-cn:iot:cn-north-1:222222222222:*'},
      },
    }],
  })
  assert.ok(trustsService(iotTrustPolicy(account), 'iot.amazonaws.com'))
  assert.ok(!trustsService({Version: '', Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}]}, 'iot.amazonaws.com'))
})

test('the inline policy: the IoT guide\'s statements (pinned as sent in iot-requests), scoped to the account, partition and region; get_secret on the exact secret only', () => {
  const cn = {partition: 'aws-cn', region: 'cn-north-1', accountId: '333333333333'}
  const policy = iotRolePolicy({...cn, secretArn})
  assert.deepEqual(policy.Statement.map((s) => [s.Sid, s.Resource]), [
    ['VpcDestinationNetworkInterfaces', '*'],
    ['VpcDestinationInterfacePermission', '*'],
    ['VpcDestinationInterfaceTags', 'arn:aws-cn:ec2:cn-north-1:333333333333:network-interface/*'],
    ['ReadKafkaCredentials', secretArn],
  ])
  const withErrors = iotRolePolicy({...account, secretArn, errorTopicArn: 'arn:aws:iot:us-east-1:222222222222:topic/iotctl/errors'})
  assert.deepEqual(withErrors.Statement.at(-1), {Sid: 'RepublishRuleErrors', Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:us-east-1:222222222222:topic/iotctl/errors'})
})

test('what an update of the inline policy changes, one phrase per statement', () => {
  const wanted = iotRolePolicy({...account, secretArn})
  const older: PolicyDocument = {Version: '2012-10-17', Statement: [
    {Sid: 'VpcDestinationNetworkInterfaces', Effect: 'Allow', Action: [...vpcDestinationActions, 'ec2:CreateNetworkInterfacePermission'], Resource: '*'},
    {Sid: 'ReadKafkaCredentials', Effect: 'Allow', Action: getSecretActions, Resource: secretArn},
    {Sid: 'Extra', Effect: 'Allow', Action: 's3:*', Resource: '*'},
  ]}
  assert.deepEqual(policyChanges(older, wanted), [
    'change the EC2 network-interface calls of the VPC destination',
    'add ec2:CreateNetworkInterfacePermission on interfaces tagged VPCDestinationENI=true',
    'add ec2:CreateTags of the VPCDestinationENI=true tag on new interfaces',
    'remove statement Extra',
  ])
  assert.deepEqual(policyChanges(wanted, wanted), [])
  assert.deepEqual(policyChanges(wanted, iotRolePolicy({...account, secretArn: `${secretArn}x`})), [`change get_secret on ${secretArn}x`])
})

test('the key-policy statement: the role may decrypt through Secrets Manager only, under a Sid naming the stack', () => {
  assert.deepEqual(keyUserStatement({stack: 'demo-1', roleArn, region: 'eu-west-1'}), {
    Sid: 'iotctldemoZ2d1ZIotRuleRoleKeyUser',
    Effect: 'Allow',
    Principal: {AWS: roleArn},
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
    Condition: {StringEquals: {'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com'}},
  })
  assert.equal(keyUserSid('demo-1'), 'iotctldemoZ2d1ZIotRuleRoleKeyUser')
  assert.ok(iotRoleName('x'.repeat(40)).length <= 64)
})

test('the key-policy evaluator: the statement makes the role a user of the key', () => {
  const root = {Sid: 'Enable IAM User Permissions', Effect: 'Allow' as const, Principal: {AWS: 'arn:aws:iam::222222222222:root'}, Action: 'kms:*', Resource: '*'}
  const base: PolicyDocument = {Version: '2012-10-17', Statement: [root]}
  const statement = keyUserStatement({stack: 'demo', roleArn, region: 'us-east-1'})
  assert.ok(keyPolicyAllows({...base, Statement: [root, statement]}, roleArn, 'kms:Decrypt'))
  assert.ok(!keyPolicyAllows(base, roleArn, 'kms:Decrypt'), 'the root statement delegates to IAM, it does not name the role')
  assert.ok(!keyPolicyAllows({...base, Statement: [root, {...statement, Action: 'kms:DescribeKey'}]}, roleArn, 'kms:Decrypt'))
})

test('policies compare by meaning: key order, x versus [x], URL-encoded as IAM returns them', () => {
  const policy = iotRolePolicy({...account, secretArn})
  const reverse = (value: unknown): unknown => Array.isArray(value) ? value.map(reverse)
    : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)])) : value
  const reordered = reverse(policy) as PolicyDocument
  assert.notEqual(JSON.stringify(reordered), JSON.stringify(policy))
  assert.ok(samePolicy(policy, reordered))
  assert.ok(samePolicy(parsePolicy(encodeURIComponent(JSON.stringify(policy))), policy))
  const single = {Version: '2012-10-17', Statement: {Effect: 'Allow', Action: ['sts:AssumeRole'], Principal: {Service: ['iot.amazonaws.com']}, Condition: {
    ArnLike: {'aws:SourceArn': ['arn:aws:iot:us-east-1:1:*']}, StringEquals: {'aws:SourceAccount': '1'},
  }}}
  assert.ok(samePolicy(parsePolicy(JSON.stringify(single)), iotTrustPolicy({partition: 'aws', region: 'us-east-1', accountId: '1'})))
  const older = {...single, Statement: {...single.Statement, Condition: {StringEquals: {'aws:SourceAccount': '1'}}}}
  assert.ok(!samePolicy(parsePolicy(JSON.stringify(older)), iotTrustPolicy({partition: 'aws', region: 'us-east-1', accountId: '1'})), 'a trust without aws:SourceArn is not current')
  assert.ok(!samePolicy(iotRolePolicy({...account, secretArn: `${secretArn}x`}), policy))
})
