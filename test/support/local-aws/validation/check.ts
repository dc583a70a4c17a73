// Checks a request's input against the model's constraints — required,
// type, enum, length (min/max), pattern, range — and words each violation
// as AWS's request validation does ("Value 'x' at 'roleName' failed to satisfy
// constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+").
import {javaPattern, type ServiceModel, type Shape} from './model.ts'
import {queryName, type Wire} from './input.ts'

export interface Violation {
  /** Member path the way the service's message names it: `roleName`, `tags.1.member.key`; EC2: `Filter.1.Name`. */
  path: string
  /** The top-level member (for Kafka's invalidParameter). */
  member: string
  kind: 'required' | 'type' | 'enum' | 'length' | 'pattern' | 'range'
  value: unknown
  sensitive: boolean
  constraint: string
}

const patternCache = new Map<string, RegExp | undefined>()
/** Patterns JavaScript could not compile, hence not checked (documented in the README). */
export const skippedPatterns = new Set<string>()

function compiled(pattern: string): RegExp | undefined {
  if (!patternCache.has(pattern)) {
    const regex = javaPattern(pattern)
    if (!regex) skippedPatterns.add(pattern)
    patternCache.set(pattern, regex)
  }
  return patternCache.get(pattern)
}

const lowerFirst = (name: string): string => name.charAt(0).toLowerCase() + name.slice(1)

const numberTypes = new Set(['integer', 'long', 'short', 'byte', 'float', 'double'])
const integerTypes = new Set(['integer', 'long', 'short', 'byte'])

function typeName(shape: Shape): string {
  return {integer: 'an integer', long: 'an integer', short: 'an integer', byte: 'an integer', float: 'a number', double: 'a number', boolean: 'a boolean'}[shape.type] ?? `a ${shape.type}`
}

export class Checker {
  readonly #model: ServiceModel
  readonly #wire: Wire
  readonly violations: Violation[] = []

  constructor(model: ServiceModel, wire: Wire) {
    this.#model = model
    this.#wire = wire
  }

  /** Checks the top-level input (keyed by member name). */
  check(inputShape: string, input: Record<string, unknown>): Violation[] {
    this.#structure(this.#model.shapes[inputShape], input, '', '', true)
    return this.violations
  }

  #add(v: Omit<Violation, 'sensitive'>, shape: Shape | undefined): void {
    this.violations.push({...v, sensitive: shape?.sensitive === true})
  }

  #memberPath(parent: string, name: string, wireName: string): string {
    const own = this.#wire === 'ec2' ? wireName : lowerFirst(name)
    return parent ? `${parent}.${own}` : own
  }

  #structure(shape: Shape, value: Record<string, unknown>, path: string, top: string, isTop: boolean): void {
    for (const [name, ref] of Object.entries(shape.members ?? {})) {
      const memberShape = this.#model.shapes[ref.shape]
      if (!memberShape) continue
      const wireName = this.#wire === 'ec2' || this.#wire === 'query' ? queryName(this.#wire, name, ref) : (ref.locationName ?? name)
      // JSON bodies of restJson1 name nested members by their locationName; the top level is already keyed by member name.
      const key = !isTop && this.#wire === 'rest-json' ? (ref.locationName ?? name) : name
      const memberValue = value[key]
      const memberPath = this.#memberPath(path, name, wireName)
      const topMember = isTop ? (this.#wire === 'ec2' ? wireName : (ref.locationName ?? name)) : top
      if (memberValue === undefined || memberValue === null) {
        if (shape.required?.includes(name) && !ref.idempotencyToken) {
          this.#add({path: memberPath, member: topMember, kind: 'required', value: null, constraint: 'Member must not be null'}, memberShape)
        }
        continue
      }
      this.#value(memberShape, memberValue, memberPath, topMember)
    }
  }

  #value(shape: Shape, value: unknown, path: string, top: string): void {
    const typeError = (): void =>
      this.#add({path, member: top, kind: 'type', value, constraint: `Member must be ${typeName(shape)}`}, shape)
    if (shape.document) return
    switch (shape.type) {
      case 'structure':
      case 'union':
        if (typeof value !== 'object' || Array.isArray(value)) return typeError()
        this.#structure(shape, value as Record<string, unknown>, path, top, false)
        return
      case 'list': {
        if (!Array.isArray(value)) return typeError()
        this.#size(shape, value.length, value, path, top)
        const member = this.#model.shapes[shape.member!.shape]
        if (!member) return
        value.forEach((item, i) => {
          const itemPath = this.#wire === 'ec2' ? `${path}.${i + 1}` : `${path}.${i + 1}.member`
          if (item === null || item === undefined) return
          this.#value(member, item, itemPath, top)
        })
        return
      }
      case 'map': {
        if (typeof value !== 'object' || Array.isArray(value)) return typeError()
        const entries = Object.entries(value as Record<string, unknown>)
        this.#size(shape, entries.length, value, path, top)
        const keyShape = this.#model.shapes[shape.key!.shape]
        const valueShape = this.#model.shapes[shape.value!.shape]
        for (const [k, v] of entries) {
          if (keyShape) this.#value(keyShape, k, `${path}.${k}`, top)
          if (valueShape && v !== null && v !== undefined) this.#value(valueShape, v, `${path}.${k}`, top)
        }
        return
      }
      case 'string': {
        if (typeof value !== 'string') return typeError()
        if (shape.enum && !shape.enum.includes(value)) {
          this.#add({path, member: top, kind: 'enum', value, constraint: `Member must satisfy enum value set: [${shape.enum.join(', ')}]`}, shape)
          return
        }
        this.#size(shape, [...value].length, value, path, top)
        if (shape.pattern) {
          const regex = compiled(shape.pattern)
          if (regex && !regex.test(value)) {
            this.#add({path, member: top, kind: 'pattern', value, constraint: `Member must satisfy regular expression pattern: ${shape.pattern}`}, shape)
          }
        }
        return
      }
      case 'blob':
        if (typeof value !== 'string') return typeError()
        this.#size(shape, Buffer.from(value, 'base64').length, '***', path, top)
        return
      case 'boolean':
        if (typeof value !== 'boolean') typeError()
        return
      case 'timestamp':
        if (typeof value !== 'string' && typeof value !== 'number') typeError()
        return
      default:
        if (numberTypes.has(shape.type)) {
          if (typeof value !== 'number' || (integerTypes.has(shape.type) && !Number.isInteger(value))) return typeError()
          if (shape.min !== undefined && value < shape.min) {
            this.#add({path, member: top, kind: 'range', value, constraint: `Member must have value greater than or equal to ${shape.min}`}, shape)
          } else if (shape.max !== undefined && value > shape.max) {
            this.#add({path, member: top, kind: 'range', value, constraint: `Member must have value less than or equal to ${shape.max}`}, shape)
          }
        }
    }
  }

  #size(shape: Shape, size: number, value: unknown, path: string, top: string): void {
    if (shape.min !== undefined && size < shape.min) {
      this.#add({path, member: top, kind: 'length', value, constraint: `Member must have length greater than or equal to ${shape.min}`}, shape)
    } else if (shape.max !== undefined && size > shape.max) {
      this.#add({path, member: top, kind: 'length', value, constraint: `Member must have length less than or equal to ${shape.max}`}, shape)
    }
  }
}
