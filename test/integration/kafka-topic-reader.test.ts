// msk consume's reader against a real Kafka broker (SASL_SSL, SCRAM-SHA-512,
// test CA): new messages only by default, everything with --from-beginning,
// the key/partition/offset/timestamp of each, a missing topic named, refused
// credentials said as such, and no debug line carrying the SCRAM exchange.
import assert from 'node:assert/strict'
import {after, before, test} from 'node:test'
import {Producer} from '@platformatic/kafka'
import {CheckFailed} from '../../src/lib/errors.ts'
import {TopicReader, consumeTopic, parseBootstrapServers, type KafkaConnection} from '../../src/lib/msk/kafka-client.ts'
import {ScramCredentials} from '../../src/lib/secrets/credentials.ts'
import {startKafka, type LocalKafka} from '../support/kafka/index.ts'

let kafka: LocalKafka
let connection: KafkaConnection
const password = 'reader-Secret-0123456789abcdef'

before(async () => {
  kafka = await startKafka()
  await kafka.upsertScramUser('reader', password)
  await kafka.createTopic('device-data', {partitions: 2})
  connection = {brokers: parseBootstrapServers(kafka.bootstrap), credentials: new ScramCredentials('reader', password), caFile: kafka.caFile}
})
after(async () => kafka?.stop())

async function produce(messages: {key?: string; value: string}[]): Promise<void> {
  const producer = new Producer({clientId: 'test-producer', ...kafka.clientOptions()})
  try {
    await producer.send({messages: messages.map((m) => ({topic: 'device-data', value: Buffer.from(m.value), ...(m.key ? {key: Buffer.from(m.key)} : {})}))})
  } finally {
    await producer.close()
  }
}

test('from the end: only what is produced after the reader is positioned; from the beginning: what was there', async () => {
  await produce([{value: '{"old":1}'}])
  const reader = await TopicReader.open(connection, 'device-data', {fromBeginning: false})
  try {
    const before = Date.now()
    await produce([{key: 'dev1', value: '{"device_id":"dev1","temperature":21.5}'}])
    const message = await reader.next({deadline: Date.now() + 20_000})
    assert.ok(message, 'the new message arrived')
    assert.equal(message.value, '{"device_id":"dev1","temperature":21.5}')
    assert.equal(message.key, 'dev1')
    assert.equal(message.topic, 'device-data')
    assert.ok([0, 1].includes(message.partition))
    assert.match(message.offset, /^\d+$/)
    assert.ok(Math.abs(Date.parse(message.timestamp) - before) < 30_000, message.timestamp)
    assert.equal(await reader.next({deadline: Date.now() + 1500}), undefined, 'the old message is not read')
  } finally {
    await reader.close()
  }
  const seen: string[] = []
  const outcome = await consumeTopic({connection, topic: 'device-data', fromBeginning: true, count: 2, timeoutSeconds: 20, onMessage: (m) => seen.push(m.value ?? '')})
  assert.equal(outcome.stoppedBy, 'count')
  assert.deepEqual(seen.sort(), ['{"device_id":"dev1","temperature":21.5}', '{"old":1}'])
})

test('a timeout with fewer messages than asked for says so', async () => {
  const outcome = await consumeTopic({connection, topic: 'device-data', fromBeginning: false, count: 1, timeoutSeconds: 2, onMessage: () => {}})
  assert.deepEqual([outcome.received, outcome.stoppedBy], [0, 'timeout'])
})

test('a topic that does not exist is named', async () => {
  await assert.rejects(TopicReader.open(connection, 'no-such-topic', {fromBeginning: false}),
    (error: Error) => error instanceof CheckFailed && error.message === `Kafka topic 'no-such-topic' does not exist on ${kafka.bootstrap}`)
})

test('wrong credentials are refused as such, and the password is in no message', async () => {
  const wrong = {...connection, credentials: new ScramCredentials('reader', 'not-the-Password-42')}
  await assert.rejects(TopicReader.open(wrong, 'device-data', {fromBeginning: false}), (error: Error) => {
    assert.ok(error instanceof CheckFailed, String(error))
    assert.match(error.message, /refused the SCRAM credentials of user 'reader'/)
    assert.ok(!error.message.includes('not-the-Password-42') && !error.message.includes(password))
    return true
  })
})
