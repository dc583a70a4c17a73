// The role's trust and permissions, the key-policy statement, and the small
// policy evaluator doctor uses.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {
  deniedActions, getSecretActions, iotRoleName, iotRolePolicy, iotTrustPolicy, keyPolicyAllows, keyUserSid, keyUserStatement,
  parsePolicy, policiesAllow, samePolicy, trustsService, vpcDestinationActions, type PolicyDocument,
} from '../../src/lib/iot/policies.ts'

const secretArn = 'arn:aws:secretsmanager:us-east-1:222222222222:secret:AmazonMSK_demo-AbCdEf'
const roleArn = 'arn:aws:iam::222222222222:role/iotctl-demo-iot-to-msk'

test('the role is trusted by AWS IoT only on behalf of the IoT account', () => {
  assert.deepEqual(iotTrustPolicy('222222222222'), {
    Version: '2012-10-17',
    Statement: [{
      Effect: 'Allow',
      Principal: {Service: 'iot.amazonaws.com'},
      Action: 'sts:AssumeRole',
      Condition: {StringEquals: {'aws:SourceAccount': '222222222222'}},
    }],
  })
  assert.ok(trustsService(iotTrustPolicy('1'), 'iot.amazonaws.com'))
  assert.ok(!trustsService({Version: '', Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}]}, 'iot.amazonaws.com'))
})

test('the inline policy: the VPC destination\'s EC2 calls, and get_secret on the exact secret only', () => {
  const policy = iotRolePolicy({secretArn})
  assert.deepEqual(policy.Statement, [
    {Sid: 'VpcDestinationNetworkInterfaces', Effect: 'Allow', Action: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
      'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute', 'ec2:DescribeSecurityGroups',
    ], Resource: '*'},
    {Sid: 'ReadKafkaCredentials', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn},
  ])
  assert.deepEqual(deniedActions([policy], getSecretActions, secretArn), [])
  assert.deepEqual(deniedActions([policy], getSecretActions, secretArn.replace('demo', 'other')), getSecretActions, 'not AmazonMSK_*')
  const withErrors = iotRolePolicy({secretArn, errorTopicArn: 'arn:aws:iot:us-east-1:222222222222:topic/iotctl/errors'})
  assert.deepEqual(withErrors.Statement.at(-1), {Sid: 'RepublishRuleErrors', Effect: 'Allow', Action: 'iot:Publish', Resource: 'arn:aws:iot:us-east-1:222222222222:topic/iotctl/errors'})
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
  const policy = iotRolePolicy({secretArn})
  const reverse = (value: unknown): unknown => Array.isArray(value) ? value.map(reverse)
    : value && typeof value === 'object' ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)])) : value
  const reordered = reverse(policy) as PolicyDocument
  assert.notEqual(JSON.stringify(reordered), JSON.stringify(policy))
  assert.ok(samePolicy(policy, reordered))
  assert.ok(samePolicy(parsePolicy(encodeURIComponent(JSON.stringify(policy))), policy))
  const single = {Version: '2012-10-17', Statement: {Effect: 'Allow', Action: ['sts:AssumeRole'], Principal: {Service: ['iot.amazonaws.com']}, Condition: {StringEquals: {'aws:SourceAccount': '1'}}}}
  assert.ok(samePolicy(parsePolicy(JSON.stringify(single)), iotTrustPolicy('1')))
  assert.ok(!samePolicy(iotRolePolicy({secretArn: `${secretArn}x`}), policy))
})

test('the evaluator: wildcards, NotAction, and an explicit Deny wins', () => {
  const cases: [PolicyDocument[], string, string, boolean][] = [
    [[{Version: '', Statement: [{Effect: 'Allow', Action: 'ec2:*', Resource: '*'}]}], 'ec2:CreateNetworkInterface', '*', true],
    [[{Version: '', Statement: [{Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*'}]}], 'ec2:CreateNetworkInterface', '*', false],
    [[{Version: '', Statement: [{Effect: 'Allow', Action: '*', Resource: '*'}, {Effect: 'Deny', Action: 'ec2:CreateNetworkInterface', Resource: '*'}]}], 'ec2:CreateNetworkInterface', '*', false],
    [[{Version: '', Statement: [{Effect: 'Allow', NotAction: 'iam:*', Resource: '*'}]}], 'secretsmanager:GetSecretValue', secretArn, true],
    [[{Version: '', Statement: [{Effect: 'Allow', Action: 'secretsmanager:getsecretvalue', Resource: 'arn:aws:secretsmanager:*:*:secret:AmazonMSK_*'}]}], 'secretsmanager:GetSecretValue', secretArn, true],
    [[], 'ec2:DescribeVpcs', '*', false],
  ]
  for (const [policies, action, resource, expected] of cases) assert.equal(policiesAllow(policies, action, resource), expected, `${action} ${JSON.stringify(policies)}`)
  assert.deepEqual(deniedActions([iotRolePolicy({secretArn})], vpcDestinationActions, '*'), [])
})
