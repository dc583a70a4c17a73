// Alternating users as pure functions: durations, when a rotation is due
// (--if-older-than's boundary), doctor's age verdict, which secret the rule
// reads and the rule switched to the other.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {secretAgeVerdict} from '../../src/lib/doctor/secrets.ts'
import {kafkaRulePayload} from '../../src/lib/iot/rule.ts'
import {InputError} from '../../src/lib/errors.ts'
import {formatDuration, parseDuration} from '../../src/lib/secrets/durations.ts'
import {checkSecretSettings, slotSecretName, slotUsername} from '../../src/lib/secrets/names.ts'
import {activeSlotOf, keptRuleSecretName, ruleSecretName, switchRuleSecret} from '../../src/lib/secrets/pair.ts'
import {checkNotifyTopic, rotationDue} from '../../src/lib/secrets/rotation.ts'

const day = 86_400_000

describe('durations', () => {
  test('whole numbers with s, m, h or d', () => {
    for (const [text, ms] of [['30d', 30 * day], ['12h', 12 * 3_600_000], ['90s', 90_000], ['10m', 600_000], ['0s', 0]] as const) {
      assert.equal(parseDuration(text, '--if-older-than').ms, ms, text)
    }
  })
  test('anything else is bad input naming the flag', () => {
    for (const text of ['30', 'd', '1.5d', '30days', '-1d', '', '30 d x', '1w']) {
      assert.throws(() => parseDuration(text, '--if-older-than'), (error: Error) => error instanceof InputError && error.message.startsWith(`--if-older-than '${text}': not a duration`), text)
    }
  })
  test('formatted for people', () => {
    assert.deepEqual([0, 59_000, 61_000, 3_600_000, 3 * day, 3 * day + 7_200_000].map(formatDuration), ['0s', '59s', '1m 1s', '1h', '3d', '3d 2h'])
  })
})

describe('--if-older-than boundaries', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  const threshold = parseDuration('30d', '--if-older-than')
  test('exactly 30 days is not older; a second more is', () => {
    assert.equal(rotationDue(new Date(now - 30 * day), now, threshold).due, false)
    assert.equal(rotationDue(new Date(now - 30 * day - 1000), now, threshold).due, true)
    assert.equal(rotationDue(new Date(now - day), now, threshold).due, false)
  })
  test('an unknown last change is due', () => {
    assert.equal(rotationDue(undefined, now, threshold).due, true)
  })
})

describe('doctor: the secret the rule reads and rotation.maxAgeDays', () => {
  const now = Date.parse('2026-12-01T12:00:00Z')
  test('warns strictly past maxAgeDays, passes within, passes with a hint without the key', () => {
    assert.equal(secretAgeVerdict('AmazonMSK_s', new Date(now - 31 * day), now, 30).status, 'warn')
    assert.match(secretAgeVerdict('AmazonMSK_s', new Date(now - 31 * day), now, 30).hint ?? '', /iotctl secret rotate --if-older-than 30d/)
    assert.equal(secretAgeVerdict('AmazonMSK_s', new Date(now - 30 * day), now, 30).status, 'pass')
    const without = secretAgeVerdict('AmazonMSK_s', new Date(now - 400 * day), now, undefined)
    assert.equal(without.status, 'pass')
    assert.match(without.detail, /set rotation.maxAgeDays/)
  })
})

describe('the pair of users', () => {
  const settings = {stack: 'demo'}
  test('names: the first keeps the one-secret name, the alternate adds _b', () => {
    assert.deepEqual([slotSecretName(settings, 'a'), slotSecretName(settings, 'b')], ['AmazonMSK_demo', 'AmazonMSK_demo_b'])
    assert.deepEqual([slotUsername(settings, 'a'), slotUsername(settings, 'b')], ['iotctl', 'iotctl_b'])
  })
  test('a username too long for its alternate is bad input', () => {
    assert.throws(() => checkSecretSettings({stack: 'demo', secret: {username: 'u'.repeat(127)}}), /at most 126 characters/)
  })
  const roleArn = 'arn:aws:iam::222222222222:role/iotctl-demo-iot'
  const payload = kafkaRulePayload({stack: 'demo', sql: 'SELECT * FROM \'d/+/data\'', kafkaTopic: 't', destinationArn: 'arn:d', secretName: 'AmazonMSK_demo', bootstrapServers: 'b:9096', roleArn})
  test('the rule reads the first; switched, it reads the alternate with the same role, nothing else changed', () => {
    assert.equal(ruleSecretName(payload), 'AmazonMSK_demo')
    assert.equal(activeSlotOf(settings, payload), 'a')
    assert.equal(keptRuleSecretName(settings, payload), undefined, 'up keeps the first')
    const switched = switchRuleSecret(payload, 'AmazonMSK_demo_b')
    assert.equal(activeSlotOf(settings, switched), 'b')
    assert.equal(keptRuleSecretName(settings, switched), 'AmazonMSK_demo_b', 'up keeps the alternate once switched')
    const props = switched.actions![0].kafka!.clientProperties!
    assert.equal(props['sasl.scram.password'], `\${get_secret('AmazonMSK_demo_b', 'SecretString', 'password', '${roleArn}')}`)
    assert.deepEqual({...switched, actions: undefined}, {...payload, actions: undefined})
    assert.equal(props['bootstrap.servers'], 'b:9096')
  })
  test('a rule that reads another secret is neither', () => {
    assert.equal(activeSlotOf(settings, switchRuleSecret(payload, 'AmazonMSK_other')), undefined)
  })
})

describe('--notify-topic', () => {
  test('a literal Kafka topic name', () => {
    assert.equal(checkNotifyTopic('iotctl-rotations'), 'iotctl-rotations')
    for (const bad of ['has space', '${topic()}', '', '..', 'a/b']) assert.throws(() => checkNotifyTopic(bad), /^InputError: --notify-topic|--notify-topic '/, bad)
  })
})
