// AWS error responses in the shape each protocol's SDK deserializer expects.
import {randomUUID} from 'node:crypto'
import type {Protocol} from './request-info.ts'

export interface Reply {
  status: number
  headers: Record<string, string>
  body: string
}

/** An error a stand-in handler throws; the server turns it into the protocol's error response. */
export class AwsServiceError extends Error {
  readonly code: string
  readonly status: number
  readonly extra: Record<string, unknown>

  constructor(code: string, status: number, message: string, extra: Record<string, unknown> = {}) {
    super(message)
    this.code = code
    this.status = status
    this.extra = extra
  }
}

const xmlEscape = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;'})[c]!)

const xmlNamespaces: Record<string, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
}

export function errorReply(protocol: Protocol, service: string, code: string, status: number, message: string, extra: Record<string, unknown> = {}): Reply {
  const requestId = randomUUID()
  switch (protocol) {
    case 'json':
      // awsJson1_0/1_1: the SDK reads the code from x-amzn-ErrorType or __type.
      return {
        status,
        headers: {'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code},
        body: JSON.stringify({__type: code, message, ...extra}),
      }
    case 'rest-json':
      return {
        status,
        headers: {'content-type': 'application/json', 'x-amzn-requestid': requestId, 'x-amzn-errortype': code},
        body: JSON.stringify({message, ...extra}),
      }
    case 'ec2':
      return {
        status,
        headers: {'content-type': 'text/xml;charset=UTF-8'},
        body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`,
      }
    case 'query': {
      const ns = xmlNamespaces[service] ? ` xmlns="${xmlNamespaces[service]}"` : ''
      const type = status >= 500 ? 'Receiver' : 'Sender'
      return {
        status,
        headers: {'content-type': 'text/xml', 'x-amzn-requestid': requestId},
        body: `<ErrorResponse${ns}><Error><Type>${type}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      }
    }
  }
}

export function jsonReply(protocol: Protocol, value: unknown, status = 200): Reply {
  return {
    status,
    headers: {
      'content-type': protocol === 'json' ? 'application/x-amz-json-1.1' : 'application/json',
      'x-amzn-requestid': randomUUID(),
    },
    body: JSON.stringify(value ?? {}),
  }
}
