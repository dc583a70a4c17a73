// Authorization of SigV4 (WebSocket) clients: AWS IoT evaluates the caller's
// IAM policies for iot:Connect / iot:Publish / iot:Subscribe / iot:Receive
// ("Authorizing direct calls to AWS services" and "IAM users, groups and roles"
// in the AWS IoT Developer Guide). The caller's identity policies are read from
// moto (attached managed policies and inline policies of the assumed role) and
// evaluated with the same evaluator as IoT policies (Receive, which aedes asks
// synchronously); connect/publish/subscribe are asked of the policy engine
// (policy/, PolicyEngine.roleMay).
import {PolicyEngine} from '../policy/engine.ts'
import {xmlText, xmlTexts, type MotoClient} from '../moto-client.ts'
import {ADMIN_ROLE} from '../profiles.ts'
import type {Decision, NamedPolicy} from './iot-policy.ts'

// moto loads no AWS managed policy documents by default; this one is the one the
// stand-in's admin role carries.
const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess'
const KNOWN_MANAGED: Record<string, string> = {
  [ADMINISTRATOR_ACCESS]: JSON.stringify({Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: '*', Resource: '*'}]}),
}

export interface IamCaller {
  /** The role an assumed-role session speaks for (arn:aws:iam::<account>:role/<path/name>), if any. */
  roleArn?: string
  /** Root or unknown callers: every action allowed (documented simplification). */
  allowAll: boolean
  /**
   * The seeded admin role whose AdministratorAccess attachment moto dropped: only
   * this evaluator knows it (the policy engine would see a role without policies).
   */
  impliedAdmin: boolean
  policies: NamedPolicy[]
}

export type RoleMay = (roleArn: string, action: string, resource: string, context?: Record<string, string | string[]>) => Promise<Decision>

export async function iamCaller(moto: MotoClient, principalArn: string | undefined, account: string, region: string): Promise<IamCaller> {
  const assumed = /^arn:aws[\w-]*:sts::(\d{12}):assumed-role\/([^/]+)\//.exec(principalArn ?? '')
  if (!assumed) return {allowAll: true, impliedAdmin: false, policies: []}
  const roleName = assumed[2]!
  const iam = (params: Record<string, string>) => moto.query('iam', account, region, {Version: '2010-05-08', ...params})
  const role = await iam({Action: 'GetRole', RoleName: roleName})
  const roleArn = xmlText(role.body.toString('utf8'), 'Arn') ?? `arn:aws:iam::${account}:role/${roleName}`
  const policies: NamedPolicy[] = []
  const attached = await iam({Action: 'ListAttachedRolePolicies', RoleName: roleName})
  const arns = xmlTexts(attached.body.toString('utf8'), 'PolicyArn')
  // The stand-in seeds its admin role with AdministratorAccess, an attachment moto
  // drops when it has not loaded AWS managed policies: count it as made.
  const impliedAdmin = roleName === ADMIN_ROLE && role.status === 200 && !arns.includes(ADMINISTRATOR_ACCESS)
  if (impliedAdmin) arns.push(ADMINISTRATOR_ACCESS)
  for (const arn of arns) {
    if (KNOWN_MANAGED[arn]) {
      policies.push({name: arn, document: KNOWN_MANAGED[arn]})
      continue
    }
    const policy = await iam({Action: 'GetPolicy', PolicyArn: arn})
    const version = xmlText(policy.body.toString('utf8'), 'DefaultVersionId')
    if (!version) continue
    const document = await iam({Action: 'GetPolicyVersion', PolicyArn: arn, VersionId: version})
    const text = xmlText(document.body.toString('utf8'), 'Document')
    if (text) policies.push({name: arn, document: decodeDocument(text)})
  }
  const inline = await iam({Action: 'ListRolePolicies', RoleName: roleName})
  for (const name of xmlTexts(inline.body.toString('utf8'), 'member')) {
    const policy = await iam({Action: 'GetRolePolicy', RoleName: roleName, PolicyName: name})
    const text = xmlText(policy.body.toString('utf8'), 'PolicyDocument')
    if (text) policies.push({name: `${roleName}/${name}`, document: decodeDocument(text)})
  }
  return {roleArn, allowAll: false, impliedAdmin, policies}
}

// IAM returns documents URL-encoded (moto too).
function decodeDocument(text: string): string {
  try {
    return text.trim().startsWith('{') ? text : decodeURIComponent(text)
  } catch {
    return text
  }
}

const engines = new WeakMap<MotoClient, RoleMay>()

/** PolicyEngine.roleMay (policy/), one engine per moto. */
export function policyEngine(moto: MotoClient): RoleMay {
  let engine = engines.get(moto)
  if (!engine) {
    const instance = new PolicyEngine(moto)
    engine = (roleArn, action, resource, context) => instance.roleMay(roleArn, action, resource, context)
    engines.set(moto, engine)
  }
  return engine
}
