// The local AWS's checks of policy documents, without a server: which IoT
// policies AWS IoT calls malformed, which key-policy principals need an IAM
// lookup, and how SimulatePrincipalPolicy's ContextEntries are read.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {iotPolicyProblem} from '../support/local-aws/policy/iot-policy.ts'
import {awsPrincipals} from '../support/local-aws/policy/key-policy.ts'
import {contextEntries} from '../support/local-aws/policy/simulate.ts'

const doc = (statement: object) => JSON.stringify({Version: '2012-10-17', Statement: [statement]})

test('IoT policies: documented actions and IoT ARNs pass; unknown actions, other services and non-ARNs do not', () => {
  const accepted = [
    doc({Effect: 'Allow', Action: ['iot:Connect'], Resource: ['arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}']}),
    doc({Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: 'arn:aws:iot:us-east-1:123456789012:topic/device/${iot:ClientId}/*'}),
    doc({Effect: 'Allow', Action: 'iot:*', Resource: '*'}),
    doc({Effect: 'Deny', Action: 'iot:*Shadow', Resource: 'arn:aws:iot:*:*:thing/*'}),
    doc({Effect: 'Allow', Action: 'iotjobsdata:DescribeJobExecution', Resource: 'arn:aws:iot:us-east-1:123456789012:thing/t'}),
  ]
  for (const document of accepted) assert.equal(iotPolicyProblem(document), undefined, document)
  const refused: [string, RegExp][] = [
    [doc({Effect: 'Allow', Action: 'iot:NoSuch', Resource: '*'}), /iot:NoSuch/],
    [doc({Effect: 'Allow', Action: 'iot:Publish', Resource: 'garbage'}), /garbage/],
    [doc({Effect: 'Allow', Action: 's3:GetObject', Resource: '*'}), /s3:GetObject/],
    [doc({Effect: 'Allow', Action: 'iot:Pub*x', Resource: '*'}), /iot:Pub\*x/],
    [doc({Effect: 'Maybe', Action: 'iot:Publish', Resource: '*'}), /Effect/],
    [doc({Effect: 'Allow', Action: 'iot:Publish'}), /no Resource/],
    [JSON.stringify({Version: '2012-10-17'}), /no Statement/],
    ['{', /not valid JSON/],
  ]
  for (const [document, reason] of refused) assert.match(iotPolicyProblem(document) ?? 'accepted', reason, document)
})

test('key policies: every AWS principal of Principal and NotPrincipal is found, single or listed', () => {
  const policy = {
    Statement: [
      {Principal: {AWS: 'arn:aws:iam::111111111111:root'}},
      {Principal: {AWS: ['arn:aws:iam::222222222222:role/a', '333333333333'], Service: 'iot.amazonaws.com'}},
      {NotPrincipal: {AWS: 'arn:aws:iam::222222222222:user/u'}},
      {Principal: '*'},
    ],
  }
  assert.deepEqual(awsPrincipals(policy), ['arn:aws:iam::111111111111:root', 'arn:aws:iam::222222222222:role/a', '333333333333', 'arn:aws:iam::222222222222:user/u'])
})

test('SimulatePrincipalPolicy context entries: list types stay lists, others take their one value', () => {
  const params = new URLSearchParams({
    'ContextEntries.member.1.ContextKeyName': 'ec2:CreateAction',
    'ContextEntries.member.1.ContextKeyType': 'string',
    'ContextEntries.member.1.ContextKeyValues.member.1': 'CreateNetworkInterface',
    'ContextEntries.member.2.ContextKeyName': 'aws:TagKeys',
    'ContextEntries.member.2.ContextKeyType': 'stringList',
    'ContextEntries.member.2.ContextKeyValues.member.1': 'VPCDestinationENI',
    'ContextEntries.member.2.ContextKeyValues.member.2': 'Name',
  })
  assert.deepEqual(contextEntries(params), {'ec2:CreateAction': 'CreateNetworkInterface', 'aws:TagKeys': ['VPCDestinationENI', 'Name']})
})
