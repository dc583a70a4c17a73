// The rule payload: SQL, the Kafka action with get_secret, the error action,
// and what a re-run says it changes.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {getSecretExpression, isStackRuleDescription, kafkaRulePayload, parseGetSecret, ruleChanges, ruleTags, type KafkaRuleInput} from '../../src/lib/iot/rule.ts'

const roleArn = 'arn:aws:iam::222222222222:role/iotctl-demo-iot-to-msk'
const input: KafkaRuleInput = {
  stack: 'demo',
  sql: "SELECT topic(2) as device_id, temperature FROM 'device/+/data'",
  destinationArn: 'arn:aws:iot:us-east-1:222222222222:ruledestination/vpc/1234',
  kafkaTopic: 'device-data',
  bootstrapServers: 'b-1.demo.kafka.us-east-1.amazonaws.com:9096,b-2.demo.kafka.us-east-1.amazonaws.com:9096',
  secretName: 'AmazonMSK_demo',
  roleArn,
}

test('get_secret expressions name the secret, SecretString, the JSON key and the role', () => {
  assert.equal(getSecretExpression('AmazonMSK_demo', 'username', roleArn),
    "${get_secret('AmazonMSK_demo', 'SecretString', 'username', 'arn:aws:iam::222222222222:role/iotctl-demo-iot-to-msk')}")
  assert.deepEqual(parseGetSecret(getSecretExpression('AmazonMSK_demo', 'password', roleArn)),
    {secretName: 'AmazonMSK_demo', secretType: 'SecretString', jsonKey: 'password', roleArn})
  assert.equal(parseGetSecret('plain'), undefined)
})

test('the rule payload: SQL, Kafka action with SASL/SCRAM client properties, marked description', () => {
  assert.deepEqual(kafkaRulePayload(input), {
    sql: input.sql,
    description: 'iotctl:stack=demo IoT rule to Apache Kafka (MSK) through a VPC destination',
    awsIotSqlVersion: '2016-03-23',
    ruleDisabled: false,
    actions: [{kafka: {
      destinationArn: input.destinationArn,
      topic: 'device-data',
      clientProperties: {
        'bootstrap.servers': input.bootstrapServers,
        'security.protocol': 'SASL_SSL',
        'sasl.mechanism': 'SCRAM-SHA-512',
        'sasl.scram.username': `\${get_secret('AmazonMSK_demo', 'SecretString', 'username', '${roleArn}')}`,
        'sasl.scram.password': `\${get_secret('AmazonMSK_demo', 'SecretString', 'password', '${roleArn}')}`,
      },
    }}],
  })
  assert.deepEqual(kafkaRulePayload({...input, errorTopic: 'iotctl/errors'}).errorAction, {republish: {roleArn, topic: 'iotctl/errors', qos: 0}})
})

test('the description marks the stack exactly (stack "a" is not stack "a2")', () => {
  const description = kafkaRulePayload(input).description
  assert.ok(isStackRuleDescription(description, 'demo'))
  assert.ok(!isStackRuleDescription(description, 'dem'))
  assert.ok(!isStackRuleDescription('iotctl:stack=demo2 x', 'demo'))
  assert.ok(!isStackRuleDescription(undefined, 'demo'))
})

test('tags go as a URL query string', () => {
  assert.equal(ruleTags({'iotctl:stack': 'demo', 'iotctl:managed': 'true'}), 'iotctl%3Astack=demo&iotctl%3Amanaged=true')
  assert.deepEqual([...new URLSearchParams(ruleTags({'iotctl:stack': 'a b'}))], [['iotctl:stack', 'a b']])
})

test('a re-run says what changed, in words, and never a secret value', () => {
  const wanted = kafkaRulePayload(input)
  const cases: [Partial<KafkaRuleInput>, string[]][] = [
    [{}, []],
    [{sql: "SELECT * FROM 'device/+/data'"}, [`SQL "SELECT * FROM 'device/+/data'" → "${input.sql}"`]],
    [{kafkaTopic: 'old-topic'}, ["Kafka topic 'old-topic' → 'device-data'"]],
    [{bootstrapServers: 'b-1:9096'}, [`bootstrap.servers 'b-1:9096' → '${input.bootstrapServers}'`]],
    [{secretName: 'AmazonMSK_old'}, ['sasl.scram.password (secret or role in get_secret)', 'sasl.scram.username (secret or role in get_secret)']],
    [{destinationArn: 'arn:old'}, [`destination arn:old → ${input.destinationArn}`]],
    [{errorTopic: 'errors'}, ['remove the error action']],
  ]
  for (const [change, expected] of cases) assert.deepEqual(ruleChanges(kafkaRulePayload({...input, ...change}), wanted), expected, JSON.stringify(change))
  assert.deepEqual(ruleChanges(wanted, kafkaRulePayload({...input, errorTopic: 'errors'})), ["error action: republish to 'errors'"])
  assert.deepEqual(ruleChanges({...wanted, ruleDisabled: true}, wanted), [], 'enabling is not a replacement')
})
