import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {matchTopicRules, ruleTopicFilter, topicMatchesFilter, validatePublishTopic, validateTopicFilter} from '../../src/lib/mqtt/topics.ts'

describe('topic filters match topics as MQTT says', () => {
  const cases: [topic: string, filter: string, matches: boolean][] = [
    ['device/1/data', 'device/1/data', true],
    ['device/1/data', 'device/+/data', true],
    ['device/1/data', 'device/#', true],
    ['device', 'device/#', true], // '#' also matches the parent level
    ['device/1/data', '#', true],
    ['device/1/data', '+/+/+', true],
    ['device/1/data', 'device/+', false],
    ['device/1/data', 'device/+/data/#', true],
    ['device/1/data/extra', 'device/+/data', false],
    ['device/1', 'device/+/data', false],
    ['devices/1/data', 'device/+/data', false],
    ['device//data', 'device/+/data', true], // an empty level is a level
    ['Device/1/data', 'device/+/data', false], // case matters
    ['$aws/things/x/shadow/update', '#', false], // wildcards at the start do not match $ topics
    ['$aws/things/x/shadow/update', '+/things/#', false],
    ['$aws/things/x/shadow/update', '$aws/things/+/shadow/#', true],
  ]
  for (const [topic, filter, matches] of cases) {
    test(`${topic} ${matches ? 'matches' : 'does not match'} ${filter}`, () => {
      assert.equal(topicMatchesFilter(topic, filter), matches)
    })
  }
})

describe('publish topics are checked', () => {
  for (const good of ['device/1/data', 'a', '$aws/rules/myRule/a/b/c/d/e/f/g/h', 'a/b/c/d/e/f/g/h']) {
    test(`accepts ${good}`, () => validatePublishTopic(good))
  }
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['device/+/data', /wildcard/],
    ['device/#', /wildcard/],
    ['a/b/c/d/e/f/g/h/i', /at most 7/],
    ['x'.repeat(257), /at most 256/],
    ['a\u0000b', /NUL/],
  ]
  for (const [topic, message] of bad) {
    test(`refuses ${JSON.stringify(topic.slice(0, 20))}`, () => {
      assert.throws(() => validatePublishTopic(topic), (error) => error instanceof InputError && message.test(error.message))
    })
  }
})

describe('subscription filters are checked', () => {
  for (const good of ['device/+/data', 'device/#', '#', '+', '+/+', 'device/1/data', '$share/group/device/+/data', '$aws/things/+/shadow/#']) {
    test(`accepts ${good}`, () => validateTopicFilter(good))
  }
  for (const bad of ['', 'device/#/data', 'device/a#', 'device/a+/data', 'device/+a', '$share//device/#', '$share/g+/x', '$share/g/a/#/b']) {
    test(`refuses ${JSON.stringify(bad)}`, () => {
      assert.throws(() => validateTopicFilter(bad), InputError)
    })
  }
})

describe('rule SQL gives its topic filter', () => {
  const cases: [string, string][] = [
    ["SELECT topic(2) as device_id, temperature FROM 'device/+/data'", 'device/+/data'],
    ["select * from 'a/#' where temperature > 30", 'a/#'],
    ['SELECT * FROM "quoted/+/double"', 'quoted/+/double'],
    ["SELECT * FROM\n  'multi/line' WHERE x = 'FROM'", 'multi/line'],
    ["SELECT * FROM 'it''s/+'", "it's/+"],
  ]
  for (const [sql, filter] of cases) test(sql.replace(/\s+/g, ' '), () => assert.equal(ruleTopicFilter(sql), filter))
  test('no FROM is an InputError', () => assert.throws(() => ruleTopicFilter('SELECT 1'), InputError))
})

describe('matchTopicRules catches topic typos', () => {
  const rules = [
    {name: 'toKafka', sql: "SELECT topic(2) as device_id, temperature FROM 'device/+/data'"},
    {name: 'alarms', sql: "SELECT * FROM 'device/+/alarm' WHERE level > 2"},
  ]
  test('the topic the rule listens to', () => {
    assert.deepEqual(matchTopicRules('device/1/data', rules), [
      {name: 'toKafka', filter: 'device/+/data', matches: true},
      {name: 'alarms', filter: 'device/+/alarm', matches: false},
    ])
  })
  test('a typo matches no rule', () => {
    assert.deepEqual(
      matchTopicRules('devices/1/data', rules).filter((rule) => rule.matches),
      [],
    )
  })
  test('plain SQL strings work too', () => {
    assert.deepEqual(matchTopicRules('device/7/data', ["SELECT * FROM 'device/#'"]), [{filter: 'device/#', matches: true}])
  })
  test('a wildcard topic is refused', () => {
    assert.throws(() => matchTopicRules('device/+/data', rules), InputError)
  })
})
