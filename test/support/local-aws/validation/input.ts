// The input structure of one request, read back from the wire the way the
// service reads it, per protocol (Smithy protocol specs): awsJson1.x (body),
// restJson1 (body + URI labels + query string + headers), awsQuery and ec2Query
// (flattened form parameters → structure, with the model's serialization names
// and list/map conventions). Values keep wire types where they cannot be
// converted, so the checker can report the type error.
import type {MemberRef, ServiceModel, Shape} from './model.ts'

export type Wire = 'json' | 'rest-json' | 'query' | 'ec2'

export interface WireRequest {
  wire: Wire
  url: URL
  headers: Record<string, string | string[] | undefined>
  body: Buffer
  /** REST URI labels by their template names. */
  uriParams: Record<string, string>
}

/** The wire name of a member in the Query protocols (awsQuery: locationName; ec2Query: queryName, else capitalized locationName, else the name). */
export function queryName(wire: Wire, name: string, ref: MemberRef): string {
  if (wire === 'ec2') {
    if (ref.queryName) return ref.queryName
    const base = ref.locationName ?? name
    return base.charAt(0).toUpperCase() + base.slice(1)
  }
  return ref.locationName ?? name
}

function scalar(shape: Shape, text: string): unknown {
  switch (shape.type) {
    case 'integer':
    case 'long':
    case 'short':
    case 'byte':
      return /^-?\d+$/.test(text.trim()) ? Number(text) : text
    case 'float':
    case 'double':
      return text.trim() !== '' && Number.isFinite(Number(text)) ? Number(text) : text
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : text
    default:
      return text
  }
}

class QueryReader {
  readonly #params: Map<string, string>
  readonly #keys: string[]
  readonly #model: ServiceModel
  readonly #wire: Wire

  constructor(model: ServiceModel, wire: Wire, params: URLSearchParams) {
    this.#model = model
    this.#wire = wire
    this.#params = new Map()
    for (const [key, value] of params) if (key !== 'Action' && key !== 'Version') this.#params.set(key, value)
    this.#keys = [...this.#params.keys()]
  }

  #has(prefix: string): boolean {
    return this.#params.has(prefix) || this.#keys.some((key) => key.startsWith(`${prefix}.`))
  }

  read(shapeName: string, prefix: string): unknown {
    const shape = this.#model.shapes[shapeName]
    if (!shape) return undefined
    if (prefix !== '' && !this.#has(prefix)) return undefined
    switch (shape.type) {
      case 'structure': {
        const out: Record<string, unknown> = {}
        for (const [name, ref] of Object.entries(shape.members ?? {})) {
          const key = queryName(this.#wire, name, ref)
          const value = this.read(ref.shape, prefix ? `${prefix}.${key}` : key)
          if (value !== undefined) out[name] = value
        }
        return out
      }
      case 'list': {
        const flattened = this.#wire === 'ec2' || shape.flattened
        // awsQuery sends an empty list as `Name=`.
        if (!flattened && this.#params.get(prefix) === '' && !this.#keys.some((key) => key.startsWith(`${prefix}.`))) return []
        const base = flattened ? prefix : `${prefix}.${shape.member?.locationName ?? 'member'}`
        const items: unknown[] = []
        for (let i = 1; ; i++) {
          const item = this.read(shape.member!.shape, `${base}.${i}`)
          if (item === undefined) break
          items.push(item)
        }
        return items
      }
      case 'map': {
        const base = shape.flattened ? prefix : `${prefix}.entry`
        const out: Record<string, unknown> = {}
        for (let i = 1; ; i++) {
          const key = this.#params.get(`${base}.${i}.${shape.key?.locationName ?? 'key'}`)
          if (key === undefined) break
          out[key] = this.read(shape.value!.shape, `${base}.${i}.${shape.value?.locationName ?? 'value'}`)
        }
        return out
      }
      default: {
        const text = this.#params.get(prefix)
        return text === undefined ? undefined : scalar(shape, text)
      }
    }
  }
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value
}

/** The operation's input as the service sees it; undefined when the body cannot be read (left to the service). */
export function readInput(model: ServiceModel, inputShape: string, request: WireRequest): Record<string, unknown> | undefined {
  const shape = model.shapes[inputShape]
  if (!shape) return undefined
  const text = request.body.toString('utf8')
  if (request.wire === 'query' || request.wire === 'ec2') {
    const params = new URLSearchParams(request.url.search)
    for (const [key, value] of new URLSearchParams(text)) params.append(key, value)
    return new QueryReader(model, request.wire, params).read(inputShape, '') as Record<string, unknown>
  }
  let body: unknown = {}
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text)
    } catch {
      return undefined
    }
  }
  if (request.wire === 'json') return body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined

  // restJson1: the payload member takes the whole body; the other unbound members are body fields.
  const input: Record<string, unknown> = {}
  const payload = shape.payload
  const bodyObject = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : {}
  const bound = new Set<string>()
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    const member = model.shapes[ref.shape]
    if (!member) continue
    const wireName = ref.locationName ?? name
    switch (ref.location) {
      case 'uri':
        if (wireName in request.uriParams) input[name] = scalar(member, request.uriParams[wireName])
        break
      case 'querystring': {
        bound.add(wireName)
        if (member.type === 'map') break
        const values = request.url.searchParams.getAll(wireName)
        if (values.length === 0) break
        if (member.type === 'list') input[name] = values.map((v) => scalar(model.shapes[member.member!.shape] ?? {type: 'string'}, v))
        else input[name] = scalar(member, values[0])
        break
      }
      case 'header': {
        const value = firstHeader(request.headers[wireName.toLowerCase()])
        if (value === undefined) break
        if (ref.jsonvalue) break
        if (member.type === 'list') input[name] = value.split(',').map((v) => v.trim())
        else input[name] = scalar(member, value)
        break
      }
      case 'headers':
      case 'statusCode':
        break
      default:
        if (name === payload) {
          if (member.type === 'structure' || member.type === 'union') {
            if (text.trim() !== '') input[name] = body
          } else if (request.body.length > 0) {
            input[name] = member.type === 'blob' ? request.body.toString('base64') : text
          }
        } else if (payload === undefined && wireName in bodyObject) {
          input[name] = bodyObject[wireName]
        }
    }
  }
  // A query-string map takes whatever the other members did not.
  for (const [name, ref] of Object.entries(shape.members ?? {})) {
    if (ref.location !== 'querystring' || model.shapes[ref.shape]?.type !== 'map') continue
    const map: Record<string, string> = {}
    for (const [key, value] of request.url.searchParams) if (!bound.has(key)) map[key] = value
    if (Object.keys(map).length > 0) input[name] = map
  }
  return input
}
