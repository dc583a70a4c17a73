// Pure parts of `device create` and the MQTT commands: names, the device policy,
// --endpoint parsing, default client ids, latency percentiles, rule-check lines.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {checkThingName, devicePolicyDocument, devicePolicyName, devicePolicyPrefix} from '../../src/lib/device/policy.ts'
import {defaultClientId} from '../../src/lib/mqtt/cli/connection.ts'
import {parseEndpoint} from '../../src/lib/mqtt/cli/endpoint.ts'
import {latencySummary} from '../../src/lib/mqtt/index.ts'
import {describeRuleCheck, utf8Text} from '../../src/ui/mqtt.ts'

describe('device names and policy', () => {
  test('thing names: AWS IoT\'s pattern, 1-128 characters', () => {
    for (const ok of ['sensor-1', 'a', 'x:y_z-0', 'a'.repeat(128)]) assert.equal(checkThingName(ok), ok)
    for (const bad of ['', 'a b', 'a/b', 'ü', 'a'.repeat(129)]) assert.throws(() => checkThingName(bad), InputError, bad)
  })

  test('policy names carry the stack, turn ":" into "." and stay within 128 characters, distinct', () => {
    assert.equal(devicePolicyName('dev', 'sensor-1'), 'iotctl-dev-device-sensor-1')
    assert.equal(devicePolicyName('dev', 'a:b'), 'iotctl-dev-device-a.b')
    const long1 = devicePolicyName('s'.repeat(40), `${'a'.repeat(127)}1`)
    const long2 = devicePolicyName('s'.repeat(40), `${'a'.repeat(127)}2`)
    assert.equal(long1.length, 128)
    assert.notEqual(long1, long2)
    assert.ok(long1.startsWith(devicePolicyPrefix('s'.repeat(40))))
    assert.match(long1, /^[\w+=,.@-]+$/)
  })

  test('the policy allows only the thing\'s client id and its own topics', () => {
    const document = devicePolicyDocument({partition: 'aws-cn', region: 'cn-north-1', accountId: '222222222222', thing: 'd1'})
    const arn = (rest: string) => `arn:aws-cn:iot:cn-north-1:222222222222:${rest}`
    assert.deepEqual(document.Statement.map((s) => [s.Action, s.Resource]), [
      [['iot:Connect'], [arn('client/d1')]],
      [['iot:Publish', 'iot:Receive'], [arn('topic/device/d1/*'), arn('topic/$aws/things/d1/*')]],
      [['iot:Subscribe'], [arn('topicfilter/device/d1/*'), arn('topicfilter/$aws/things/d1/*')]],
    ])
    assert.ok(document.Statement.every((s) => s.Effect === 'Allow' && s.Resource.every((r) => !r.endsWith(':*') && !r.includes('/+'))))
  })
})

describe('--endpoint', () => {
  const cases: [string, ReturnType<typeof parseEndpoint>][] = [
    ['abc-ats.iot.eu-west-1.amazonaws.com', {host: 'abc-ats.iot.eu-west-1.amazonaws.com'}],
    ['abc-ats.iot.eu-west-1.amazonaws.com:443', {host: 'abc-ats.iot.eu-west-1.amazonaws.com', port: 443}],
    ['127.0.0.1:8883', {host: '127.0.0.1', port: 8883}],
    ['[::1]:8883', {host: '[::1]', port: 8883}],
    ['mqtts://h:8883', {scheme: 'mqtts', host: 'h', port: 8883}],
    ['wss://h/mqtt', {scheme: 'wss', host: 'h', path: '/mqtt'}],
    ['ws://127.0.0.1:9001/mqtt', {scheme: 'ws', host: '127.0.0.1', port: 9001, path: '/mqtt'}],
    ['mqtt://localhost:1883', {scheme: 'mqtt', host: 'localhost', port: 1883}],
  ]
  for (const [input, expected] of cases) test(input, () => assert.deepEqual(parseEndpoint(input), expected))
  for (const bad of ['', 'http://h', 'h:0', 'h:99999', 'h/path', 'mqtts://h/x', 'a b']) {
    test(`refused: ${JSON.stringify(bad)}`, () => assert.throws(() => parseEndpoint(bad), InputError))
  }
})

describe('output helpers', () => {
  test('default client id: the thing of <thing>.cert.pem, else a random one', () => {
    assert.equal(defaultClientId('/certs/sensor-1.cert.pem'), 'sensor-1')
    assert.match(defaultClientId('/certs/device.crt'), /^iotctl-[0-9a-f]{8}$/)
    assert.match(defaultClientId(undefined, 'iotctl-sub'), /^iotctl-sub-[0-9a-f]{8}$/)
  })

  test('latency percentiles by nearest rank', () => {
    assert.equal(latencySummary([]), undefined)
    assert.deepEqual(latencySummary([5]), {p50: 5, p95: 5, p99: 5, max: 5})
    const hundred = Array.from({length: 100}, (_, i) => 100 - i)
    assert.deepEqual(latencySummary(hundred), {p50: 50, p95: 95, p99: 99, max: 100})
  })

  test('payload text or not', () => {
    assert.equal(utf8Text(Buffer.from('{"a":"ü"}')), '{"a":"ü"}')
    assert.equal(utf8Text(Buffer.from([0xff, 0xfe])), undefined)
  })

  test('rule check lines: the matching rules, or one warning listing the filters', () => {
    const rules = [{name: 'a', filter: 'device/+/data', matches: true}, {name: 'b', filter: 'other/#', matches: false, disabled: true}]
    assert.deepEqual(describeRuleCheck('device/1/data', {rules, matching: ['a']}), ["topic device/1/data matches rule a (FROM 'device/+/data')"])
    assert.match(describeRuleCheck('x/1', {rules: rules.map((r) => ({...r, matches: false})), matching: []})[0], /^warning: topic x\/1 matches none of the account's topic rules \(device\/\+\/data, other\/#\)/)
    assert.deepEqual(describeRuleCheck('x', {rules: [], matching: []}), [])
  })
})
