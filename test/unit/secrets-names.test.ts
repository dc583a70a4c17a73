// Step 2's bad input, refused before any call with one line naming it; and a
// password that cannot leak through JSON, inspect or string conversion.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {inspect} from 'node:util'
import {Readable} from 'node:stream'
import {InputError} from '../../src/lib/errors.ts'
import {ScramCredentials, readPasswordFromStdin} from '../../src/lib/secrets/credentials.ts'
import {checkKeyAlias, checkPassword, checkSecretName, checkUsername, generatePassword, keyAliasOf, secretNameOf} from '../../src/lib/secrets/names.ts'
import type {StackSettings} from '../../src/lib/plan/types.ts'

function refusal(check: () => void): string {
  try {
    check()
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`)
    assert.equal(error.exitCode, 2)
    assert.ok(!error.message.includes('\n'), 'one line')
    return error.message
  }
  assert.fail('expected a refusal')
}

test('secret names: MSK needs the AmazonMSK_ prefix, Secrets Manager its alphabet', () => {
  const cases: [string, RegExp | undefined][] = [
    ['AmazonMSK_iot', undefined],
    ['AmazonMSK_team/iot-1', undefined],
    ['AmazonMSK_a+b=c.d@e', undefined],
    ['iot-secret', /^--name 'iot-secret': MSK only uses secrets whose name starts with AmazonMSK_/],
    ['amazonmsk_iot', /starts with AmazonMSK_/],
    ['AmazonMSK_', /add a name after the AmazonMSK_ prefix/],
    ['AmazonMSK_has space', /letters, digits and/],
    [`AmazonMSK_${'x'.repeat(510)}`, /at most 512/],
  ]
  for (const [name, expected] of cases) {
    if (expected) assert.match(refusal(() => checkSecretName(name)), expected, name)
    else assert.doesNotThrow(() => checkSecretName(name), name)
  }
})

test('key aliases: alias/ prefix, no AWS managed alias, and the default Secrets Manager key named for what it is', () => {
  const cases: [string, RegExp | undefined][] = [
    ['alias/msk-iot-test-key', undefined],
    ['alias/team/iot_key-1', undefined],
    ['msk-iot-test-key', /^--key-alias 'msk-iot-test-key': a KMS alias starts with alias\//],
    ['alias/aws/secretsmanager', /MSK rejects secrets encrypted with the default aws\/secretsmanager key/],
    ['aws/secretsmanager', /MSK rejects secrets encrypted with the default aws\/secretsmanager key/],
    ['arn:aws:kms:us-east-1:111111111111:alias/aws/secretsmanager', /MSK rejects secrets encrypted with the default aws\/secretsmanager key/],
    ['alias/aws/kafka', /alias\/aws\/ is reserved for AWS managed keys/],
    ['alias/', /allow only letters/],
    ['alias/with space', /allow only letters/],
  ]
  for (const [alias, expected] of cases) {
    if (expected) assert.match(refusal(() => checkKeyAlias(alias)), expected, alias)
    else assert.doesNotThrow(() => checkKeyAlias(alias), alias)
  }
})

test('usernames and stdin passwords', () => {
  for (const ok of ['iotctl', 'alice', 'svc.iot@team-1', 'a+b']) assert.doesNotThrow(() => checkUsername(ok), ok)
  for (const bad of ['', 'a,b', 'a=b', 'with space', 'x'.repeat(129)]) assert.match(refusal(() => checkUsername(bad)), /^--username/, bad)
  assert.equal(refusal(() => checkPassword('')), '--password-stdin: the password read from stdin is empty')
  const withControl = refusal(() => checkPassword('hunter2\nsecond line'))
  assert.match(withControl, /control characters/)
  assert.ok(!withControl.includes('hunter2'), 'the message never echoes the password')
  assert.doesNotThrow(() => checkPassword('correct horse battery staple'))
})

test('defaults derive from the stack; settings win', () => {
  const settings = {stack: 'demo'} as StackSettings
  assert.equal(secretNameOf(settings), 'AmazonMSK_demo')
  assert.equal(keyAliasOf(settings), 'alias/iotctl-demo')
  assert.equal(secretNameOf({...settings, secret: {name: 'AmazonMSK_x'}}), 'AmazonMSK_x')
  assert.equal(keyAliasOf({...settings, secret: {keyAlias: 'alias/k'}}), 'alias/k')
})

test('generated passwords: 32 characters of the alphanumeric alphabet, different every time', () => {
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) {
    const password = generatePassword()
    assert.match(password, /^[A-Za-z0-9]{32}$/)
    seen.add(password)
  }
  assert.equal(seen.size, 200)
})

test('credentials never show their password when printed or serialised', () => {
  const credentials = new ScramCredentials('alice', 'p4ssw0rd-xyz')
  // eslint-disable-next-line @typescript-eslint/restrict-template-expressions -- the point: every way a value becomes text
  const outputs = [JSON.stringify(credentials), JSON.stringify({nested: {credentials}}), inspect(credentials), inspect({credentials}), String(credentials), `${credentials}`]
  for (const output of outputs) {
    assert.ok(!output.includes('p4ssw0rd-xyz'), output)
    assert.match(output, /alice/)
  }
  assert.deepEqual(JSON.parse(credentials.secretString()), {username: 'alice', password: 'p4ssw0rd-xyz'})
})

test('SecretString parsing: {"username","password"} or nothing', () => {
  assert.ok(ScramCredentials.parse('{"username":"a","password":"b"}')?.equals(new ScramCredentials('a', 'b')))
  assert.equal(ScramCredentials.parse('{"username":"a","password":"c"}')?.equals(new ScramCredentials('a', 'b')), false)
  for (const bad of [undefined, '', 'not json', '{"username":"a"}', '{"username":1,"password":"b"}', 'null', '[]']) {
    assert.equal(ScramCredentials.parse(bad), undefined, String(bad))
  }
})

test('--password-stdin reads to EOF and drops one trailing newline', async () => {
  const cases: [string[], string][] = [
    [['secret\n'], 'secret'],
    [['sec', 'ret\r\n'], 'secret'],
    [['secret'], 'secret'],
    [['secret\n\n'], 'secret\n'],
    [[''], ''],
  ]
  for (const [chunks, expected] of cases) assert.equal(await readPasswordFromStdin(Readable.from(chunks.map((c) => Buffer.from(c)))), expected, JSON.stringify(chunks))
})
