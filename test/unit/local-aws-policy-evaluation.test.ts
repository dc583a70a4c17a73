// The local AWS's policy evaluation (test/support/local-aws/policy/engine.ts)
// on documents alone: the decisions and AWS-worded reasons the stand-in gives.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {evaluate, secretsManagerManagedKeyPolicy} from '../support/local-aws/policy/engine.ts'

const IOT = '222222222222'
const MSK = '111111111111'
const role = `arn:aws:iam::${IOT}:role/iot-to-msk`
const eni = `arn:aws:ec2:us-east-1:${IOT}:network-interface/eni-0123456789abcdef0`
const trust = (account: string) => ({
  Version: '2012-10-17',
  Statement: [{
    Effect: 'Allow',
    Principal: {Service: 'iot.amazonaws.com'},
    Action: 'sts:AssumeRole',
    Condition: {StringEquals: {'aws:SourceAccount': account}, ArnLike: {'aws:SourceArn': `arn:aws:iot:us-east-1:${account}:*`}},
  }],
})
const iotContext = {'aws:SourceAccount': IOT, 'aws:SourceArn': `arn:aws:iot:us-east-1:${IOT}:ruledestination/vpc/abc`}

test('IoT may assume a role whose trust policy names its account, and not one conditioned on another account', async () => {
  const ok = await evaluate({principal: 'iot.amazonaws.com', action: 'sts:AssumeRole', resource: role, resourceAccount: IOT, context: iotContext, resourcePolicy: trust(IOT)})
  assert.equal(ok.allowed, true, ok.reason)
  const wrong = await evaluate({principal: 'iot.amazonaws.com', action: 'sts:AssumeRole', resource: role, resourceAccount: IOT, context: iotContext, resourcePolicy: trust(MSK)})
  assert.equal(wrong.allowed, false)
  assert.equal(wrong.decision, 'implicitDeny')
  assert.match(wrong.reason, /^User: iot\.amazonaws\.com is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::222222222222:role\/iot-to-msk because no resource-based policy allows the sts:AssumeRole action$/)
})

test('ec2:CreateTags is allowed only with the CreateAction and request-tag conditions met', async () => {
  const policy = {
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*', Condition: {StringEquals: {'ec2:CreateAction': 'CreateNetworkInterface', 'aws:RequestTag/VPCDestinationENI': 'true'}}}],
  }
  const identity = [{id: 'eni-tags', type: 'role' as const, policy}]
  const asIot = await evaluate({principal: role, action: 'ec2:CreateTags', resource: eni, resourceAccount: IOT, identity,
    context: {'ec2:CreateAction': 'CreateNetworkInterface', 'aws:RequestTag/VPCDestinationENI': 'true', 'aws:TagKeys': ['VPCDestinationENI']}})
  assert.equal(asIot.allowed, true, asIot.reason)
  assert.deepEqual(asIot.matched, [{sourcePolicyId: 'eni-tags', sourcePolicyType: 'role', statementIndex: 1}])
  const later = await evaluate({principal: role, action: 'ec2:CreateTags', resource: eni, resourceAccount: IOT, identity,
    context: {'aws:RequestTag/VPCDestinationENI': 'true', 'aws:TagKeys': ['VPCDestinationENI']}})
  assert.equal(later.allowed, false)
  assert.equal(later.reason, `User: ${role} is not authorized to perform: ec2:CreateTags on resource: ${eni} because no identity-based policy allows the ec2:CreateTags action`)
})

test('an explicit deny wins and is named as such', async () => {
  const identity = [
    {id: 'arn:aws:iam::aws:policy/AdministratorAccess', type: 'aws-managed' as const, policy: {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: '*', Resource: '*'}]}},
    {id: 'no-delete', type: 'role' as const, policy: {Version: '2012-10-17', Statement: [{Effect: 'Deny', Action: 'ec2:DeleteNetworkInterface', Resource: '*'}]}},
  ]
  const result = await evaluate({principal: role, action: 'ec2:DeleteNetworkInterface', resource: eni, resourceAccount: IOT, identity})
  assert.equal(result.decision, 'explicitDeny')
  assert.match(result.reason, /with an explicit deny in an? identity-based policy$/)
  assert.deepEqual(result.matched, [{sourcePolicyId: 'no-delete', sourcePolicyType: 'role', statementIndex: 1}])
})

test('a key policy delegating to the account root lets IAM grant kms:Decrypt; without it IAM alone is not enough', async () => {
  const key = `arn:aws:kms:us-east-1:${IOT}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
  const identity = [{id: 'decrypt', type: 'role' as const, policy: {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'kms:Decrypt', Resource: key}]}}]
  const rootOnly = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${IOT}:root`}, Action: 'kms:*', Resource: '*'}]}
  const someoneElse = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${IOT}:role/admin`}, Action: 'kms:*', Resource: '*'}]}
  const context = {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com', 'kms:CallerAccount': IOT}
  const delegated = await evaluate({principal: role, action: 'kms:Decrypt', resource: key, resourceAccount: IOT, identity, resourcePolicy: rootOnly, context})
  assert.equal(delegated.allowed, true, delegated.reason)
  const notDelegated = await evaluate({principal: role, action: 'kms:Decrypt', resource: key, resourceAccount: IOT, identity, resourcePolicy: someoneElse, context})
  assert.equal(notDelegated.allowed, false)
  assert.match(notDelegated.reason, /kms:Decrypt on resource: arn:aws:kms:.* because no resource-based policy allows the kms:Decrypt action$/)
})

test('the aws/secretsmanager key lets the account decrypt through Secrets Manager only', async () => {
  const key = `arn:aws:kms:us-east-1:${MSK}:key/aaaaaaaa-12ab-34cd-56ef-1234567890ab`
  const mskRole = `arn:aws:iam::${MSK}:role/reader`
  const identity = [{id: 'all', type: 'role' as const, policy: {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*'}]}}]
  const policy = secretsManagerManagedKeyPolicy(MSK, 'us-east-1')
  const via = await evaluate({principal: mskRole, action: 'kms:Decrypt', resource: key, resourceAccount: MSK, identity, resourcePolicy: policy,
    context: {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com', 'kms:CallerAccount': MSK}})
  assert.equal(via.allowed, true, via.reason)
  const direct = await evaluate({principal: mskRole, action: 'kms:Decrypt', resource: key, resourceAccount: MSK, identity, resourcePolicy: policy, context: {'kms:CallerAccount': MSK}})
  assert.equal(direct.allowed, false)
  const otherAccount = await evaluate({principal: role, action: 'kms:Decrypt', resource: key, resourceAccount: MSK, identity, resourcePolicy: policy,
    context: {'kms:ViaService': 'secretsmanager.us-east-1.amazonaws.com', 'kms:CallerAccount': IOT}})
  assert.equal(otherAccount.allowed, false)
})

test('a question about every resource (*) is answered from the identity policies', async () => {
  const policy = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'ec2:CreateTags', Resource: '*', Condition: {StringEquals: {'ec2:CreateAction': 'CreateNetworkInterface'}}}]}
  const identity = [{id: 'tags', type: 'role' as const, policy}]
  const allowed = await evaluate({principal: role, action: 'ec2:CreateTags', resource: '*', resourceAccount: IOT, identity, context: {'ec2:CreateAction': 'CreateNetworkInterface'}})
  assert.equal(allowed.decision, 'allowed', allowed.reason)
  const denied = await evaluate({principal: role, action: 'ec2:CreateTags', resource: '*', resourceAccount: IOT, identity})
  assert.equal(denied.reason, `User: ${role} is not authorized to perform: ec2:CreateTags on resource: * because no identity-based policy allows the ec2:CreateTags action`)
  // DescribeSubnets has no resource-level permissions: a named subnet is weighed as *.
  const describe = await evaluate({principal: role, action: 'ec2:DescribeSubnets', resource: 'arn:aws:ec2:us-east-1:222222222222:subnet/subnet-1', resourceAccount: IOT,
    identity: [{id: 'd', type: 'role' as const, policy: {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*'}]}}]})
  assert.equal(describe.decision, 'allowed', describe.reason)
})
