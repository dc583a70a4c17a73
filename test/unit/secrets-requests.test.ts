// Request-level: what `secret mirror`, `secret rotate` and cleanup send to KMS
// and Secrets Manager in each account — key policies, CreateSecret with the
// stack key's ARN, the same value on both sides, restores after a cleanup,
// the rollback of a failed rotation — and that bad input sends nothing mutating.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {test} from 'node:test'
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DescribeKeyCommand,
  EnableKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  type KeyMetadata,
} from '@aws-sdk/client-kms'
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import {GetTopicRuleCommand, IoTClient} from '@aws-sdk/client-iot'
import {mockClient, type AwsClientStub} from 'aws-sdk-client-mock'
import {AwsError, InputError} from '../../src/lib/errors.ts'
import {ScramCredentials} from '../../src/lib/secrets/credentials.ts'
import {mirrorSecrets, rotateSecrets} from '../../src/lib/secrets/index.ts'
import {newKeyPolicy, rootStatement, stackKeyStatements} from '../../src/lib/secrets/key-policy.ts'
import {kmsKeyStep} from '../../src/lib/secrets/keys.ts'
import {secretOptionEntries} from '../../src/lib/secrets/options.ts'
import {secretStep} from '../../src/lib/secrets/secret-steps.ts'
import type {ResourceRecord} from '../../src/lib/plan/types.ts'
import {testContext} from '../support/step-context.ts'

const ids = {msk: '111111111111', iot: '222222222222'}
const stackTags = [{Key: 'iotctl:stack', Value: 'demo'}, {Key: 'iotctl:managed', Value: 'true'}]
const kmsStackTags = [{TagKey: 'iotctl:stack', TagValue: 'demo'}, {TagKey: 'iotctl:managed', TagValue: 'true'}]

function awsFailure(name: string, message = name): Error {
  return Object.assign(new Error(message), {name, $metadata: {httpStatusCode: 400}})
}

type Role = 'msk' | 'iot'
const keyArn = (role: Role, id: string) => `arn:aws:kms:us-east-1:${ids[role]}:key/${id}`
const secretArn = (role: Role) => `arn:aws:secretsmanager:us-east-1:${ids[role]}:secret:AmazonMSK_demo-AbCdEf`

interface Account {
  kms: KMSClient
  sm: SecretsManagerClient
  kmsMock: AwsClientStub<KMSClient>
  smMock: AwsClientStub<SecretsManagerClient>
}

/** Two accounts where nothing exists yet: every look-up says "not found". */
function emptyAccounts(): Record<Role, Account> {
  const make = (): Account => {
    const kms = new KMSClient({region: 'us-east-1'})
    const sm = new SecretsManagerClient({region: 'us-east-1'})
    const kmsMock = mockClient(kms)
    const smMock = mockClient(sm)
    kmsMock.on(DescribeKeyCommand).rejects(awsFailure('NotFoundException'))
    kmsMock.on(ListKeysCommand).resolves({Keys: []})
    smMock.on(DescribeSecretCommand).rejects(awsFailure('ResourceNotFoundException'))
    smMock.on(ListSecretsCommand).resolves({SecretList: []})
    return {kms, sm, kmsMock, smMock}
  }
  return {msk: make(), iot: make()}
}

function contextFor(accounts: Record<Role, Account>, options: Record<string, unknown> = {}) {
  // No topic rule: rotate finds none to switch and rotates the first secret in place.
  const iot = new IoTClient({region: 'us-east-1'})
  mockClient(iot).on(GetTopicRuleCommand).rejects(awsFailure('ResourceNotFoundException'))
  const ctx = testContext({
    settings: {stack: 'demo'},
    msk: {accountId: ids.msk, clients: {kms: accounts.msk.kms, secrets: accounts.msk.sm}},
    iot: {accountId: ids.iot, clients: {kms: accounts.iot.kms, secrets: accounts.iot.sm, iot}},
  })
  return Object.assign(ctx, {options})
}

const mutating = [/^Create/, /^Put/, /^Update/, /^Delete/, /^Schedule/, /^Cancel/, /^Enable/, /^Restore/, /^Tag/]

function mutatingCalls(accounts: Record<Role, Account>): string[] {
  return (['msk', 'iot'] as const).flatMap((role) => [...accounts[role].kmsMock.calls(), ...accounts[role].smMock.calls()]
    .map((call) => (call.args[0] as {constructor: {name: string}}).constructor.name.replace(/Command$/, ''))
    .filter((name) => mutating.some((m) => m.test(name)))
    .map((name) => `${role}:${name}`))
}

test('mirror into two empty accounts: a stack key with the root statement in each, and the same secret value encrypted with each key', async () => {
  const accounts = emptyAccounts()
  for (const role of ['msk', 'iot'] as const) {
    const key: KeyMetadata = {KeyId: `key-${role}`, Arn: keyArn(role, `key-${role}`), KeyState: 'Enabled', KeyManager: 'CUSTOMER'}
    accounts[role].kmsMock.on(CreateKeyCommand).resolves({KeyMetadata: key})
    accounts[role].kmsMock.on(DescribeKeyCommand, {KeyId: `key-${role}`}).resolves({KeyMetadata: key})
    accounts[role].kmsMock.on(CreateAliasCommand).resolves({})
    accounts[role].smMock.on(CreateSecretCommand).resolves({ARN: secretArn(role), Name: 'AmazonMSK_demo'})
    accounts[role].smMock.on(DescribeSecretCommand, {SecretId: secretArn(role)}).resolves({
      ARN: secretArn(role), Name: 'AmazonMSK_demo', KmsKeyId: keyArn(role, `key-${role}`), Tags: stackTags, VersionIdsToStages: {[`v-${role}`]: ['AWSCURRENT']},
    })
  }
  const ctx = contextFor(accounts)
  const result = await mirrorSecrets(ctx, {dryRun: false})

  for (const role of ['msk', 'iot'] as const) {
    const {kmsMock, smMock} = accounts[role]
    const createKey = kmsMock.commandCalls(CreateKeyCommand)
    assert.equal(createKey.length, 1, `${role}: one key`)
    const input = createKey[0].args[0].input
    assert.equal(input.KeySpec, 'SYMMETRIC_DEFAULT')
    assert.equal(input.KeyUsage, 'ENCRYPT_DECRYPT')
    assert.deepEqual(input.Tags, kmsStackTags)
    const context = {stack: 'demo', accountId: ids[role], region: 'us-east-1', partition: 'aws'}
    assert.deepEqual(JSON.parse(input.Policy!), newKeyPolicy(context))
    assert.deepEqual(JSON.parse(input.Policy!).Statement[0], rootStatement(context), `${role}: the root statement comes first`)
    assert.deepEqual(kmsMock.commandCalls(CreateAliasCommand).map((c) => c.args[0].input), [{AliasName: 'alias/iotctl-demo', TargetKeyId: `key-${role}`}])

    const createSecret = smMock.commandCalls(CreateSecretCommand)
    assert.equal(createSecret.length, 1)
    const secret = createSecret[0].args[0].input
    assert.equal(secret.Name, 'AmazonMSK_demo')
    assert.equal(secret.KmsKeyId, keyArn(role, `key-${role}`), `${role}: encrypted with its own account's key, by ARN (MSK does not take an alias)`)
    assert.deepEqual(secret.Tags, stackTags)
  }
  const mskValue = JSON.parse(accounts.msk.smMock.commandCalls(CreateSecretCommand)[0].args[0].input.SecretString!)
  const iotValue = JSON.parse(accounts.iot.smMock.commandCalls(CreateSecretCommand)[0].args[0].input.SecretString!)
  assert.deepEqual(iotValue, mskValue, 'the same username and password in both accounts')
  assert.equal(mskValue.username, 'iotctl')
  assert.match(mskValue.password, /^[A-Za-z0-9]{32}$/)

  assert.equal(result.inSync, true)
  assert.equal(result.changed, true)
  assert.deepEqual(result.keys, {msk: {keyId: 'key-msk', arn: keyArn('msk', 'key-msk')}, iot: {keyId: 'key-iot', arn: keyArn('iot', 'key-iot')}})
  assert.deepEqual(result.secrets, {msk: {arn: secretArn('msk'), versionId: 'v-msk'}, iot: {arn: secretArn('iot'), versionId: 'v-iot'}})
  assert.ok(!JSON.stringify(result).includes(mskValue.password), 'the password is not in the result (--json)')
  assert.ok(!readFileSync(ctx.ledger.path, 'utf8').includes(mskValue.password), 'the password is not in the ledger')
  assert.deepEqual(ctx.ledger.resources.map((r) => `${r.step} ${r.id}`).sort(), [
    `kms-key:iot key-iot`, `kms-key:msk key-msk`, `secret:iot ${secretArn('iot')}`, `secret:msk ${secretArn('msk')}`,
  ])
})

test('a password from stdin is written as given, with the configured username', async () => {
  const accounts = emptyAccounts()
  for (const role of ['msk', 'iot'] as const) {
    const key: KeyMetadata = {KeyId: `key-${role}`, Arn: keyArn(role, `key-${role}`), KeyState: 'Enabled'}
    accounts[role].kmsMock.on(CreateKeyCommand).resolves({KeyMetadata: key})
    accounts[role].smMock.on(CreateSecretCommand).resolves({ARN: secretArn(role), Name: 'AmazonMSK_demo'})
  }
  const ctx = contextFor(accounts, secretOptionEntries({credentials: new ScramCredentials('ignored', 'from-stdin-123')}))
  ctx.settings.secret = {username: 'alice'}
  await mirrorSecrets(ctx, {dryRun: false})
  for (const role of ['msk', 'iot'] as const) {
    assert.deepEqual(JSON.parse(accounts[role].smMock.commandCalls(CreateSecretCommand)[0].args[0].input.SecretString!), {username: 'alice', password: 'from-stdin-123'})
  }
})

test('after a cleanup: the stack\'s key pending deletion is brought back and its secret restored, never created anew', async () => {
  const accounts = emptyAccounts()
  for (const role of ['msk', 'iot'] as const) {
    const {kmsMock, smMock} = accounts[role]
    const pending: KeyMetadata = {KeyId: `key-${role}`, Arn: keyArn(role, `key-${role}`), KeyState: 'PendingDeletion', KeyManager: 'CUSTOMER', DeletionDate: new Date('2030-01-08T00:00:00Z')}
    kmsMock.on(ListKeysCommand).resolves({Keys: [{KeyId: 'someone-elses'}, {KeyId: `key-${role}`}]})
    kmsMock.on(ListResourceTagsCommand).resolves({Tags: []})
    kmsMock.on(ListResourceTagsCommand, {KeyId: `key-${role}`}).resolves({Tags: kmsStackTags})
    kmsMock.on(DescribeKeyCommand, {KeyId: `key-${role}`}).resolvesOnce({KeyMetadata: pending}).resolves({KeyMetadata: {...pending, KeyState: 'Enabled', DeletionDate: undefined}})
    // Cleanup took the stack's statement out: only the root statement is left.
    kmsMock.on(GetKeyPolicyCommand).resolves({Policy: JSON.stringify({Version: '2012-10-17', Statement: [rootStatement({accountId: ids[role], partition: 'aws'})]})})
    const described = {ARN: secretArn(role), Name: 'AmazonMSK_demo', KmsKeyId: keyArn(role, `key-${role}`), Tags: stackTags}
    smMock.on(DescribeSecretCommand, {SecretId: 'AmazonMSK_demo'}).resolves({...described, DeletedDate: new Date('2030-01-08T00:00:00Z')})
    smMock.on(DescribeSecretCommand, {SecretId: secretArn(role)}).resolves(described)
    smMock.on(ListSecretsCommand).resolves({SecretList: [{...described, DeletedDate: new Date('2030-01-08T00:00:00Z')}]})
  }
  const result = await mirrorSecrets(contextFor(accounts), {dryRun: false})

  for (const role of ['msk', 'iot'] as const) {
    const {kmsMock, smMock} = accounts[role]
    assert.equal(kmsMock.commandCalls(CreateKeyCommand).length, 0, `${role}: no new key`)
    assert.deepEqual(kmsMock.commandCalls(CancelKeyDeletionCommand).map((c) => c.args[0].input), [{KeyId: `key-${role}`}])
    assert.deepEqual(kmsMock.commandCalls(EnableKeyCommand).map((c) => c.args[0].input), [{KeyId: `key-${role}`}], 'cancelled keys come back disabled')
    assert.deepEqual(kmsMock.commandCalls(CreateAliasCommand).map((c) => c.args[0].input), [{AliasName: 'alias/iotctl-demo', TargetKeyId: `key-${role}`}])
    const policy = JSON.parse(kmsMock.commandCalls(PutKeyPolicyCommand)[0].args[0].input.Policy!)
    assert.deepEqual(policy.Statement, [rootStatement({accountId: ids[role], partition: 'aws'}), ...stackKeyStatements({stack: 'demo', accountId: ids[role], region: 'us-east-1', partition: 'aws'})])
    assert.equal(smMock.commandCalls(CreateSecretCommand).length, 0, `${role}: no new secret`)
    assert.deepEqual(smMock.commandCalls(RestoreSecretCommand).map((c) => c.args[0].input), [{SecretId: secretArn(role)}])
  }
  assert.deepEqual(result.restored.map((line) => line.replace(/key-\w+/, 'key')).sort(), [
    'brought back key key (IoT account): cancel its scheduled deletion (due 2030-01-08) and re-enable it',
    'brought back key key (MSK account): cancel its scheduled deletion (due 2030-01-08) and re-enable it',
    'restored secret AmazonMSK_demo in the IoT account, which an earlier cleanup had scheduled for deletion',
    'restored secret AmazonMSK_demo in the MSK account, which an earlier cleanup had scheduled for deletion',
  ])
})

test('bad input found in the accounts is exit 2 with nothing mutating sent', async (t) => {
  await t.test('the alias names a key the stack did not create', async () => {
    const accounts = emptyAccounts()
    accounts.iot.kmsMock.on(DescribeKeyCommand, {KeyId: 'alias/iotctl-demo'}).resolves({KeyMetadata: {KeyId: 'foreign', KeyManager: 'CUSTOMER', KeyState: 'Enabled'}})
    accounts.iot.kmsMock.on(ListResourceTagsCommand).resolves({Tags: []})
    await assert.rejects(mirrorSecrets(contextFor(accounts), {dryRun: false}), (error: Error) => error instanceof InputError &&
      error.message.startsWith("--key-alias alias/iotctl-demo: in the IoT account (222222222222) it names key foreign, which stack 'demo' did not create"))
    assert.deepEqual(mutatingCalls(accounts), [])
  })
  await t.test('a secret of that name exists and is not the stack\'s', async () => {
    const accounts = emptyAccounts()
    accounts.msk.smMock.on(DescribeSecretCommand, {SecretId: 'AmazonMSK_demo'}).resolves({ARN: secretArn('msk'), Name: 'AmazonMSK_demo', Tags: []})
    await assert.rejects(mirrorSecrets(contextFor(accounts), {dryRun: false}), /--name AmazonMSK_demo: a secret of that name exists in the MSK account/)
    assert.deepEqual(mutatingCalls(accounts), [])
  })
  await t.test('--password-stdin differs from the password A already holds', async () => {
    const accounts = emptyAccounts()
    accounts.msk.smMock.on(DescribeSecretCommand, {SecretId: 'AmazonMSK_demo'}).resolves({ARN: secretArn('msk'), Name: 'AmazonMSK_demo', Tags: stackTags, KmsKeyId: keyArn('msk', 'k')})
    accounts.msk.smMock.on(GetSecretValueCommand).resolves({SecretString: JSON.stringify({username: 'iotctl', password: 'old-one'}), VersionId: 'v1'})
    const ctx = contextFor(accounts, secretOptionEntries({credentials: new ScramCredentials('iotctl', 'new-one')}))
    await assert.rejects(mirrorSecrets(ctx, {dryRun: false}), (error: Error) => error instanceof InputError && error.message.includes('secret rotate --password-stdin') && !/old-one|new-one/.test(error.message))
    assert.deepEqual(mutatingCalls(accounts), [])
  })
  await t.test('a configured name without the AmazonMSK_ prefix', async () => {
    const accounts = emptyAccounts()
    const ctx = contextFor(accounts)
    ctx.settings.secret = {name: 'kafka-users'}
    await assert.rejects(mirrorSecrets(ctx, {dryRun: false}), /^InputError: --name 'kafka-users': MSK only uses secrets whose name starts with AmazonMSK_/)
    assert.deepEqual(mutatingCalls(accounts), [])
    assert.equal(accounts.msk.kmsMock.calls().length + accounts.msk.smMock.calls().length, 0, 'not even a read')
  })
})

test('secrets that differ are reported, and only --force makes B match A', async () => {
  const setup = (force: boolean) => {
    const accounts = emptyAccounts()
    for (const role of ['msk', 'iot'] as const) {
      const key: KeyMetadata = {KeyId: `key-${role}`, Arn: keyArn(role, `key-${role}`), KeyState: 'Enabled', KeyManager: 'CUSTOMER'}
      accounts[role].kmsMock.on(DescribeKeyCommand, {KeyId: 'alias/iotctl-demo'}).resolves({KeyMetadata: key})
      accounts[role].kmsMock.on(ListResourceTagsCommand).resolves({Tags: kmsStackTags})
      accounts[role].kmsMock.on(GetKeyPolicyCommand).resolves({Policy: JSON.stringify(newKeyPolicy({stack: 'demo', accountId: ids[role], region: 'us-east-1', partition: 'aws'}))})
      const described = {ARN: secretArn(role), Name: 'AmazonMSK_demo', KmsKeyId: keyArn(role, `key-${role}`), Tags: stackTags}
      accounts[role].smMock.on(DescribeSecretCommand).resolves(described)
      accounts[role].smMock.on(GetSecretValueCommand).resolves({SecretString: JSON.stringify({username: 'iotctl', password: role === 'msk' ? 'from-a' : 'stale-b'}), VersionId: 'v'})
      accounts[role].smMock.on(PutSecretValueCommand).resolves({ARN: secretArn(role), VersionId: 'v2'})
    }
    return {accounts, ctx: contextFor(accounts, secretOptionEntries({force}))}
  }
  const plain = setup(false)
  const result = await mirrorSecrets(plain.ctx, {dryRun: false})
  assert.equal(result.inSync, false)
  assert.deepEqual(mutatingCalls(plain.accounts), [])

  const forced = setup(true)
  const fixed = await mirrorSecrets(forced.ctx, {dryRun: false})
  assert.equal(fixed.inSync, true)
  assert.deepEqual(mutatingCalls(forced.accounts), ['iot:PutSecretValue'])
  assert.deepEqual(JSON.parse(forced.accounts.iot.smMock.commandCalls(PutSecretValueCommand)[0].args[0].input.SecretString!), {username: 'iotctl', password: 'from-a'})
})

function rotationAccounts() {
  const accounts = emptyAccounts()
  for (const role of ['msk', 'iot'] as const) {
    accounts[role].smMock.on(DescribeSecretCommand).resolves({ARN: secretArn(role), Name: 'AmazonMSK_demo', Tags: stackTags, KmsKeyId: keyArn(role, 'k'), VersionIdsToStages: {[`old-${role}`]: ['AWSCURRENT']}})
    accounts[role].smMock.on(GetSecretValueCommand).resolves({SecretString: JSON.stringify({username: 'alice', password: 'old-password'}), VersionId: `old-${role}`})
    accounts[role].smMock.on(PutSecretValueCommand).callsFake((input: {ClientRequestToken: string}) => ({ARN: secretArn(role), VersionId: input.ClientRequestToken}))
  }
  return accounts
}

test('rotate writes one new value to A, then B, keeping the username, and reports version ids', async () => {
  const accounts = rotationAccounts()
  const result = await rotateSecrets(contextFor(accounts), {dryRun: false})
  const a = accounts.msk.smMock.commandCalls(PutSecretValueCommand)[0].args[0].input
  const b = accounts.iot.smMock.commandCalls(PutSecretValueCommand)[0].args[0].input
  assert.equal(a.SecretString, b.SecretString)
  const written = JSON.parse(a.SecretString!)
  assert.equal(written.username, 'alice')
  assert.notEqual(written.password, 'old-password')
  assert.deepEqual(result.current, {msk: {arn: secretArn('msk'), versionId: a.ClientRequestToken}, iot: {arn: secretArn('iot'), versionId: b.ClientRequestToken}})
  assert.deepEqual(result.previous, {msk: {arn: secretArn('msk'), versionId: 'old-msk'}, iot: {arn: secretArn('iot'), versionId: 'old-iot'}})
  assert.ok(!JSON.stringify(result).includes(written.password))
  const [putA] = accounts.msk.smMock.commandCalls(PutSecretValueCommand)
  const [putB] = accounts.iot.smMock.commandCalls(PutSecretValueCommand)
  assert.ok(putA.calledBefore(putB), 'A is written first')
})

test('rotate: when B fails, A gets its old value back and the error says both keep the old password', async () => {
  const accounts = rotationAccounts()
  accounts.iot.smMock.on(PutSecretValueCommand).rejects(awsFailure('InternalServiceError', 'injected'))
  let failure: unknown
  await rotateSecrets(contextFor(accounts), {dryRun: false}).catch((error: unknown) => { failure = error })
  assert.ok(failure instanceof AwsError, String(failure))
  assert.equal(failure.exitCode, 1)
  const writesToA = accounts.msk.smMock.commandCalls(PutSecretValueCommand).map((c) => c.args[0].input)
  assert.equal(writesToA.length, 2, 'the new value, then the old one back')
  assert.notEqual(JSON.parse(writesToA[0].SecretString!).password, 'old-password')
  assert.deepEqual(JSON.parse(writesToA[1].SecretString!), {username: 'alice', password: 'old-password'})
  assert.notEqual(writesToA[1].ClientRequestToken, writesToA[0].ClientRequestToken)
  assert.match(failure.message, new RegExp(`the IoT account's secret could not be updated \\(injected\\); the MSK account's secret holds the old password again \\(version ${writesToA[1].ClientRequestToken}\\), so both keep the old password`))
  assert.ok(!failure.message.includes('old-password'))
  assert.equal(accounts.iot.smMock.commandCalls(PutSecretValueCommand).length, 1, 'B was tried once and is left as it was')
})

test('rotate refuses when a secret is missing or scheduled for deletion, before writing anything', async () => {
  const accounts = rotationAccounts()
  accounts.iot.smMock.on(DescribeSecretCommand).resolves({ARN: secretArn('iot'), Name: 'AmazonMSK_demo', Tags: stackTags, DeletedDate: new Date()})
  await assert.rejects(rotateSecrets(contextFor(accounts), {dryRun: false}), /scheduled for deletion; run `iotctl secret mirror` to restore it first/)
  assert.deepEqual(mutatingCalls(accounts), [])
})

test('cleanup: the stack\'s statements and alias come off the key, which is scheduled for deletion after --kms-pending-days', async () => {
  const accounts = emptyAccounts()
  const {kmsMock} = accounts.msk
  const context = {stack: 'demo', accountId: ids.msk, region: 'us-east-1', partition: 'aws'}
  const foreign = {Sid: 'AllowSomeRole', Effect: 'Allow' as const, Principal: {AWS: 'arn:aws:iam::111111111111:role/x'}, Action: 'kms:Decrypt', Resource: '*'}
  kmsMock.on(DescribeKeyCommand, {KeyId: 'key-msk'}).resolves({KeyMetadata: {KeyId: 'key-msk', KeyState: 'Enabled'}})
  kmsMock.on(GetKeyPolicyCommand).resolves({Policy: JSON.stringify({...newKeyPolicy(context), Statement: [...newKeyPolicy(context).Statement, foreign]})})
  kmsMock.on(ListAliasesCommand).resolves({Aliases: [{AliasName: 'alias/iotctl-demo', TargetKeyId: 'key-msk'}, {AliasName: 'alias/not-ours', TargetKeyId: 'key-msk'}]})
  const ctx = contextFor(accounts, secretOptionEntries({kmsPendingDays: 9}))
  const record: ResourceRecord = {step: 'kms-key:msk', kind: 'kms:key', id: 'key-msk', account: 'msk', accountId: ids.msk, region: 'us-east-1', attrs: {arn: keyArn('msk', 'key-msk'), alias: 'alias/iotctl-demo'}}
  await kmsKeyStep('msk').delete(ctx, [record])
  const policy = JSON.parse(kmsMock.commandCalls(PutKeyPolicyCommand)[0].args[0].input.Policy!)
  assert.deepEqual(policy.Statement, [rootStatement(context), foreign])
  assert.deepEqual(kmsMock.commandCalls(DeleteAliasCommand).map((c) => c.args[0].input), [{AliasName: 'alias/iotctl-demo'}])
  assert.deepEqual(kmsMock.commandCalls(ScheduleKeyDeletionCommand).map((c) => c.args[0].input), [{KeyId: 'key-msk', PendingWindowInDays: 9}])
})

test('cleanup: secrets get a 7-day recovery window, or none with --force-delete-secrets; "already deleted" counts as done', async () => {
  const record: ResourceRecord = {step: 'secret:iot', kind: 'secretsmanager:secret', id: secretArn('iot'), account: 'iot', accountId: ids.iot, region: 'us-east-1', attrs: {name: 'AmazonMSK_demo'}}
  const plain = emptyAccounts()
  plain.iot.smMock.on(DeleteSecretCommand).resolves({})
  await secretStep('iot').delete(contextFor(plain), [record])
  assert.deepEqual(plain.iot.smMock.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input), [{SecretId: secretArn('iot'), RecoveryWindowInDays: 7}])

  const forced = emptyAccounts()
  forced.iot.smMock.on(DeleteSecretCommand).resolves({})
  await secretStep('iot').delete(contextFor(forced, secretOptionEntries({forceDeleteSecrets: true})), [record])
  assert.deepEqual(forced.iot.smMock.commandCalls(DeleteSecretCommand).map((c) => c.args[0].input), [{SecretId: secretArn('iot'), ForceDeleteWithoutRecovery: true}])

  const twice = emptyAccounts()
  twice.iot.smMock.on(DeleteSecretCommand).rejects(awsFailure('InvalidRequestException', 'You tried to perform the operation on a secret that\'s currently marked deleted.'))
  await secretStep('iot').delete(contextFor(twice), [record])
})
