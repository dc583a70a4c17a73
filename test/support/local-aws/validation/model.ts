// The botocore service models (.venv's botocore/data/<service>/<version>/service-2.json.gz,
// the ones moto and rest-routes.ts use), loaded once per service, and the
// translation of their `pattern` traits — Java regular expressions, full-match
// semantics in AWS's request validation — into JavaScript RegExps.
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

export interface MemberRef {
  shape: string
  location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode'
  locationName?: string
  queryName?: string
  flattened?: boolean
  jsonvalue?: boolean
  idempotencyToken?: boolean
}

export interface Shape {
  type: string
  members?: Record<string, MemberRef>
  required?: string[]
  member?: MemberRef
  key?: MemberRef
  value?: MemberRef
  min?: number
  max?: number
  pattern?: string
  enum?: string[]
  flattened?: boolean
  payload?: string
  sensitive?: boolean
  document?: boolean
  union?: boolean
}

export interface ServiceModel {
  metadata: {protocol: string; signingName?: string; endpointPrefix?: string}
  operations: Record<string, {input?: {shape: string}; errors?: {shape: string}[]; http?: {method: string; requestUri: string}}>
  shapes: Record<string, Shape>
}

/** Signing names whose model folder is named otherwise. */
const modelFolders: Record<string, string> = {IoTSecuredTunneling: 'iotsecuretunneling'}

export function modelLoader(dataDir: string | undefined): (service: string) => ServiceModel | undefined {
  const cache = new Map<string, ServiceModel | undefined>()
  return (service) => {
    if (!dataDir) return undefined
    if (cache.has(service)) return cache.get(service)
    let model: ServiceModel | undefined
    try {
      const folder = join(dataDir, modelFolders[service] ?? service)
      const versions = readdirSync(folder).sort()
      model = JSON.parse(gunzipSync(readFileSync(join(folder, versions.at(-1)!, 'service-2.json.gz'))).toString('utf8')) as ServiceModel
    } catch {
      model = undefined
    }
    cache.set(service, model)
    return model
  }
}

// Java's POSIX classes (ASCII unless UNICODE_CHARACTER_CLASS, which AWS does not set).
const posixClasses: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
}
// Characters a JavaScript `u` regex lets you escape; Java lets you escape any non-letter.
const jsEscapable = new Set('^$\\.*+?()[]{}|/-'.split(''))

/**
 * Java regex → JavaScript (`u` flag), anchored as Java's Matcher.matches() is.
 * Rewritten: POSIX classes (\p{Alnum}…), \A \z \Z, escapes of punctuation JS
 * refuses under `u`. Anything JS still cannot compile (possessive quantifiers,
 * class intersections, …) is skipped: undefined.
 */
export function javaPattern(pattern: string): RegExp | undefined {
  let out = ''
  let inClass = false
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === '\\') {
      const next = pattern[i + 1]
      if (next === undefined) return undefined
      const posix = /^p\{(\w+)\}/.exec(pattern.slice(i + 1))
      if (posix && posixClasses[posix[1]]) {
        const range = posixClasses[posix[1]]
        out += inClass ? range : `[${range}]`
        i += posix[0].length
        continue
      }
      if (next === 'A') out += '^'
      else if (next === 'z' || next === 'Z') out += '$'
      else if (/[A-Za-z0-9]/.test(next) || jsEscapable.has(next)) out += c + next
      else out += next === ' ' ? ' ' : `\\u{${next.codePointAt(0)!.toString(16)}}`
      i += 1
      continue
    }
    if (c === '[' && !inClass) inClass = true
    else if (c === ']' && inClass) inClass = false
    out += c
  }
  try {
    return new RegExp(`^(?:${out})$`, 'u')
  } catch {
    return undefined
  }
}

/** The services the local AWS serves: their models are parsed ahead of the first request. */
export const servedServices = ['sts', 'iam', 'kms', 'secretsmanager', 'kafka', 'IoTSecuredTunneling', 'iot', 'ec2']

/**
 * Parses the served models in the background, one per macrotask (EC2's takes
 * ~0.2 s), so that the first request of a service does not stall the stand-in
 * in the middle of a test's timed steps.
 */
export async function preloadModels(modelFor: (service: string) => unknown): Promise<void> {
  for (const service of servedServices) {
    await new Promise((resolve) => setTimeout(resolve, 0))
    modelFor(service)
  }
}
