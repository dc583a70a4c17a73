// The one place where the narrow service clients (src/lib/aws/<service>.ts)
// send requests and label their failures. A label (`what`, "listing route
// tables of vpc-1") becomes the step of the AwsError a failed request throws
// (exit 1, "<what>: <AWS code>: <message>"); without one the SDK's exception
// passes through unchanged, for callers that branch on its code (a NotFound that
// means bad input, a retry while IAM propagates) and label it themselves.
import {aws} from '../errors.ts'

/** Runs one request, labelling its failure with `what` when given. */
export function send<T>(what: string | undefined, request: () => Promise<T>): Promise<T> {
  return what === undefined ? request() : aws(what, request)
}

/**
 * Every item of every page an SDK paginator (`paginateX` of the client
 * packages) yields, labelling a failure with `what` when given. The paginator
 * sends the same command as one page at a time would, with the token of the
 * page before.
 */
export async function collect<P, T>(what: string | undefined, pages: () => Promise<AsyncIterable<P>>, items: (page: P) => T[] | undefined): Promise<T[]> {
  return send(what, async () => {
    const all: T[] = []
    for await (const page of await pages()) all.push(...(items(page) ?? []))
    return all
  })
}

/**
 * The client a paginator sends through: the same client, except that each
 * page's command keeps its own copy of the input. The SDK's paginators set the
 * token on one input object they reuse for every page, so anything that keeps
 * the commands it saw (a logging middleware, aws-sdk-client-mock's recorded
 * calls) would otherwise show every page with the last page's token.
 */
export function inputPerPage<C extends {send(...args: never[]): unknown}>(client: C): C {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver)
      return (command: {input: object}, ...rest: unknown[]): unknown => {
        Object.defineProperty(command, 'input', {value: {...command.input}})
        // eslint-disable-next-line @typescript-eslint/unbound-method -- Reflect.apply calls it on target
        return Reflect.apply(target.send, target, [command, ...rest])
      }
    },
  })
}
