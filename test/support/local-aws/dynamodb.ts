// DynamoDB: moto serves tables and items, conditional writes included
// (ConditionalCheckFailedException, with the item when the request asks
// `ReturnValuesOnConditionCheckFailure: ALL_OLD`). What it skips is the
// table's creation time: moto's CreateTable answers ACTIVE at once, where AWS
// answers CREATING and the table takes a few seconds to become ACTIVE. Here a
// new table is CREATING for `tableActivationDelayMs`: DescribeTable says so
// and item requests are refused with ResourceNotFoundException ("the resource
// might not be specified correctly, or its status might not be ACTIVE":
// DynamoDB API Reference, Common Errors / ResourceNotFoundException).
import {AwsServiceError} from './aws-errors.ts'
import {relay, type CallContext, type Handler} from './context.ts'

export interface DynamoDbSettings {
  /** A new table is CREATING for this long, then ACTIVE. Default 0 (moto: ACTIVE at once). */
  tableActivationDelayMs: number
}

const itemOperations = ['PutItem', 'GetItem', 'UpdateItem', 'DeleteItem', 'Query', 'Scan', 'BatchGetItem', 'BatchWriteItem']

export class DynamoDbStandIn {
  readonly #settings: DynamoDbSettings
  /** When each table was created, by account, region and name. */
  readonly #created = new Map<string, number>()

  constructor(settings: DynamoDbSettings) {
    this.#settings = settings
  }

  reset(): void {
    this.#created.clear()
  }

  #key(c: CallContext, table: unknown): string {
    return `${c.account}|${c.region}|${String(table)}`
  }

  #creating(c: CallContext, table: unknown): boolean {
    const created = this.#created.get(this.#key(c, table))
    return created !== undefined && c.now() - created < this.#settings.tableActivationDelayMs
  }

  handlers(): Record<string, Handler> {
    const createTable: Handler = async (c) => {
      const answer = await c.forward()
      if (answer.status !== 200) return relay(answer)
      this.#created.set(this.#key(c, c.input.TableName), c.now())
      if (!this.#creating(c, c.input.TableName)) return relay(answer)
      const body = JSON.parse(answer.body.toString('utf8')) as {TableDescription?: {TableStatus?: string}}
      if (body.TableDescription) body.TableDescription.TableStatus = 'CREATING'
      return relay(answer, JSON.stringify(body))
    }
    const describeTable: Handler = async (c) => {
      const answer = await c.forward()
      if (answer.status !== 200 || !this.#creating(c, c.input.TableName)) return relay(answer)
      const body = JSON.parse(answer.body.toString('utf8')) as {Table?: {TableStatus?: string}}
      if (body.Table) body.Table.TableStatus = 'CREATING'
      return relay(answer, JSON.stringify(body))
    }
    const deleteTable: Handler = async (c) => {
      if (this.#creating(c, c.input.TableName)) {
        throw new AwsServiceError('ResourceInUseException', 400, `Attempt to change a resource which is still in use: Table is being created: ${String(c.input.TableName)}`)
      }
      const answer = await c.forward()
      if (answer.status === 200) this.#created.delete(this.#key(c, c.input.TableName))
      return relay(answer)
    }
    const itemRequest: Handler = async (c) => {
      // One table (TableName), or a batch's (the keys of RequestItems).
      const batch = c.input.RequestItems
      const tables = typeof c.input.TableName === 'string' ? [c.input.TableName] : batch && typeof batch === 'object' ? Object.keys(batch) : []
      if (tables.some((table) => this.#creating(c, table))) {
        throw new AwsServiceError('ResourceNotFoundException', 400, 'Requested resource not found')
      }
      return relay(await c.forward())
    }
    return {
      CreateTable: createTable,
      DescribeTable: describeTable,
      DeleteTable: deleteTable,
      ...Object.fromEntries(itemOperations.map((operation) => [operation, itemRequest])),
    }
  }
}
