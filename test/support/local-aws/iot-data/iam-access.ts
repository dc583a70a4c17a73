// Authorization of SigV4 (WebSocket) clients: AWS IoT evaluates the caller's
// IAM policies for iot:Connect / iot:Publish / iot:Subscribe / iot:Receive
// ("Authorizing direct calls to AWS services" and "IAM users, groups and roles"
// in the AWS IoT Developer Guide). The caller's identity policies are read from
// moto (attached managed policies and inline policies of the assumed role) and
// evaluated with the same evaluator as IoT policies (Receive, which aedes asks
// synchronously); connect/publish/subscribe are asked of the policy engine
// (policy/, PolicyEngine.roleMay).
import {principalDocuments} from '../policy/documents.ts'
import {PolicyEngine} from '../policy/engine.ts'
import {xmlText, type MotoClient} from '../moto-client.ts'
import {ADMIN_ROLE} from '../profiles.ts'
import type {Decision, NamedPolicy} from './iot-policy.ts'

// moto loads no AWS managed policy documents by default; this one is the one the
// stand-in's admin role carries.
const ADMINISTRATOR_ACCESS = 'arn:aws:iam::aws:policy/AdministratorAccess'
const ADMINISTRATOR_ACCESS_DOCUMENT = {Version: '2012-10-17', Statement: [{Effect: 'Allow', Action: '*', Resource: '*'}]}

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
  const roleName = assumed[2]
  // The session names the role, not its path: IAM's answer gives its ARN.
  const role = await moto.query('iam', account, region, {Version: '2010-05-08', Action: 'GetRole', RoleName: roleName})
  const roleArn = xmlText(role.body.toString('utf8'), 'Arn') ?? `arn:aws:iam::${account}:role/${roleName}`
  const documents = role.status === 200 ? await principalDocuments(moto, roleArn) : undefined
  const policies: NamedPolicy[] = (documents?.identity ?? []).map((p) => ({name: p.type === 'role' ? `${roleName}/${p.id}` : p.id, document: p.policy}))
  // The stand-in seeds its admin role with AdministratorAccess, an attachment moto
  // drops when it has not loaded AWS managed policies: count it as made.
  const impliedAdmin = roleName === ADMIN_ROLE && documents !== undefined && !policies.some((p) => p.name === ADMINISTRATOR_ACCESS)
  if (impliedAdmin) policies.push({name: ADMINISTRATOR_ACCESS, document: ADMINISTRATOR_ACCESS_DOCUMENT})
  return {roleArn, allowAll: false, impliedAdmin, policies}
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
