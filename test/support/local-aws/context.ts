// What a stand-in handler gets for one request.
import type {Reply} from './aws-errors.ts'
import type {MotoAnswer, MotoClient} from './moto-client.ts'
import type {RequestFacts} from './request-info.ts'

export interface CallContext {
  facts: RequestFacts
  account: string
  region: string
  method: string
  url: URL
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** The request body as a JSON object ({} when empty). */
  input: Record<string, unknown>
  moto: MotoClient
  /** Sends the original request to moto (with another body, if given) and returns moto's whole answer. */
  forward(body?: Buffer): Promise<MotoAnswer>
  now(): number
}

export type Handler = (context: CallContext) => Promise<Reply>

/** A moto answer passed back as it is (status, content type, body). */
export function relay(answer: MotoAnswer, body: string | Buffer = answer.body): Reply {
  const headers: Record<string, string> = {}
  for (const name of ['content-type', 'x-amzn-requestid', 'x-amzn-errortype', 'x-amz-request-id']) {
    const value = answer.headers[name]
    if (typeof value === 'string') headers[name] = value
  }
  return {status: answer.status, headers, body: Buffer.isBuffer(body) ? body.toString('utf8') : body}
}

export const epochSeconds = (ms: number): number => ms / 1000
