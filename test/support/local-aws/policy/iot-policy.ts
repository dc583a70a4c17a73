// AWS IoT policies (CreatePolicy, CreatePolicyVersion) as AWS IoT checks
// them: JSON with statements whose actions are AWS IoT Core policy actions and
// whose resources are `*` or AWS IoT ARNs; anything else is
// MalformedPolicyException (400). moto stores any text.
import {AwsServiceError} from '../aws-errors.ts'
import {relay, type CallContext, type Handler} from '../context.ts'

/**
 * The policy actions AWS IoT Core defines (IoT developer guide, "AWS IoT Core
 * policy actions", https://docs.aws.amazon.com/iot/latest/developerguide/iot-policy-actions.html):
 * MQTT, Device Shadow, job (iotjobsdata; also their older iot: names, still
 * accepted) and credential provider actions.
 */
export const IOT_POLICY_ACTIONS: readonly string[] = [
  'iot:Connect',
  'iot:DeleteConnection',
  'iot:GetRetainedMessage',
  'iot:ListRetainedMessages',
  'iot:Publish',
  'iot:Receive',
  'iot:RetainPublish',
  'iot:Subscribe',
  'iot:DeleteThingShadow',
  'iot:GetThingShadow',
  'iot:ListNamedShadowsForThing',
  'iot:UpdateThingShadow',
  'iot:DescribeJobExecution',
  'iot:GetPendingJobExecutions',
  'iot:StartNextPendingJobExecution',
  'iot:UpdateJobExecution',
  'iotjobsdata:DescribeJobExecution',
  'iotjobsdata:GetPendingJobExecutions',
  'iotjobsdata:StartNextPendingJobExecution',
  'iotjobsdata:UpdateJobExecution',
  'iot:AssumeRoleWithCertificate',
]

const malformed = (message: string): AwsServiceError => new AwsServiceError('MalformedPolicyException', 400, message)

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp(`^${source}$`, 'i').test(value)
}

function actionProblem(action: unknown): string | undefined {
  if (typeof action !== 'string' || !action) return `Invalid action ${JSON.stringify(action)}`
  if (action === '*') return undefined
  const prefix = action.split(':')[0].toLowerCase()
  if (!action.includes(':') || !['iot', 'iotjobsdata', 'greengrass'].includes(prefix)) return `Invalid action ${action}: not an AWS IoT policy action`
  if (prefix === 'greengrass') return undefined
  return IOT_POLICY_ACTIONS.some((known) => wildcardMatch(action, known)) ? undefined : `Invalid action ${action}: not an AWS IoT policy action`
}

// `arn:<partition>:iot:<region>:<account>:<type>/<name>`; region and account may be wildcards, the name may hold policy variables.
const iotArn = /^arn:(aws[\w-]*|\*):iot:[a-z0-9*?-]*:(\d{12}|[*?]+|\$\{[^}]+\}):[a-zA-Z*?]+(\/.*)?$/

function resourceProblem(resource: unknown): string | undefined {
  if (resource === '*') return undefined
  if (typeof resource !== 'string' || !iotArn.test(resource)) return `Invalid resource ${JSON.stringify(resource)}: not * or an AWS IoT resource ARN`
  return undefined
}

/** The reason an IoT policy document is malformed, or undefined when AWS IoT accepts it. */
export function iotPolicyProblem(text: unknown): string | undefined {
  if (typeof text !== 'string' || !text.trim()) return 'The policy document is empty'
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch (error) {
    return `The policy document is not valid JSON: ${(error as Error).message}`
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) return 'The policy document must be a JSON object'
  const statements = list((document as {Statement?: unknown}).Statement)
  if (statements.length === 0) return 'The policy document has no Statement'
  for (const [i, statement] of statements.entries()) {
    const where = `Statement ${i + 1}`
    if (!statement || typeof statement !== 'object') return `${where} is not an object`
    const s = statement as Record<string, unknown>
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return `${where}: Effect must be Allow or Deny`
    const actions = list(s.Action ?? s.NotAction)
    if (actions.length === 0) return `${where} has no Action`
    for (const action of actions) {
      const problem = actionProblem(action)
      if (problem) return `${where}: ${problem}`
    }
    const resources = list(s.Resource ?? s.NotResource)
    if (resources.length === 0) return `${where} has no Resource`
    for (const resource of resources) {
      const problem = resourceProblem(resource)
      if (problem) return `${where}: ${problem}`
    }
  }
  return undefined
}

/** CreatePolicy / CreatePolicyVersion: refuse a malformed document, else pass on (to `next`, or to moto). */
export function iotPolicyHandler(settings: {strictPolicies: boolean}, next?: Handler): Handler {
  return async (c: CallContext) => {
    if (settings.strictPolicies) {
      const problem = iotPolicyProblem(c.input.policyDocument)
      if (problem) throw malformed(problem)
    }
    return next ? next(c) : relay(await c.forward())
  }
}
