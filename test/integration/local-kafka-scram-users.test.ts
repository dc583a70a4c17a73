// The local Kafka broker lets in exactly the users of the SCRAM secrets associated
// with an MSK cluster: a wrong password is refused, an associated secret's user
// logs in, a disassociated one no longer does, and a changed secret value reaches
// the broker only after the configured propagation delay.
import assert from 'node:assert/strict'
import {after, before, test} from 'node:test'
import {BatchDisassociateScramSecretCommand} from '@aws-sdk/client-kafka'
import {PutSecretValueCommand} from '@aws-sdk/client-secrets-manager'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {createScramCluster, type ScramCluster} from '../support/kafka/msk-cluster.ts'

let aws: LocalAws
let cluster: ScramCluster

before(async () => {
  aws = await startLocalAws({kafka: true, clusterActivationDelayMs: 0})
  cluster = await createScramCluster(aws, 'scram-users')
})

after(async () => {
  cluster?.destroy()
  await aws?.stop()
})

test('the broker is SASL_SSL with SCRAM-SHA-512 on localhost and refuses a user it does not know', async () => {
  const kafka = aws.kafka!
  assert.match(kafka.bootstrap, /^localhost:\d+$/)
  assert.equal(await kafka.canAuthenticate(kafka.admin.username, kafka.admin.password), true)
  assert.equal(await kafka.canAuthenticate(kafka.admin.username, 'not-the-password'), false)
  assert.equal(await kafka.canAuthenticate('device-writer', 's3cret-1'), false)
})

test('an associated secret’s user logs in, with its password only, until the secret is disassociated', async () => {
  const kafka = aws.kafka!
  const secretArn = await cluster.createSecret('writer', 'device-writer', 's3cret-1')
  assert.equal(await kafka.canAuthenticate('device-writer', 's3cret-1'), false, 'no user before the association')

  await cluster.associate(secretArn)
  assert.equal(await kafka.canAuthenticate('device-writer', 's3cret-1'), true)
  assert.equal(await kafka.canAuthenticate('device-writer', 'wrong'), false)

  const gone = await cluster.kafka.send(new BatchDisassociateScramSecretCommand({ClusterArn: cluster.clusterArn, SecretArnList: [secretArn]}))
  assert.deepEqual(gone.UnprocessedScramSecrets, [])
  assert.equal(await kafka.canAuthenticate('device-writer', 's3cret-1'), false)
})

test('a changed secret value reaches the broker after scramPropagationDelayMs, not before', async () => {
  const kafka = aws.kafka!
  const secretArn = await cluster.createSecret('rotating', 'rotating-user', 'old-password')
  await cluster.associate(secretArn)
  assert.equal(await kafka.canAuthenticate('rotating-user', 'old-password'), true)

  aws.settings.scramPropagationDelayMs = 1500
  try {
    const changedAt = Date.now()
    await cluster.secrets.send(new PutSecretValueCommand({SecretId: secretArn, SecretString: JSON.stringify({username: 'rotating-user', password: 'new-password'})}))
    assert.equal(await kafka.canAuthenticate('rotating-user', 'old-password'), true, 'the old password still works during the delay')
    assert.equal(await kafka.canAuthenticate('rotating-user', 'new-password'), false)

    let acceptedAt = 0
    while (Date.now() - changedAt < 10_000) {
      if (await kafka.canAuthenticate('rotating-user', 'new-password')) {
        acceptedAt = Date.now()
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    assert.ok(acceptedAt > 0, 'the new password never reached the broker')
    assert.ok(acceptedAt - changedAt >= 1500, `accepted after ${acceptedAt - changedAt} ms, before the delay`)
    assert.equal(await kafka.canAuthenticate('rotating-user', 'old-password'), false)
  } finally {
    aws.settings.scramPropagationDelayMs = 0
  }

  // With no delay the new value is in force when PutSecretValue returns.
  await cluster.secrets.send(new PutSecretValueCommand({SecretId: secretArn, SecretString: JSON.stringify({username: 'renamed-user', password: 'third-password'})}))
  assert.equal(await kafka.canAuthenticate('renamed-user', 'third-password'), true)
  assert.equal(await kafka.canAuthenticate('rotating-user', 'new-password'), false, 'the old user name is gone')
})

test('reset() empties the broker: no user of an association, no topic', async () => {
  const kafka = aws.kafka!
  await cluster.associate(await cluster.createSecret('before-reset', 'reset-user', 'reset-password'))
  await kafka.createTopic('before-reset')
  assert.equal(await kafka.canAuthenticate('reset-user', 'reset-password'), true)
  await aws.reset()
  assert.equal(await kafka.canAuthenticate('reset-user', 'reset-password'), false)
  assert.deepEqual(await kafka.listTopics(), [])
  assert.equal(await kafka.canAuthenticate(kafka.admin.username, kafka.admin.password), true, 'the admin stays')
})
