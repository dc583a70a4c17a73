// Fleet provisioning by claim with the built CLI against the local AWS (issue 18):
// `fleet setup` with iotctl's hook (--serial-prefix) and with a user's Lambda
// (--hook-arn, another stack), `fleet claim-cert`, `fleet register` over the
// data plane's fleet provisioning MQTT API (CreateKeysAndCertificate and --csr),
// a refused serial, the enrolled device publishing under its policy and refused
// outside it, and cleanup removing the stack's fleet resources and nothing else.
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {GetRoleCommand, IAMClient, ListAttachedRolePoliciesCommand} from '@aws-sdk/client-iam'
import {CreateRoleCommand} from '@aws-sdk/client-iam'
import {
  DescribeProvisioningTemplateCommand, DescribeThingCommand, GetPolicyCommand, IoTClient, ListProvisioningTemplatesCommand, ListThingPrincipalsCommand, ListThingsCommand,
} from '@aws-sdk/client-iot'
import {CreateFunctionCommand, GetFunctionCommand, GetPolicyCommand as GetFunctionPolicyCommand, LambdaClient} from '@aws-sdk/client-lambda'
import {assertBadInput} from '../support/bad-input.ts'
import {jsonOf} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import type {PublishEvent} from '../support/local-aws/iot-data/index.ts'
import {runIotctl} from '../support/tunnel-service.ts'
import {zipStored} from '../../src/lib/fleet/zip.ts'

let aws: LocalAws
let cwd: string
let iot: IoTClient
let iam: IAMClient
let lambda: LambdaClient
let userHookArn: string

const cli = (args: string[]) => runIotctl(args, {cwd, env: aws.childEnv()})
const mode = (path: string) => statSync(path).mode & 0o777
const dir = (name: string) => join(cwd, name)
const register = (serial: string, extra: string[] = [], claim = 'claim') =>
  cli(['fleet', 'register', '--claim-cert', join(dir(claim), 'claim.cert.pem'), '--claim-key', join(dir(claim), 'claim.private.key'), '--serial', serial, '--out', dir('device'), ...extra])

async function thingExists(name: string): Promise<boolean> {
  return iot.send(new DescribeThingCommand({thingName: name})).then(() => true, () => false)
}

before(async () => {
  aws = await startLocalAws()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-fleet-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'fl', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  iot = new IoTClient(aws.clientConfig('iot'))
  iam = new IAMClient(aws.clientConfig('iot'))
  lambda = new LambdaClient(aws.clientConfig('iot'))
  // The user's own hook for stack b: a Lambda function of theirs that allows serials starting with GW-.
  const role = await iam.send(new CreateRoleCommand({RoleName: 'check-serial', AssumeRolePolicyDocument: JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}]})}))
  const fn = await lambda.send(new CreateFunctionCommand({
    FunctionName: 'check-serial', Runtime: 'nodejs22.x', Handler: 'index.handler', Role: role.Role!.Arn!,
    Code: {ZipFile: zipStored({'index.mjs': 'export const handler = async (e) => ({allowProvisioning: String(e.parameters.SerialNumber).startsWith("GW-")})\n'})},
  }))
  userHookArn = fn.FunctionArn!
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('fleet provisioning by claim', () => {
  test('bad input is exit 2 with no mutating request', async () => {
    aws.resetLog()
    assertBadInput(aws, await cli(['fleet', 'setup', '--template', 'bad name!', '--serial-prefix', 'SN-']), /--template "bad name!".*1-36 letters/)
    // A --serial-prefix a serial cannot hold: bad-input-everywhere.test.ts.
    assertBadInput(aws, await cli(['fleet', 'setup', '--template', 'sensors', '--hook-arn', 'arn:aws:sqs:us-east-1:222222222222:q']), /--hook-arn .* is not a Lambda function ARN/)
    assertBadInput(aws, await cli(['fleet', 'setup', '--template', 'sensors', '--hook-arn', `arn:aws:lambda:eu-west-1:${aws.accounts.iot}:function:check-serial`]), /--hook-arn .* is in eu-west-1, not in the IoT account's region us-east-1/)
    mkdirSync(dir('taken'), {mode: 0o700})
    writeFileSync(join(dir('taken'), 'claim.cert.pem'), 'x', {mode: 0o600})
    assertBadInput(aws, await cli(['fleet', 'claim-cert', '--out', dir('taken')]), /claim\.cert\.pem already exists: pass --force/)
  })

  test('setup --dry-run prints the hook iotctl would deploy and changes nothing', async () => {
    aws.resetLog()
    const result = await cli(['fleet', 'setup', '--template', 'sensors', '--serial-prefix', 'SN-', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /const prefix = "SN-"/)
    assert.match(result.stdout, /export const handler = async \(event\)/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('setup makes the role, the device policy, the deployed hook and the template; a second run changes nothing', async () => {
    const result = await cli(['fleet', 'setup', '--template', 'sensors', '--serial-prefix', 'SN-', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).changed, true)
    const template = await iot.send(new DescribeProvisioningTemplateCommand({templateName: 'sensors'}))
    assert.equal(template.provisioningRoleArn, `arn:aws:iam::${aws.accounts.iot}:role/iotctl-fl-fleet-prov`)
    assert.equal(template.preProvisioningHook?.targetArn, `arn:aws:lambda:us-east-1:${aws.accounts.iot}:function:iotctl-fl-fleet-hook`)
    const role = await iam.send(new GetRoleCommand({RoleName: 'iotctl-fl-fleet-prov'}))
    assert.match(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!), /iot\.amazonaws\.com/)
    const attached = await iam.send(new ListAttachedRolePoliciesCommand({RoleName: 'iotctl-fl-fleet-prov'}))
    assert.deepEqual(attached.AttachedPolicies?.map((p) => p.PolicyArn), ['arn:aws:iam::aws:policy/service-role/AWSIoTThingsRegistration'])
    const policy = JSON.parse((await iot.send(new GetPolicyCommand({policyName: 'iotctl-fl-fleet-device'}))).policyDocument!) as {Statement: {Action: string; Resource: string | string[]}[]}
    assert.deepEqual(policy.Statement.find((s) => s.Action === 'iot:Connect')?.Resource, `arn:aws:iot:us-east-1:${aws.accounts.iot}:client/\${iot:Connection.Thing.ThingName}`)
    const permission = await lambda.send(new GetFunctionPolicyCommand({FunctionName: 'iotctl-fl-fleet-hook'}))
    assert.match(permission.Policy!, /iot\.amazonaws\.com/)

    const again = await cli(['fleet', 'setup', '--template', 'sensors', '--serial-prefix', 'SN-', '--json'])
    assert.equal(again.code, 0, again.stderr)
    assert.equal(jsonOf(again).changed, false)
  })

  test('doctor checks the fleet steps when iotctl.json has a fleet section', async () => {
    writeFileSync(join(cwd, 'fleet.json'), JSON.stringify({stack: 'fl', iot: {profile: 'iot'}, msk: {profile: 'msk'}, fleet: {template: 'sensors', serialPrefix: 'SN-'}}))
    const result = await cli(['doctor', '-c', 'fleet.json', '--json'])
    const checks = (jsonOf(result).checks as {id: string; status: string; detail: string}[]).filter((c) => c.id.startsWith('fleet-'))
    assert.deepEqual(checks.map((c) => `${c.id} ${c.status}`), ['fleet-role pass', 'fleet-device-policy pass', 'fleet-hook pass', 'fleet-template pass'], JSON.stringify(checks))
    // Another prefix than the deployed hook's: doctor says what `fleet setup` would change.
    writeFileSync(join(cwd, 'fleet.json'), JSON.stringify({stack: 'fl', iot: {profile: 'iot'}, msk: {profile: 'msk'}, fleet: {template: 'sensors', serialPrefix: 'AB-'}}))
    const drifted = (jsonOf(await cli(['doctor', '-c', 'fleet.json', '--json'])).checks as {id: string; status: string; detail: string}[]).find((c) => c.id === 'fleet-hook')
    assert.equal(drifted?.status, 'fail')
    assert.match(drifted?.detail ?? '', /update the code of iotctl-fl-fleet-hook: allow serial numbers starting with "AB-"/)
  })

  test('claim-cert writes the claim certificate and key 0600 with a policy limited to provisioning', async () => {
    const result = await cli(['fleet', 'claim-cert', '--out', dir('claim'), '--json'])
    assert.equal(result.code, 0, result.stderr)
    const doc = jsonOf(result)
    for (const path of Object.values(doc.files as Record<string, string>)) assert.equal(mode(path), 0o600, path)
    const key = readFileSync(join(dir('claim'), 'claim.private.key'), 'utf8').split('\n')[1]
    assert.equal(result.stdout.includes(key), false, 'no private key on stdout')
    const topics = JSON.stringify(doc.policyDocument)
    assert.match(topics, /\$aws\/provisioning-templates\/sensors\/provision\/\*/)
    assert.doesNotMatch(topics, /device\//)
  })

  let published: PublishEvent[] = []

  test('a device with an allowed serial enrols, publishes under its policy, and is refused outside it', async () => {
    const result = await register('SN-0001', ['--template', 'sensors', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const doc = jsonOf(result)
    assert.equal(doc.thingName, 'SN-0001')
    for (const path of Object.values(doc.files as Record<string, string>)) assert.equal(mode(path), 0o600, path)
    const thing = await iot.send(new DescribeThingCommand({thingName: 'SN-0001'}))
    assert.equal(thing.attributes?.iotctl_fleet, 'fl')

    const off = aws.standIn.iotData.onPublish((e) => published.push(e))
    try {
      const cert = join(dir('device'), 'SN-0001.cert.pem')
      const key = join(dir('device'), 'SN-0001.private.key')
      const endpoint = readFileSync(join(dir('device'), 'SN-0001.endpoint'), 'utf8').trim()
      const ok = await cli(['mqtt', 'publish', '--cert', cert, '--key', key, '--endpoint', endpoint, '--topic', 'device/SN-0001/data', '--message', '{"t": 21}'])
      assert.equal(ok.code, 0, ok.stderr)
      assert.deepEqual(published.map((e) => `${e.clientId} ${e.topic}`), ['SN-0001 device/SN-0001/data'])
      published = []
      const refused = await cli(['mqtt', 'publish', '--cert', cert, '--key', key, '--endpoint', endpoint, '--topic', 'device/SN-0002/data', '--message', '{"t": 21}'])
      assert.equal(refused.code, 1, refused.stdout)
      assert.deepEqual(published, [])
    } finally {
      off()
    }
  })

  test('a serial with another prefix is refused by the hook: exit 1 with the reason, no thing', async () => {
    const result = await register('XX-0002', ['--template', 'sensors'])
    assert.equal(result.code, 1, result.stdout)
    assert.match(result.stderr, /RegisterThing.*AccessDenied.*iotctl-fl-fleet-hook did not allow provisioning/)
    assert.equal(await thingExists('XX-0002'), false)
  })

  test('--csr: the key is made on the device and only the CSR is sent', async () => {
    const result = await register('SN-0003', ['--template', 'sensors', '--csr', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).keys, 'csr')
    assert.match(readFileSync(join(dir('device'), 'SN-0003.private.key'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/)
    const principals = await iot.send(new ListThingPrincipalsCommand({thingName: 'SN-0003'}))
    assert.equal(principals.principals?.length, 1)
  })

  test('another stack with the user\'s Lambda as hook; cleanup of the first removes its fleet and nothing else', async () => {
    const b = ['--stack', 'b']
    const setup = await cli(['fleet', 'setup', ...b, '--template', 'gateways', '--hook-arn', userHookArn])
    assert.equal(setup.code, 0, setup.stderr)
    assert.equal((await cli(['fleet', 'claim-cert', ...b, '--out', dir('claim-b')])).code, 0)
    const gw = await register('GW-1', [...b, '--template', 'gateways'], 'claim-b')
    assert.equal(gw.code, 0, gw.stderr)
    const refusedByUser = await register('SN-9', [...b, '--template', 'gateways', '--force'], 'claim-b')
    assert.equal(refusedByUser.code, 1)

    const cleanup = await cli(['cleanup', '--yes'])
    assert.equal(cleanup.code, 0, cleanup.stderr)
    const templates = await iot.send(new ListProvisioningTemplatesCommand({}))
    assert.deepEqual(templates.templates?.map((t) => t.templateName), ['gateways'])
    assert.equal(await thingExists('SN-0001'), false)
    assert.equal(await thingExists('SN-0003'), false)
    assert.equal(await thingExists('GW-1'), true, 'a thing of another template survives')
    const left = await iot.send(new ListThingsCommand({attributeName: 'iotctl_fleet', attributeValue: 'fl'}))
    assert.deepEqual(left.things, [])
    for (const name of ['iotctl-fl-fleet-prov', 'iotctl-fl-fleet-hook']) {
      await assert.rejects(iam.send(new GetRoleCommand({RoleName: name})), /NoSuchEntity|cannot be found/)
    }
    await assert.rejects(lambda.send(new GetFunctionCommand({FunctionName: 'iotctl-fl-fleet-hook'})), /ResourceNotFound|not found/i)
    for (const name of ['iotctl-fl-fleet-device', 'iotctl-fl-fleet-claim']) await assert.rejects(iot.send(new GetPolicyCommand({policyName: name})), /ResourceNotFound/)
    // The claim certificate could no longer connect: deleted.
    const claimAgain = await register('SN-0004', ['--template', 'sensors'])
    assert.equal(claimAgain.code, 1)

    // Stack b's cleanup removes its permission from the user's function, not the function.
    assert.match((await lambda.send(new GetFunctionPolicyCommand({FunctionName: 'check-serial'}))).Policy!, /iotctl-b-fleet-iot-invoke/)
    const cleanupB = await cli(['cleanup', ...b, '--yes'])
    assert.equal(cleanupB.code, 0, cleanupB.stderr)
    await lambda.send(new GetFunctionCommand({FunctionName: 'check-serial'}))
    const policyAfter = await lambda.send(new GetFunctionPolicyCommand({FunctionName: 'check-serial'})).then((p) => p.Policy ?? '', () => '')
    assert.doesNotMatch(policyAfter, /iotctl-b-fleet-iot-invoke/)
    assert.equal(await thingExists('GW-1'), false)
  })
})
