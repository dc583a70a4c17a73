// AWS IoT Core policy evaluation, after "AWS IoT Core policies" and "AWS IoT
// Core policy actions / resources / variables" in the AWS IoT Developer Guide:
// IAM's grammar (Effect, Action/NotAction, Resource/NotResource, Condition),
// an explicit Deny wins over any Allow, nothing allowed is denied; `*` and `?`
// match as in IAM (MQTT's `+` and `#` are ordinary characters in a resource);
// policy variables such as ${iot:ClientId} and ${iot:Connection.Thing.ThingName}
// are replaced by their value — a statement whose variable has no value matches
// nothing. Action names are case-insensitive, resources case-sensitive. Pure: no
// I/O. The same evaluator reads IAM policies for SigV4 (WebSocket) callers.

export interface Decision {allowed: boolean; reason: string}

export interface NamedPolicy {
  name: string
  /** The policy document, as JSON text or parsed. */
  document: string | Record<string, unknown>
}

export interface AccessRequest {
  /** e.g. iot:Publish */
  action: string
  /** e.g. arn:aws:iot:us-east-1:222222222222:topic/device/dev1/data */
  resource: string
  /** Policy variables and condition keys, by name (iot:ClientId, iot:Connection.Thing.ThingName, …). Undefined: no value. */
  context: Record<string, string | string[] | undefined>
}

interface Statement {
  Sid?: string
  Effect?: string
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: Record<string, Record<string, string | string[] | boolean>>
}

export function evaluate(policies: NamedPolicy[], request: AccessRequest): Decision {
  const context = contextOf(request.context)
  let allowedBy: string | undefined
  for (const policy of policies) {
    for (const [index, statement] of statementsOf(policy).entries()) {
      if (!applies(statement, request, context)) continue
      const label = `policy ${policy.name}${statement.Sid ? ` (statement ${statement.Sid})` : ` (statement ${index + 1})`}`
      if (statement.Effect === 'Deny') return {allowed: false, reason: `${request.action} on ${request.resource} is explicitly denied by ${label}`}
      if (statement.Effect === 'Allow') allowedBy ??= label
    }
  }
  if (allowedBy) return {allowed: true, reason: `${request.action} on ${request.resource} is allowed by ${allowedBy}`}
  const names = policies.map((p) => p.name)
  return {
    allowed: false,
    reason: `no policy allows ${request.action} on ${request.resource}${names.length ? ` (policies: ${names.join(', ')})` : ' (no policy attached)'}`,
  }
}

// Parsed documents and compiled patterns are reused: the broker asks for every message.
const parsedPolicies = new WeakMap<NamedPolicy, Statement[]>()
const compiled = new Map<string, RegExp>()
const wildcards = new Map<string, RegExp>()

function compile(source: string, flags: string): RegExp {
  const key = `${flags}\u0000${source}`
  let regex = compiled.get(key)
  if (!regex) {
    if (compiled.size > 10_000) {
      compiled.clear()
      wildcards.clear()
    }
    regex = new RegExp(`^${source}$`, flags)
    compiled.set(key, regex)
  }
  return regex
}

function statementsOf(policy: NamedPolicy): Statement[] {
  let statements = parsedPolicies.get(policy)
  if (!statements) {
    statements = parseStatements(policy)
    parsedPolicies.set(policy, statements)
  }
  return statements
}

function parseStatements(policy: NamedPolicy): Statement[] {
  let document: unknown = policy.document
  if (typeof document === 'string') {
    try {
      document = JSON.parse(document)
    } catch {
      return []
    }
  }
  const statements = (document as {Statement?: unknown})?.Statement
  if (Array.isArray(statements)) return statements as Statement[]
  return statements && typeof statements === 'object' ? [statements] : []
}

const list = (value: string | string[] | undefined): string[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

interface PreparedContext {
  values: Map<string, string[] | undefined>
  /** Resource patterns with this context's variables substituted (undefined: a variable has no value). */
  patterns: Map<string, RegExp | undefined>
}

// A context object is read once (a connection's context does not change once it is asked about).
const preparedContexts = new WeakMap<object, PreparedContext>()

function contextOf(context: AccessRequest['context']): PreparedContext {
  let prepared = preparedContexts.get(context)
  if (!prepared) {
    prepared = {values: lowerKeys(context), patterns: new Map()}
    preparedContexts.set(context, prepared)
  }
  return prepared
}

function applies(statement: Statement, request: AccessRequest, prepared: PreparedContext): boolean {
  const context = prepared.values
  const actionMatches = (pattern: string): boolean => wildcardMatch(pattern, request.action, {ignoreCase: true})
  if (statement.Action !== undefined) {
    if (!list(statement.Action).some(actionMatches)) return false
  } else if (statement.NotAction !== undefined) {
    if (list(statement.NotAction).some(actionMatches)) return false
  } else return false
  const resourceMatches = (pattern: string): boolean => {
    let regex = prepared.patterns.get(pattern)
    if (regex === undefined && !prepared.patterns.has(pattern)) {
      regex = resourcePattern(pattern, context)
      prepared.patterns.set(pattern, regex)
    }
    return regex?.test(request.resource) === true
  }
  if (statement.Resource !== undefined) {
    if (!list(statement.Resource).some(resourceMatches)) return false
  } else if (statement.NotResource !== undefined) {
    if (list(statement.NotResource).some(resourceMatches)) return false
  } else return false
  return conditionsHold(statement.Condition, context)
}

function lowerKeys(context: AccessRequest['context']): Map<string, string[] | undefined> {
  const out = new Map<string, string[] | undefined>()
  for (const [key, value] of Object.entries(context)) out.set(key.toLowerCase(), value === undefined ? undefined : list(value))
  return out
}

/** IAM wildcard match: `*` any run of characters (`/` included), `?` one character. */
export function wildcardMatch(pattern: string, value: string, options: {ignoreCase?: boolean} = {}): boolean {
  const flags = options.ignoreCase ? 'is' : 's'
  let regex = wildcards.get(`${flags}\u0000${pattern}`)
  if (!regex) {
    regex = compile([...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : escapeRegex(c))).join(''), flags)
    wildcards.set(`${flags}\u0000${pattern}`, regex)
  }
  return regex.test(value)
}

/**
 * The resource pattern as a regular expression, its policy variables replaced
 * by their (literal) values; undefined when a variable has no value.
 * `${*}`, `${?}` and `${$}` stand for the characters themselves.
 */
export function resourcePattern(pattern: string, context: Map<string, string[] | undefined> | AccessRequest['context']): RegExp | undefined {
  const values = context instanceof Map ? context : lowerKeys(context)
  let source = ''
  let i = 0
  while (i < pattern.length) {
    if (pattern.startsWith('${', i)) {
      const end = pattern.indexOf('}', i)
      if (end > 0) {
        const value = variableValue(pattern.slice(i + 2, end), values)
        if (value === undefined) return undefined
        source += escapeRegex(value)
        i = end + 1
        continue
      }
    }
    const c = pattern[i]
    source += c === '*' ? '.*' : c === '?' ? '.' : escapeRegex(c)
    i++
  }
  return compile(source, 's')
}

function variableValue(expression: string, values: Map<string, string[] | undefined>): string | undefined {
  if (expression === '*' || expression === '?' || expression === '$') return expression
  // ${name, 'default'} (IAM policy variables with a default value)
  const match = /^\s*([^,\s]+)\s*(?:,\s*'([^']*)'\s*)?$/.exec(expression)
  if (!match) return undefined
  const value = values.get(match[1].toLowerCase())
  if (value?.length === 1) return value[0]
  return match[2]
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
}

// --- conditions ----------------------------------------------------------------

type Comparison = (actual: string, expected: string) => boolean

const comparisons: Record<string, {test: Comparison; negated: boolean}> = {
  stringequals: {test: (a, e) => a === e, negated: false},
  stringnotequals: {test: (a, e) => a === e, negated: true},
  stringequalsignorecase: {test: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false},
  stringnotequalsignorecase: {test: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: true},
  stringlike: {test: (a, e) => wildcardMatch(e, a), negated: false},
  stringnotlike: {test: (a, e) => wildcardMatch(e, a), negated: true},
  arnequals: {test: (a, e) => wildcardMatch(e, a), negated: false},
  arnlike: {test: (a, e) => wildcardMatch(e, a), negated: false},
  arnnotequals: {test: (a, e) => wildcardMatch(e, a), negated: true},
  arnnotlike: {test: (a, e) => wildcardMatch(e, a), negated: true},
  bool: {test: (a, e) => a.toLowerCase() === e.toLowerCase(), negated: false},
  numericequals: {test: (a, e) => Number(a) === Number(e), negated: false},
  numericnotequals: {test: (a, e) => Number(a) === Number(e), negated: true},
  numericlessthan: {test: (a, e) => Number(a) < Number(e), negated: false},
  numericlessthanequals: {test: (a, e) => Number(a) <= Number(e), negated: false},
  numericgreaterthan: {test: (a, e) => Number(a) > Number(e), negated: false},
  numericgreaterthanequals: {test: (a, e) => Number(a) >= Number(e), negated: false},
}

function conditionsHold(conditions: Statement['Condition'], context: Map<string, string[] | undefined>): boolean {
  if (!conditions) return true
  for (const [operatorName, entries] of Object.entries(conditions)) {
    for (const [key, expectedRaw] of Object.entries(entries ?? {})) {
      const expected = [expectedRaw].flat().map(String)
      if (!conditionHolds(operatorName, context.get(key.toLowerCase()), expected)) return false
    }
  }
  return true
}

function conditionHolds(operatorName: string, actual: string[] | undefined, expected: string[]): boolean {
  let name = operatorName.toLowerCase()
  let quantifier: 'any' | 'all' | undefined
  if (name.startsWith('foranyvalue:')) [quantifier, name] = ['any', name.slice(12)]
  else if (name.startsWith('forallvalues:')) [quantifier, name] = ['all', name.slice(13)]
  if (name === 'null') return (actual === undefined) === (expected[0]?.toLowerCase() === 'true')
  const ifExists = name.endsWith('ifexists')
  if (ifExists) name = name.slice(0, -'ifexists'.length)
  const comparison = comparisons[name]
  // An operator this evaluator does not know: the statement does not apply.
  if (!comparison) return false
  if (actual === undefined || actual.length === 0) {
    if (quantifier === 'all') return true
    return ifExists || (comparison.negated && quantifier === undefined)
  }
  const matchesOne = (value: string): boolean => expected.some((e) => comparison.test(value, e))
  if (quantifier === 'all') return actual.every((value) => (comparison.negated ? !matchesOne(value) : matchesOne(value)))
  const any = actual.some(matchesOne)
  return comparison.negated ? !any : any
}
