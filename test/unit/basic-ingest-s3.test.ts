// Basic Ingest and the S3 action: bucket names as S3 allows them, the rule's S3
// action and the role's s3:PutObject on that bucket only, the Basic Ingest topic;
// and the local rules engine (over a fake moto) routing `$aws/rules/<rule>/…` to
// that rule alone with the prefix stripped, writing the object as the role may.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {checkRuleSettings, ruleSettingsOf} from '../../src/lib/iot/inputs.ts'
import {checkS3Bucket} from '../../src/lib/iot/names.ts'
import {iotRolePolicy} from '../../src/lib/iot/policies.ts'
import {kafkaRulePayload, ruleChanges, type KafkaRuleInput} from '../../src/lib/iot/rule.ts'
import {basicIngestTopic} from '../../src/lib/mqtt/basic-ingest.ts'
import {MotoClient, type MotoAnswer, type MotoCall} from '../support/local-aws/moto-client.ts'
import {RulesEngine} from '../support/local-aws/rules/engine.ts'

test('S3 bucket names: what S3 refuses is exit 2 naming the rule it breaks', () => {
  for (const good of ['abc', 'my-bucket.logs', 'a1'.padEnd(63, 'b')]) assert.equal(checkS3Bucket(good), good)
  const cases: [string, RegExp][] = [
    ['ab', /3 to 63 characters/], ['a'.repeat(64), /3 to 63 characters/], ['Bad_Bucket', /lowercase letters, digits, dots and hyphens only/],
    ['-abc', /starts and ends with a letter or digit/], ['a..b', /no two dots in a row/], ['192.168.1.1', /not an IP address/],
    ['xn--abc', /reserves the prefix 'xn--'/], ['logs-s3alias', /reserves the suffix '-s3alias'/],
  ]
  for (const [name, why] of cases) assert.throws(() => checkS3Bucket(name), (error: Error) => error.name === 'InputError' && why.test(error.message) && error.message.startsWith('--s3-bucket'), name)
})

test('--s3-key without a bucket is refused naming both; the default key is the topic, then the time', () => {
  assert.throws(() => checkRuleSettings(ruleSettingsOf({stack: 's', rule: {s3Key: 'k'}})), /--s3-key \(rule\.s3Key\) needs a bucket: add --s3-bucket \(rule\.s3Bucket\)/)
  assert.deepEqual(ruleSettingsOf({stack: 's', rule: {s3Bucket: 'b1'}}).s3, {bucket: 'b1', key: '${topic()}/${timestamp()}'})
})

const input: KafkaRuleInput = {
  stack: 's', sql: "SELECT * FROM 'device/+/data'", destinationArn: 'arn:aws:iot:us-east-1:222222222222:ruledestination/vpc/1', kafkaTopic: 't',
  bootstrapServers: 'b-1:9096', secretName: 'AmazonMSK_s', roleArn: 'arn:aws:iam::222222222222:role/r',
}

test('the S3 action writes with the rule\'s role; a changed bucket or key says so; the role may s3:PutObject in that bucket only', () => {
  const payload = kafkaRulePayload({...input, s3: {bucket: 'b1', key: '${topic()}/${timestamp()}'}})
  assert.deepEqual(payload.actions?.[1], {s3: {bucketName: 'b1', key: '${topic()}/${timestamp()}', roleArn: input.roleArn}})
  assert.deepEqual(ruleChanges(kafkaRulePayload(input), payload), ["S3 action: bucket 'b1', key '${topic()}/${timestamp()}'"])
  assert.deepEqual(ruleChanges(payload, kafkaRulePayload(input)), ['remove the S3 action'])
  assert.deepEqual(ruleChanges(payload, payload), [])
  const policy = iotRolePolicy({partition: 'aws', region: 'us-east-1', accountId: '222222222222', secretArn: 'arn:secret', s3ObjectsArn: 'arn:aws:s3:::b1/*'})
  assert.deepEqual(policy.Statement.filter((s) => JSON.stringify(s.Action).includes('s3:')), [{Sid: 'WriteRuleObjects', Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::b1/*'}])
})

test('the Basic Ingest topic: $aws/rules/<rule>/<topic>, the rule name checked as IoT does', () => {
  assert.equal(basicIngestTopic('to_s3', 'device/1/data'), '$aws/rules/to_s3/device/1/data')
  assert.throws(() => basicIngestTopic('to-s3', 'device/1/data'), /--rule-name 'to-s3': IoT rule names allow letters, digits and underscores only, no dashes/)
})

/** moto as the engine sees it: two enabled rules with the same FROM, S3 PUTs recorded. */
class FakeMoto extends MotoClient {
  readonly puts: {path: string; body: string}[] = []
  constructor() {
    super('http://127.0.0.1:1')
  }

  override async rest(_service: string, _method: string, path: string): Promise<{status: number; value: Record<string, unknown>}> {
    if (path === '/rules') return {status: 200, value: {rules: [{ruleName: 'to_s3'}, {ruleName: 'other'}]}}
    const name = decodeURIComponent(path.split('/').pop() ?? '')
    const action = name === 'to_s3' ? {s3: {bucketName: 'b1', key: '${topic()}/${topic(2)}.json', roleArn: 'arn:aws:iam::222222222222:role/r'}} : {s3: {bucketName: 'other', key: 'x', roleArn: 'arn:aws:iam::222222222222:role/r'}}
    return {status: 200, value: {ruleArn: `arn:aws:iot:us-east-1:222222222222:rule/${name}`, rule: {sql: "SELECT * FROM 'device/+/data'", actions: [action]}}}
  }

  override async call(call: MotoCall): Promise<MotoAnswer> {
    this.puts.push({path: call.path ?? '', body: call.body ?? ''})
    return {status: 200, headers: {}, body: Buffer.alloc(0)}
  }
}

test('local rules engine: a Basic Ingest message runs the named rule only, which sees the topic without the prefix; the S3 action needs the role\'s s3:PutObject', async () => {
  const moto = new FakeMoto()
  const engine = new RulesEngine({moto, destinations: {destination: () => undefined}})
  const allowed = new Set(['arn:aws:s3:::b1/device/7/data/7.json'])
  engine.attachAuthorizer({
    canReadSecret: async () => ({allowed: false, reason: 'unused'}),
    roleMay: async (_role, action, resource) => ({allowed: action === 's3:PutObject' && allowed.has(resource), reason: 'no identity-based policy allows it'}),
  })
  const publish = (topic: string) => engine.process({account: '222222222222', region: 'us-east-1', topic, payload: Buffer.from('{"t": 1}')})
  await publish('$aws/rules/to_s3/device/7/data')
  assert.deepEqual(moto.puts, [{path: '/b1/device/7/data/7.json', body: '{"t":1}'}])
  assert.deepEqual(engine.errors(), [])
  // A rule that does not exist: RuleNotFound in the log, nothing written.
  await publish('$aws/rules/missing/device/7/data')
  assert.match(engine.errors()[0].errorMessage, /RuleNotFound/)
  // The role may not write there: the action fails with the role's refusal.
  engine.clearErrors()
  await publish('$aws/rules/to_s3/device/8/data')
  assert.equal(moto.puts.length, 1)
  assert.match(engine.errors()[0].errorMessage, /not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b1\/device\/8\/data\/8\.json/)
  await engine.close()
})
