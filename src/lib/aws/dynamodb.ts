// The DynamoDB operations iotctl uses (the per-stack lease, src/lib/lease),
// each a typed function over the client that AwsAccount.dynamodb() hands out;
// `what` labels a failure (call.ts). The SDK module loads on first use, so
// importing this file loads none of it.
import type {
  AttributeValue,
  CreateTableCommandInput,
  DeleteItemCommandInput,
  DeleteTableCommandInput,
  DynamoDBClient,
  PutItemCommandInput,
  UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb'
import type {HttpHandlerOptions} from '@smithy/types'
import {send} from './call.ts'

const sdk = () => import('@aws-sdk/client-dynamodb')

export const createTable = (dynamodb: DynamoDBClient, input: CreateTableCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => dynamodb.send(new (await sdk()).CreateTableCommand(input), options))

export const deleteItem = (dynamodb: DynamoDBClient, input: DeleteItemCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => dynamodb.send(new (await sdk()).DeleteItemCommand(input), options))

export const deleteTable = (dynamodb: DynamoDBClient, input: DeleteTableCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => dynamodb.send(new (await sdk()).DeleteTableCommand(input), options))

export const putItem = (dynamodb: DynamoDBClient, input: PutItemCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => dynamodb.send(new (await sdk()).PutItemCommand(input), options))

export const updateItem = (dynamodb: DynamoDBClient, input: UpdateItemCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => dynamodb.send(new (await sdk()).UpdateItemCommand(input), options))

/**
 * The SDK's waiter for a table that is ACTIVE (DescribeTable until
 * `TableStatus` is ACTIVE; ResourceNotFoundException means not yet).
 */
export async function waitForTableActive(dynamodb: DynamoDBClient, tableName: string, maxWaitSeconds: number, what?: string, abortSignal?: AbortSignal): Promise<void> {
  await send(what, async () => {
    const {waitUntilTableExists} = await sdk()
    await waitUntilTableExists({client: dynamodb, maxWaitTime: maxWaitSeconds, minDelay: 1, maxDelay: 5, ...(abortSignal ? {abortSignal} : {})}, {TableName: tableName})
  })
}

/**
 * When `error` is a conditional write's ConditionalCheckFailedException: the
 * item the write found, which DynamoDB returns when the request asked for it
 * (`ReturnValuesOnConditionCheckFailure: ALL_OLD`). Undefined for any other error.
 */
export async function conditionFailure(error: unknown): Promise<{item?: Record<string, AttributeValue>} | undefined> {
  const {ConditionalCheckFailedException} = await sdk()
  if (!(error instanceof ConditionalCheckFailedException)) return undefined
  return {...(error.Item ? {item: error.Item} : {})}
}
