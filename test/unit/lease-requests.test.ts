// Request-level: what the stack's lease sends to DynamoDB — the conditional
// PutItem that takes it, the table made on demand (on demand billing, the
// stack's tags), the UpdateItem that renews it and the DeleteItem that lets it
// go, each guarded by the holder — and what it does with the answers: a
// holder named when the wait ends, a lost renewal, a release that finds
// another holder. The settings' checks, and when a dead holder may be taken
// over at once.
import assert from 'node:assert/strict'
import {hostname} from 'node:os'
import {test} from 'node:test'
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  ResourceNotFoundException,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import {mockClient} from 'aws-sdk-client-mock'
import {CheckFailed, InputError} from '../../src/lib/errors.ts'
import {fromItem, holderGone, thisProcess, toItem} from '../../src/lib/lease/holder.ts'
import {leaseSettings, leaseTableName, StackLease} from '../../src/lib/lease/index.ts'

const now = Date.UTC(2026, 11, 1, 15, 0, 0)
const client = () => new DynamoDBClient({region: 'us-east-1', credentials: {accessKeyId: 'a', secretAccessKey: 'b'}})
const lease = (options: Partial<ConstructorParameters<typeof StackLease>[1]> = {}) =>
  new StackLease(client(), {stack: 'plant-7', command: 'up', ttlSeconds: 60, waitSeconds: 0, now: () => now, ...options})

const otherHolder = {
  lease: {S: 'stack'}, holder: {S: 'h-2'}, host: {S: 'ci-runner-7'}, command: {S: 'cleanup'},
  pid: {N: '4242'}, since: {S: '2026-12-01T14:59:30.000Z'}, expiresAt: {N: String(now + 42_000)},
}
const conditionFailed = (item?: typeof otherHolder) => new ConditionalCheckFailedException({message: 'The conditional request failed', $metadata: {}, ...(item ? {Item: item} : {})})
const notFound = () => new ResourceNotFoundException({message: 'Requested resource not found', $metadata: {}})

test('the lease table is named after the stack', () => {
  assert.equal(leaseTableName('plant-7'), 'iotctl-plant-7-lease')
})

test('hold: one PutItem, taken when there is no lease item or it has expired, the holder returned on refusal', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).resolves({})
  const held = lease()
  assert.equal(await held.hold(), true)
  assert.equal(held.held, true)
  const [input] = dynamodb.commandCalls(PutItemCommand).map((call) => call.args[0].input)
  assert.equal(input.TableName, 'iotctl-plant-7-lease')
  assert.equal(input.ConditionExpression, 'attribute_not_exists(#key) OR expiresAt < :now')
  assert.deepEqual(input.ExpressionAttributeNames, {'#key': 'lease'})
  assert.deepEqual(input.ExpressionAttributeValues, {':now': {N: String(now)}})
  assert.equal(input.ReturnValuesOnConditionCheckFailure, 'ALL_OLD')
  const item = input.Item ?? {}
  assert.deepEqual(Object.keys(item).filter((k) => !['bootId', 'pidNamespace'].includes(k)).sort(), ['command', 'expiresAt', 'holder', 'host', 'lease', 'pid', 'since'])
  assert.deepEqual({lease: item.lease, command: item.command, host: item.host, pid: item.pid, since: item.since, expiresAt: item.expiresAt}, {
    lease: {S: 'stack'}, command: {S: 'up'}, host: {S: hostname()}, pid: {N: String(process.pid)},
    since: {S: '2026-12-01T15:00:00.000Z'}, expiresAt: {N: String(now + 60_000)},
  })
  assert.match(item.holder?.S ?? '', /^[0-9a-f-]{36}$/)
  // Held: a second hold sends nothing.
  assert.equal(await held.hold(), true)
  assert.equal(dynamodb.commandCalls(PutItemCommand).length, 1)
  dynamodb.on(DeleteItemCommand).resolves({})
  await held.release()
  dynamodb.restore()
})

test('no table: CreateTable (on demand, keyed on the lease, tagged with the stack), waited ACTIVE, then the lease', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).rejectsOnce(notFound()).resolves({})
  dynamodb.on(CreateTableCommand).resolves({TableDescription: {TableStatus: 'CREATING'}})
  dynamodb.on(DescribeTableCommand).resolves({Table: {TableStatus: 'ACTIVE'}})
  const held = lease()
  assert.equal(await held.hold(), true)
  assert.deepEqual(dynamodb.commandCalls(CreateTableCommand).map((call) => call.args[0].input), [{
    TableName: 'iotctl-plant-7-lease',
    AttributeDefinitions: [{AttributeName: 'lease', AttributeType: 'S'}],
    KeySchema: [{AttributeName: 'lease', KeyType: 'HASH'}],
    BillingMode: 'PAY_PER_REQUEST',
    Tags: [{Key: 'iotctl:stack', Value: 'plant-7'}, {Key: 'iotctl:managed', Value: 'true'}],
  }])
  assert.equal(dynamodb.commandCalls(PutItemCommand).length, 2)
  dynamodb.on(DeleteItemCommand).resolves({})
  await held.release()
  dynamodb.restore()
})

test('no table and create: false (cleanup before it knows there is work): nothing made, nothing held', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).rejects(notFound())
  const maybe = lease()
  assert.equal(await maybe.hold({create: false}), false)
  assert.equal(maybe.held, false)
  assert.equal(dynamodb.commandCalls(CreateTableCommand).length, 0)
  await maybe.release()
  assert.equal(dynamodb.commandCalls(DeleteItemCommand).length, 0)
  dynamodb.restore()
})

test('held by another run and --wait-lock 0: exit 1 naming the holder, host, command and since when', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).rejects(conditionFailed(otherHolder))
  const progress: string[] = []
  await assert.rejects(lease({progress: (m) => progress.push(m)}).hold(), (error: unknown) => {
    assert.ok(error instanceof CheckFailed)
    assert.equal(error.exitCode, 1)
    assert.equal(error.message, "stack 'plant-7' is being changed by iotctl cleanup on ci-runner-7 (pid 4242) since 2026-12-01T14:59:30.000Z; its lease expires in 42 s unless renewed; not waiting (--wait-lock 0)")
    return true
  })
  assert.deepEqual(progress, [])
  dynamodb.restore()
})

test('held by another run: waits with a line naming the holder, takes the lease once it is free', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).rejectsOnce(conditionFailed(otherHolder)).resolves({})
  const progress: string[] = []
  const held = lease({waitSeconds: 30, progress: (m) => progress.push(m)})
  assert.equal(await held.hold(), true)
  assert.deepEqual(progress, ["waiting for stack 'plant-7': iotctl cleanup on ci-runner-7 (pid 4242) since 2026-12-01T14:59:30.000Z holds its lease; its lease expires in 42 s unless renewed (0 s of --wait-lock 30)"])
  dynamodb.on(DeleteItemCommand).resolves({})
  await held.release()
  dynamodb.restore()
})

test('renewal every third of the TTL: UpdateItem of expiresAt if still the holder; refused, the lease is lost', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).resolves({})
  dynamodb.on(UpdateItemCommand).resolvesOnce({}).rejects(conditionFailed(otherHolder))
  let clock = now
  const held = lease({ttlSeconds: 1, now: () => clock})
  await held.hold()
  const holder = dynamodb.commandCalls(PutItemCommand)[0].args[0].input.Item?.holder?.S
  clock += 333
  const deadline = Date.now() + 5000
  while (!held.lost && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const [first] = dynamodb.commandCalls(UpdateItemCommand).map((call) => call.args[0].input)
  assert.deepEqual(first, {
    TableName: 'iotctl-plant-7-lease',
    Key: {lease: {S: 'stack'}},
    UpdateExpression: 'SET expiresAt = :expiresAt',
    ConditionExpression: 'holder = :holder',
    ExpressionAttributeValues: {':expiresAt': {N: String(now + 333 + 1000)}, ':holder': {S: holder}},
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  })
  assert.ok(held.lost instanceof CheckFailed)
  assert.match(held.lost.message, /^lost the lease of stack 'plant-7' to iotctl cleanup on ci-runner-7 \(pid 4242\) since .*: this run could not renew it in time; stopped before the next change$/)
  assert.equal(held.held, false)
  // Renewal stopped: no further UpdateItem.
  const renewals = dynamodb.commandCalls(UpdateItemCommand).length
  await new Promise((resolve) => setTimeout(resolve, 700))
  assert.equal(dynamodb.commandCalls(UpdateItemCommand).length, renewals)
  dynamodb.restore()
})

test('release: DeleteItem if still the holder; another holder\'s lease (or no table) is left alone without an error', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).resolves({})
  dynamodb.on(DeleteItemCommand).rejectsOnce(conditionFailed(otherHolder)).rejectsOnce(notFound())
  for (let i = 0; i < 2; i++) {
    const held = lease()
    await held.hold()
    const holder = dynamodb.commandCalls(PutItemCommand).at(-1)?.args[0].input.Item?.holder?.S
    await held.release()
    assert.deepEqual(dynamodb.commandCalls(DeleteItemCommand).at(-1)?.args[0].input, {
      TableName: 'iotctl-plant-7-lease', Key: {lease: {S: 'stack'}}, ConditionExpression: 'holder = :holder', ExpressionAttributeValues: {':holder': {S: holder}},
    })
    assert.equal(held.held, false)
  }
  dynamodb.restore()
})

test('retire (cleanup\'s last act): DeleteTable, only while held', async () => {
  const dynamodb = mockClient(DynamoDBClient)
  dynamodb.on(PutItemCommand).resolves({})
  dynamodb.on(DeleteTableCommand).resolves({})
  const idle = lease()
  await idle.retire()
  assert.equal(dynamodb.commandCalls(DeleteTableCommand).length, 0)
  const held = lease()
  await held.hold()
  await held.retire()
  assert.deepEqual(dynamodb.commandCalls(DeleteTableCommand).map((call) => call.args[0].input), [{TableName: 'iotctl-plant-7-lease'}])
  await held.release()
  assert.equal(dynamodb.commandCalls(DeleteItemCommand).length, 0, 'the table is gone with its item')
  dynamodb.restore()
})

test('settings: --wait-lock and IOTCTL_LEASE_TTL, checked before any request (exit 2 naming the one that is wrong)', () => {
  assert.deepEqual(leaseSettings(undefined, {}), {ttlSeconds: 60, waitSeconds: 300})
  assert.deepEqual(leaseSettings(0, {IOTCTL_LEASE_TTL: '3'}), {ttlSeconds: 3, waitSeconds: 0})
  for (const bad of [-1, 1.5, Number.NaN, 86_401]) {
    assert.throws(() => leaseSettings(bad, {}), (error: unknown) => error instanceof InputError && error.message.startsWith(`--wait-lock: expected whole seconds from 0 to 86400, got '${bad}'`))
  }
  for (const bad of ['0', '-5', 'x', '2.5', '3601']) {
    assert.throws(() => leaseSettings(5, {IOTCTL_LEASE_TTL: bad}), (error: unknown) => error instanceof InputError && error.message === `IOTCTL_LEASE_TTL: expected whole seconds from 1 to 3600, got '${bad}'`)
  }
})

test('a holder is taken over at once only when it ran here (host, boot, PID namespace) and its process is gone', () => {
  const self = thisProcess('up', now)
  if (!self.bootId || !self.pidNamespace) return // not Linux: never taken over, the lease expires instead
  const dead = {...self, holder: 'h-old', pid: 2 ** 22 + 17, expiresAt: now + 60_000}
  assert.equal(holderGone(dead, self), true)
  assert.equal(holderGone({...dead, pid: process.ppid}, self), false, 'a live process')
  assert.equal(holderGone({...dead, host: 'ci-runner-7'}, self), false, 'another machine')
  assert.equal(holderGone({...dead, bootId: 'another-boot'}, self), false, 'before a reboot: pids are reused')
  assert.equal(holderGone({...dead, pidNamespace: 'pid:[1]'}, self), false, 'another container')
  const {bootId: _bootId, ...withoutBoot} = dead
  assert.equal(holderGone(withoutBoot, self), false, 'a holder that did not say where it ran')
  // What goes into the item comes back out.
  assert.deepEqual(fromItem(toItem(dead)), dead)
  assert.equal(fromItem({lease: {S: 'stack'}}), undefined)
})
