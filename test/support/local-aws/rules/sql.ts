// The AWS IoT SQL subset the local rules engine runs, parsed by hand (no SQL
// parser generator is installed, and none knows `FROM '<topic filter>'`).
// Grammar (AWS IoT SQL reference: SELECT, FROM and WHERE clauses, operators,
// literals, JSON extensions; https://docs.aws.amazon.com/iot/latest/developerguide/iot-sql-reference.html):
//   statement  := SELECT [VALUE] item {',' item} FROM topicFilter [WHERE expr]
//   item       := '*' | expr [AS name{'.'name}]
//   expr       := or;  or := and {OR and};  and := not {AND not};  not := NOT not | cmp
//   cmp        := sum [(= | <> | != | < | > | <= | >=) sum]
//   sum        := product {(+|-) product};  product := unary {(*|/|%) unary}
//   unary      := '-' unary | postfix;  postfix := primary {'.' name}
//   primary    := number | 'string' | "string" | TRUE | FALSE | NULL | name | name '(' [arg {',' arg}] ')' | '(' expr ')'
// Functions: see FUNCTIONS. Anything else is a parse error, which CreateTopicRule
// answers with SqlParseException: the local AWS refuses what it cannot run.

export type Expr =
  | {kind: 'literal'; value: unknown}
  | {kind: 'field'; path: string[]}
  | {kind: 'star'}
  | {kind: 'call'; name: string; args: Expr[]}
  | {kind: 'member'; object: Expr; name: string}
  | {kind: 'unary'; op: '-' | 'NOT'; operand: Expr}
  | {kind: 'binary'; op: string; left: Expr; right: Expr}

export interface SelectItem {
  /** `*`: the whole payload. */
  star?: true
  expr?: Expr
  /** The output key path (`AS a.b` → ['a', 'b']); undefined when the key comes from the expression. */
  alias?: string[]
}

export interface RuleQuery {
  /** SELECT VALUE: the single item's value is the output, not an object. */
  value: boolean
  items: SelectItem[]
  topicFilter: string
  where?: Expr
}

export class SqlParseError extends Error {
  readonly position: number
  constructor(message: string, position: number) {
    super(message)
    this.position = position
  }
}

/** Functions the engine evaluates, with their allowed argument counts (IoT SQL reference, Functions). */
export const FUNCTIONS: Record<string, [min: number, max: number]> = {
  topic: [0, 1],
  clientid: [0, 0],
  timestamp: [0, 0],
  principal: [0, 0],
  accountid: [0, 0],
  newuuid: [0, 0],
  traceid: [0, 0],
  upper: [1, 1],
  lower: [1, 1],
  concat: [2, 99],
  encode: [2, 2],
  get: [2, 2],
  isnull: [1, 1],
  isundefined: [1, 1],
  // Only meaningful in an action's substitution templates (get_secret: secretType 'SecretString'|'SecretBinary', key optional).
  get_secret: [3, 4],
}

type TokenKind = 'keyword' | 'name' | 'number' | 'string' | 'op' | 'end'
interface Token {
  kind: TokenKind
  text: string
  value?: unknown
  at: number
}

const KEYWORDS = new Set(['SELECT', 'VALUE', 'FROM', 'WHERE', 'AS', 'AND', 'OR', 'NOT', 'TRUE', 'FALSE', 'NULL'])
const OPERATORS = ['<>', '!=', '<=', '>=', '=', '<', '>', '+', '-', '*', '/', '%', '(', ')', ',', '.']

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < source.length) {
    const c = source[i]
    if (/\s/.test(c)) {
      i++
      continue
    }
    const at = i
    if (c === "'" || c === '"') {
      let text = ''
      i++
      for (;;) {
        if (i >= source.length) throw new SqlParseError(`Unterminated string starting at position ${at + 1}`, at)
        const ch = source[i]
        if (ch === '\\' && i + 1 < source.length) {
          text += source[i + 1]
          i += 2
        } else if (ch === c && source[i + 1] === c) {
          text += c
          i += 2
        } else if (ch === c) {
          i++
          break
        } else {
          text += ch
          i++
        }
      }
      tokens.push({kind: 'string', text: source.slice(at, i), value: text, at})
      continue
    }
    const number = /^\d+(\.\d+)?([eE][-+]?\d+)?/.exec(source.slice(i))
    if (number) {
      i += number[0].length
      tokens.push({kind: 'number', text: number[0], value: Number(number[0]), at})
      continue
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i))
    if (word) {
      i += word[0].length
      const upper = word[0].toUpperCase()
      tokens.push(KEYWORDS.has(upper) ? {kind: 'keyword', text: upper, at} : {kind: 'name', text: word[0], at})
      continue
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i))
    if (!op) throw new SqlParseError(`Unexpected character '${c}' at position ${at + 1}`, at)
    i += op.length
    tokens.push({kind: 'op', text: op, at})
  }
  tokens.push({kind: 'end', text: 'end of statement', at: source.length})
  return tokens
}

class Parser {
  readonly #tokens: Token[]
  #i = 0

  constructor(tokens: Token[]) {
    this.#tokens = tokens
  }

  get peek(): Token {
    return this.#tokens[this.#i]
  }

  next(): Token {
    return this.#tokens[this.#i++]
  }

  is(kind: TokenKind, text?: string): boolean {
    return this.peek.kind === kind && (text === undefined || this.peek.text === text)
  }

  accept(kind: TokenKind, text?: string): Token | undefined {
    return this.is(kind, text) ? this.next() : undefined
  }

  expect(kind: TokenKind, text: string | undefined, what: string): Token {
    const token = this.accept(kind, text)
    if (!token) throw this.error(`Expected ${what}`)
    return token
  }

  error(expected: string): SqlParseError {
    const t = this.peek
    const found = t.kind === 'end' ? 'the end of the statement' : `'${t.text}'`
    return new SqlParseError(`${expected} but found ${found} at position ${t.at + 1}`, t.at)
  }

  statement(): RuleQuery {
    this.expect('keyword', 'SELECT', 'SELECT')
    const value = Boolean(this.accept('keyword', 'VALUE'))
    const items = [this.item()]
    while (this.accept('op', ',')) items.push(this.item())
    if (value && (items.length !== 1 || items[0].alias)) throw new SqlParseError('SELECT VALUE takes exactly one expression, without AS', 0)
    this.expect('keyword', 'FROM', "',' or FROM")
    const filter = this.expect('string', undefined, 'a quoted topic filter after FROM')
    const topicFilter = String(filter.value)
    const invalid = topicFilterProblem(topicFilter)
    if (invalid) throw new SqlParseError(`Invalid topic filter '${topicFilter}': ${invalid}`, filter.at)
    let where: Expr | undefined
    if (this.accept('keyword', 'WHERE')) where = this.expression()
    if (!this.is('end')) throw this.error(where ? 'Expected an operator, AND, OR or the end of the statement' : 'Expected WHERE or the end of the statement')
    return {value, items, topicFilter, where}
  }

  item(): SelectItem {
    if (this.is('op', '*')) {
      const after = this.#tokens[this.#i + 1]
      if (after && ((after.kind === 'op' && after.text === ',') || (after.kind === 'keyword' && after.text === 'FROM'))) {
        this.next()
        return {star: true}
      }
    }
    const expr = this.expression()
    if (!this.accept('keyword', 'AS')) return {expr}
    const alias = [this.name('a name after AS')]
    while (this.accept('op', '.')) alias.push(this.name("a name after '.'"))
    return {expr, alias}
  }

  name(what: string): string {
    const token = this.accept('name') ?? (this.is('keyword') && !['FROM', 'WHERE', 'AND', 'OR'].includes(this.peek.text) ? this.next() : undefined)
    if (!token) throw this.error(`Expected ${what}`)
    return token.kind === 'keyword' ? token.text.toLowerCase() : token.text
  }

  expression(): Expr {
    let left = this.and()
    while (this.accept('keyword', 'OR')) left = {kind: 'binary', op: 'OR', left, right: this.and()}
    return left
  }

  and(): Expr {
    let left = this.not()
    while (this.accept('keyword', 'AND')) left = {kind: 'binary', op: 'AND', left, right: this.not()}
    return left
  }

  not(): Expr {
    if (this.accept('keyword', 'NOT')) return {kind: 'unary', op: 'NOT', operand: this.not()}
    return this.comparison()
  }

  comparison(): Expr {
    const left = this.sum()
    for (const op of ['=', '<>', '!=', '<=', '>=', '<', '>']) {
      if (this.accept('op', op)) return {kind: 'binary', op: op === '!=' ? '<>' : op, left, right: this.sum()}
    }
    return left
  }

  sum(): Expr {
    let left = this.product()
    for (;;) {
      const op = this.accept('op', '+') ?? this.accept('op', '-')
      if (!op) return left
      left = {kind: 'binary', op: op.text, left, right: this.product()}
    }
  }

  product(): Expr {
    let left = this.unary()
    for (;;) {
      const op = this.accept('op', '*') ?? this.accept('op', '/') ?? this.accept('op', '%')
      if (!op) return left
      left = {kind: 'binary', op: op.text, left, right: this.unary()}
    }
  }

  unary(): Expr {
    if (this.accept('op', '-')) return {kind: 'unary', op: '-', operand: this.unary()}
    let expr = this.primary()
    while (this.accept('op', '.')) {
      const name = this.name("a property name after '.'")
      expr = expr.kind === 'field' ? {kind: 'field', path: [...expr.path, name]} : {kind: 'member', object: expr, name}
    }
    return expr
  }

  primary(): Expr {
    const t = this.peek
    if (t.kind === 'number' || t.kind === 'string') {
      this.next()
      return {kind: 'literal', value: t.value}
    }
    if (t.kind === 'keyword' && ['TRUE', 'FALSE', 'NULL'].includes(t.text)) {
      this.next()
      return {kind: 'literal', value: t.text === 'NULL' ? null : t.text === 'TRUE'}
    }
    if (this.accept('op', '(')) {
      const inner = this.expression()
      this.expect('op', ')', "')'")
      return inner
    }
    if (t.kind === 'name') {
      this.next()
      if (!this.accept('op', '(')) return {kind: 'field', path: [t.text]}
      const name = t.text.toLowerCase()
      const arity = FUNCTIONS[name]
      if (!arity) throw new SqlParseError(`Unknown function '${t.text}' at position ${t.at + 1} (the local rules engine runs: ${Object.keys(FUNCTIONS).join(', ')})`, t.at)
      const args: Expr[] = []
      if (!this.accept('op', ')')) {
        do {
          // encode(*, 'base64'): `*` is the whole payload, as in SELECT.
          if (name === 'encode' && args.length === 0 && this.is('op', '*')) {
            this.next()
            args.push({kind: 'star'})
          } else args.push(this.expression())
        } while (this.accept('op', ','))
        this.expect('op', ')', "',' or ')'")
      }
      if (args.length < arity[0] || args.length > arity[1]) {
        const wanted = arity[0] === arity[1] ? `${arity[0]}` : `${arity[0]} to ${arity[1]}`
        throw new SqlParseError(`Function ${name} takes ${wanted} argument(s), got ${args.length} at position ${t.at + 1}`, t.at)
      }
      return {kind: 'call', name, args}
    }
    throw this.error('Expected an expression')
  }
}

/** Parses a rule statement; throws SqlParseError for anything outside the subset. */
export function parseRuleSql(sql: string): RuleQuery {
  return new Parser(tokenize(sql)).statement()
}

/** Parses one expression (the inside of a substitution template `${…}`). */
export function parseExpression(source: string): Expr {
  const parser = new Parser(tokenize(source))
  const expr = parser.expression()
  if (!parser.is('end')) throw parser.error('Expected the end of the expression')
  return expr
}

/** Why an MQTT topic filter is invalid, or undefined (MQTT 3.1.1 §4.7: `#` last and alone in its level, `+` alone in its level). */
export function topicFilterProblem(filter: string): string | undefined {
  if (!filter) return 'it is empty'
  const levels = filter.split('/')
  for (const [i, level] of levels.entries()) {
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return "'#' must be the last level, alone"
    if (level.includes('+') && level !== '+') return "'+' must be alone in its level"
  }
  return undefined
}

/** Whether a topic matches an MQTT topic filter (`$` topics only match filters that name them). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/')
  const t = topic.split('/')
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true
    if (i >= t.length) return false
    if (f[i] !== '+' && f[i] !== t[i]) return false
  }
  return f.length === t.length
}

/** Every call of `name` in an expression tree (for get_secret checks). */
export function callsOf(expr: Expr, name: string): Extract<Expr, {kind: 'call'}>[] {
  const found: Extract<Expr, {kind: 'call'}>[] = []
  const walk = (e: Expr): void => {
    if (e.kind === 'call') {
      if (e.name === name) found.push(e)
      e.args.forEach(walk)
    } else if (e.kind === 'member') walk(e.object)
    else if (e.kind === 'unary') walk(e.operand)
    else if (e.kind === 'binary') {
      walk(e.left)
      walk(e.right)
    }
  }
  walk(expr)
  return found
}
