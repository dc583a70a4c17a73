// SigV4-presigned WebSocket URLs for MQTT (service "iotdevicegateway"), checked
// as AWS IoT Core checks them ("MQTT over the WebSocket protocol" in the AWS IoT
// Developer Guide): algorithm, credential scope, date and expiry, then the
// signature recomputed with the secret key. X-Amz-Security-Token is appended
// after signing (the guide says so), so it is left out of the canonical query;
// a URL whose signer included it is accepted too.
// The secret keys come from what the stand-in sees: the static keys of the base
// profile and the STS answers (AssumeRole & co) that pass through it.
import {createHash, createHmac, timingSafeEqual} from 'node:crypto'
import {xmlText} from '../moto-client.ts'
import {BASE_KEYS, ACCOUNTS} from '../profiles.ts'

export const IOT_SIGNING_SERVICE = 'iotdevicegateway'
const EMPTY_SHA256 = createHash('sha256').update('').digest('hex')

export interface KnownCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  /** The caller: arn:aws:sts::<account>:assumed-role/<role>/<session>, or an IAM user/root ARN. */
  principalArn: string
  account: string
  /** Epoch ms; undefined: long-term keys. */
  expiresAt?: number
}

/** Secret keys the stand-in has seen, by access key id. */
export class CredentialBook {
  readonly #keys = new Map<string, KnownCredentials>()

  constructor() {
    this.reset()
  }

  /** Reads an STS answer (AssumeRole, AssumeRoleWithWebIdentity, GetSessionToken, GetFederationToken). */
  learnFromStsAnswer(xml: string, callerAccount: string): void {
    const accessKeyId = xmlText(xml, 'AccessKeyId')
    const secretAccessKey = xmlText(xml, 'SecretAccessKey')
    if (!accessKeyId || !secretAccessKey) return
    const arn = xmlText(xml, 'Arn') ?? `arn:aws:iam::${callerAccount}:root`
    const account = /^arn:aws[\w-]*:(?:sts|iam)::(\d{12}):/.exec(arn)?.[1] ?? callerAccount
    const expiration = Date.parse(xmlText(xml, 'Expiration') ?? '')
    this.#keys.set(accessKeyId, {
      accessKeyId,
      secretAccessKey,
      sessionToken: xmlText(xml, 'SessionToken'),
      principalArn: arn,
      account,
      expiresAt: Number.isFinite(expiration) ? expiration : undefined,
    })
  }

  get(accessKeyId: string): KnownCredentials | undefined {
    return this.#keys.get(accessKeyId)
  }

  reset(): void {
    this.#keys.clear()
    // The base profile's static keys: moto maps keys it does not know to its default account.
    this.#keys.set(BASE_KEYS.accessKeyId, {...BASE_KEYS, principalArn: `arn:aws:iam::${ACCOUNTS.base}:root`, account: ACCOUNTS.base})
  }
}

export interface PresignedRequest {
  method: string
  /** Path without the query. */
  path: string
  query: URLSearchParams
  /** The Host header as received. */
  host: string
}

export type SignatureCheck =
  | {ok: true; accessKeyId: string; region: string; credentials?: KnownCredentials; verified: boolean}
  | {ok: false; status: number; message: string}

/**
 * Checks a presigned request. `credentials` looks a key up; for a key the
 * stand-in never saw a secret for, everything but the signature is checked
 * (`verified: false`).
 */
export function checkPresigned(request: PresignedRequest, lookup: (accessKeyId: string) => KnownCredentials | undefined, now = Date.now()): SignatureCheck {
  const q = request.query
  const refuse = (message: string, status = 403): SignatureCheck => ({ok: false, status, message})
  if (q.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return refuse('X-Amz-Algorithm must be AWS4-HMAC-SHA256')
  const credential = q.get('X-Amz-Credential') ?? ''
  const [accessKeyId, day, region, service, terminator] = credential.split('/')
  if (!accessKeyId || !day || !region || !service || terminator !== 'aws4_request') return refuse('X-Amz-Credential is not <key>/<yyyymmdd>/<region>/<service>/aws4_request')
  if (service !== IOT_SIGNING_SERVICE) return refuse(`Credential should be scoped to correct service: '${IOT_SIGNING_SERVICE}'.`)
  const amzDate = q.get('X-Amz-Date') ?? ''
  const signedAt = parseAmzDate(amzDate)
  if (signedAt === undefined || amzDate.slice(0, 8) !== day) return refuse('X-Amz-Date is missing or does not match the credential scope date')
  const expires = Number(q.get('X-Amz-Expires') ?? '')
  if (!Number.isInteger(expires) || expires < 1 || expires > 604_800) return refuse('X-Amz-Expires must be a number of seconds between 1 and 604800')
  if (signedAt > now + 15 * 60_000) return refuse('Signature not yet current')
  if (now > signedAt + expires * 1000) return refuse('Signature expired')
  const signedHeaders = (q.get('X-Amz-SignedHeaders') ?? '').split(';')
  if (!signedHeaders.includes('host')) return refuse('X-Amz-SignedHeaders must include host')
  const signature = q.get('X-Amz-Signature') ?? ''
  if (!/^[0-9a-f]{64}$/.test(signature)) return refuse('X-Amz-Signature is missing or malformed')

  const known = lookup(accessKeyId)
  if (!known) return {ok: true, accessKeyId, region, verified: false}
  if (known.expiresAt !== undefined && now > known.expiresAt) return refuse('The security token included in the request is expired')
  const token = q.get('X-Amz-Security-Token') ?? undefined
  if (known.sessionToken !== undefined && token !== known.sessionToken) return refuse('The security token included in the request is invalid')

  const key = signingKey(known.secretAccessKey, day, region, service)
  const scope = `${day}/${region}/${service}/aws4_request`
  const headers = signedHeaders.map((name) => `${name}:${name === 'host' ? request.host.trim() : ''}\n`).join('')
  const attempts = [false, true].filter((withToken) => !withToken || token !== undefined)
  for (const withToken of attempts) {
    for (const payloadHash of [EMPTY_SHA256, 'UNSIGNED-PAYLOAD']) {
      const canonical = [request.method, request.path, canonicalQuery(q, withToken), headers, signedHeaders.join(';'), payloadHash].join('\n')
      const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n')
      const expected = createHmac('sha256', key).update(toSign).digest()
      if (timingSafeEqual(expected, Buffer.from(signature, 'hex'))) return {ok: true, accessKeyId, region, credentials: known, verified: true}
    }
  }
  return refuse('The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.')
}

function canonicalQuery(query: URLSearchParams, withToken: boolean): string {
  return [...query]
    .filter(([name]) => name !== 'X-Amz-Signature' && (withToken || name !== 'X-Amz-Security-Token'))
    .map(([name, value]) => [rfc3986(name), rfc3986(value)])
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : 1))
    .map(([name, value]) => `${name}=${value}`)
    .join('&')
}

const rfc3986 = (text: string): string => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest()
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request')
}

function parseAmzDate(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value)
  if (!m) return undefined
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
}
