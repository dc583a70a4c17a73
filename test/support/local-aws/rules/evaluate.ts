// Evaluates a parsed rule statement against one message, with AWS IoT SQL's
// values: JSON values plus Undefined (JS `undefined`), which is left out of
// output objects and makes a WHERE clause false (IoT SQL reference, Data types
// and Operators). Binary payloads: `SELECT *` passes a non-JSON payload through
// as its raw bytes (IoT SQL reference, JSON extensions: "* returns the entire
// message payload as raw bytes"; Binary payloads).
import {randomUUID} from 'node:crypto'
import {parseExpression, SqlParseError, topicMatches, type Expr, type RuleQuery} from './sql.ts'

export interface RuleMessage {
  topic: string
  payload: Buffer
  clientId?: string
  principal?: string
  account: string
  /** Milliseconds since the epoch, as timestamp() returns. */
  timestamp: number
  traceId?: string
}

/** Resolved values of get_secret calls, by call node (they are read asynchronously before evaluating). */
export type SecretValues = Map<Expr, string>

interface Scope {
  message: RuleMessage
  /** The payload parsed as JSON, or undefined when it is not JSON. */
  json: unknown
  secrets?: SecretValues
}

export class RuleEvaluationError extends Error {}

export type RuleOutcome = {matched: false} | {matched: true; output: Buffer; json: unknown}

/** Parses the payload once: JSON, or undefined for a binary (non-JSON) payload. */
export function parsePayload(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'))
  } catch {
    return undefined
  }
}

/**
 * Runs FROM, WHERE and SELECT. A statement that reads JSON fields of a non-JSON
 * payload fails (RuleEvaluationError), as AWS only takes `*` or functions for
 * binary payloads.
 */
export function evaluateRule(query: RuleQuery, message: RuleMessage): RuleOutcome {
  if (!topicMatches(query.topicFilter, message.topic)) return {matched: false}
  const json = parsePayload(message.payload)
  const scope: Scope = {message, json}
  if (json === undefined && readsFields(query)) {
    throw new RuleEvaluationError(`The payload on ${message.topic} is not JSON, and the rule's SQL reads JSON fields (only * and functions work on binary payloads)`)
  }
  if (query.where && toBoolean(evaluate(query.where, scope)) !== true) return {matched: false}
  // SELECT * alone on a binary payload: the bytes as they came.
  if (json === undefined && !query.value && query.items.length === 1 && query.items[0].star) {
    return {matched: true, output: message.payload, json: undefined}
  }
  let result: unknown
  if (query.value) {
    result = evaluate(query.items[0].expr!, scope)
  } else {
    const out: Record<string, unknown> = {}
    for (const item of query.items) {
      if (item.star) {
        if (json && typeof json === 'object' && !Array.isArray(json)) Object.assign(out, json)
        continue
      }
      const value = evaluate(item.expr!, scope)
      if (value === undefined) continue
      setPath(out, item.alias ?? [defaultKey(item.expr!)], value)
    }
    result = out
  }
  return {matched: true, output: Buffer.from(result === undefined ? '' : JSON.stringify(result)), json: result}
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target
  for (const key of path.slice(0, -1)) {
    if (!node[key] || typeof node[key] !== 'object') node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[path[path.length - 1]] = value
}

/** The output key of an item without AS: a field's last name, else the function name (as AWS names it). */
function defaultKey(expr: Expr): string {
  if (expr.kind === 'field') return expr.path[expr.path.length - 1]
  if (expr.kind === 'member') return expr.name
  if (expr.kind === 'call') return expr.name
  return '_1'
}

function readsFields(query: RuleQuery): boolean {
  const exprs = [...query.items.filter((i) => i.expr).map((i) => i.expr!), ...(query.where ? [query.where] : [])]
  const walk = (e: Expr): boolean => {
    switch (e.kind) {
      case 'field':
        return true
      case 'call':
        return e.args.some(walk)
      case 'member':
        return walk(e.object)
      case 'unary':
        return walk(e.operand)
      case 'binary':
        return walk(e.left) || walk(e.right)
      default:
        return false
    }
  }
  return exprs.some(walk) || (query.items.some((i) => i.star) && query.items.length > 1)
}

function evaluate(expr: Expr, scope: Scope): unknown {
  switch (expr.kind) {
    case 'literal':
      return expr.value
    case 'star':
      return scope.json === undefined ? scope.message.payload : scope.json
    case 'field':
      return walkPath(scope.json, expr.path)
    case 'member':
      return walkPath(evaluate(expr.object, scope), [expr.name])
    case 'unary': {
      const v = evaluate(expr.operand, scope)
      if (expr.op === 'NOT') {
        const b = toBoolean(v)
        return b === undefined ? undefined : !b
      }
      return typeof v === 'number' ? -v : toNumber(v) === undefined ? undefined : -toNumber(v)!
    }
    case 'binary':
      return binary(expr.op, expr.left, expr.right, scope)
    case 'call':
      return call(expr, scope)
  }
}

function walkPath(value: unknown, path: string[]): unknown {
  let node = value
  for (const key of path) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined
    node = (node as Record<string, unknown>)[key]
  }
  return node
}

/** Strings convert to Decimal when they look like numbers (IoT SQL reference, Data types, Conversions). */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^-?\d+(\.\d+)?([eE]-?\d+)?$/.test(v)) return Number(v)
  return undefined
}

/** Booleans, or the strings "true"/"false" in any case (IoT SQL reference, AND/OR/NOT operators). */
function toBoolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return v.toLowerCase() === 'true'
  return undefined
}

function toText(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v === 'string') return v
  if (Buffer.isBuffer(v)) return v.toString('utf8')
  return JSON.stringify(v)
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b)
}

function binary(op: string, leftExpr: Expr, rightExpr: Expr, scope: Scope): unknown {
  if (op === 'AND' || op === 'OR') {
    const a = toBoolean(evaluate(leftExpr, scope))
    const b = toBoolean(evaluate(rightExpr, scope))
    if (a === undefined || b === undefined) return undefined
    return op === 'AND' ? a && b : a || b
  }
  const a = evaluate(leftExpr, scope)
  const b = evaluate(rightExpr, scope)
  if (a === undefined || b === undefined) return undefined
  switch (op) {
    case '=':
    case '<>': {
      // Same types compare by value, numbers across Int/Decimal; other pairs are Undefined.
      const comparable = (typeof a === typeof b && (a === null) === (b === null)) || (a === null && b === null)
      if (!comparable) return undefined
      return op === '=' ? sameValue(a, b) : !sameValue(a, b)
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      const x = toNumber(a)
      const y = toNumber(b)
      if (x === undefined || y === undefined) {
        if (typeof a === 'string' && typeof b === 'string') return compare(op, a < b ? -1 : a > b ? 1 : 0)
        return undefined
      }
      return compare(op, x - y)
    }
    case '+':
    case '-':
    case '*':
    case '/':
    case '%': {
      const x = toNumber(a)
      const y = toNumber(b)
      if (x === undefined || y === undefined) return undefined
      if ((op === '/' || op === '%') && y === 0) return undefined
      const ints = Number.isInteger(x) && Number.isInteger(y) && typeof a === 'number' && typeof b === 'number'
      if (op === '+') return x + y
      if (op === '-') return x - y
      if (op === '*') return x * y
      if (op === '%') return x % y
      return ints ? Math.trunc(x / y) : x / y
    }
  }
  return undefined
}

function compare(op: string, diff: number): boolean {
  if (op === '<') return diff < 0
  if (op === '>') return diff > 0
  if (op === '<=') return diff <= 0
  return diff >= 0
}

function call(expr: Extract<Expr, {kind: 'call'}>, scope: Scope): unknown {
  const m = scope.message
  const args = (): unknown[] => expr.args.map((a) => evaluate(a, scope))
  switch (expr.name) {
    case 'topic': {
      if (expr.args.length === 0) return m.topic
      const n = toNumber(args()[0])
      if (n === undefined) return undefined
      // topic(1) is the first level (IoT SQL reference, topic(Decimal)).
      return m.topic.split('/')[Math.trunc(n) - 1]
    }
    case 'clientid':
      return m.clientId ?? 'n/a'
    case 'principal':
      return m.principal
    case 'accountid':
      return m.account
    case 'timestamp':
      return m.timestamp
    case 'newuuid':
      return randomUUID()
    case 'traceid':
      return m.traceId
    case 'upper':
    case 'lower': {
      const text = toText(args()[0])
      return text === undefined ? undefined : expr.name === 'upper' ? text.toUpperCase() : text.toLowerCase()
    }
    case 'concat': {
      const values = args()
      if (values.some((v) => v === undefined)) return undefined
      if (values.every(Array.isArray)) return values.flat()
      return values.map((v) => toText(v) ?? '').join('')
    }
    case 'encode': {
      const [value, scheme] = args()
      if (scheme !== 'base64' || value === undefined) return undefined
      const bytes = Buffer.isBuffer(value) ? value : Buffer.from(expr.args[0].kind === 'star' ? m.payload : Buffer.from(toText(value) ?? ''))
      return bytes.toString('base64')
    }
    case 'get': {
      const [collection, key] = args()
      if (Array.isArray(collection) || typeof collection === 'string') {
        const i = toNumber(key)
        return i === undefined ? undefined : collection[Math.trunc(i)]
      }
      if (collection && typeof collection === 'object' && typeof key === 'string') return (collection as Record<string, unknown>)[key]
      return undefined
    }
    case 'isnull':
      return args()[0] === null
    case 'isundefined':
      return args()[0] === undefined
    case 'get_secret': {
      const value = scope.secrets?.get(expr)
      if (value === undefined) throw new RuleEvaluationError('get_secret is only available in an action’s substitution templates')
      return value
    }
  }
  return undefined
}

// --- substitution templates ---------------------------------------------------

/** One piece of a substitution template: text, or an expression between `${` and `}`. */
export type TemplatePart = {text: string} | {expr: Expr; source: string}

/**
 * Splits "a/${topic(2)}/b" into text and expressions (IoT developer guide,
 * Substitution templates). Throws SqlParseError for an expression outside the subset.
 */
export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = []
  let i = 0
  while (i < template.length) {
    const start = template.indexOf('${', i)
    if (start < 0) {
      parts.push({text: template.slice(i)})
      break
    }
    if (start > i) parts.push({text: template.slice(i, start)})
    let j = start + 2
    let quote: string | undefined
    for (; j < template.length; j++) {
      const c = template[j]
      if (quote) {
        if (c === quote) quote = undefined
      } else if (c === "'" || c === '"') quote = c
      else if (c === '}') break
    }
    if (j >= template.length) throw new SqlParseError(`Unterminated substitution template at position ${start + 1}`, start)
    const source = template.slice(start + 2, j)
    parts.push({expr: parseExpression(source), source})
    i = j + 1
  }
  return parts
}

/** Renders a parsed template against a message; Undefined renders as an empty string, as AWS does. */
export function renderTemplate(parts: TemplatePart[], message: RuleMessage, secrets?: SecretValues): string {
  const scope: Scope = {message, json: parsePayload(message.payload), secrets}
  return parts.map((p) => ('text' in p ? p.text : (toText(evaluate(p.expr, scope)) ?? ''))).join('')
}

/** The literal arguments of a get_secret call, evaluated against the message. */
export function evaluateArguments(call: Extract<Expr, {kind: 'call'}>, message: RuleMessage): unknown[] {
  const scope: Scope = {message, json: parsePayload(message.payload)}
  return call.args.map((a) => evaluate(a, scope))
}
