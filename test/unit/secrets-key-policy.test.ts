// Key policies: the root statement stays, statements the stack did not write
// stay, and only the stack's own Sids are added or removed.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {missingStatements, newKeyPolicy, parseKeyPolicy, partitionOf, rootStatement, secretsManagerSid, stackKeyPolicySids, stackKeyStatements, withStatements, withoutStatements, type KeyPolicy, type PolicyStatement} from '../../src/lib/secrets/key-policy.ts'

const context = {stack: 'demo-1', accountId: '111111111111', region: 'eu-west-1', partition: 'aws'}
const other: PolicyStatement = {Sid: 'AllowIotRole', Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::111111111111:role/r'}, Action: 'kms:Decrypt', Resource: '*'}

test('the Sid names the stack in the only alphabet Sids allow', () => {
  assert.equal(secretsManagerSid('demo-1'), 'iotctldemoZ2d1ZSecretsManagerUse')
  assert.deepEqual(stackKeyPolicySids('demo-1'), ['iotctldemoZ2d1ZSecretsManagerUse'])
  for (const sid of stackKeyPolicySids('a_b-c')) assert.match(sid, /^[A-Za-z0-9]+$/)
})

test('a new key\'s policy: the account root statement, then the stack\'s use-through-Secrets-Manager statement', () => {
  assert.deepEqual(newKeyPolicy(context), {
    Version: '2012-10-17',
    Statement: [
      {Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: {AWS: 'arn:aws:iam::111111111111:root'}, Action: 'kms:*', Resource: '*'},
      {
        Sid: 'iotctldemoZ2d1ZSecretsManagerUse',
        Effect: 'Allow',
        Principal: {AWS: '*'},
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:CreateGrant', 'kms:DescribeKey'],
        Resource: '*',
        Condition: {StringEquals: {'kms:CallerAccount': '111111111111', 'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com'}},
      },
    ],
  })
  assert.deepEqual(rootStatement({accountId: '222222222222', partition: 'aws-cn'}).Principal, {AWS: 'arn:aws-cn:iam::222222222222:root'})
  assert.equal(partitionOf('arn:aws-us-gov:sts::1:assumed-role/x'), 'aws-us-gov')
})

test('missing statements: absent or changed, compared regardless of key order and one-element lists', () => {
  const ours = stackKeyStatements(context)
  const reordered: PolicyStatement = {...ours[0], Condition: {StringEquals: {'kms:ViaService': 'secretsmanager.eu-west-1.amazonaws.com', 'kms:CallerAccount': ['111111111111']}}}
  const cases: [string, KeyPolicy, number][] = [
    ['empty policy', {Version: '2012-10-17', Statement: []}, 1],
    ['root only', {Version: '2012-10-17', Statement: [rootStatement(context)]}, 1],
    ['present', newKeyPolicy(context), 0],
    ['present, keys reordered by KMS', {Version: '2012-10-17', Statement: [rootStatement(context), reordered]}, 0],
    ['same Sid, another region', {Version: '2012-10-17', Statement: stackKeyStatements({...context, region: 'us-east-1'})}, 1],
  ]
  for (const [name, policy, expected] of cases) assert.equal(missingStatements(policy, ours).length, expected, name)
})

test('adding keeps the root and foreign statements in place and replaces a stale one of the same Sid', () => {
  const stale = stackKeyStatements({...context, region: 'us-east-1'})[0]
  const policy: KeyPolicy = {Version: '2012-10-17', Statement: [rootStatement(context), other, stale]}
  const merged = withStatements(policy, stackKeyStatements(context))
  assert.equal(merged.Statement.length, 3)
  assert.deepEqual(merged.Statement[0], rootStatement(context))
  assert.deepEqual(merged.Statement[1], other)
  assert.deepEqual(merged.Statement[2], stackKeyStatements(context)[0])
  assert.equal(missingStatements(merged, stackKeyStatements(context)).length, 0)
  assert.deepEqual(withStatements(merged, stackKeyStatements(context)), merged, 'idempotent')
})

test('removal takes exactly the stack\'s Sids: never a statement of stack "demo1x" sharing the prefix, never the root', () => {
  const neighbour = stackKeyStatements({...context, stack: 'demo1x'})[0]
  const policy: KeyPolicy = {Version: '2012-10-17', Statement: [rootStatement(context), other, neighbour, ...stackKeyStatements(context), {Effect: 'Allow', Action: 'kms:List*'}]}
  const kept = withoutStatements(policy, stackKeyPolicySids('demo-1'))
  assert.deepEqual(kept.Statement.map((s) => s.Sid), ['Enable IAM User Permissions', 'AllowIotRole', 'iotctldemo1xZSecretsManagerUse', undefined])
})

test('parsing accepts a single statement object and fills the version', () => {
  assert.deepEqual(parseKeyPolicy(JSON.stringify({Statement: other})), {Version: '2012-10-17', Statement: [other]})
  assert.deepEqual(parseKeyPolicy(undefined), {Version: '2012-10-17', Statement: []})
})

test('stack Sids are alphanumeric and distinct for names that differ only in punctuation', () => {
  const names = ['ab', 'a-b', 'a_b', 'aZ2db', 'aZb', 'a--b', 'A-B']
  const sids = names.map((n) => secretsManagerSid(n))
  for (const sid of sids) assert.match(sid, /^[A-Za-z0-9]+$/)
  assert.equal(new Set(sids).size, names.length, sids.join(' '))
})
