// `iotctl device create` and its cleanup with the built CLI against the local
// two-account AWS (moto's IoT things, certificates and policies; the stand-in's
// policy tags). Files 0600, the policy scoped to the thing, the private key
// nowhere but in its file, and cleanup removing all of it — also without the ledger.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {
  DescribeCertificateCommand, DescribeThingCommand, GetPolicyCommand, IoTClient, ListAttachedPoliciesCommand,
  ListPoliciesCommand, ListTagsForResourceCommand, ListThingPrincipalsCommand, ListThingsCommand,
} from '@aws-sdk/client-iot'
import {assertBadInput} from '../support/bad-input.ts'
import {jsonOf} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {runIotctl} from '../support/tunnel-service.ts'

let aws: LocalAws
let cwd: string
let iot: IoTClient

const cli = (args: string[]) => runIotctl(args, {cwd, env: aws.childEnv()})
const mode = (path: string) => statSync(path).mode & 0o777
const out = () => join(cwd, 'certs')

before(async () => {
  aws = await startLocalAws()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-device-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'dev', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  iot = new IoTClient(aws.clientConfig('iot'))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('device create', () => {
  let certificateId: string

  test('thing, certificate and policy scoped to the thing; files 0600; the key only in its file', async () => {
    aws.resetLog()
    const result = await cli(['device', 'create', 'sensor-1', '--out', out(), '--json'])
    assert.equal(result.code, 0, result.stderr)
    const doc = jsonOf(result)
    certificateId = doc.certificateId
    assert.equal(doc.thingName, 'sensor-1')
    assert.equal(doc.accountId, aws.accounts.iot)
    assert.equal(doc.policyName, 'iotctl-dev-device-sensor-1')
    assert.deepEqual(doc.created, {thing: true, policy: true, certificate: true})
    assert.deepEqual(aws.mutatingRequests().map((r) => `${r.operation}@${r.account}`), [
      'CreateThing', 'CreatePolicy', 'CreateKeysAndCertificate', 'UpdateThing', 'AttachPolicy', 'AttachThingPrincipal',
    ].map((op) => `${op}@${aws.accounts.iot}`))

    const files = {cert: join(out(), 'sensor-1.cert.pem'), key: join(out(), 'sensor-1.private.key'), endpoint: join(out(), 'sensor-1.endpoint')}
    assert.deepEqual(doc.files, files)
    for (const path of Object.values(files)) assert.equal(mode(path), 0o600, path)
    const key = readFileSync(files.key, 'utf8')
    assert.match(key, /^-----BEGIN (RSA )?PRIVATE KEY-----/)
    assert.match(readFileSync(files.cert, 'utf8'), /^-----BEGIN CERTIFICATE-----/)
    const endpoint = readFileSync(files.endpoint, 'utf8').trim()
    // DescribeEndpoint iot:Data-ATS of the local AWS names its IoT data plane's host; the port is
    // AWS_ENDPOINT_URL_IOT_DATA_PLANE's, whose host is the same (README, "Trying it locally").
    assert.equal(endpoint, `localhost:${aws.iotData.port}`)
    assert.equal(doc.endpoint, endpoint)
    const keyBody = key.split('\n')[1]
    const ledger = readFileSync(join(cwd, '.iotctl', 'dev.json'), 'utf8')
    for (const [where, text] of [['stdout', result.stdout], ['stderr', result.stderr], ['ledger', ledger]]) {
      assert.equal(text.includes(keyBody), false, `no private key in the ${where}`)
    }
    assert.deepEqual(JSON.parse(ledger).resources.map((r: {kind: string; id: string}) => `${r.kind} ${r.id}`).sort(),
      [`iot:certificate ${certificateId}`, 'iot:policy iotctl-dev-device-sensor-1', 'iot:thing sensor-1'])

    // What AWS holds: the thing marked, the policy tagged and scoped, both attached to the certificate.
    const thing = await iot.send(new DescribeThingCommand({thingName: 'sensor-1'}))
    assert.equal(thing.attributes?.iotctl_stack, 'dev')
    // The certificate iotctl made, marked on the thing (certificates take no tags): what cleanup deletes.
    assert.equal(thing.attributes?.iotctl_certs, certificateId)
    const policy = await iot.send(new GetPolicyCommand({policyName: doc.policyName}))
    const arn = (rest: string) => `arn:aws:iot:us-east-1:${aws.accounts.iot}:${rest}`
    assert.deepEqual(JSON.parse(policy.policyDocument!).Statement, [
      {Sid: 'ConnectAsTheThing', Effect: 'Allow', Action: ['iot:Connect'], Resource: [arn('client/sensor-1')]},
      {Sid: 'PublishAndReceiveOwnTopics', Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: [arn('topic/device/sensor-1/*'), arn('topic/$aws/things/sensor-1/*')]},
      {Sid: 'SubscribeOwnTopics', Effect: 'Allow', Action: ['iot:Subscribe'], Resource: [arn('topicfilter/device/sensor-1/*'), arn('topicfilter/$aws/things/sensor-1/*')]},
    ])
    const tags = await iot.send(new ListTagsForResourceCommand({resourceArn: policy.policyArn}))
    assert.deepEqual(tags.tags, [{Key: 'iotctl:stack', Value: 'dev'}, {Key: 'iotctl:managed', Value: 'true'}])
    const certificate = await iot.send(new DescribeCertificateCommand({certificateId}))
    assert.equal(certificate.certificateDescription?.status, 'ACTIVE')
    const principals = await iot.send(new ListThingPrincipalsCommand({thingName: 'sensor-1'}))
    assert.deepEqual(principals.principals, [doc.certificateArn])
    const attached = await iot.send(new ListAttachedPoliciesCommand({target: doc.certificateArn}))
    assert.deepEqual(attached.policies?.map((p) => p.policyName), [doc.policyName])
  })

  test('existing key files: exit 2, one line, no AWS change; --force makes a new certificate and reuses thing and policy', async () => {
    aws.resetLog()
    const refused = await cli(['device', 'create', 'sensor-1', '--out', out()])
    assertBadInput(aws, refused, /sensor-1\.private\.key and .*sensor-1\.cert\.pem already exist: pass --force/)
    assert.equal(aws.log().length, 0, 'not even a read')

    const forced = await cli(['device', 'create', 'sensor-1', '--out', out(), '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stdout, /^thing +sensor-1 \(reused\)$/m)
    assert.match(forced.stdout, /^policy +iotctl-dev-device-sensor-1 \(reused\)$/m)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), ['CreateKeysAndCertificate', 'UpdateThing', 'AttachPolicy', 'AttachThingPrincipal'])
    assert.equal(mode(join(out(), 'sensor-1.private.key')), 0o600)
  })

  test('bad input and conflicts: exit 2, one line, nothing changed', async () => {
    await cli(['device', 'create', 'shared', '--out', join(cwd, 'bystander'), '--stack', 'bystander'])
    aws.resetLog()
    assertBadInput(aws, await cli(['device', 'create', 'bad/name', '--out', out()]), /thing name "bad\/name" must be 1-128 letters/)
    assertBadInput(aws, await cli(['device', 'create', 'shared', '--out', out()]), /thing shared already exists and is not stack 'dev's \(it belongs to stack 'bystander'\)/)
    writeFileSync(join(cwd, 'a-file'), '')
    assertBadInput(aws, await cli(['device', 'create', 'x', '--out', join(cwd, 'a-file')]), /--out .* is not a directory/)
    const dry = await cli(['device', 'create', 'sensor-2', '--out', out(), '--dry-run'])
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /^dry run: would create thing sensor-2, create policy iotctl-dev-device-sensor-2/)
    assert.deepEqual(aws.mutatingRequests(), [])
    assert.equal(existsSync(join(out(), 'sensor-2.private.key')), false)
  })

  test('cleanup (ledger lost) deactivates and deletes the certificates, the policy and the thing; another stack\'s stay; runs twice', async () => {
    rmSync(join(cwd, '.iotctl'), {recursive: true, force: true})
    const result = await cli(['cleanup', '--yes', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const step = jsonOf(result).steps.find((s: {id: string}) => s.id === 'devices')
    assert.equal(step.outcome, 'deleted')
    assert.deepEqual(step.resources.map((r: {kind: string}) => r.kind).sort(), ['iot:certificate', 'iot:certificate', 'iot:policy', 'iot:thing'])
    assert.ok(step.resources.some((r: {id: string}) => r.id === certificateId))

    const things = await iot.send(new ListThingsCommand({}))
    assert.deepEqual(things.things?.map((t) => t.thingName), ['shared'])
    const policies = await iot.send(new ListPoliciesCommand({}))
    assert.deepEqual(policies.policies?.map((p) => p.policyName), ['iotctl-bystander-device-shared'])
    await assert.rejects(iot.send(new DescribeCertificateCommand({certificateId})), {name: 'ResourceNotFoundException'})

    const again = await cli(['cleanup', '--yes'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to delete for stack 'dev'/)
  })
})
