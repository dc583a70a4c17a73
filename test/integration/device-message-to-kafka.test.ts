// Issue 12 end to end, the built CLI against the local AWS with its real Kafka
// broker, IoT data plane and rules engine: `up --create-cluster` creates the
// rule's Kafka topic; a device made by `device create` publishes with mutual
// TLS (endpoint and port found by the local convention, no --endpoint) and
// `msk consume` reads the message as the rule's SQL rewrote it; `doctor
// --probe` follows a probe to Kafka, and names the missing topic once the
// topic is deleted behind iotctl's back, and authentication once the secret is
// disassociated; a SigV4 WebSocket publish arrives too, a publish outside the
// device's policy is refused; bad input exits 2, a missing topic 1;
// cleanup deletes the topic it created, never one it found.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

let aws: LocalAws
let cwd: string
const stack = 'e2e'
const cli = (args: string[], timeoutMs = 180_000) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs})
const kafka = () => aws.kafka!
const kafkaFlags = () => ['--bootstrap-server', kafka().bootstrap, '--ca', kafka().caFile]
const probeFlags = () => ['--bootstrap-server', kafka().bootstrap, '--kafka-ca', kafka().caFile]

before(async () => {
  aws = await startLocalAws({kafka: true})
  const network = await aws.createNetwork()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-e2e-'))
  writeStackConfig(cwd, stack, network, {rule: {name: 'e2e_device_data', kafkaTopic: 'device-data', errorTopic: 'iotctl/errors'}})
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('a device\'s message reaches Kafka', () => {
  test('up --create-cluster creates the rule\'s Kafka topic and records it', async () => {
    const result = await cli(['up', '--create-cluster'])
    assert.equal(result.code, 0, result.stderr)
    const topic = await aws.kafka?.describeTopic('device-data')
    assert.ok(topic, 'the broker has topic device-data')
    const ledger = JSON.parse(readFileSync(join(cwd, '.iotctl', `${stack}.json`), 'utf8'))
    const record = ledger.resources.find((r: {step: string}) => r.step === 'kafka-topic')
    assert.equal(record?.attrs?.topicName, 'device-data')
    assert.equal(record?.attrs?.createdBy, `iotctl:stack=${stack}`)
  })

  test('device create writes host:port of the local data plane; mqtt publish with its certificate reaches msk consume, rewritten by the SQL', async () => {
    const device = await cli(['device', 'create', 'dev1'])
    assert.equal(device.code, 0, device.stderr)
    assert.equal(readFileSync(join(cwd, 'dev1.endpoint'), 'utf8').trim(), `localhost:${aws.iotData.port}`)
    const consuming = cli(['msk', 'consume', '--topic', 'device-data', '--count', '1', '--timeout', '60', '--json', ...kafkaFlags()])
    // msk consume starts at the end of the topic: publish once it has had time to position itself.
    await new Promise((resolve) => setTimeout(resolve, 8000))
    const published = await cli(['mqtt', 'publish', '--cert', 'dev1.cert.pem', '--key', 'dev1.private.key', '--topic', 'device/dev1/data', '--message', '{"temperature": 21.5, "humidity": 40}'])
    assert.equal(published.code, 0, published.stderr)
    const consumed = await consuming
    assert.equal(consumed.code, 0, consumed.stdout + consumed.stderr)
    const [line, summary] = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l))
    assert.deepEqual(JSON.parse(line.value), {device_id: 'dev1', temperature: 21.5})
    assert.equal(line.topic, 'device-data')
    assert.match(line.offset, /^\d+$/)
    assert.equal(summary.received, 1)
  })

  test('mqtt publish over a SigV4 WebSocket with the IoT profile reaches Kafka too; a publish outside the device policy is refused', async () => {
    const consuming = cli(['msk', 'consume', '--count', '1', '--timeout', '60', '--json', ...kafkaFlags()])
    await new Promise((resolve) => setTimeout(resolve, 8000))
    const published = await cli(['mqtt', 'publish', '--topic', 'device/ws1/data', '--message', '{"temperature": 19}'])
    assert.equal(published.code, 0, published.stderr)
    const consumed = await consuming
    assert.equal(consumed.code, 0, consumed.stdout + consumed.stderr)
    assert.deepEqual(JSON.parse(JSON.parse(consumed.stdout.split('\n')[0]).value), {device_id: 'ws1', temperature: 19})
    const outside = await cli(['mqtt', 'publish', '--cert', 'dev1.cert.pem', '--key', 'dev1.private.key', '--topic', 'device/other/data', '--message', '{"temperature": 1}'])
    assert.equal(outside.code, 1)
    assert.match(outside.stderr, /closed the connection|not allow iot:Publish/)
  })

  test('msk consume --from-beginning reads what was there; a timeout short of --count exits 1', async () => {
    const all = await cli(['msk', 'consume', '--from-beginning', '--count', '1', '--timeout', '30', ...kafkaFlags()])
    assert.equal(all.code, 0, all.stderr)
    assert.match(all.stdout, /^0:0 \S+ \{"device_id":"dev1","temperature":21\.5\}$/m)
    const short = await cli(['msk', 'consume', '--from-beginning', '--count', '5', '--timeout', '3', ...kafkaFlags()])
    assert.equal(short.code, 1)
    assert.match(short.stderr, /2 of 5 message\(s\) arrived on Kafka topic device-data within 3 s/)
  })

  test('doctor --probe follows a probe to Kafka and reports the latency', async () => {
    const result = await cli(['doctor', '--probe', '--json', ...probeFlags()])
    const document = jsonOf(result)
    const probe = document.checks.find((c: {id: string}) => c.id === 'probe')
    assert.equal(probe?.status, 'pass', JSON.stringify(probe))
    assert.equal(document.probe.kafka.state, 'received')
    assert.ok(document.probe.kafka.latencyMs >= 0 && document.probe.kafka.latencyMs < 10_000)
    assert.equal(document.checks.find((c: {id: string}) => c.id === 'kafka-topic')?.status, 'pass')
  })

  test('bad input: --bootstrap-server nohost exits 2, a topic that does not exist exits 1 naming it', async () => {
    const bad = await cli(['msk', 'consume', '--topic', 'device-data', '--bootstrap-server', 'nohost'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--bootstrap-server 'nohost': expected host:port/)
    const missing = await cli(['msk', 'consume', '--topic', 'no-such-topic', '--timeout', '5', ...kafkaFlags()])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /Kafka topic 'no-such-topic' does not exist/)
  })

  test('with the topic deleted behind iotctl\'s back, doctor names it and the probe fails with the rule\'s error', async () => {
    await aws.kafka?.deleteTopic('device-data')
    const result = await cli(['doctor', '--probe', '--json', ...probeFlags()])
    assert.equal(result.code, 1)
    const document = jsonOf(result)
    const topicCheck = document.checks.find((c: {id: string}) => c.id === 'kafka-topic')
    assert.equal(topicCheck?.status, 'fail')
    assert.match(topicCheck?.detail, /Kafka topic 'device-data' does not exist/)
    const probe = document.checks.find((c: {id: string}) => c.id === 'probe')
    assert.equal(probe?.status, 'fail', JSON.stringify(document.probe))
    assert.ok(document.probe.failures.length > 0)
    assert.match(document.probe.failures.map((f: {errorMessage: string}) => f.errorMessage).join(' '), /device-data/)
  })

  test('with the secret disassociated from the cluster, the probe fails naming authentication', async () => {
    const {BatchDisassociateScramSecretCommand, KafkaClient, ListClustersV2Command, ListScramSecretsCommand} = await import('@aws-sdk/client-kafka')
    const kafkaApi = new KafkaClient(aws.clientConfig('msk'))
    const cluster = (await kafkaApi.send(new ListClustersV2Command({}))).ClusterInfoList![0].ClusterArn!
    const secrets = (await kafkaApi.send(new ListScramSecretsCommand({ClusterArn: cluster}))).SecretArnList ?? []
    await kafkaApi.send(new BatchDisassociateScramSecretCommand({ClusterArn: cluster, SecretArnList: secrets}))
    await aws.kafka?.createTopic('device-data')
    const result = await cli(['doctor', '--probe', '--json', ...probeFlags()])
    assert.equal(result.code, 1)
    const document = jsonOf(result)
    assert.equal(document.checks.find((c: {id: string}) => c.id === 'probe')?.status, 'fail', JSON.stringify(document.probe))
    assert.match(document.probe.failures.map((f: {errorMessage: string}) => f.errorMessage).join(' '), /authentication/i)
    kafkaApi.destroy()
  })

  test('up creates the topic again; cleanup --keep-topic keeps it, and a topic the stack found is never deleted', async () => {
    await aws.kafka?.deleteTopic('device-data')
    const again = await cli(['up'])
    assert.equal(again.code, 0, again.stderr)
    assert.ok(await aws.kafka?.describeTopic('device-data'))
    await aws.kafka?.createTopic('found-topic')
    const kept = await cli(['cleanup', '--yes', '--keep-topic'])
    assert.equal(kept.code, 0, kept.stderr)
    assert.ok(await aws.kafka?.describeTopic('device-data'), '--keep-topic kept it')
    assert.ok(await aws.kafka?.describeTopic('found-topic'))
  })
})
