// `iotctl secret mirror` and `secret rotate` across the two local accounts,
// run as the built binary: the same credentials in both accounts, each under
// its own stack key; no-op second runs; rotation that never leaves the two
// different (even when B fails); cleanup and a mirror after it that restores;
// and the password nowhere in what the commands wrote.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {CreateAliasCommand, CreateKeyCommand, DescribeKeyCommand, GetKeyPolicyCommand, KMSClient, ListAliasesCommand} from '@aws-sdk/client-kms'
import {CreateSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {assertBadInput} from '../support/bad-input.ts'
import {jsonOf, runCli, type CliResult} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let cwd: string
const sm: Partial<Record<'msk' | 'iot', SecretsManagerClient>> = {}
const kms: Partial<Record<'msk' | 'iot', KMSClient>> = {}
/** Everything the commands printed, for the password scan at the end. */
const transcript: string[] = []
/** Every password the secrets held at some point. */
const passwords = new Set<string>()

const profiles = ['--iot-profile', 'iot', '--msk-profile', 'msk']
async function cli(args: string[], input?: string): Promise<CliResult> {
  const result = await runCli(args, {cwd, env: aws.childEnv(), input})
  transcript.push(result.stdout, result.stderr)
  return result
}

async function valueOf(role: 'msk' | 'iot', name = 'AmazonMSK_demo'): Promise<{username: string; password: string; versionId: string}> {
  const answer = await sm[role]!.send(new GetSecretValueCommand({SecretId: name, VersionStage: 'AWSCURRENT'}))
  const value = JSON.parse(answer.SecretString!)
  passwords.add(value.password)
  return {...value, versionId: answer.VersionId}
}

const describeSecret = (role: 'msk' | 'iot', name = 'AmazonMSK_demo') => sm[role]!.send(new DescribeSecretCommand({SecretId: name}))

before(async () => {
  aws = await startLocalAws()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-secret-'))
  for (const role of ['msk', 'iot'] as const) {
    sm[role] = new SecretsManagerClient(aws.clientConfig(role))
    kms[role] = new KMSClient(aws.clientConfig(role))
  }
})

after(async () => {
  for (const client of [...Object.values(sm), ...Object.values(kms)]) client?.destroy()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('secret mirror and rotate across two accounts', () => {
  test('bad input: exit 2, one line naming it, no mutating request', async (t) => {
    const cases: [string, string[], RegExp, string?][] = [
      ['a name without AmazonMSK_', ['secret', 'mirror', ...profiles, '--name', 'kafka-users'], /^iotctl: --name 'kafka-users': MSK only uses secrets whose name starts with AmazonMSK_/],
      ['an alias without alias/', ['secret', 'mirror', ...profiles, '--key-alias', 'msk-key'], /^iotctl: --key-alias 'msk-key': a KMS alias starts with alias\//],
      ['the default Secrets Manager key', ['secret', 'mirror', ...profiles, '--key-alias', 'alias/aws/secretsmanager'], /^iotctl: --key-alias alias\/aws\/secretsmanager: MSK rejects secrets encrypted with the default aws\/secretsmanager key/],
      ['another AWS managed alias', ['secret', 'mirror', ...profiles, '--key-alias', 'alias/aws/kafka'], /alias\/aws\/ is reserved for AWS managed keys/],
      ['an empty password on stdin', ['secret', 'mirror', ...profiles, '--password-stdin'], /^iotctl: --password-stdin: the password read from stdin is empty$/, '\n'],
      ['a username SCRAM cannot carry', ['secret', 'mirror', ...profiles, '--username', 'a,b'], /^iotctl: --username 'a,b'/],
      ['the password as an argument', ['secret', 'mirror', ...profiles, '--password', 'hunter2'], /unknown flag --password; iotctl secret mirror --help lists the flags/],
      ['rotate before any mirror', ['secret', 'rotate', ...profiles, '--stack', 'demo'], /^iotctl: no secret AmazonMSK_demo of stack 'demo' in the MSK account .*run `iotctl secret mirror` first/],
      ['a key deletion window under 7 days', ['cleanup', ...profiles, '--yes', '--kms-pending-days', '3'], /kms-pending-days/],
    ]
    for (const [name, args, expected, input] of cases) {
      await t.test(name, async () => {
        aws.resetLog()
        assertBadInput(aws, await cli(args, input), expected)
      })
    }
  })

  test('a name or alias already used by something the stack did not create is refused before any change', async () => {
    await sm.iot!.send(new CreateSecretCommand({Name: 'AmazonMSK_taken', SecretString: '{}'}))
    const foreignKey = await kms.msk!.send(new CreateKeyCommand({}))
    await kms.msk!.send(new CreateAliasCommand({AliasName: 'alias/taken', TargetKeyId: foreignKey.KeyMetadata!.KeyId}))
    aws.resetLog()
    assertBadInput(aws, await cli(['secret', 'mirror', ...profiles, '--stack', 'demo', '--name', 'AmazonMSK_taken']),
      /^iotctl: --name AmazonMSK_taken: a secret of that name exists in the IoT account \(222222222222\) and stack 'demo' did not create it/)
    aws.resetLog()
    assertBadInput(aws, await cli(['secret', 'mirror', ...profiles, '--stack', 'demo', '--key-alias', 'alias/taken']),
      /^iotctl: --key-alias alias\/taken: in the MSK account \(111111111111\) it names key \S+, which stack 'demo' did not create/)
  })

  test('mirror: the same credentials in both accounts, each encrypted with its own account\'s stack key', async () => {
    const result = await cli(['secret', 'mirror', ...profiles, '--stack', 'demo', '--username', 'alice', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    assert.equal(document.inSync, true)
    assert.equal(document.changed, true)
    const [a, b] = [await valueOf('msk'), await valueOf('iot')]
    assert.equal(a.username, 'alice')
    assert.match(a.password, /^[A-Za-z0-9]{32}$/)
    assert.deepEqual({username: b.username, password: b.password}, {username: a.username, password: a.password})

    for (const role of ['msk', 'iot'] as const) {
      const secret = await describeSecret(role)
      const key = await kms[role]!.send(new DescribeKeyCommand({KeyId: 'alias/iotctl-demo'}))
      assert.equal(key.KeyMetadata?.Arn, document.keys[role].arn)
      assert.ok(key.KeyMetadata?.Arn?.includes(`:${aws.accounts[role]}:`), `${role}'s key lives in ${role}'s account`)
      assert.equal(secret.KmsKeyId, key.KeyMetadata?.Arn, `${role}'s secret is encrypted with ${role}'s stack key`)
      assert.ok(secret.Tags?.some((tag) => tag.Key === 'iotctl:stack' && tag.Value === 'demo'))
      const policy = JSON.parse((await kms[role]!.send(new GetKeyPolicyCommand({KeyId: key.KeyMetadata!.KeyId, PolicyName: 'default'}))).Policy!)
      assert.deepEqual(policy.Statement.map((s: {Sid: string}) => s.Sid), ['Enable IAM User Permissions', 'iotctldemoZSecretsManagerUse'])
      assert.equal(policy.Statement[0].Principal.AWS, `arn:aws:iam::${aws.accounts[role]}:root`)
    }
    assert.notEqual(document.keys.msk.keyId, document.keys.iot.keyId)
  })

  test('a second mirror changes nothing and says so', async () => {
    aws.resetLog()
    const result = await cli(['secret', 'mirror', ...profiles, '--stack', 'demo'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /nothing to change: AmazonMSK_demo holds the same credentials in the MSK account \(111111111111/)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('rotate: a new password in both accounts, reported by version id', async () => {
    const before = await valueOf('msk')
    const result = await cli(['secret', 'rotate', ...profiles, '--stack', 'demo', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    const [a, b] = [await valueOf('msk'), await valueOf('iot')]
    assert.notEqual(a.password, before.password)
    assert.equal(a.username, 'alice', 'the username is kept')
    assert.deepEqual({username: b.username, password: b.password}, {username: a.username, password: a.password})
    assert.equal(document.current.msk.versionId, a.versionId)
    assert.equal(document.current.iot.versionId, b.versionId)
    const human = await cli(['secret', 'rotate', ...profiles, '--stack', 'demo'])
    assert.match(human.stdout, /^rotated AmazonMSK_demo; current versions: MSK account \S+, IoT account \S+\n$/)
    await valueOf('msk')
  })

  test('rotate: when the IoT account fails, the MSK account gets its old value back and both keep the old password (exit 1)', async () => {
    const before = [await valueOf('msk'), await valueOf('iot')]
    aws.injectFault({service: 'secretsmanager', operation: 'PutSecretValue', account: aws.accounts.iot, code: 'AccessDeniedException', status: 400, message: 'injected: not allowed', times: 5})
    try {
      const result = await cli(['secret', 'rotate', ...profiles, '--stack', 'demo'])
      assert.equal(result.code, 1, result.stderr)
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, result.stderr)
      assert.match(lines[0], /^iotctl: rotating AmazonMSK_demo: AccessDeniedException: the IoT account's secret could not be updated \(injected: not allowed\); the MSK account's secret holds the old password again \(version \S+\), so both keep the old password$/)
    } finally {
      aws.clearFaults()
    }
    const after = [await valueOf('msk'), await valueOf('iot')]
    assert.equal(after[0].password, before[0].password)
    assert.equal(after[1].password, before[1].password)
    assert.equal(after[1].versionId, before[1].versionId, 'B never changed')
  })

  test('a password given on stdin is used, and never echoed', async () => {
    const given = 'Given-On-Stdin-7f3a9c'
    passwords.add(given)
    const result = await cli(['secret', 'rotate', ...profiles, '--stack', 'demo', '--password-stdin'], `${given}\n`)
    assert.equal(result.code, 0, result.stderr)
    assert.equal((await valueOf('msk')).password, given)
    assert.equal((await valueOf('iot')).password, given)
  })

  test('secrets that drifted apart: mirror says so and exits 1; --force makes B match A', async () => {
    await sm.iot!.send(new PutSecretValueCommand({SecretId: 'AmazonMSK_demo', SecretString: JSON.stringify({username: 'alice', password: 'drifted-b-value'})}))
    passwords.add('drifted-b-value')
    aws.resetLog()
    const drifted = await cli(['secret', 'mirror', ...profiles, '--stack', 'demo'])
    assert.equal(drifted.code, 1)
    assert.match(drifted.stderr, /AmazonMSK_demo holds different credentials in the two accounts; run `iotctl secret mirror --force`/)
    assert.deepEqual(aws.mutatingRequests(), [])
    const forced = await cli(['secret', 'mirror', ...profiles, '--stack', 'demo', '--force'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal((await valueOf('iot')).password, (await valueOf('msk')).password)
  })

  test('cleanup: secrets scheduled for deletion, the stack\'s statements and aliases removed, keys pending deletion', async () => {
    const keys = {msk: (await kms.msk!.send(new DescribeKeyCommand({KeyId: 'alias/iotctl-demo'}))).KeyMetadata!, iot: (await kms.iot!.send(new DescribeKeyCommand({KeyId: 'alias/iotctl-demo'}))).KeyMetadata!}
    const result = await cli(['cleanup', ...profiles, '--stack', 'demo', '--yes', '--kms-pending-days', '8', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.equal(jsonOf(result).deleted, 4)
    for (const role of ['msk', 'iot'] as const) {
      assert.ok((await describeSecret(role)).DeletedDate, `${role}: the secret is in its recovery window`)
      const key = (await kms[role]!.send(new DescribeKeyCommand({KeyId: keys[role].KeyId}))).KeyMetadata!
      assert.equal(key.KeyState, 'PendingDeletion')
      const aliases = (await kms[role]!.send(new ListAliasesCommand({KeyId: keys[role].KeyId}))).Aliases ?? []
      assert.deepEqual(aliases.map((a) => a.AliasName), [])
      const policy = JSON.parse((await kms[role]!.send(new GetKeyPolicyCommand({KeyId: keys[role].KeyId, PolicyName: 'default'}))).Policy!)
      assert.deepEqual(policy.Statement.map((s: {Sid: string}) => s.Sid), ['Enable IAM User Permissions'], `${role}: only the root statement is left`)
    }
    aws.resetLog()
    const again = await cli(['cleanup', ...profiles, '--stack', 'demo', '--yes'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to delete/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('mirror after cleanup restores the secrets and brings the keys back, and says so', async () => {
    const before = await valueOf('msk').catch(() => undefined)
    assert.equal(before, undefined, 'a secret in its recovery window cannot be read')
    const arns = {msk: (await describeSecret('msk')).ARN, iot: (await describeSecret('iot')).ARN}
    const result = await cli(['secret', 'mirror', ...profiles, '--stack', 'demo'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /restored secret AmazonMSK_demo in the MSK account, which an earlier cleanup had scheduled for deletion/)
    assert.match(result.stdout, /restored secret AmazonMSK_demo in the IoT account/)
    assert.match(result.stdout, /brought back key \S+ \(MSK account\): cancel its scheduled deletion/)
    assert.match(result.stdout, /brought back key \S+ \(IoT account\)/)
    for (const role of ['msk', 'iot'] as const) {
      const secret = await describeSecret(role)
      assert.equal(secret.ARN, arns[role], 'the same secret, not a new one')
      assert.equal(secret.DeletedDate, undefined)
      const key = (await kms[role]!.send(new DescribeKeyCommand({KeyId: 'alias/iotctl-demo'}))).KeyMetadata!
      assert.equal(key.KeyState, 'Enabled')
      assert.equal(secret.KmsKeyId, key.Arn)
    }
    assert.equal((await valueOf('iot')).password, (await valueOf('msk')).password)
    const again = await cli(['secret', 'mirror', ...profiles, '--stack', 'demo'])
    assert.match(again.stdout, /nothing to change/)
  })

  test('cleanup --force-delete-secrets deletes the secrets at once', async () => {
    const result = await cli(['cleanup', ...profiles, '--stack', 'demo', '--yes', '--force-delete-secrets'])
    assert.equal(result.code, 0, result.stderr)
    for (const role of ['msk', 'iot'] as const) {
      await assert.rejects(describeSecret(role), (error: Error) => error.name === 'ResourceNotFoundException', `${role}: gone, no recovery window`)
    }
  })

  test('no password ever appears in stdout, stderr, --json or the ledger', () => {
    const ledger = readFileSync(join(cwd, '.iotctl', 'demo.json'), 'utf8')
    const written = [...transcript, ledger].join('\n')
    assert.ok(passwords.size >= 4, `passwords seen: ${passwords.size}`)
    for (const password of passwords) assert.ok(!written.includes(password), 'a password was written out')
  })
})
