// Rule inputs checked before any AWS call: names, SQL, Kafka and error topics.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {checkErrorTopic, checkKafkaTopic, checkRuleName, checkSql, defaultRuleName, defaultSql, sampleTopic, topicFilterOf} from '../../src/lib/iot/names.ts'

test('rule names: letters, digits and underscores; a dash is refused with that explanation', () => {
  for (const good of ['device_data', 'a', 'Rule_2_Kafka', 'x'.repeat(128)]) assert.equal(checkRuleName(good), good)
  const cases: [string, RegExp][] = [
    ['device-data', /no dashes \(try 'device_data'\)/],
    ['', /1 to 128 characters/],
    ['has space', /letters, digits and underscores only/],
    ['x'.repeat(129), /1 to 128 characters/],
    ['ümlaut', /letters, digits and underscores only/],
  ]
  for (const [name, message] of cases) {
    assert.throws(() => checkRuleName(name), (e: Error) => e instanceof InputError && message.test(e.message) && e.message.includes('--name'), name)
  }
})

test('a suggested rule name is itself a valid rule name', () => {
  for (const name of ['bad-name!', 'device-data', 'has space', 'ümlaut', 'a.b/c']) {
    const error = (() => { try { checkRuleName(name) } catch (e) { return e as Error } })()
    const suggested = /\(try '([^']*)'\)/.exec(error?.message ?? '')?.[1]
    assert.ok(suggested !== undefined, `${name}: a suggestion`)
    assert.equal(checkRuleName(suggested), suggested, `${name}: the suggestion '${suggested}' is accepted`)
  }
})

test('the default rule name is a valid rule name for any stack name', () => {
  for (const stack of ['iotctl', 'ci-1234', 'a_b-c']) assert.equal(checkRuleName(defaultRuleName(stack)), defaultRuleName(stack))
  assert.equal(defaultRuleName('ci-42'), 'iotctl_ci_42_to_kafka')
})

test('SQL must be a SELECT from a quoted topic filter', () => {
  const good: [string, string][] = [
    [defaultSql, 'device/+/data'],
    ["select * from 'a/#'", 'a/#'],
    ['SELECT temperature FROM "sensors/+/t" WHERE temperature > 30', 'sensors/+/t'],
    ["  SELECT topic(2) AS id FROM 'x'", 'x'],
  ]
  for (const [sql, filter] of good) assert.equal(checkSql(sql), filter, sql)
  const bad: [string, RegExp][] = [
    ["DELETE FROM 'device/+/data'", /starts with SELECT/],
    ['', /starts with SELECT/],
    ['SELECT * FROM device', /FROM '<topic filter>'/],
    ["SELECT * FROM 'a/b#'", /'#' only the last level/],
    ["SELECT * FROM 'a/#/b'", /'#' only the last level/],
    ["SELECT * FROM 'a/x+/b'", /'\+' must be a whole level/],
  ]
  for (const [sql, message] of bad) assert.throws(() => checkSql(sql), (e: Error) => e instanceof InputError && message.test(e.message), sql)
})

test('Kafka topics: what Kafka accepts, with IoT substitution templates allowed', () => {
  for (const good of ['device-data', 'a.b_c-d', 'x'.repeat(249), 'device-${topic(2)}']) assert.equal(checkKafkaTopic(good), good)
  const bad: [string, RegExp][] = [
    ['', /1 to 249/],
    ['x'.repeat(250), /1 to 249/],
    ['.', /'\.' and '\.\.'/],
    ['..', /'\.' and '\.\.'/],
    ['has space', /found ' '/],
    ['a/b', /found '\/'/],
    ['topic#1', /found '#'/],
  ]
  for (const [topic, message] of bad) {
    assert.throws(() => checkKafkaTopic(topic), (e: Error) => e instanceof InputError && message.test(e.message) && e.message.includes('--kafka-topic'), topic)
  }
})

test('error topics: an MQTT topic to publish to', () => {
  for (const good of ['iotctl/errors', 'errors/${topic(2)}']) assert.equal(checkErrorTopic(good), good)
  for (const [topic, message] of [['', /empty/], ['errors/#', /wildcards/], ['a/+/b', /wildcards/], ['$aws/things/x', /reserved/], ['x'.repeat(257), /256 bytes/]] as const) {
    assert.throws(() => checkErrorTopic(topic), (e: Error) => e instanceof InputError && message.test(e.message), topic)
  }
})

test('topic filters and a sample topic that matches them', () => {
  assert.equal(topicFilterOf('SELECT 1'), undefined)
  assert.equal(sampleTopic('device/+/data'), 'device/1/data')
  assert.equal(sampleTopic('a/#'), 'a/test')
})
