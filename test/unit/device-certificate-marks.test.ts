// Request-level: the mark `device create` leaves on the thing for each
// certificate it makes (certificates take no tags, so this is what cleanup
// deletes by): the attribute's parsing, and the refusal, before any change,
// when the attribute cannot record another one.
import assert from 'node:assert/strict'
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {
  AttachPolicyCommand, AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, CreatePolicyCommand, ListTagsForResourceCommand, DescribeCertificateCommand, DescribeEndpointCommand, DescribeThingCommand, GetPolicyCommand, IoTClient, UpdateThingCommand,
} from '@aws-sdk/client-iot'
import {mockClient} from 'aws-sdk-client-mock'
import {createDevice} from '../../src/lib/device/index.ts'
import {certificateMarks, maxCertificateMarks} from '../../src/lib/device/policy.ts'
import {InputError} from '../../src/lib/errors.ts'
import {fakeAccount} from '../support/step-context.ts'

const id = (n: number) => n.toString(16).padStart(64, '0')
const notFound = () => Object.assign(new Error('not found'), {name: 'ResourceNotFoundException', $metadata: {httpStatusCode: 404}})

test('certificateMarks reads only certificate ids from the attribute', () => {
  assert.deepEqual(certificateMarks({iotctl_certs: `${id(1)},${id(2)}`}), [id(1), id(2)])
  assert.deepEqual(certificateMarks({iotctl_certs: `${id(1)},not-an-id,,${id(0xab).toUpperCase()}`}), [id(1)])
  assert.deepEqual(certificateMarks({}), [])
  assert.deepEqual(certificateMarks(undefined), [])
  // 12 ids and their commas fit the 800 characters of an attribute value.
  assert.ok(maxCertificateMarks * 65 - 1 <= 800)
})

function device(marks: string[], live: (certificateId: string) => boolean) {
  const iot = new IoTClient({region: 'us-east-1'})
  const mock = mockClient(iot)
  mock.on(DescribeThingCommand).resolves({thingName: 'dev1', thingArn: 'arn:aws:iot:us-east-1:222222222222:thing/dev1', attributes: {iotctl_stack: 'demo', iotctl_certs: marks.join(',')}})
  mock.on(GetPolicyCommand).rejects(notFound())
  mock.on(DescribeEndpointCommand).resolves({endpointAddress: 'abc-ats.iot.us-east-1.amazonaws.com'})
  for (const mark of marks) {
    if (live(mark)) mock.on(DescribeCertificateCommand, {certificateId: mark}).resolves({certificateDescription: {certificateId: mark, certificateArn: `arn:aws:iot:us-east-1:222222222222:cert/${mark}`}})
    else mock.on(DescribeCertificateCommand, {certificateId: mark}).rejects(notFound())
  }
  const account = fakeAccount({accountId: '222222222222', profile: 'iot', clients: {iot}})
  const out = mkdtempSync(join(tmpdir(), 'iotctl-marks-'))
  return {mock, scope: {stack: 'demo', account, stateDirectory: join(out, '.iotctl')}, out}
}

test('a thing whose attribute already records the most certificates: exit 2 before any change', async () => {
  const marks = Array.from({length: maxCertificateMarks}, (_, n) => id(n + 1))
  const {mock, scope, out} = device(marks, () => true)
  await assert.rejects(createDevice(scope, {thing: 'dev1', outDirectory: out}), (error: Error) => {
    assert.ok(error instanceof InputError)
    assert.match(error.message, /^thing dev1 already has 12 certificates made by iotctl, the most its iotctl_certs attribute records: run `iotctl cleanup`/)
    return true
  })
  assert.equal(mock.commandCalls(CreateKeysAndCertificateCommand).length, 0)
  assert.equal(mock.commandCalls(UpdateThingCommand).length, 0)
})

test('marks of certificates deleted since are dropped, and the new certificate is marked beside the others', async () => {
  const marks = Array.from({length: maxCertificateMarks}, (_, n) => id(n + 1))
  const {mock, scope, out} = device(marks, (mark) => mark !== id(3))
  const fresh = id(99)
  mock.on(CreateKeysAndCertificateCommand).resolves({certificateId: fresh, certificateArn: `arn:aws:iot:us-east-1:222222222222:cert/${fresh}`, certificatePem: 'PEM', keyPair: {PrivateKey: 'KEY', PublicKey: 'PUB'}})
  mock.on(UpdateThingCommand).resolves({})
  mock.on(CreatePolicyCommand).resolves({policyName: 'iotctl-demo-device-dev1', policyArn: 'arn:aws:iot:us-east-1:222222222222:policy/iotctl-demo-device-dev1'})
  mock.on(ListTagsForResourceCommand).resolves({tags: []})
  mock.on(AttachPolicyCommand).resolves({})
  mock.on(AttachThingPrincipalCommand).resolves({})
  const result = await createDevice(scope, {thing: 'dev1', outDirectory: out})
  assert.equal(result.certificateId, fresh)
  assert.deepEqual(mock.calls().map((c) => (c.args[0] as {constructor: {name: string}}).constructor.name).filter((n) => !/^(Describe|Get|List)/.test(n)),
    ['CreatePolicyCommand', 'CreateKeysAndCertificateCommand', 'UpdateThingCommand', 'AttachPolicyCommand', 'AttachThingPrincipalCommand'])
  const [update] = mock.commandCalls(UpdateThingCommand)
  assert.ok(update, 'UpdateThing sent')
  assert.deepEqual(update.args[0].input, {thingName: 'dev1', attributePayload: {attributes: {iotctl_certs: [...marks.filter((m) => m !== id(3)), fresh].join(',')}, merge: true}})
})
