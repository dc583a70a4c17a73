// doctor --probe's message: a topic the rule's FROM matches with the probe id
// in its wildcard levels, a payload giving the id to every field the SELECT
// keeps, "cannot match" said when nothing could carry it; the error action's
// failure document read back; the verdict quoting AWS's error text.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {verdictOf, type ProbeReport} from '../../src/lib/doctor/probe.ts'
import {isAboutProbe, parseFailureDocument, probePlan, probeTopic} from '../../src/lib/doctor/probe-message.ts'

const id = 'iotctl-probe-0123456789ab'

test('the probe topic matches the filter, the id in each wildcard level', () => {
  assert.equal(probeTopic('device/+/data', id), `device/${id}/data`)
  assert.equal(probeTopic('sensors/#', id), `sensors/${id}`)
  assert.equal(probeTopic('plain/topic', id), 'plain/topic')
})

test('the id survives the walkthrough\'s SQL (topic(2) and a selected field), SELECT *, aliases and nested fields', () => {
  const walkthrough = probePlan("SELECT topic(2) as device_id, temperature FROM 'device/+/data'", 'device/+/data', id)
  assert.equal(walkthrough.traceable, true)
  assert.equal(JSON.parse(walkthrough.payload).temperature, id)
  assert.equal(walkthrough.topic, `device/${id}/data`)
  assert.equal(probePlan("SELECT * FROM 'a/b'", 'a/b', id).traceable, true)
  const nested = JSON.parse(probePlan("SELECT state.reported.t AS t FROM 'a/b'", 'a/b', id).payload)
  assert.equal(nested.state.reported.t, id)
  assert.equal(nested.iotctl_probe, id)
})

test('a SELECT with only functions or literals cannot carry the id, and says so', () => {
  for (const sql of ["SELECT timestamp() AS ts FROM 'a/b'", "SELECT topic(1) AS t FROM 'a/+'", "SELECT 1 AS one, clientid() AS c FROM 'x/#'"]) {
    const plan = probePlan(sql, /'([^']*)'\s*$/.exec(sql)?.[1] ?? '', id)
    assert.equal(plan.traceable, false, sql)
    assert.match(plan.reason ?? '', /keeps no field or topic level/)
  }
})

test('the error action\'s document is read back and matched to the probe', () => {
  const document = parseFailureDocument(JSON.stringify({
    ruleName: 'iotctl_demo_to_kafka', topic: `device/${id}/data`, cloudwatchTraceId: 'x', clientId: 'iotctl-probe-aa',
    base64OriginalPayload: Buffer.from(JSON.stringify({iotctl_probe: id})).toString('base64'),
    failures: [{failedAction: 'KafkaAction', failedResource: 'device-data', errorMessage: 'Failed to send message to Kafka. The topic device-data does not exist.'}],
  }))
  assert.ok(document)
  assert.equal(document.failures[0].errorMessage, 'Failed to send message to Kafka. The topic device-data does not exist.')
  assert.equal(isAboutProbe(document, id, 'other-client'), true)
  assert.equal(isAboutProbe({failures: [], topic: 'device/dev1/data', clientId: 'dev1', originalPayload: '{}'}, id, 'iotctl-probe-aa'), false)
  assert.equal(parseFailureDocument('not json'), undefined)
  assert.equal(parseFailureDocument('{"temperature": 1}'), undefined)
})

test('verdicts: an error fails with AWS\'s text and a fix; arrival passes with the latency; silence with Kafka reachable fails', () => {
  const base: ProbeReport = {probeId: id, topic: `device/${id}/data`, errorTopic: 'iotctl/errors', failures: [], kafka: {state: 'unreachable', detail: 'getaddrinfo ENOTFOUND b-1'}}
  const failed = verdictOf({...base, failures: [{failedAction: 'KafkaAction', errorMessage: 'The topic device-data does not exist'}]}, 'device-data', 10)
  assert.equal(failed.status, 'fail')
  assert.match(failed.detail, /KafkaAction: The topic device-data does not exist/)
  assert.match(failed.hint ?? '', /create the Kafka topic/)
  const auth = verdictOf({...base, failures: [{failedAction: 'KafkaAction', errorMessage: 'SASL authentication failed'}]}, 'device-data', 10)
  assert.match(auth.hint ?? '', /refused the rule's SCRAM credentials/)
  const arrived = verdictOf({...base, kafka: {state: 'received', latencyMs: 42, partition: 0, offset: '7', value: '{}'}}, 'device-data', 10)
  assert.deepEqual([arrived.status, arrived.detail.includes('in 42 ms (partition 0, offset 7)')], ['pass', true])
  assert.equal(verdictOf({...base, kafka: {state: 'not-received', detail: 'did not arrive'}}, 'device-data', 10).status, 'fail')
  const quiet = verdictOf(base, 'device-data', 10)
  assert.equal(quiet.status, 'pass')
  assert.match(quiet.detail, /no error republished to iotctl\/errors within 10 s \(Kafka not reachable from here: getaddrinfo ENOTFOUND b-1/)
  const { errorTopic: _, ...noErrorTopic } = base
  assert.equal(verdictOf(noErrorTopic, 'device-data', 10).status, 'warn')
})
