// The probe of `doctor --probe` as data: a topic the rule's FROM matches, a
// payload that carries a unique probe id through the rule's SQL where it can
// (in each `+`/`#` level of the topic, which topic(n) keeps, and in every
// field the SELECT names), and the error action's failure document read back
// (AWS IoT developer guide, "Error action message format"). Pure.
import {randomBytes} from 'node:crypto'

export function newProbeId(): string {
  return `iotctl-probe-${randomBytes(6).toString('hex')}`
}

/** A concrete topic the filter matches, with the probe id in each wildcard level. */
export function probeTopic(filter: string, probeId: string): string {
  return filter.split('/').map((level) => (level === '+' || level === '#' ? probeId : level)).join('/')
}

/** The SELECT list of a rule statement, split at top-level commas. */
function selectItems(sql: string): string[] {
  const match = /^\s*SELECT\s+(?:VALUE\s+)?([\s\S]*?)\s+FROM\s/i.exec(sql)
  if (!match) return []
  const items: string[] = []
  let depth = 0
  let current = ''
  let quote: string | undefined
  for (const char of match[1]) {
    if (quote) {
      if (char === quote) quote = undefined
    } else if (char === '\'' || char === '"') quote = char
    else if (char === '(') depth++
    else if (char === ')') depth--
    else if (char === ',' && depth === 0) {
      items.push(current.trim())
      current = ''
      continue
    }
    current += char
  }
  if (current.trim()) items.push(current.trim())
  return items
}

export interface ProbePlan {
  topic: string
  payload: string
  /** Whether the id survives the SQL into what the Kafka action sends (else the Kafka half cannot match the probe). */
  traceable: boolean
  /** Why the id may not survive, when it may not. */
  reason?: string
}

/**
 * The probe for a rule: `SELECT *` keeps the payload whole; `topic(n)` keeps a
 * wildcard level; a selected field (`temperature`, `a.b AS x`) keeps the value
 * the probe gives it. Anything else (only functions or literals) loses it.
 */
export function probePlan(sql: string, filter: string, probeId: string): ProbePlan {
  const topic = probeTopic(filter, probeId)
  const levels = filter.split('/')
  const payload: Record<string, unknown> = {iotctl_probe: probeId, sentAt: new Date().toISOString()}
  let traceable = false
  for (const item of selectItems(sql)) {
    const expression = item.replace(/\s+AS\s+[\w$]+$/i, '').trim()
    if (expression === '*') traceable = true
    const topicLevel = /^topic\(\s*(\d+)\s*\)$/i.exec(expression)
    if (topicLevel && ['+', '#'].includes(levels[Number(topicLevel[1]) - 1] ?? '')) traceable = true
    const field = /^[A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)*$/.exec(expression)?.[0]
    if (field) {
      const path = field.split('.')
      let node = payload
      for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>
      node[path.at(-1)!] = probeId
      traceable = true
    }
  }
  return {topic, payload: JSON.stringify(payload), traceable, ...(traceable ? {} : {reason: 'the rule\'s SELECT keeps no field or topic level that could carry the probe id'})}
}

/** One entry of the error action's `failures`. */
export interface RuleFailure {
  failedAction?: string
  failedResource?: string
  errorMessage: string
}

export interface FailureDocument {
  ruleName?: string
  topic?: string
  clientId?: string
  failures: RuleFailure[]
  /** The payload that failed, decoded from base64OriginalPayload. */
  originalPayload?: string
}

/** Reads an error action's message; undefined when it is not one. */
export function parseFailureDocument(payload: Buffer | string): FailureDocument | undefined {
  let value: Record<string, unknown>
  try {
    value = JSON.parse(payload.toString()) as Record<string, unknown>
  } catch {
    return undefined
  }
  if (!value || !Array.isArray(value.failures)) return undefined
  const failures = (value.failures as Record<string, unknown>[]).map((f) => ({
    ...(typeof f.failedAction === 'string' ? {failedAction: f.failedAction} : {}),
    ...(typeof f.failedResource === 'string' ? {failedResource: f.failedResource} : {}),
    errorMessage: typeof f.errorMessage === 'string' ? f.errorMessage : JSON.stringify(f),
  }))
  const original = typeof value.base64OriginalPayload === 'string' ? Buffer.from(value.base64OriginalPayload, 'base64').toString('utf8') : undefined
  return {
    failures,
    ...(typeof value.ruleName === 'string' ? {ruleName: value.ruleName} : {}),
    ...(typeof value.topic === 'string' ? {topic: value.topic} : {}),
    ...(typeof value.clientId === 'string' ? {clientId: value.clientId} : {}),
    ...(original === undefined ? {} : {originalPayload: original}),
  }
}

/** Whether a failure document is about this probe (its topic, client or payload carries the id). */
export function isAboutProbe(document: FailureDocument, probeId: string, clientId: string): boolean {
  return Boolean(document.topic?.includes(probeId) || document.clientId === clientId || document.originalPayload?.includes(probeId))
}
