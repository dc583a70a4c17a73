// The stand-in's own calls to moto, made as a given account (moto honours the
// x-moto-account-id header and does not check signatures, so a credential
// scope naming the service is all the "signature" it needs).
import {Agent, request, type OutgoingHttpHeaders} from 'node:http'

export interface MotoAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

export interface MotoCall {
  service: string
  method?: string
  path?: string
  account: string
  region: string
  headers?: Record<string, string>
  body?: string
  /** Leave the account to moto's own key lookup (sts:GetCallerIdentity for an unknown key). */
  accessKeyId?: string
}

export class MotoClient {
  readonly url: string
  readonly agent = new Agent({keepAlive: true, maxSockets: 16})

  constructor(url: string) {
    this.url = url
  }

  call(call: MotoCall): Promise<MotoAnswer> {
    const date = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')
    const key = call.accessKeyId ?? 'AKIASTANDININTERNAL0'
    const headers: Record<string, string> = {
      authorization: `AWS4-HMAC-SHA256 Credential=${key}/${date.slice(0, 8)}/${call.region}/${call.service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=0`,
      'x-amz-date': date,
      ...call.headers,
    }
    if (!call.accessKeyId) headers['x-moto-account-id'] = call.account
    const body = call.body ?? ''
    if (body) headers['content-length'] = String(Buffer.byteLength(body))
    return send(`${this.url}${call.path ?? '/'}`, call.method ?? 'POST', headers, body, this.agent)
  }

  /** A Query-protocol call (IAM, STS, EC2): form body, XML answer. */
  query(service: string, account: string, region: string, params: Record<string, string>, accessKeyId?: string): Promise<MotoAnswer> {
    return this.call({
      service,
      account,
      region,
      accessKeyId,
      path: '/',
      headers: {'content-type': 'application/x-www-form-urlencoded; charset=utf-8'},
      body: new URLSearchParams(params).toString(),
    })
  }

  /** An awsJson1.1 call (Secrets Manager, KMS): X-Amz-Target, JSON in and out. */
  async json(service: string, target: string, account: string, region: string, input: unknown): Promise<{status: number; value: Record<string, unknown>}> {
    const answer = await this.call({
      service,
      account,
      region,
      path: '/',
      headers: {'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target},
      body: JSON.stringify(input),
    })
    return {status: answer.status, value: parseJson(answer.body)}
  }

  /** A REST-JSON call (IoT, Kafka). */
  async rest(service: string, method: string, path: string, account: string, region: string, input?: unknown): Promise<{status: number; value: Record<string, unknown>}> {
    const answer = await this.call({
      service,
      method,
      path,
      account,
      region,
      headers: input === undefined ? {} : {'content-type': 'application/json'},
      body: input === undefined ? undefined : JSON.stringify(input),
    })
    return {status: answer.status, value: parseJson(answer.body)}
  }

  close(): void {
    this.agent.destroy()
  }
}

/** One HTTP exchange, the whole answer read into memory. */
export function send(url: string, method: string, headers: OutgoingHttpHeaders, body: string | Buffer, agent: Agent): Promise<MotoAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method, headers, agent}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks)}))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

export function parseJson(body: Buffer | string): Record<string, unknown> {
  try {
    const value = JSON.parse(body.toString())
    return value && typeof value === 'object' ? value : {}
  } catch {
    return {}
  }
}

/** The text of the first <Tag>…</Tag> in an XML answer (moto's XML is flat enough for this). */
export function xmlText(xml: string, tag: string): string | undefined {
  const match = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(xml)
  return match ? unescapeXml(match[1]) : undefined
}

export function xmlTexts(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'g'))].map((m) => unescapeXml(m[1]))
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|amp|apos|quot|#\d+);/g, (_, name: string) => {
    if (name.startsWith('#')) return String.fromCharCode(Number(name.slice(1)))
    return ({lt: '<', gt: '>', amp: '&', apos: "'", quot: '"'})[name as 'lt']
  })
}
