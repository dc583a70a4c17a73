// AWS IoT fleet provisioning, which moto 5.2.5 lacks:
// - provisioning templates: Create/Describe/List/DeleteProvisioningTemplate (IoT API
//   reference; ARN arn:aws:iot:<region>:<account>:provisioningtemplate/<name>), with their
//   `tags` kept where TagResource keeps them;
// - the device provisioning MQTT API on the data plane ("Device provisioning MQTT API"):
//   $aws/certificates/create/json, $aws/certificates/create-from-csr/json and
//   $aws/provisioning-templates/<name>/provision/json, answered on …/accepted or
//   …/rejected through the requesting connection only;
// - pre-provisioning hooks ("Pre-provisioning hooks"): the template's Lambda is invoked
//   with {claimCertificateId, certificateId, certificatePem, templateArn, clientId,
//   parameters}; provisioning goes on only when it answers allowProvisioning: true, and
//   only if the function's resource policy lets iot.amazonaws.com invoke it. A function
//   deployed through the stand-in (CreateFunction with a ZipFile) runs its own code here,
//   as Lambda would (an ES module, `<file>.handler`); a test registers any other function
//   with registerFunction(arn, handler).
// The template body is evaluated as IoT does for the subset templates commonly use
// ("Provisioning templates"): Parameters with Default, Ref, Fn::Join, Fn::Sub, and the
// resources AWS::IoT::Thing (ThingName, AttributePayload), AWS::IoT::Certificate
// (CertificateId, Status) and AWS::IoT::Policy (PolicyName of an existing policy).
// The provisioning role is checked to exist and trust iot.amazonaws.com; its permissions
// are not evaluated (the managed AWSIoTThingsRegistration is not loaded in moto).
import {randomBytes} from 'node:crypto'
import {AwsServiceError, jsonReply} from './aws-errors.ts'
import {relay, type CallContext, type Handler} from './context.ts'
import type {CertificateRegistry} from './iot-data/registry.ts'
import {parseJson, xmlText, type MotoClient} from './moto-client.ts'
import {readZip} from './zip.ts'

export interface HookInput {
  claimCertificateId: string
  certificateId: string
  certificatePem: string
  templateArn: string
  clientId: string
  parameters: Record<string, string>
}

export interface HookOutput {
  allowProvisioning?: unknown
  parameterOverrides?: Record<string, string>
}

export type HookHandler = (event: HookInput) => HookOutput | Promise<HookOutput>

interface Template {
  name: string
  arn: string
  account: string
  region: string
  description?: string
  body: string
  enabled: boolean
  roleArn: string
  hook?: {targetArn: string; payloadVersion?: string}
  type: string
  createdAt: number
  updatedAt: number
}

interface PendingCertificate {
  account: string
  region: string
  certificateId: string
  certificateArn: string
  certificatePem: string
  expiresAt: number
}

export interface TagStore {
  set(arn: string, tags: {Key: string; Value?: string}[]): void
  forget(arn: string): void
}

/** A reply the data plane sends to the requesting connection. */
export interface ProvisioningReply {
  topic: string
  payload: string
}

export interface ProvisioningRequest {
  account: string
  region: string
  clientId: string
  /** The claim certificate's id (mTLS connections only). */
  certificateId?: string
  topic: string
  payload: Buffer
}

const invalid = (message: string): AwsServiceError => new AwsServiceError('InvalidRequestException', 400, message)
// "the certificateOwnershipToken … expires after one hour" (Device provisioning MQTT API).
const OWNERSHIP_TOKEN_MS = 3_600_000
const CREATE = '$aws/certificates/create/json'
const CREATE_FROM_CSR = '$aws/certificates/create-from-csr/json'
const PROVISION = /^\$aws\/provisioning-templates\/([^/]+)\/provision\/json$/

interface CreateTemplateInput {
  templateName?: string
  description?: string
  templateBody?: string
  enabled?: boolean
  provisioningRoleArn?: string
  preProvisioningHook?: {targetArn?: string; payloadVersion?: string}
  tags?: {Key: string; Value?: string}[]
  type?: string
}

export class FleetProvisioning {
  readonly #moto: MotoClient
  readonly #registry: CertificateRegistry
  readonly #tags: TagStore
  readonly #templates = new Map<string, Template>()
  readonly #functions = new Map<string, HookHandler>()
  readonly #tokens = new Map<string, PendingCertificate>()
  /** Every hook invocation, for tests: which function, with what. */
  readonly invocations: {functionArn: string; event: HookInput}[] = []

  constructor(moto: MotoClient, registry: CertificateRegistry, tags: TagStore) {
    this.#moto = moto
    this.#registry = registry
    this.#tags = tags
  }

  reset(): void {
    this.#templates.clear()
    this.#functions.clear()
    this.#tokens.clear()
    this.invocations.length = 0
  }

  /** A Lambda function of the test's: IoT invokes it as the hook of any template naming its ARN. */
  registerFunction(functionArn: string, handler: HookHandler): void {
    this.#functions.set(unqualified(functionArn), handler)
  }

  handlers(): Record<string, Handler> {
    return {
      'iot:CreateProvisioningTemplate': (c) => this.#create(c),
      'iot:DescribeProvisioningTemplate': async (c) => jsonReply('rest-json', this.#describe(this.#find(c, c.facts.uriParams.templateName))),
      'iot:ListProvisioningTemplates': async (c) => this.#list(c),
      'iot:DeleteProvisioningTemplate': async (c) => this.#delete(c),
      'lambda:CreateFunction': (c) => this.#createFunction(c),
      'lambda:DeleteFunction': (c) => this.#deleteFunction(c),
    }
  }

  // --- templates ------------------------------------------------------------

  #key(account: string, region: string, name: string): string {
    return `${account}/${region}/${name}`
  }

  #find(c: {account: string; region: string}, name: string | undefined): Template {
    const template = name ? this.#templates.get(this.#key(c.account, c.region, name)) : undefined
    if (!template) throw new AwsServiceError('ResourceNotFoundException', 404, `The provisioning template ${name ?? ''} does not exist`)
    return template
  }

  async #create(c: CallContext) {
    const input = c.input as CreateTemplateInput
    const name = input.templateName ?? ''
    if (this.#templates.has(this.#key(c.account, c.region, name))) {
      throw new AwsServiceError('ResourceAlreadyExistsException', 409, `The provisioning template ${name} already exists`)
    }
    const body = parseJson(Buffer.from(input.templateBody ?? ''))
    if (typeof body.Resources !== 'object' || body.Resources === null) throw invalid('The template body is not valid: it has no Resources')
    await this.#checkRole(c, input.provisioningRoleArn ?? '')
    const hook = input.preProvisioningHook
    if (hook) {
      if (input.type === 'JITP') throw invalid('A JITP template takes no pre-provisioning hook')
      await this.#checkFunction(c, hook.targetArn ?? '')
    }
    const now = c.now()
    const template: Template = {
      name,
      arn: `arn:aws:iot:${c.region}:${c.account}:provisioningtemplate/${name}`,
      account: c.account,
      region: c.region,
      ...(input.description === undefined ? {} : {description: input.description}),
      body: input.templateBody ?? '',
      enabled: input.enabled === true,
      roleArn: input.provisioningRoleArn ?? '',
      ...(hook?.targetArn ? {hook: {targetArn: hook.targetArn, payloadVersion: hook.payloadVersion ?? '2020-04-01'}} : {}),
      type: input.type ?? 'FLEET_PROVISIONING',
      createdAt: now,
      updatedAt: now,
    }
    this.#templates.set(this.#key(c.account, c.region, name), template)
    if (Array.isArray(input.tags) && input.tags.length > 0) this.#tags.set(template.arn, input.tags)
    return jsonReply('rest-json', {templateArn: template.arn, templateName: name, defaultVersionId: 1})
  }

  #describe(t: Template) {
    return {
      templateArn: t.arn, templateName: t.name, description: t.description, creationDate: t.createdAt / 1000, lastModifiedDate: t.updatedAt / 1000,
      defaultVersionId: 1, templateBody: t.body, enabled: t.enabled, provisioningRoleArn: t.roleArn, type: t.type,
      ...(t.hook ? {preProvisioningHook: t.hook} : {}),
    }
  }

  #list(c: CallContext) {
    const all = [...this.#templates.values()].filter((t) => t.account === c.account && t.region === c.region).sort((a, b) => a.name.localeCompare(b.name))
    const max = Number(c.url.searchParams.get('maxResults') ?? 250)
    const start = Number(c.url.searchParams.get('nextToken') ?? 0)
    const page = all.slice(start, start + max)
    const next = start + max < all.length ? String(start + max) : undefined
    const templates = page.map((t) => ({templateArn: t.arn, templateName: t.name, description: t.description, creationDate: t.createdAt / 1000, lastModifiedDate: t.updatedAt / 1000, enabled: t.enabled, type: t.type}))
    return jsonReply('rest-json', {templates, ...(next ? {nextToken: next} : {})})
  }

  #delete(c: CallContext) {
    const template = this.#find(c, c.facts.uriParams.templateName)
    this.#templates.delete(this.#key(c.account, c.region, template.name))
    this.#tags.forget(template.arn)
    return jsonReply('rest-json', {})
  }

  /** IoT assumes the provisioning role: it must exist in the caller's account and trust iot.amazonaws.com. */
  async #checkRole(c: CallContext, roleArn: string): Promise<void> {
    const parts = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:.*\/)?([\w+=,.@-]+)$/.exec(roleArn)
    const refusal = invalid(`IoT cannot assume the provisioning role ${roleArn}: it does not exist or does not trust iot.amazonaws.com`)
    if (parts?.[1] !== c.account) throw refusal
    const answer = await this.#moto.query('iam', c.account, c.region, {Action: 'GetRole', Version: '2010-05-08', RoleName: parts[2]})
    if (answer.status !== 200) throw refusal
    const trust = decodeURIComponent(xmlText(answer.body.toString('utf8'), 'AssumeRolePolicyDocument') ?? '')
    if (!trust.includes('iot.amazonaws.com')) throw refusal
  }

  /** The hook must be a Lambda function of the template's account and region. */
  async #checkFunction(c: {account: string; region: string}, targetArn: string): Promise<void> {
    const parts = /^arn:aws[\w-]*:lambda:([a-z0-9-]+):(\d{12}):function:([\w-]+)(?::[\w$-]+)?$/.exec(targetArn)
    if (parts?.[1] !== c.region || parts[2] !== c.account) throw invalid(`The pre-provisioning hook ${targetArn} is not a Lambda function of account ${c.account} in ${c.region}`)
    const answer = await this.#moto.rest('lambda', 'GET', `/2015-03-31/functions/${parts[3]}`, c.account, c.region)
    if (answer.status !== 200) throw invalid(`The pre-provisioning hook ${targetArn} does not exist`)
  }

  // --- Lambda: the code of functions deployed through the stand-in -------------

  async #createFunction(c: CallContext) {
    const answer = await c.forward()
    const input = c.input as {Code?: {ZipFile?: string}; Handler?: string}
    const value = parseJson(answer.body)
    const arn = typeof value.FunctionArn === 'string' ? value.FunctionArn : undefined
    if (answer.status === 201 || answer.status === 200) {
      if (arn && input.Code?.ZipFile && input.Handler) {
        const handler = await loadHandler(Buffer.from(input.Code.ZipFile, 'base64'), input.Handler).catch((error: Error) => failing(error))
        this.#functions.set(unqualified(arn), handler)
      }
    }
    return relay(answer)
  }

  async #deleteFunction(c: CallContext) {
    const answer = await c.forward()
    const name = c.facts.uriParams.FunctionName ?? ''
    if (answer.status < 300) {
      for (const arn of this.#functions.keys()) if (arn.endsWith(`:${c.account}:function:${name}`) || arn === name) this.#functions.delete(arn)
    }
    return relay(answer)
  }

  // --- the device provisioning MQTT API ------------------------------------------

  /** Whether a publish to this topic is a provisioning request the service answers. */
  handles(topic: string): boolean {
    return topic === CREATE || topic === CREATE_FROM_CSR || PROVISION.test(topic)
  }

  async request(request: ProvisioningRequest): Promise<ProvisioningReply[]> {
    const {topic} = request
    try {
      const body = parseJson(request.payload)
      if (topic === CREATE) return [{topic: `${topic}/accepted`, payload: JSON.stringify(await this.#createKeys(request))}]
      if (topic === CREATE_FROM_CSR) {
        const csr = body.certificateSigningRequest
        if (typeof csr !== 'string') throw new ProvisioningError(400, 'InvalidPayload', 'certificateSigningRequest is required')
        return [{topic: `${topic}/accepted`, payload: JSON.stringify(await this.#createFromCsr(request, csr))}]
      }
      const name = PROVISION.exec(topic)?.[1] ?? ''
      return [{topic: `${topic}/accepted`, payload: JSON.stringify(await this.#registerThing(request, name, body))}]
    } catch (error) {
      const e = error instanceof ProvisioningError ? error : new ProvisioningError(500, 'InternalError', (error as Error).message)
      return [{topic: `${topic}/rejected`, payload: JSON.stringify({statusCode: e.statusCode, errorCode: e.errorCode, errorMessage: e.message})}]
    }
  }

  async #createKeys(request: ProvisioningRequest) {
    const issued = await this.#registry.ca.keysAndCertificate()
    const registered = await this.#registry.registerIssued(request, issued.certificatePem, 'PENDING_ACTIVATION')
    const token = this.#token(request, registered, issued.certificatePem)
    return {certificateId: registered.certificateId, certificatePem: issued.certificatePem, privateKey: issued.keyPair.PrivateKey, certificateOwnershipToken: token}
  }

  async #createFromCsr(request: ProvisioningRequest, csr: string) {
    const issued = await this.#registry.ca.fromCsr(csr).catch(() => {
      throw new ProvisioningError(400, 'InvalidCSR', 'The certificate signing request could not be parsed or its signature is not valid')
    })
    const registered = await this.#registry.registerIssued(request, issued.certificatePem, 'PENDING_ACTIVATION')
    const token = this.#token(request, registered, issued.certificatePem)
    return {certificateId: registered.certificateId, certificatePem: issued.certificatePem, certificateOwnershipToken: token}
  }

  #token(request: ProvisioningRequest, registered: {certificateId: string; certificateArn: string}, certificatePem: string): string {
    const token = randomBytes(96).toString('base64')
    this.#tokens.set(token, {account: request.account, region: request.region, ...registered, certificatePem, expiresAt: Date.now() + OWNERSHIP_TOKEN_MS})
    return token
  }

  async #registerThing(request: ProvisioningRequest, templateName: string, body: Record<string, unknown>) {
    const token = typeof body.certificateOwnershipToken === 'string' ? body.certificateOwnershipToken : ''
    const pending = this.#tokens.get(token)
    if (pending?.account !== request.account || pending.region !== request.region || pending.expiresAt < Date.now()) {
      throw new ProvisioningError(400, 'InvalidCertificateOwnershipToken', 'The certificate ownership token is not valid or has expired')
    }
    const template = this.#templates.get(this.#key(request.account, request.region, templateName))
    if (!template) throw new ProvisioningError(404, 'ResourceNotFound', `Template ${templateName} does not exist`)
    if (!template.enabled) throw new ProvisioningError(400, 'InvalidRequest', `Template ${templateName} is disabled`)
    let parameters: Record<string, string> = {}
    if (typeof body.parameters === 'object' && body.parameters !== null) {
      parameters = Object.fromEntries(Object.entries(body.parameters).map(([k, v]) => [k, String(v)]))
    }
    if (template.hook) parameters = await this.#runHook(template, request, pending, parameters)
    const thingName = await this.#apply(template, pending, parameters)
    this.#tokens.delete(token)
    return {deviceConfiguration: {}, thingName}
  }

  async #runHook(template: Template, request: ProvisioningRequest, pending: PendingCertificate, parameters: Record<string, string>): Promise<Record<string, string>> {
    const targetArn = template.hook!.targetArn
    // "If the Lambda function fails, the provisioning request fails with ACCESS_DENIED" (Pre-provisioning hooks).
    const denied = (why: string) => new ProvisioningError(403, 'AccessDenied', why)
    if (!(await this.#iotMayInvoke(template, targetArn))) throw denied(`AWS IoT is not authorized to invoke the pre-provisioning hook ${targetArn} (lambda:InvokeFunction)`)
    const handler = this.#functions.get(unqualified(targetArn))
    if (!handler) throw denied(`The pre-provisioning hook ${targetArn} could not be invoked`)
    const event: HookInput = {
      claimCertificateId: request.certificateId ?? '', certificateId: pending.certificateId, certificatePem: pending.certificatePem,
      templateArn: template.arn, clientId: request.clientId, parameters,
    }
    this.invocations.push({functionArn: targetArn, event})
    let output: HookOutput
    try {
      output = await handler(structuredClone(event))
    } catch (error) {
      throw denied(`The pre-provisioning hook ${targetArn} failed: ${(error as Error).message}`)
    }
    if (output?.allowProvisioning !== true) throw denied(`The pre-provisioning hook ${targetArn} did not allow provisioning`)
    return {...parameters, ...output.parameterOverrides}
  }

  /** The function's resource policy must let iot.amazonaws.com invoke it (lambda:AddPermission), conditions included. */
  async #iotMayInvoke(template: Template, functionArn: string): Promise<boolean> {
    const name = /:function:([\w-]+)/.exec(functionArn)?.[1] ?? ''
    const answer = await this.#moto.rest('lambda', 'GET', `/2015-03-31/functions/${name}/policy`, template.account, template.region)
    if (answer.status !== 200 || typeof answer.value.Policy !== 'string') return false
    const policy = parseJson(Buffer.from(answer.value.Policy)) as {Statement?: PolicyStatement[]}
    return (policy.Statement ?? []).some((s) => statementLetsIotInvoke(s, template))
  }

  /** Runs the template's resources: the thing, the certificate's status, the policy; returns the thing's name. */
  async #apply(template: Template, pending: PendingCertificate, given: Record<string, string>): Promise<string> {
    const body = parseJson(Buffer.from(template.body)) as {Parameters?: Record<string, {Default?: string}>; Resources?: Record<string, {Type?: string; Properties?: Record<string, unknown>}>}
    // What the service supplies itself ("Provisioning templates", Parameters section).
    const supplied: Record<string, string> = {
      'AWS::IoT::Certificate::Id': pending.certificateId,
      'AWS::IoT::Certificate::Arn': pending.certificateArn,
      'AWS::Region': template.region,
      'AWS::AccountId': template.account,
    }
    const parameters: Record<string, string> = {...supplied}
    for (const [name, spec] of Object.entries(body.Parameters ?? {})) {
      const value = supplied[name] ?? given[name] ?? spec.Default
      if (value === undefined) throw new ProvisioningError(400, 'InvalidParameters', `The parameter ${name} is required by template ${template.name}`)
      parameters[name] = value
    }
    const resolve = (value: unknown): unknown => resolveIntrinsic(value, parameters)
    const resources = Object.values(body.Resources ?? {})
    const home = {account: template.account, region: template.region}
    let thingName = ''
    for (const resource of resources) {
      const properties = (resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>
      if (resource.Type === 'AWS::IoT::Thing') {
        thingName = String(properties.ThingName ?? '')
        const attributes = (properties.AttributePayload ?? {}) as Record<string, string>
        const existing = await this.#moto.rest('iot', 'GET', `/things/${encodeURIComponent(thingName)}`, home.account, home.region)
        const answer = existing.status === 200
          ? await this.#moto.rest('iot', 'PATCH', `/things/${encodeURIComponent(thingName)}`, home.account, home.region, {attributePayload: {attributes, merge: true}})
          : await this.#moto.rest('iot', 'POST', `/things/${encodeURIComponent(thingName)}`, home.account, home.region, {attributePayload: {attributes}})
        if (answer.status !== 200) throw new ProvisioningError(400, 'InvalidRequest', `Creating thing ${thingName} failed: ${JSON.stringify(answer.value)}`)
      }
    }
    for (const resource of resources) {
      const properties = (resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>
      if (resource.Type === 'AWS::IoT::Certificate') {
        const status = String(properties.Status ?? 'ACTIVE')
        await this.#moto.rest('iot', 'PUT', `/certificates/${pending.certificateId}?newStatus=${status}`, home.account, home.region)
      } else if (resource.Type === 'AWS::IoT::Policy') {
        const policyName = String(properties.PolicyName ?? '')
        const answer = await this.#moto.rest('iot', 'PUT', `/target-policies/${encodeURIComponent(policyName)}`, home.account, home.region, {target: pending.certificateArn})
        if (answer.status !== 200) throw new ProvisioningError(400, 'InvalidRequest', `Attaching policy ${policyName} failed: the policy does not exist`)
      }
    }
    if (thingName) {
      await this.#moto.call({service: 'iot', method: 'PUT', path: `/things/${encodeURIComponent(thingName)}/principals`, account: home.account, region: home.region, headers: {'x-amzn-principal': pending.certificateArn}})
    }
    return thingName
  }
}

class ProvisioningError extends Error {
  readonly statusCode: number
  readonly errorCode: string
  constructor(statusCode: number, errorCode: string, message: string) {
    super(message)
    this.statusCode = statusCode
    this.errorCode = errorCode
  }
}

interface PolicyStatement {
  Effect?: string
  Principal?: {Service?: string | string[]} | string
  Action?: string | string[]
  Condition?: Record<string, Record<string, string>>
}

function statementLetsIotInvoke(s: PolicyStatement, template: Template): boolean {
  if (s.Effect !== 'Allow') return false
  const services = typeof s.Principal === 'object' ? [s.Principal.Service ?? []].flat() : []
  if (!services.includes('iot.amazonaws.com')) return false
  const actions = [s.Action ?? []].flat()
  if (!actions.some((a) => a === 'lambda:InvokeFunction' || a === 'lambda:*' || a === '*')) return false
  const context: Record<string, string> = {'aws:sourcearn': template.arn, 'aws:sourceaccount': template.account}
  for (const [operator, values] of Object.entries(s.Condition ?? {})) {
    for (const [key, expected] of Object.entries(values)) {
      const actual = context[key.toLowerCase()]
      if (actual === undefined) return false
      const pattern = new RegExp(`^${expected.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`)
      const ok = operator.startsWith('StringEquals') || operator === 'ArnEquals' ? actual === expected : pattern.test(actual)
      if (!ok) return false
    }
  }
  return true
}

/** Ref, Fn::Join and Fn::Sub over the template's parameters. */
function resolveIntrinsic(value: unknown, parameters: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsic(v, parameters))
  if (typeof value !== 'object' || value === null) return value
  const entries = Object.entries(value)
  if (entries.length === 1) {
    const [[key, argument]] = entries
    if (key === 'Ref') {
      const resolved = parameters[String(argument)]
      if (resolved === undefined) throw new ProvisioningError(400, 'InvalidParameters', `The template refers to ${String(argument)}, which has no value`)
      return resolved
    }
    if (key === 'Fn::Join' && Array.isArray(argument)) {
      const [separator, parts] = argument as [string, unknown[]]
      return parts.map((p) => String(resolveIntrinsic(p, parameters))).join(separator)
    }
    if (key === 'Fn::Sub' && typeof argument === 'string') return argument.replace(/\$\{([^}]+)\}/g, (_, name: string) => parameters[name] ?? '')
  }
  return Object.fromEntries(entries.map(([k, v]) => [k, resolveIntrinsic(v, parameters)]))
}

function unqualified(arn: string): string {
  return /^(arn:[^:]+:lambda:[^:]+:\d{12}:function:[\w-]+)/.exec(arn)?.[1] ?? arn
}

/** Loads `<file>.<export>` from the package as an ES module, as Lambda's Node.js runtime does. */
async function loadHandler(zip: Buffer, handler: string): Promise<HookHandler> {
  const dot = handler.lastIndexOf('.')
  const file = handler.slice(0, dot)
  const exported = handler.slice(dot + 1)
  const files = readZip(zip)
  const source = files.get(`${file}.mjs`) ?? files.get(`${file}.js`)
  if (!source) throw new Error(`Cannot find module '${file}' in the deployment package`)
  const module = (await import(`data:text/javascript;base64,${source.toString('base64')}`)) as Record<string, unknown>
  const fn = module[exported]
  if (typeof fn !== 'function') throw new Error(`${handler} is undefined or not exported`)
  return (event) => Promise.resolve((fn as (e: HookInput) => unknown)(event)).then((r) => (r ?? {}) as HookOutput)
}

function failing(error: Error): HookHandler {
  return () => {
    throw error
  }
}
