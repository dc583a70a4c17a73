// Works out, from a raw HTTP request, what an AWS service would see: which
// service (the SigV4 credential scope), which operation (X-Amz-Target, the
// Query protocol's Action, or the REST route of the service's API model),
// which region and which access key. Pure functions, no I/O.
import type {RestRouter} from './rest-routes.ts'

export interface SigV4Scope {
  accessKeyId: string
  date: string
  region: string
  service: string
}

/** `Credential=AKID/20240101/us-east-1/iot/aws4_request` from the header, or X-Amz-Credential from a presigned URL. */
export function parseSigV4Scope(authorization: string | undefined, query: URLSearchParams): SigV4Scope | undefined {
  let credential: string | undefined
  const match = /Credential=([^,\s]+)/.exec(authorization ?? '')
  if (match) credential = match[1]
  else credential = query.get('X-Amz-Credential') ?? undefined
  if (!credential) return undefined
  const [accessKeyId, date, region, service] = credential.split('/')
  if (!accessKeyId || !date || !region || !service) return undefined
  return {accessKeyId, date, region, service}
}

/** The wire protocol a request speaks, which decides how errors must be shaped. */
export type Protocol = 'json' | 'rest-json' | 'query' | 'ec2'

export function detectProtocol(service: string, headers: Record<string, string | string[] | undefined>, query: URLSearchParams): Protocol {
  if (headers['x-amz-target']) return 'json'
  if (service === 'ec2') return 'ec2'
  const type = String(headers['content-type'] ?? '')
  if (type.startsWith('application/x-www-form-urlencoded') || query.has('Action')) return 'query'
  return 'rest-json'
}

export interface RequestFacts {
  service: string
  /** The SigV4 signing name when it is not the service's own (execute-api for IoT, see signingAliases). */
  signedAs?: string
  region: string
  accessKeyId: string | undefined
  operation: string
  protocol: Protocol
  /** Members of the REST route's URI template ({clusterArn}, {arn+}, …), decoded. */
  uriParams: Record<string, string>
}

/**
 * Signing names that stand for another service. AWS IoT's control plane was
 * signed as execute-api by botocore's model until late 2022 — Debian's AWS CLI
 * 2.9 still does — and AWS IoT accepts it.
 */
export const signingAliases: Record<string, string> = {'execute-api': 'iot'}

export function describeRequest(
  method: string,
  rawUrl: string,
  headers: Record<string, string | string[] | undefined>,
  body: Buffer,
  routerFor: (service: string) => RestRouter | undefined = () => undefined,
): RequestFacts {
  const url = new URL(rawUrl, 'http://local')
  const scope = parseSigV4Scope(String(headers.authorization ?? ''), url.searchParams)
  const target = headers['x-amz-target'] ? String(headers['x-amz-target']) : undefined
  const signedAs = scope?.service
  const service = (signedAs && signingAliases[signedAs]) ?? signedAs ?? (target ? target.split('.')[0] : 'unknown')
  const protocol = detectProtocol(service, headers, url.searchParams)
  let operation: string | undefined
  let uriParams: Record<string, string> = {}
  if (target) {
    operation = target.slice(target.lastIndexOf('.') + 1)
  } else if (protocol === 'query' || protocol === 'ec2') {
    operation = url.searchParams.get('Action') ?? new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined
  } else {
    const match = routerFor(service)?.match(method, url)
    if (match) {
      operation = match.operation
      uriParams = match.params
    }
  }
  return {
    service,
    region: scope?.region ?? 'us-east-1',
    accessKeyId: scope?.accessKeyId,
    operation: operation ?? `${method} ${url.pathname}`,
    protocol,
    uriParams,
    ...(signedAs && signedAs !== service ? {signedAs} : {}),
  }
}

// Read-only by name. Anything else, including unknown `METHOD /path`
// operations sent with a method other than GET/HEAD, counts as mutating.
const readOnlyPrefixes = ['Describe', 'Get', 'List', 'Search', 'Head', 'Lookup', 'BatchGet', 'Validate', 'Simulate', 'Test']
const readOnlyOperations = new Set([
  'AssumeRole',
  'AssumeRoleWithSAML',
  'AssumeRoleWithWebIdentity',
  'DecodeAuthorizationMessage',
  // KMS cryptographic operations change no resource.
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'GenerateRandom',
  'Sign',
  'Verify',
  // DynamoDB item operations read or write items of a table, and change no
  // resource (CreateTable, UpdateTable, DeleteTable, TagResource do).
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchWriteItem',
  'TransactWriteItems',
  'TransactGetItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
])

export function isMutating(operation: string): boolean {
  const fallback = /^([A-Z]+) \//.exec(operation)
  if (fallback) return !['GET', 'HEAD', 'OPTIONS'].includes(fallback[1])
  if (readOnlyOperations.has(operation)) return false
  return !readOnlyPrefixes.some((prefix) => operation.startsWith(prefix) && /^[A-Z]?$/.test(operation.charAt(prefix.length) || ''))
}
