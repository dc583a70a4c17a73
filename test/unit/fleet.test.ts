// Fleet provisioning by claim, the pure parts: input checks (tables), the device
// and claim policies as the local data plane evaluates them, the template, the
// shipped hook's code run as Lambda would, its package, the CSR, and the fleet
// steps' place in the registry.
import assert from 'node:assert/strict'
import {execFile, spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {promisify} from 'node:util'
import {newKeyAndCsr} from '../../src/lib/fleet/csr.ts'
import {claimPolicyDocument, devicePolicyDocument, hookSource, templateBody} from '../../src/lib/fleet/documents.ts'
import {checkHookHome, checkSerial, checkSerialPrefix, checkTemplateName, parseLambdaArn} from '../../src/lib/fleet/names.ts'
import {zipStored} from '../../src/lib/fleet/zip.ts'
import {stackGraph, upGraph} from '../../src/lib/stack/steps.ts'
import {evaluate} from '../support/local-aws/iot-data/iot-policy.ts'
import {readZip} from '../support/local-aws/zip.ts'

const home = {partition: 'aws', region: 'eu-west-1', accountId: '222222222222'}
const arn = (kind: string, name: string) => `arn:aws:iot:eu-west-1:222222222222:${kind}/${name}`

test('template names, serials and prefixes: what AWS IoT and a thing name allow', () => {
  for (const ok of ['sensors', 'fleet_1', 'A-b-9', 't'.repeat(36)]) assert.equal(checkTemplateName(ok), ok)
  for (const bad of ['', 'bad name', 'a.b', 't'.repeat(37), 'ü']) assert.throws(() => checkTemplateName(bad), /--template .*1-36 letters, digits, '_' or '-'/)
  for (const ok of ['SN-', 'a:b_c-1']) assert.equal(checkSerialPrefix(ok), ok)
  for (const bad of ['', 'SN/', 'SN ', 'SN.', 'x'.repeat(65)]) assert.throws(() => checkSerialPrefix(bad), /--serial-prefix .*letters, digits, ':', '_' or '-'/)
  for (const bad of ['SN 1', 'SN/1', 'x'.repeat(129)]) assert.throws(() => checkSerial(bad), /--serial /)
})

test('--hook-arn: a Lambda function ARN of the IoT account\'s region', () => {
  assert.deepEqual(parseLambdaArn('arn:aws:lambda:eu-west-1:222222222222:function:check'), {partition: 'aws', region: 'eu-west-1', accountId: '222222222222', functionName: 'check'})
  assert.equal(parseLambdaArn('arn:aws:lambda:eu-west-1:222222222222:function:check:live').qualifier, 'live')
  for (const bad of ['check', 'arn:aws:sqs:eu-west-1:222222222222:q', 'arn:aws:lambda:eu-west-1:2222:function:x', 'arn:aws:lambda:eu-west-1:222222222222:layer:x']) {
    assert.throws(() => parseLambdaArn(bad), /is not a Lambda function ARN/)
  }
  const other = 'arn:aws:lambda:us-east-1:222222222222:function:check'
  assert.throws(() => checkHookHome(parseLambdaArn(other), other, home), /is in us-east-1, not in the IoT account's region eu-west-1/)
  const foreign = 'arn:aws:lambda:eu-west-1:111111111111:function:check'
  assert.throws(() => checkHookHome(parseLambdaArn(foreign), foreign, home), /belongs to account 111111111111/)
})

test('the device policy: each device connects as its own thing and stays under device/<client id>/ (and its Basic Ingest topics)', () => {
  const policies = [{name: 'device', document: JSON.stringify(devicePolicyDocument(home, 'to_kafka'))}]
  const as = (clientId: string, attached = true) => ({'iot:ClientId': clientId, 'iot:Connection.Thing.ThingName': attached ? clientId : undefined, 'iot:Connection.Thing.IsAttached': String(attached)})
  const may = (action: string, resource: string, context = as('SN-1')) => evaluate(policies, {action, resource, context}).allowed
  assert.equal(may('iot:Connect', arn('client', 'SN-1')), true)
  assert.equal(may('iot:Connect', arn('client', 'SN-2')), false)
  assert.equal(may('iot:Connect', arn('client', 'SN-1'), as('SN-1', false)), false, 'not without its thing')
  assert.equal(may('iot:Publish', arn('topic', 'device/SN-1/data')), true)
  assert.equal(may('iot:Publish', arn('topic', 'device/SN-2/data')), false)
  assert.equal(may('iot:Publish', arn('topic', '$aws/rules/to_kafka/device/SN-1/data')), true)
  assert.equal(may('iot:Publish', arn('topic', '$aws/rules/other/device/SN-1/data')), false)
  assert.equal(may('iot:Subscribe', arn('topicfilter', 'device/SN-1/cmd')), true)
  assert.equal(may('iot:Subscribe', arn('topicfilter', 'device/#')), false)
  assert.equal(may('iot:Receive', arn('topic', 'device/SN-2/cmd')), false)
  const withoutRule = [{name: 'device', document: JSON.stringify(devicePolicyDocument(home))}]
  assert.equal(evaluate(withoutRule, {action: 'iot:Publish', resource: arn('topic', '$aws/rules/to_kafka/device/SN-1/data'), context: as('SN-1')}).allowed, false)
})

test('the claim policy allows the provisioning API of its template only', () => {
  const policies = [{name: 'claim', document: JSON.stringify(claimPolicyDocument(home, 'sensors'))}]
  const may = (action: string, resource: string) => evaluate(policies, {action, resource, context: {'iot:ClientId': 'SN-1'}}).allowed
  assert.equal(may('iot:Publish', arn('topic', '$aws/certificates/create/json')), true)
  assert.equal(may('iot:Subscribe', arn('topicfilter', '$aws/certificates/create/json/accepted')), true)
  assert.equal(may('iot:Publish', arn('topic', '$aws/provisioning-templates/sensors/provision/json')), true)
  assert.equal(may('iot:Publish', arn('topic', '$aws/provisioning-templates/other/provision/json')), false)
  assert.equal(may('iot:Publish', arn('topic', 'device/SN-1/data')), false)
  assert.equal(may('iot:Subscribe', arn('topicfilter', '#')), false)
})

test('the template names the thing after SerialNumber, marks it with the stack, activates the certificate and attaches the device policy', () => {
  const body = JSON.parse(templateBody('fl', 'iotctl-fl-fleet-device')) as {Resources: Record<string, {Type: string; Properties: Record<string, unknown>}>}
  const byType = Object.fromEntries(Object.values(body.Resources).map((r) => [r.Type, r.Properties]))
  assert.deepEqual(byType['AWS::IoT::Thing'].ThingName, {Ref: 'SerialNumber'})
  assert.deepEqual(byType['AWS::IoT::Thing'].AttributePayload, {iotctl_fleet: 'fl', serial: {Ref: 'SerialNumber'}})
  assert.deepEqual(byType['AWS::IoT::Certificate'], {CertificateId: {Ref: 'AWS::IoT::Certificate::Id'}, Status: 'ACTIVE'})
  assert.deepEqual(byType['AWS::IoT::Policy'], {PolicyName: 'iotctl-fl-fleet-device'})
})

test('the shipped hook, packaged and run as Lambda would, allows only serials with the prefix', async () => {
  const files = readZip(zipStored({'index.mjs': hookSource('fl', 'SN-')}))
  assert.deepEqual([...files.keys()], ['index.mjs'])
  const module = (await import(`data:text/javascript;base64,${files.get('index.mjs')!.toString('base64')}`)) as {handler: (e: unknown) => Promise<{allowProvisioning: boolean}>}
  const verdict = async (serial: unknown) => (await module.handler({parameters: {SerialNumber: serial}})).allowProvisioning
  assert.equal(await verdict('SN-0001'), true)
  assert.equal(await verdict('XX-0001'), false)
  assert.equal(await verdict('SN-'), false, 'the prefix alone is no serial')
  assert.equal(await verdict(undefined), false)
  assert.equal(zipStored({'index.mjs': hookSource('fl', 'SN-')}).equals(zipStored({'index.mjs': hookSource('fl', 'SN-')})), true, 'the same code gives the same package')
})

test('--csr: a PKCS#10 request openssl verifies, for a P-256 key, with the serial as subject', async () => {
  const {csr, privateKey} = await newKeyAndCsr('SN-0001')
  assert.match(privateKey, /^-----BEGIN PRIVATE KEY-----/)
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-csr-'))
  try {
    writeFileSync(join(dir, 'r.csr'), csr)
    const {stdout, stderr} = await promisify(execFile)('openssl', ['req', '-in', join(dir, 'r.csr'), '-noout', '-verify', '-subject'])
    assert.match(`${stdout}${stderr}`, /verify OK/i)
    assert.match(stdout, /CN ?= ?SN-0001/)
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

test('--csr: the request carries the key written for the device (EC P-256, ECDSA-SHA256) and any serial the checks allow as subject', async () => {
  const run = (args: string[], input: string) => {
    const result = spawnSync('openssl', args, {input, encoding: 'utf8'})
    assert.equal(result.status, 0, result.stderr)
    return {stdout: result.stdout, all: `${result.stdout}${result.stderr}`}
  }
  const serial = 'a:b_c-1'
  const {csr, privateKey} = await newKeyAndCsr(serial)
  assert.match(privateKey, /^-----BEGIN PRIVATE KEY-----\n[\s\S]+\n-----END PRIVATE KEY-----\n$/)
  // openssl req exits 0 on a bad signature too: the verdict is in its output.
  const text = run(['req', '-noout', '-verify', '-text', '-subject', '-nameopt', 'utf8'], csr).all
  assert.match(text, /verify OK/)
  assert.match(text, /ASN1 OID: prime256v1/)
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/)
  assert.match(text, new RegExp(`^subject=CN ?= ?${serial}$`, 'm'))
  assert.equal(run(['req', '-noout', '-pubkey'], csr).stdout, run(['pkey', '-pubout'], privateKey).stdout, 'the CSR is for the private key written to --out')
  const second = await newKeyAndCsr(serial)
  assert.notEqual(second.privateKey, privateKey, 'each request has a key of its own')
})

test('the hook package opens with the system unzip, as a readable stored file dated 1980-01-01 in any time zone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-zip-'))
  try {
    const code = hookSource('fl', 'SN-')
    const file = join(dir, 'hook.zip')
    writeFileSync(file, zipStored({'index.mjs': code}))
    assert.deepEqual(await systemZipEntries(file), [{mode: '-rw-r--r--', method: 'stor', time: '19800101.000000', name: 'index.mjs'}])
    // fflate writes the DOS date from local-time fields: another zone must give the same bytes (the same CodeSha256).
    const script = `import {zipStored} from ${JSON.stringify(new URL('../../src/lib/fleet/zip.ts', import.meta.url).href)}; process.stdout.write(zipStored({'index.mjs': ${JSON.stringify(code)}}).toString('base64'))`
    for (const TZ of ['Pacific/Kiritimati', 'America/Los_Angeles']) {
      const {stdout} = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {env: {...process.env, TZ}})
      assert.equal(stdout, zipStored({'index.mjs': code}).toString('base64'), TZ)
    }
  } finally {
    rmSync(dir, {recursive: true, force: true})
  }
})

/** The entries as the system reads them: `unzip -l` and `unzip -Z -T` where unzip is installed, else Python's zipfile. */
async function systemZipEntries(file: string): Promise<{mode: string; method: string; time: string; name: string}[]> {
  if (spawnSync('unzip', ['-v']).error === undefined) {
    assert.match((await promisify(execFile)('unzip', ['-l', file])).stdout, /\s1 file\n/)
    const {stdout} = await promisify(execFile)('unzip', ['-Z', '-T', file])
    return [...stdout.matchAll(/^(\S{10}) .* (\w{4}) (\d{8}\.\d{6}) (.+)$/gm)].map(([, mode, method, time, name]) => ({mode, method, time, name}))
  }
  const python = [
    'import json, stat, sys, zipfile',
    'print(json.dumps([{"mode": stat.filemode(i.external_attr >> 16), "method": "stor" if i.compress_type == 0 else "defl",',
    '  "time": "%04d%02d%02d.%02d%02d%02d" % i.date_time, "name": i.filename} for i in zipfile.ZipFile(sys.argv[1]).infolist()]))',
  ].join('\n')
  return JSON.parse((await promisify(execFile)('python3', ['-c', python, file])).stdout) as {mode: string; method: string; time: string; name: string}[]
}

test('the fleet steps are steps of the one registry: up takes the managed ones only when asked; cleanup walks them all in order', () => {
  const ids = (graph: {steps: readonly {id: string}[]}) => graph.steps.map((s) => s.id)
  assert.equal(ids(upGraph()).some((id) => id.startsWith('fleet-')), false)
  assert.deepEqual(ids(upGraph({fleet: true})).filter((id) => id.startsWith('fleet-')), ['fleet-role', 'fleet-device-policy', 'fleet-hook', 'fleet-template'])
  const all = ids(stackGraph())
  for (const id of ['fleet-claim', 'fleet-devices']) assert.ok(all.includes(id))
  // Deleted backward: the claim certificates before the template, the provisioned devices before their policy.
  assert.ok(all.indexOf('fleet-template') < all.indexOf('fleet-claim'))
  assert.ok(all.indexOf('fleet-device-policy') < all.indexOf('fleet-devices'))
})
