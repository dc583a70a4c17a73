// Attaching AWS managed policies (arn:aws:iam::aws:policy/…) to roles. moto 5.2.5
// loads no AWS managed policy unless told to (and then ~1,300 per account
// backend), so AttachRolePolicy of one answers NoSuchEntity where AWS attaches it.
// The stand-in keeps these attachments itself, for the policies moto's own list
// of AWS managed policies names: AttachRolePolicy / DetachRolePolicy answer as
// IAM does, ListAttachedRolePolicies adds them to moto's answer, and DeleteRole
// of a role that still has one is refused with DeleteConflict, as IAM refuses it.
// Evaluation (policy/) does not see them: moto cannot return their documents.
import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {AwsServiceError} from './aws-errors.ts'
import {relay, type CallContext, type Handler} from './context.ts'

const AWS_MANAGED = /^arn:aws[\w-]*:iam::aws:policy\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]+)$/

export class AwsManagedAttachments {
  readonly #known: Set<string>
  /** account/role name → attached AWS managed policy ARNs. */
  readonly #attached = new Map<string, Set<string>>()

  constructor(venv: string) {
    this.#known = knownAwsManagedPolicies(venv)
  }

  reset(): void {
    this.#attached.clear()
  }

  /** Wraps the handlers it replaces (`previous(key)`), passing everything else on to them or to moto. */
  handlers(previous: (key: string) => Handler | undefined): Record<string, Handler> {
    const keys = ['iam:AttachRolePolicy', 'iam:DetachRolePolicy', 'iam:ListAttachedRolePolicies', 'iam:DeleteRole']
    const prior = new Map(keys.map((key) => [key, previous(key)]))
    const pass = (key: string, c: CallContext) => prior.get(key)?.(c) ?? c.forward().then((a) => relay(a))
    return {
      'iam:AttachRolePolicy': async (c) => {
        const {role, arn, name} = this.#params(c)
        if (!name) return pass('iam:AttachRolePolicy', c)
        if (!this.#known.has(name)) throw new AwsServiceError('NoSuchEntity', 404, `Policy ${arn} does not exist or is not attachable.`)
        await this.#requireRole(c, role)
        const key = `${c.account}/${role}`
        const set = this.#attached.get(key) ?? new Set<string>()
        set.add(arn)
        this.#attached.set(key, set)
        return iamReply('AttachRolePolicy', '')
      },
      'iam:DetachRolePolicy': async (c) => {
        const {role, arn, name} = this.#params(c)
        if (!name) return pass('iam:DetachRolePolicy', c)
        await this.#requireRole(c, role)
        const set = this.#attached.get(`${c.account}/${role}`)
        if (!set?.delete(arn)) throw new AwsServiceError('NoSuchEntity', 404, `Policy ${arn} was not found.`)
        return iamReply('DetachRolePolicy', '')
      },
      'iam:ListAttachedRolePolicies': async (c) => {
        const reply = await pass('iam:ListAttachedRolePolicies', c)
        const {role} = this.#params(c)
        const extra = [...(this.#attached.get(`${c.account}/${role}`) ?? [])]
        if (reply.status !== 200 || extra.length === 0) return reply
        const members = extra.map((arn) => `<member><PolicyName>${AWS_MANAGED.exec(arn)?.[1]}</PolicyName><PolicyArn>${arn}</PolicyArn></member>`).join('')
        const body = String(reply.body)
        const withMembers = body.includes('<AttachedPolicies/>')
          ? body.replace('<AttachedPolicies/>', `<AttachedPolicies>${members}</AttachedPolicies>`)
          : body.replace('</AttachedPolicies>', `${members}</AttachedPolicies>`)
        return {...reply, body: withMembers}
      },
      'iam:DeleteRole': async (c) => {
        const {role} = this.#params(c)
        if ((this.#attached.get(`${c.account}/${role}`)?.size ?? 0) > 0) {
          throw new AwsServiceError('DeleteConflict', 409, 'Cannot delete entity, must detach all policies first.')
        }
        const reply = await pass('iam:DeleteRole', c)
        if (reply.status === 200) this.#attached.delete(`${c.account}/${role}`)
        return reply
      },
    }
  }

  #params(c: CallContext): {role: string; arn: string; name?: string} {
    const params = new URLSearchParams(c.body.toString('utf8'))
    for (const [key, value] of c.url.searchParams) if (!params.has(key)) params.set(key, value)
    const arn = params.get('PolicyArn') ?? ''
    return {role: params.get('RoleName') ?? '', arn, name: AWS_MANAGED.exec(arn)?.[1]}
  }

  async #requireRole(c: CallContext, role: string): Promise<void> {
    const answer = await c.moto.query('iam', c.account, c.region, {Action: 'GetRole', Version: '2010-05-08', RoleName: role})
    if (answer.status !== 200) throw new AwsServiceError('NoSuchEntity', 404, `The role with name ${role} cannot be found.`)
  }
}

function iamReply(action: string, result: string) {
  return {
    status: 200,
    headers: {'content-type': 'text/xml', 'x-amzn-requestid': randomUUID()},
    body: `<${action}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/">${result}<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`,
  }
}

/** The names in moto's copy of AWS's managed policies (moto/iam/aws_managed_policies.py). */
function knownAwsManagedPolicies(venv: string): Set<string> {
  const names = new Set<string>()
  let text = ''
  for (const python of ['python3.11', 'python3.12', 'python3.13', 'python3.10']) {
    try {
      text = readFileSync(join(venv, 'lib', python, 'site-packages', 'moto', 'iam', 'aws_managed_policies.py'), 'utf8')
      break
    } catch {
      // another Python version
    }
  }
  // Top-level entries of the JSON it holds: ` "<Name>":{` at an indentation of one space.
  for (const match of text.matchAll(/^ "([\w+=,.@-]+)":\{$/gm)) names.add(match[1])
  return names
}
