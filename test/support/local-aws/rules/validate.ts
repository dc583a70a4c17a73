// What CreateTopicRule/ReplaceTopicRule refuse before a rule is stored (IoT API
// reference, CreateTopicRule: SqlParseException 400, InvalidRequestException 400):
// - a statement outside the SQL subset the local rules engine runs → SqlParseException;
// - a substitution template it cannot run, get_secret with a wrong number of
//   arguments (get_secret(secretId, secretType[, key], roleArn), IoT SQL reference) → InvalidRequestException;
// - a role named by an action (`roleArn`) or by get_secret that IoT cannot assume:
//   AWS probes every role while creating the rule, disabled or not, and answers
//   "AWS IoT (iot.amazonaws.com) is unable to assume role (sts:AssumeRole) on resource: …".
import {AwsServiceError} from '../aws-errors.ts'
import {xmlText, type MotoClient} from '../moto-client.ts'
import {parseTemplate, type TemplatePart} from './evaluate.ts'
import {callsOf, parseRuleSql, SqlParseError, type Expr, type RuleQuery} from './sql.ts'

const invalid = (message: string): AwsServiceError => new AwsServiceError('InvalidRequestException', 400, message)

export interface TopicRulePayload {
  sql?: unknown
  actions?: unknown
  errorAction?: unknown
  ruleDisabled?: unknown
}

/** Whether IoT may assume a role (the policy slice's trust evaluation), when the stand-in has it. */
export type AssumeCheck = (roleArn: string, account: string, region: string, ruleName: string) => Promise<{allowed: boolean; reason: string}>

/** Parses the statement, or throws SqlParseException as IoT does. */
export function parseStatement(sql: unknown): RuleQuery {
  if (typeof sql !== 'string' || !sql.trim()) throw new AwsServiceError('SqlParseException', 400, 'The rule statement (sql) is empty')
  let query: RuleQuery
  try {
    query = parseRuleSql(sql)
  } catch (error) {
    if (error instanceof SqlParseError) throw new AwsServiceError('SqlParseException', 400, `${error.message}: ${sql}`)
    throw error
  }
  const exprs = [...query.items.flatMap((i) => (i.expr ? [i.expr] : [])), ...(query.where ? [query.where] : [])]
  if (exprs.some((e) => callsOf(e, 'get_secret').length)) {
    throw new AwsServiceError('SqlParseException', 400, `get_secret is only available in the substitution templates of an action: ${sql}`)
  }
  return query
}

/** Every string field of an action with the path that names it ("kafka.clientProperties.sasl.scram.password"). */
export function templateFields(action: unknown, prefix = ''): [string, string][] {
  if (typeof action === 'string') return [[prefix, action]]
  if (Array.isArray(action)) return action.flatMap((v, i) => templateFields(v, `${prefix}[${i}]`))
  if (action && typeof action === 'object') {
    return Object.entries(action as Record<string, unknown>).flatMap(([k, v]) => templateFields(v, prefix ? `${prefix}.${k}` : k))
  }
  return []
}

/** The parsed templates of an action's string fields; throws InvalidRequestException for one outside the subset. */
export function parseActionTemplates(action: unknown, where: string): Map<string, TemplatePart[]> {
  const parsed = new Map<string, TemplatePart[]>()
  for (const [path, text] of templateFields(action)) {
    if (!text.includes('${')) continue
    try {
      parsed.set(path, parseTemplate(text))
    } catch (error) {
      if (error instanceof SqlParseError) throw invalid(`${where} ${path}: ${error.message}`)
      throw error
    }
  }
  return parsed
}

function getSecretCalls(templates: Map<string, TemplatePart[]>): {path: string; call: Extract<Expr, {kind: 'call'}>}[] {
  return [...templates].flatMap(([path, parts]) => parts.flatMap((p) => ('expr' in p ? callsOf(p.expr, 'get_secret').map((call) => ({path, call})) : [])))
}

/** Checks a CreateTopicRule/ReplaceTopicRule payload; resolves when AWS would accept it. */
export async function validateTopicRule(
  payload: TopicRulePayload,
  context: {moto: MotoClient; account: string; region: string; ruleName: string; mayAssume?: AssumeCheck},
): Promise<void> {
  parseStatement(payload.sql)
  const actions = [...(Array.isArray(payload.actions) ? payload.actions : []).map((a, i) => [`actions[${i}]`, a] as const), ...(payload.errorAction ? [['errorAction', payload.errorAction] as const] : [])]
  const roles = new Set<string>()
  for (const [where, action] of actions) {
    for (const [path, value] of templateFields(action)) if (/(^|\.)roleArn$/.test(path) && value) roles.add(value)
    const templates = parseActionTemplates(action, where)
    for (const {path, call} of getSecretCalls(templates)) {
      const [, type, ...rest] = call.args
      const literal = (e: Expr | undefined): string | undefined => (e?.kind === 'literal' && typeof e.value === 'string' ? e.value : undefined)
      const secretType = literal(type)
      if (secretType !== undefined && secretType !== 'SecretString' && secretType !== 'SecretBinary') {
        throw invalid(`${where} ${path}: get_secret secretType must be 'SecretString' or 'SecretBinary', not '${secretType}'`)
      }
      if (secretType === 'SecretBinary' && rest.length === 2) throw invalid(`${where} ${path}: get_secret takes no key for a SecretBinary secret`)
      const roleArn = literal(rest[rest.length - 1])
      if (roleArn) roles.add(roleArn)
    }
  }
  for (const roleArn of roles) await checkAssumable(roleArn, context)
}

async function checkAssumable(roleArn: string, context: {moto: MotoClient; account: string; region: string; ruleName: string; mayAssume?: AssumeCheck}): Promise<void> {
  const refusal = invalid(`AWS IoT (iot.amazonaws.com) is unable to assume role (sts:AssumeRole) on resource: ${roleArn}. If the role was just created or updated, please try again in a few seconds.`)
  const parts = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/.exec(roleArn)
  // IoT passes roles of the rule's own account only (iam:PassRole).
  if (parts?.[1] !== context.account) throw refusal
  const answer = await context.moto.query('iam', context.account, context.region, {Action: 'GetRole', Version: '2010-05-08', RoleName: parts[2]})
  if (answer.status !== 200 || xmlText(answer.body.toString('utf8'), 'Arn') !== roleArn) throw refusal
  if (context.mayAssume) {
    const decision = await context.mayAssume(roleArn, context.account, context.region, context.ruleName)
    if (!decision.allowed) throw refusal
  }
}
