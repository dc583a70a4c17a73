// How the local IoT data plane evaluates AWS IoT policies (test/support/local-aws/iot-data/iot-policy.ts),
// case by case after the AWS IoT Developer Guide's policy examples.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {evaluate, wildcardMatch, type NamedPolicy} from '../support/local-aws/iot-data/iot-policy.ts'

const A = 'arn:aws:iot:us-east-1:222222222222'
const policy = (...Statement: unknown[]): NamedPolicy => ({name: 'p', document: JSON.stringify({Version: '2012-10-17', Statement})})

const thingPolicy = policy(
  {Effect: 'Allow', Action: 'iot:Connect', Resource: `${A}:client/\${iot:Connection.Thing.ThingName}`},
  {Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: `${A}:topic/device/\${iot:ClientId}/*`},
  {Effect: 'Allow', Action: 'iot:Subscribe', Resource: `${A}:topicfilter/device/\${iot:ClientId}/+`},
  {Effect: 'Deny', Action: 'iot:Publish', Resource: `${A}:topic/device/*/admin`},
)
const attached = {'iot:ClientId': 'dev1', 'iot:Connection.Thing.ThingName': 'dev1', 'iot:Connection.Thing.IsAttached': 'true'}
const detached = {'iot:ClientId': 'dev1', 'iot:Connection.Thing.ThingName': undefined, 'iot:Connection.Thing.IsAttached': 'false'}

const cases: [string, NamedPolicy[], string, string, Record<string, string | undefined>, boolean][] = [
  ['connect as the attached thing', [thingPolicy], 'iot:Connect', `${A}:client/dev1`, attached, true],
  ['connect as another client id', [thingPolicy], 'iot:Connect', `${A}:client/dev2`, {...attached, 'iot:ClientId': 'dev2', 'iot:Connection.Thing.ThingName': undefined}, false],
  ['thing variable without an attached thing matches nothing', [thingPolicy], 'iot:Connect', `${A}:client/dev1`, detached, false],
  ['publish under its own prefix', [thingPolicy], 'iot:Publish', `${A}:topic/device/dev1/data`, attached, true],
  ['publish deep under its own prefix (* crosses /)', [thingPolicy], 'iot:Publish', `${A}:topic/device/dev1/a/b/c`, attached, true],
  ["publish under another device's prefix", [thingPolicy], 'iot:Publish', `${A}:topic/device/dev2/data`, attached, false],
  ['explicit Deny wins over Allow', [thingPolicy], 'iot:Publish', `${A}:topic/device/dev1/admin`, attached, false],
  ['receive under its prefix', [thingPolicy], 'iot:Receive', `${A}:topic/device/dev1/cmd`, attached, true],
  ['subscribe filter matched literally (+ is no wildcard in a policy)', [thingPolicy], 'iot:Subscribe', `${A}:topicfilter/device/dev1/+`, attached, true],
  ['subscribe to a filter the policy does not name', [thingPolicy], 'iot:Subscribe', `${A}:topicfilter/device/dev1/#`, attached, false],
  ['no policy: implicit deny', [], 'iot:Connect', `${A}:client/dev1`, attached, false],
  ['action names ignore case', [policy({Effect: 'Allow', Action: 'IOT:connect', Resource: '*'})], 'iot:Connect', `${A}:client/x`, {}, true],
  ['iot:* covers every IoT action', [policy({Effect: 'Allow', Action: 'iot:*', Resource: '*'})], 'iot:Subscribe', `${A}:topicfilter/#`, {}, true],
  ['resources are case-sensitive', [policy({Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/Data`})], 'iot:Publish', `${A}:topic/data`, {}, false],
  ['? matches exactly one character', [policy({Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/room?`})], 'iot:Publish', `${A}:topic/room1`, {}, true],
  ['? does not match two', [policy({Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/room?`})], 'iot:Publish', `${A}:topic/room12`, {}, false],
  ['a client id holding * is no wildcard', [thingPolicy], 'iot:Publish', `${A}:topic/device/d*/data`, {'iot:ClientId': 'd*'}, true],
  ['…and cannot reach another prefix', [thingPolicy], 'iot:Publish', `${A}:topic/device/dev9/data`, {'iot:ClientId': 'd*'}, false],
  ['${*} is a literal asterisk', [policy({Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/a\${*}`})], 'iot:Publish', `${A}:topic/a*`, {}, true],
  ['${*} is not a wildcard', [policy({Effect: 'Allow', Action: 'iot:Publish', Resource: `${A}:topic/a\${*}`})], 'iot:Publish', `${A}:topic/ab`, {}, false],
  ['NotAction', [policy({Effect: 'Allow', NotAction: 'iot:Publish', Resource: '*'})], 'iot:Subscribe', `${A}:topicfilter/x`, {}, true],
  ['NotAction excludes', [policy({Effect: 'Allow', NotAction: 'iot:Publish', Resource: '*'})], 'iot:Publish', `${A}:topic/x`, {}, false],
  ['NotResource', [policy({Effect: 'Allow', Action: 'iot:Publish', NotResource: `${A}:topic/secret`})], 'iot:Publish', `${A}:topic/open`, {}, true],
  ['Bool condition on IsAttached holds', [policy({Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: {Bool: {'iot:Connection.Thing.IsAttached': 'true'}}})], 'iot:Connect', `${A}:client/dev1`, attached, true],
  ['Bool condition on IsAttached fails', [policy({Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: {Bool: {'iot:Connection.Thing.IsAttached': 'true'}}})], 'iot:Connect', `${A}:client/dev1`, detached, false],
  ['StringLike condition', [policy({Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: {StringLike: {'iot:ClientId': 'dev*'}}})], 'iot:Connect', `${A}:client/dev1`, attached, true],
  ['unknown condition operator: statement ignored', [policy({Effect: 'Allow', Action: 'iot:Connect', Resource: '*', Condition: {Frobnicate: {'iot:ClientId': 'x'}}})], 'iot:Connect', `${A}:client/x`, {'iot:ClientId': 'x'}, false],
  ['one Statement object (not an array)', [{name: 'p', document: {Statement: {Effect: 'Allow', Action: 'iot:Connect', Resource: '*'}}}], 'iot:Connect', `${A}:client/x`, {}, true],
  ['a Deny in a second policy wins', [policy({Effect: 'Allow', Action: 'iot:*', Resource: '*'}), {name: 'q', document: {Statement: [{Effect: 'Deny', Action: 'iot:Connect', Resource: '*'}]}}], 'iot:Connect', `${A}:client/x`, {}, false],
]

describe('IoT policy evaluation', () => {
  for (const [name, policies, action, resource, context, allowed] of cases) {
    test(`${allowed ? 'allows' : 'denies'}: ${name}`, () => {
      const decision = evaluate(policies, {action, resource, context})
      assert.equal(decision.allowed, allowed, decision.reason)
    })
  }

  test('the reason names the action, the resource and what decided', () => {
    assert.match(evaluate([thingPolicy], {action: 'iot:Publish', resource: `${A}:topic/device/dev1/admin`, context: attached}).reason, /iot:Publish on .*device\/dev1\/admin is explicitly denied by policy p \(statement 4\)/)
    assert.match(evaluate([], {action: 'iot:Connect', resource: `${A}:client/x`, context: {}}).reason, /no policy allows iot:Connect .* \(no policy attached\)/)
  })

  test('wildcardMatch is IAM matching', () => {
    assert.equal(wildcardMatch('a*c', 'a/b/c'), true)
    assert.equal(wildcardMatch('a.c', 'abc'), false, 'regex characters are literal')
    assert.equal(wildcardMatch('IOT:*', 'iot:Publish', {ignoreCase: true}), true)
  })
})
