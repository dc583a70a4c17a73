// The stack's lease (src/lib/lease) against DynamoDB as the local AWS serves
// it (moto behind the stand-in): conditional writes decide who holds it, an
// expired lease is taken, its old holder finds out at its next renewal and its
// release leaves the new holder's lease alone, and the table is the stack's.
// The local AWS keeps a new table CREATING for a while, as AWS does.
import assert from 'node:assert/strict'
import {after, before, test} from 'node:test'
import {CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, ListTagsOfResourceCommand, PutItemCommand} from '@aws-sdk/client-dynamodb'
import {CheckFailed} from '../../src/lib/errors.ts'
import {StackLease} from '../../src/lib/lease/index.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let dynamodb: DynamoDBClient

before(async () => {
  aws = await startLocalAws()
  dynamodb = new DynamoDBClient(aws.clientConfig('iot'))
})

after(() => aws?.stop())

const lease = (command: string, options: Partial<ConstructorParameters<typeof StackLease>[1]> = {}) =>
  new StackLease(dynamodb, {stack: 'line-3', command, ttlSeconds: 60, waitSeconds: 0, ...options})

async function holderItem(): Promise<Record<string, string> | undefined> {
  const item = (await dynamodb.send(new GetItemCommand({TableName: 'iotctl-line-3-lease', Key: {lease: {S: 'stack'}}, ConsistentRead: true}))).Item
  return item ? Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.S ?? v.N ?? ''])) : undefined
}

test('the first run makes the table (tagged with the stack) and holds the lease; a second is refused naming it; release frees it', async () => {
  const first = lease('up')
  assert.equal(await first.hold(), true)
  const table = (await dynamodb.send(new DescribeTableCommand({TableName: 'iotctl-line-3-lease'}))).Table
  assert.equal(table?.TableStatus, 'ACTIVE')
  assert.equal(table?.BillingModeSummary?.BillingMode, 'PAY_PER_REQUEST')
  const tags = (await dynamodb.send(new ListTagsOfResourceCommand({ResourceArn: table?.TableArn}))).Tags
  assert.deepEqual(tags, [{Key: 'iotctl:stack', Value: 'line-3'}, {Key: 'iotctl:managed', Value: 'true'}])
  assert.equal((await holderItem())?.command, 'up')

  await assert.rejects(lease('cleanup').hold(), (error: unknown) => error instanceof CheckFailed && /being changed by iotctl up on .* \(pid \d+\) since /.test(error.message))
  await first.release()
  assert.equal(await holderItem(), undefined)
  const second = lease('cleanup')
  assert.equal(await second.hold(), true)
  await second.release()
})

test('an expired lease is taken; its old holder loses it at its next renewal, and its release leaves the new holder alone', async () => {
  // A holder whose clock says its lease ran out a minute ago: it stopped renewing long since.
  const stale = lease('up', {ttlSeconds: 1, now: () => Date.now() - 120_000})
  assert.equal(await stale.hold(), true)
  const fresh = lease('cleanup')
  assert.equal(await fresh.hold(), true, 'taken: the old lease expired')
  assert.equal((await holderItem())?.command, 'cleanup')
  const deadline = Date.now() + 5000
  while (!stale.lost && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  assert.match(stale.lost?.message ?? '', /^lost the lease of stack 'line-3' to iotctl cleanup on /)
  await stale.release()
  assert.equal((await holderItem())?.command, 'cleanup', 'the new holder keeps it')
  await fresh.retire()
  await assert.rejects(holderItem(), (error: unknown) => (error as Error).name === 'ResourceNotFoundException')
})

test('local AWS: a new table is CREATING for tableActivationDelayMs (items refused as on AWS); the lease waits for ACTIVE', async () => {
  aws.settings.tableActivationDelayMs = 1500
  try {
    const key = [{AttributeName: 'lease', KeyType: 'HASH' as const}]
    const created = await dynamodb.send(new CreateTableCommand({TableName: 'probe', AttributeDefinitions: [{AttributeName: 'lease', AttributeType: 'S'}], KeySchema: key, BillingMode: 'PAY_PER_REQUEST'}))
    assert.equal(created.TableDescription?.TableStatus, 'CREATING')
    assert.equal((await dynamodb.send(new DescribeTableCommand({TableName: 'probe'}))).Table?.TableStatus, 'CREATING')
    await assert.rejects(dynamodb.send(new PutItemCommand({TableName: 'probe', Item: {lease: {S: 'x'}}})), {name: 'ResourceNotFoundException'})
    await assert.rejects(dynamodb.send(new CreateTableCommand({TableName: 'probe', AttributeDefinitions: [{AttributeName: 'lease', AttributeType: 'S'}], KeySchema: key, BillingMode: 'PAY_PER_REQUEST'})), {name: 'ResourceInUseException'})

    aws.resetLog()
    const held = new StackLease(dynamodb, {stack: 'line-4', command: 'up', ttlSeconds: 60, waitSeconds: 0})
    assert.equal(await held.hold(), true)
    const calls = aws.log().filter((r) => r.service === 'dynamodb').map((r) => `${r.operation} ${r.status}`)
    assert.deepEqual(calls.slice(0, 2), ['PutItem 400', 'CreateTable 200'])
    assert.ok(calls.includes('DescribeTable 200'), calls.join(', '))
    assert.equal(calls.at(-1), 'PutItem 200')
    await held.release()
    // Conditional writes refused as on AWS, with the item that made them fail.
    await dynamodb.send(new PutItemCommand({TableName: 'probe', Item: {lease: {S: 'x'}, holder: {S: 'a'}}}))
    await assert.rejects(dynamodb.send(new PutItemCommand({TableName: 'probe', Item: {lease: {S: 'x'}, holder: {S: 'b'}}, ConditionExpression: 'attribute_not_exists(lease)', ReturnValuesOnConditionCheckFailure: 'ALL_OLD'})),
      (error: unknown) => (error as Error).name === 'ConditionalCheckFailedException' && (error as {Item?: {holder?: {S?: string}}}).Item?.holder?.S === 'a')
  } finally {
    aws.settings.tableActivationDelayMs = 0
  }
})
