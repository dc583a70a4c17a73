// iam:SimulatePrincipalPolicy answered from the same evaluator as the rest of
// the stand-in (moto has no simulator). IAM Query protocol in, the IAM API
// reference's XML out: one EvaluationResult per action and resource, with
// EvalActionName, EvalResourceName, EvalDecision (allowed | explicitDeny |
// implicitDeny) and MatchedStatements. ContextEntries become the request's
// context; PolicyInputList adds identity policies; ResourcePolicy is weighed as
// the resource's policy.
import {randomUUID} from 'node:crypto'
import {AwsServiceError, type Reply} from '../aws-errors.ts'
import type {CallContext, Handler} from '../context.ts'
import type {MotoClient} from '../moto-client.ts'
import {parseDocument, parseIamArn, type NamedPolicy, type PolicyDocument} from './documents.ts'
import {PolicyEngine, type Evaluation, type MatchedStatement} from './engine.ts'

const invalidInput = (message: string): AwsServiceError => new AwsServiceError('InvalidInput', 400, message)

const xmlEscape = (text: string): string =>
  text.replace(/[<>&'"]/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;'})[c]!)

/** `Prefix.member.1`, `Prefix.member.2`, … of a Query request. */
function members(params: URLSearchParams, prefix: string): string[] {
  const out: string[] = []
  for (let i = 1; params.has(`${prefix}.member.${i}`); i++) out.push(params.get(`${prefix}.member.${i}`)!)
  return out
}

/** ContextEntries → context variables (list types stay lists). */
export function contextEntries(params: URLSearchParams): Record<string, string | string[]> {
  const context: Record<string, string | string[]> = {}
  for (let i = 1; params.has(`ContextEntries.member.${i}.ContextKeyName`); i++) {
    const base = `ContextEntries.member.${i}`
    const name = params.get(`${base}.ContextKeyName`)!
    const type = params.get(`${base}.ContextKeyType`) ?? 'string'
    const values = members(params, `${base}.ContextKeyValues`)
    context[name] = type.endsWith('List') ? values : (values[0] ?? '')
  }
  return context
}

/** Where statement `index` (1-based) sits in the policy's compact JSON: IAM reports line and column. */
function position(policy: PolicyDocument | undefined, index: number): {start: number; end: number} {
  const text = JSON.stringify(policy ?? {})
  const statements = Array.isArray(policy?.Statement) ? policy.Statement : [policy?.Statement]
  const statement = JSON.stringify(statements[index - 1] ?? {})
  const at = text.indexOf(statement)
  return at < 0 ? {start: 1, end: text.length} : {start: at + 1, end: at + statement.length}
}

function matchedXml(matched: MatchedStatement[], policies: Map<string, PolicyDocument>): string {
  return matched
    .map((m) => {
      const {start, end} = position(policies.get(m.sourcePolicyId), m.statementIndex)
      return (
        `<member><SourcePolicyId>${xmlEscape(m.sourcePolicyId)}</SourcePolicyId><SourcePolicyType>${m.sourcePolicyType}</SourcePolicyType>` +
        `<StartPosition><Line>1</Line><Column>${start}</Column></StartPosition><EndPosition><Line>1</Line><Column>${end}</Column></EndPosition></member>`
      )
    })
    .join('')
}

export interface SimulationAnswer {
  action: string
  resource: string
  evaluation: Evaluation
}

/** The evaluations SimulatePrincipalPolicy reports, one per action and resource. */
export async function simulatePrincipalPolicy(moto: MotoClient, params: URLSearchParams, region: string): Promise<{answers: SimulationAnswer[]; policies: Map<string, PolicyDocument>}> {
  const source = params.get('PolicySourceArn') ?? ''
  if (!source) throw invalidInput("1 validation error detected: Value null at 'policySourceArn' failed to satisfy constraint: Member must not be null")
  const actions = members(params, 'ActionNames')
  if (actions.length === 0) throw invalidInput("1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null")
  if (!parseIamArn(source)) throw invalidInput(`Invalid ARN ${source}: only IAM roles and users can be simulated here`)
  const engine = new PolicyEngine(moto, {region})
  const principal = await engine.principal(source)
  if (!principal) {
    const parts = parseIamArn(source)!
    throw new AwsServiceError('NoSuchEntity', 404, `The ${parts.kind} with name ${parts.name} cannot be found.`)
  }
  const inputs: NamedPolicy[] = []
  for (const [i, text] of members(params, 'PolicyInputList').entries()) {
    const policy = parseDocument(text)
    if (!policy) throw new AwsServiceError('MalformedPolicyDocument', 400, `PolicyInputList.${i + 1} is not a valid policy document`)
    inputs.push({id: `PolicyInputList.${i + 1}`, type: 'none', policy})
  }
  const resourcePolicyText = params.get('ResourcePolicy')
  const resourcePolicy = resourcePolicyText ? parseDocument(resourcePolicyText) : undefined
  if (resourcePolicyText && !resourcePolicy) throw new AwsServiceError('MalformedPolicyDocument', 400, 'ResourcePolicy is not a valid policy document')
  const resources = members(params, 'ResourceArns')
  const context = contextEntries(params)
  const owner = params.get('ResourceOwner') ?? undefined
  const answers: SimulationAnswer[] = []
  for (const action of actions) {
    for (const resource of resources.length ? resources : ['*']) {
      const evaluation = await PolicyEngine.evaluateAs(principal, action, resource, context, {
        identity: inputs,
        ...(resourcePolicy ? {resourcePolicy} : {}),
        ...(owner ? {resourceAccount: owner.split(':')[4] || owner} : {}),
      })
      answers.push({action, resource, evaluation})
    }
  }
  const policies = new Map<string, PolicyDocument>([...principal.identity, ...inputs].map((p) => [p.id, p.policy]))
  if (principal.boundary) policies.set(principal.boundary.id, principal.boundary.policy)
  if (resourcePolicy) policies.set('ResourcePolicy', resourcePolicy)
  return {answers, policies}
}

export function simulatePrincipalPolicyHandler(): Handler {
  return async (c: CallContext): Promise<Reply> => {
    const params = new URLSearchParams(c.body.toString('utf8'))
    for (const [key, value] of c.url.searchParams) if (!params.has(key)) params.set(key, value)
    const {answers, policies} = await simulatePrincipalPolicy(c.moto, params, c.region)
    const results = answers
      .map(
        ({action, resource, evaluation}) =>
          `<member><EvalActionName>${xmlEscape(action)}</EvalActionName><EvalResourceName>${xmlEscape(resource)}</EvalResourceName>` +
          `<EvalDecision>${evaluation.decision}</EvalDecision><MatchedStatements>${matchedXml(evaluation.matched, policies)}</MatchedStatements>` +
          `<MissingContextValues/></member>`,
      )
      .join('')
    return {
      status: 200,
      headers: {'content-type': 'text/xml', 'x-amzn-requestid': randomUUID()},
      body:
        `<SimulatePrincipalPolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><SimulatePrincipalPolicyResult>` +
        `<IsTruncated>false</IsTruncated><EvaluationResults>${results}</EvaluationResults></SimulatePrincipalPolicyResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>`,
    }
  }
}
