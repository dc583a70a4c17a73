// CreateTopicRule/ReplaceTopicRule on the local AWS refuse what AWS IoT refuses:
// a statement that is not (the runnable subset of) IoT SQL, a get_secret with
// the wrong number of arguments, a role that does not exist — and accept the
// rule iotctl writes.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {CreateRoleCommand, IAMClient} from '@aws-sdk/client-iam'
import {CreateTopicRuleCommand, GetTopicRuleCommand, IoTClient, ReplaceTopicRuleCommand, type TopicRulePayload} from '@aws-sdk/client-iot'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let iot: IoTClient
let roleArn: string

async function rejectsWith(promise: Promise<unknown>, name: string, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => assert.fail(`expected ${name}, got success`),
    (e: Error & {$metadata?: {httpStatusCode?: number}}) => e,
  )
  assert.equal(error.name, name, `${error.name}: ${error.message}`)
  assert.equal(error.$metadata?.httpStatusCode, 400)
  assert.match(error.message, message)
}

const republish = (role: string, topic = 'errors/rules') => ({republish: {roleArn: role, topic, qos: 0}})

before(async () => {
  aws = await startLocalAws()
  iot = new IoTClient(aws.clientConfig('iot'))
  const iam = new IAMClient(aws.clientConfig('iot'))
  const trust = JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole'}]})
  roleArn = (await iam.send(new CreateRoleCommand({RoleName: 'rules-role', AssumeRolePolicyDocument: trust}))).Role!.Arn!
  iam.destroy()
})
after(async () => {
  iot?.destroy()
  await aws?.stop()
})

describe('CreateTopicRule', () => {
  test('THIS IS NOT SQL is refused with SqlParseException', async () => {
    await rejectsWith(iot.send(new CreateTopicRuleCommand({ruleName: 'not_sql', topicRulePayload: {sql: 'THIS IS NOT SQL', actions: []}})), 'SqlParseException', /Expected SELECT but found 'THIS'/)
  })

  test('SQL outside the subset is refused, naming what is wrong', async () => {
    const cases: [string, RegExp][] = [
      ['SELECT * FROM device/+/data', /quoted topic filter/],
      ["SELECT nosuch(temperature) FROM 'device/+/data'", /Unknown function 'nosuch'/],
      ["SELECT * FROM 'device/+/data' WHERE", /Expected an expression/],
      ["SELECT * FROM 'a/#/b'", /'#' must be the last level/],
    ]
    for (const [sql, message] of cases) {
      await rejectsWith(iot.send(new CreateTopicRuleCommand({ruleName: 'bad_sql', topicRulePayload: {sql, actions: []}})), 'SqlParseException', message)
    }
  })

  test('a get_secret with two arguments is refused with InvalidRequestException', async () => {
    const payload: TopicRulePayload = {
      sql: "SELECT * FROM 'device/+/data'",
      actions: [republish(roleArn, "errors/${get_secret('AmazonMSK_x', 'SecretString')}")],
    }
    await rejectsWith(iot.send(new CreateTopicRuleCommand({ruleName: 'two_args', topicRulePayload: payload})), 'InvalidRequestException', /get_secret takes 3 to 4 argument\(s\), got 2/)
  })

  test('a role that does not exist, in an action or in get_secret, is refused', async () => {
    const missing = `arn:aws:iam::${aws.accounts.iot}:role/no-such-role`
    await rejectsWith(
      iot.send(new CreateTopicRuleCommand({ruleName: 'no_role', topicRulePayload: {sql: "SELECT * FROM 'a/b'", actions: [republish(missing)], ruleDisabled: true}})),
      'InvalidRequestException',
      /unable to assume role \(sts:AssumeRole\) on resource: arn:aws:iam::222222222222:role\/no-such-role/,
    )
    const inSecret = republish(roleArn, `e/\${get_secret('AmazonMSK_x', 'SecretString', 'username', '${missing}')}`)
    await rejectsWith(iot.send(new CreateTopicRuleCommand({ruleName: 'no_role', topicRulePayload: {sql: "SELECT * FROM 'a/b'", actions: [inSecret]}})), 'InvalidRequestException', /no-such-role/)
    const otherAccount = `arn:aws:iam::${aws.accounts.msk}:role/rules-role`
    await rejectsWith(iot.send(new CreateTopicRuleCommand({ruleName: 'no_role', topicRulePayload: {sql: "SELECT * FROM 'a/b'", actions: [], errorAction: republish(otherAccount)}})), 'InvalidRequestException', /unable to assume role/)
  })

  test('a valid rule is accepted, and ReplaceTopicRule is checked the same way', async () => {
    const sql = "SELECT topic(2) AS device_id, temperature, clientid() AS client, timestamp() AS ts FROM 'device/+/data' WHERE temperature > 0 AND NOT muted"
    await iot.send(new CreateTopicRuleCommand({ruleName: 'good', topicRulePayload: {sql, actions: [republish(roleArn, 'out/${topic(2)}')], errorAction: republish(roleArn)}}))
    assert.equal((await iot.send(new GetTopicRuleCommand({ruleName: 'good'}))).rule?.sql, sql)
    await rejectsWith(iot.send(new ReplaceTopicRuleCommand({ruleName: 'good', topicRulePayload: {sql: 'SELECT', actions: []}})), 'SqlParseException', /Expected an expression/)
    assert.equal((await iot.send(new GetTopicRuleCommand({ruleName: 'good'}))).rule?.sql, sql)
  })
})
