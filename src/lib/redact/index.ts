// Secrets out of debug output. Under DEBUG, third-party `debug` namespaces
// print what they carry: mqtt.js and mqtt-packet every packet (a tunnel
// notification holds the destination access token), https-proxy-agent the
// proxy URL with its user:password, the Kafka client its requests. Every line
// they print passes `redactText` (./debug.ts installs it), and every object or
// buffer they format passes `sanitize` first.
//
// Two kinds of knowledge: secret values registered when iotctl gets them (a
// token read from a token file, a SCRAM password, a tunnel connection's token,
// the environment's credentials), and shapes that are secret whatever their
// value (URL user:password, Basic/Bearer credentials, PEM private keys,
// presigned-URL signatures, JSON fields named like tokens and passwords).
import {Buffer} from 'node:buffer'
import {inspect} from 'node:util'

export const REDACTED = '<redacted>'

/** Shorter values are not searched for: they would match ordinary text. */
const MIN_SECRET_LENGTH = 6

const secrets = new Set<string>()
/** The forms a secret takes in text, longest first (one containing another is replaced whole). */
let forms: string[] = []

/** Remembers a secret value so that no debug line shows it (as it is, JSON-escaped or URL-encoded). */
export function registerSecret(value: string | undefined): void {
  if (value === undefined || value.length < MIN_SECRET_LENGTH || secrets.has(value)) return
  secrets.add(value)
  const added = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value), Buffer.from(value).toString('base64')]
  forms = [...new Set([...forms, ...added])].filter((form) => form.length >= MIN_SECRET_LENGTH).sort((a, b) => b.length - a.length)
}

/** The environment variables that hold a secret as a whole. */
const secretVariables = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWSIOT_TUNNEL_ACCESS_TOKEN']
/** Proxy URLs, whose password (and its Basic form) is secret. */
const proxyVariables = ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'ALL_PROXY', 'all_proxy']

/** Registers the secrets the environment holds: credentials, the tunnel token, proxy passwords. */
export function registerEnvironmentSecrets(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of secretVariables) registerSecret(env[name])
  for (const name of proxyVariables) {
    const value = env[name]
    if (!value) continue
    try {
      const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`)
      if (!url.password) continue
      const user = decodeURIComponent(url.username)
      const password = decodeURIComponent(url.password)
      registerSecret(password)
      // What a proxy agent sends: Proxy-Authorization: Basic base64(user:password).
      registerSecret(Buffer.from(`${user}:${password}`).toString('base64'))
    } catch {
      // Not a URL: nothing the proxy code would use either.
    }
  }
}

/** Field names whose value is secret, in JSON text or in an object. */
const secretKey = /^(?:.*(?:password|passwd|secret|token|authorization|credential|signature|private.?key)|key|passphrase|pfx)$/i

const patterns: [RegExp, string][] = [
  // user:password@ in any URL (proxy URLs, broker URLs).
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s/:@'"]*):[^\s/@'"]*@/gi, `$1:${REDACTED}@`],
  // HTTP credentials in a header line.
  [/\b(Basic|Bearer|AWS4-HMAC-SHA256)\s+[A-Za-z0-9+/=._~,:-]{8,}/g, `$1 ${REDACTED}`],
  // A PEM private key, whole or cut off.
  [/-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g, `-----${REDACTED} PRIVATE KEY-----`],
  // Presigned URLs (SigV4 query parameters).
  [/\b(X-Amz-(?:Security-Token|Signature|Credential))=[^&\s'"]*/gi, `$1=${REDACTED}`],
  // "clientAccessToken": "…" and the like, in JSON text, and in JSON inside a JSON string.
  [/("[A-Za-z_-]*(?:[Pp]assword|[Ss]ecret|[Tt]oken|[Pp]rivateKey)"\s*:\s*")(?:[^"\\]|\\.)*(")/g, `$1${REDACTED}$2`],
  [/(\\"[A-Za-z_-]*(?:[Pp]assword|[Ss]ecret|[Tt]oken|[Pp]rivateKey)\\"\s*:\s*\\")(?:(?!\\")[^"])*(\\")/g, `$1${REDACTED}$2`],
]

/** The text with every registered secret and every secret-shaped part replaced. */
export function redactText(text: string): string {
  let result = text
  for (const form of forms) if (result.includes(form)) result = result.split(form).join(REDACTED)
  for (const [pattern, replacement] of patterns) result = result.replace(pattern, replacement)
  return result
}

/** Shown instead of a buffer's bytes. */
class Elided {
  readonly #text: string
  constructor(text: string) {
    this.#text = text
  }

  [inspect.custom](): string {
    return this.#text
  }

  toString(): string {
    return this.#text
  }
}

/** Deeper than this, an object is not shown (util.inspect's own default stops at 2). */
const MAX_DEPTH = 6

/**
 * A copy of `value` fit for a debug line: buffers and typed arrays as their
 * length (a packet's payload, a SASL message), values under secret-named keys
 * replaced, strings redacted. Functions, errors and unknown objects stay (their
 * text is redacted when the line is written).
 */
export function sanitize(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value)
  if (value === null || typeof value !== 'object') return value
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return new Elided(`<${value.byteLength} bytes>`)
  if (value instanceof Elided || value instanceof Error || value instanceof Date || value instanceof RegExp) return value
  // An object that renders itself (ScramCredentials) may rely on private fields a copy would not have.
  if (inspect.custom in value) return value
  if (seen.has(value)) return value
  if (depth >= MAX_DEPTH) return new Elided('[Object]')
  seen.add(value)
  if (Array.isArray(value)) return value.map((item) => sanitize(item, depth + 1, seen))
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, secretValue(k, v) ?? sanitize(v, depth + 1, seen)]))
  if (value instanceof Set) return new Set([...value].map((v) => sanitize(v, depth + 1, seen)))
  // Keeps the prototype, so that inspect names the class as before.
  const copy: Record<string, unknown> = Object.create(Object.getPrototypeOf(value) as object | null) as Record<string, unknown>
  for (const [key, item] of Object.entries(value)) copy[key] = secretValue(key, item) ?? sanitize(item, depth + 1, seen)
  return copy
}

function secretValue(key: unknown, value: unknown): Elided | undefined {
  if (typeof key !== 'string' || !secretKey.test(key)) return undefined
  if (value === undefined || value === null || value === '' || typeof value === 'boolean' || typeof value === 'number') return undefined
  return new Elided(REDACTED)
}
