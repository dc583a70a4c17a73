// The delete loop every step shares: one call per record, "not found" (or
// what the service says instead) counts as done, the ledger forgets each
// record at once, and Ctrl-C stops between two deletions.
import {isNotFound, toAwsError} from '../errors.ts'
import type {ResourceRecord, StepContext} from './types.ts'

export interface DeleteEachOptions {
  /** For the error message: "deleting route 10.10.0.0/16 from rtb-…". */
  what: (record: ResourceRecord) => string
  /** Errors besides NotFound that mean the resource is already gone. */
  gone?: (error: unknown) => boolean
}

export async function deleteEach(ctx: StepContext, resources: ResourceRecord[], options: DeleteEachOptions, call: (record: ResourceRecord) => Promise<unknown>): Promise<void> {
  for (const record of resources) {
    try {
      await call(record)
    } catch (error) {
      if (!isNotFound(error) && !options.gone?.(error)) throw toAwsError(options.what(record), error)
    }
    ctx.ledger.remove(record)
    ctx.checkpoint()
  }
}
