// Fleet provisioning by claim (issue 18), as steps of the one registry, all in
// the IoT account. Managed (made by `fleet setup`, or `up` with a `fleet` section):
//   fleet-role           the provisioning role IoT assumes (trust iot.amazonaws.com,
//                        managed AWSIoTThingsRegistration; "Provisioning templates")
//   fleet-device-policy  the least-privilege IoT policy every provisioned device gets
//   fleet-hook           the pre-provisioning hook: a permission for IoT on the user's
//                        Lambda (--hook-arn), or the function iotctl ships and its role
//                        (--serial-prefix); nothing without either
//   fleet-template       the provisioning template (thing from SerialNumber, certificate
//                        activated, device policy attached)
// Found (made by other commands, deleted by cleanup):
//   fleet-claim          the claim policy and the claim certificates of `fleet claim-cert`
//   fleet-devices        the things the stack's template provisioned and their certificates
import {createHash} from 'node:crypto'
import * as iamapi from '../aws/iam.ts'
import * as iotapi from '../aws/iot.ts'
import * as lambdaapi from '../aws/lambda.ts'
import {certificateArn, certificateIdOf, createPolicy, deleteCertificate, deletePolicy, deleteThing, getPolicy, policyTargets, thingPrincipals} from '../device/api.ts'
import {awsErrorCode, InputError, isNotFound} from '../errors.ts'
import {isRoleNotUsableYet, retryWhileIamPropagates} from '../iot/propagation.ts'
import {recordBase} from '../plan/context.ts'
import {deleteEach} from '../plan/delete.ts'
import {factKey} from '../plan/facts.ts'
import {hasStackTag, stackMark, stackTagMap, stackTags, type Tag} from '../plan/tags.ts'
import type {FoundStep, LeftInPlace, ResourceRecord, StackSettings, Step, StepContext} from '../plan/types.ts'
import {attachedPolicyArns, createRole, deleteRole, describeTemplate, getFunction, getRole, permissionSids, stackTemplates} from './api.ts'
import {
  devicePolicyDocument, hookFile, hookHandler, hookRuntime, hookSource, hookTrustPolicy, provisioningTrustPolicy, templateBody, type IotHome,
} from './documents.ts'
import {
  checkHookHome, checkRuleName, checkSerialPrefix, checkTemplateName, claimPolicyName, devicePolicyName, fleetAttribute, hookFunctionName, hookRoleName,
  hookStatementId, parseLambdaArn, provisioningRoleName, thingsRegistrationPolicyArn,
} from './names.ts'

export const fleetRoleFact = factKey<string>('fleet.role.arn')
export const fleetDevicePolicyFact = factKey<string>('fleet.device-policy.name')
/** The hook's ARN, or null when the template has none. */
export const fleetHookFact = factKey<string | null>('fleet.hook.arn')
export const fleetTemplateFact = factKey<string>('fleet.template.name')

export interface FleetSettings {
  template?: string
  serialPrefix?: string
  hookArn?: string
  rule?: string
}

export function fleetSettingsOf(settings: StackSettings): FleetSettings {
  return settings.fleet ?? {}
}

/** Whether the settings ask for fleet provisioning (a `fleet` section naming a template): then `up` makes it. */
export function fleetConfigured(settings: StackSettings): boolean {
  return settings.fleet?.template !== undefined
}

/** Checks of the settings alone (exit 2 before any AWS call). */
export function checkFleetSettings(settings: StackSettings): void {
  const fleet = fleetSettingsOf(settings)
  if (fleet.template !== undefined) checkTemplateName(fleet.template)
  if (fleet.serialPrefix !== undefined) checkSerialPrefix(fleet.serialPrefix)
  if (fleet.hookArn !== undefined) parseLambdaArn(fleet.hookArn)
  if (fleet.serialPrefix !== undefined && fleet.hookArn !== undefined) throw new InputError('--serial-prefix and --hook-arn are two kinds of pre-provisioning hook: give one of them')
  if (fleet.rule !== undefined) checkRuleName(fleet.rule, '--basic-ingest-rule')
}

export function iotHomeOf(ctx: StepContext): IotHome {
  const partition = /^arn:([^:]+):/.exec(ctx.identities.iot.arn)?.[1] ?? 'aws'
  return {partition, region: ctx.accounts.iot.region, accountId: ctx.identities.iot.accountId}
}

function templateArnOf(ctx: StepContext, name: string): string {
  const home = iotHomeOf(ctx)
  return `arn:${home.partition}:iot:${home.region}:${home.accountId}:provisioningtemplate/${name}`
}

const record = (ctx: StepContext, step: string, kind: string, id: string, attrs?: Record<string, string>): ResourceRecord =>
  ({step, kind, id, ...recordBase(ctx, 'iot'), ...(attrs ? {attrs} : {})})

function sameJson(a: string, b: object): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(b)
  } catch {
    return false
  }
}

// ---- fleet-role ----------------------------------------------------------------

export const fleetRoleStep: Step = {
  id: 'fleet-role',
  title: 'Provisioning role (fleet)',
  account: 'iot',
  provides: [fleetRoleFact],
  check: checkFleetSettings,
  async validate(ctx) {
    const name = provisioningRoleName(ctx.stack)
    const role = await getRole(await ctx.accounts.iot.iam(), name)
    if (role && !hasStackTag(role.Tags, ctx.stack)) throw new InputError(`IAM role ${name} already exists without the tag ${stackMark(ctx.stack)}: iotctl did not create it; delete or rename it, or use another --stack`)
  },
  async read(ctx) {
    const iam = await ctx.accounts.iot.iam()
    const name = provisioningRoleName(ctx.stack)
    const role = await getRole(iam, name)
    const managed = thingsRegistrationPolicyArn(iotHomeOf(ctx).partition)
    const attach = `attach the managed policy AWSIoTThingsRegistration to ${name}`
    if (!role) return {resources: [], missing: [`create IAM role ${name} trusted by iot.amazonaws.com (aws:SourceAccount ${ctx.identities.iot.accountId})`, attach]}
    if (!hasStackTag(role.Tags, ctx.stack)) return {resources: [], missing: [], notes: [`IAM role ${name} exists but is not the stack's`]}
    const resources = [record(ctx, 'fleet-role', 'iam:role', name, {arn: role.Arn!})]
    const missing = (await attachedPolicyArns(iam, name)).includes(managed) ? [] : [attach]
    if (missing.length === 0) ctx.facts.set(fleetRoleFact, role.Arn!)
    return {resources, missing}
  },
  async create(ctx, observed) {
    const iam = await ctx.accounts.iot.iam()
    const name = provisioningRoleName(ctx.stack)
    let created = observed.resources[0]
    if (!created) {
      const role = await createRole(iam, name, provisioningTrustPolicy(iotHomeOf(ctx)), `${stackMark(ctx.stack)} assumed by AWS IoT to provision devices by claim`, ctx.stack)
      created = record(ctx, 'fleet-role', 'iam:role', name, {arn: role.Arn!})
      ctx.ledger.put(created)
      ctx.checkpoint()
    }
    const managed = thingsRegistrationPolicyArn(iotHomeOf(ctx).partition)
    if (!(await attachedPolicyArns(iam, name)).includes(managed)) {
      await iamapi.attachRolePolicy(iam, {RoleName: name, PolicyArn: managed}, `attaching AWSIoTThingsRegistration to ${name}`)
      ctx.checkpoint()
    }
    ctx.facts.set(fleetRoleFact, created.attrs!.arn)
    return [created]
  },
  async delete(ctx, resources) {
    const iam = await ctx.accounts.iot.iam()
    await deleteEach(ctx, resources, {what: (r) => `deleting IAM role ${r.id}`}, (r) => deleteRole(iam, r.id))
  },
}

// ---- fleet-device-policy ----------------------------------------------------------

function wantedDevicePolicy(ctx: StepContext): object {
  return devicePolicyDocument(iotHomeOf(ctx), fleetSettingsOf(ctx.settings).rule)
}

export const fleetDevicePolicyStep: Step = {
  id: 'fleet-device-policy',
  title: 'Device policy of provisioned devices (fleet)',
  account: 'iot',
  provides: [fleetDevicePolicyFact],
  async validate(ctx) {
    const name = devicePolicyName(ctx.stack)
    const policy = await getPolicy(await ctx.accounts.iot.iot(), name)
    if (policy && !hasStackTag(policy.tags, ctx.stack)) throw new InputError(`IoT policy ${name} already exists without the tag iotctl:stack=${ctx.stack}: delete it or use another --stack`)
  },
  async read(ctx) {
    const name = devicePolicyName(ctx.stack)
    const policy = await getPolicy(await ctx.accounts.iot.iot(), name)
    const rule = fleetSettingsOf(ctx.settings).rule
    const what = `IoT policy ${name}: connect as the thing, publish/receive/subscribe under device/\${iot:ClientId}/…${rule ? `, publish to $aws/rules/${rule}/…` : ''}`
    if (!policy) return {resources: [], missing: [`create ${what}`]}
    if (!hasStackTag(policy.tags, ctx.stack)) return {resources: [], missing: []}
    const resources = [record(ctx, 'fleet-device-policy', 'iot:policy', name, {arn: policy.policyArn})]
    if (!sameJson(policy.document, wantedDevicePolicy(ctx))) return {resources, missing: [`update ${what} (a new default version)`]}
    ctx.facts.set(fleetDevicePolicyFact, name)
    return {resources, missing: []}
  },
  async create(ctx, observed) {
    const iot = await ctx.accounts.iot.iot()
    const name = devicePolicyName(ctx.stack)
    const wanted = wantedDevicePolicy(ctx)
    let existing = observed.resources[0]
    if (!existing) {
      const arn = await createPolicy(iot, name, wanted, ctx.stack)
      existing = record(ctx, 'fleet-device-policy', 'iot:policy', name, {arn})
      ctx.ledger.put(existing)
    } else {
      await replacePolicyDocument(iot, name, wanted)
    }
    ctx.checkpoint()
    ctx.facts.set(fleetDevicePolicyFact, name)
    return [existing]
  },
  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    await deleteEach(ctx, resources, {what: (r) => `deleting policy ${r.id}`}, (r) => deletePolicy(iot, r.id, {checkpoint: () => ctx.checkpoint()}))
  },
}

/** A new default version; IoT keeps at most five, so the oldest non-default ones go first. */
async function replacePolicyDocument(iot: Awaited<ReturnType<StepContext['accounts']['iot']['iot']>>, policyName: string, document: object): Promise<void> {
  const versions = (await iotapi.listPolicyVersions(iot, {policyName}, `listing the versions of ${policyName}`)).policyVersions ?? []
  const old = versions.filter((v) => !v.isDefaultVersion).sort((a, b) => Number(a.versionId) - Number(b.versionId))
  for (const version of old.slice(0, Math.max(0, old.length - 3))) {
    await iotapi.deletePolicyVersion(iot, {policyName, policyVersionId: version.versionId}, `deleting version ${version.versionId} of ${policyName}`)
  }
  await iotapi.createPolicyVersion(iot, {policyName, policyDocument: JSON.stringify(document), setAsDefault: true}, `updating policy ${policyName}`)
}

// ---- fleet-hook -------------------------------------------------------------------

/** The shipped hook's code for the settings' prefix (what --dry-run prints), or undefined without --serial-prefix. */
export function shippedHookCode(stack: string, settings: StackSettings): string | undefined {
  const prefix = fleetSettingsOf(settings).serialPrefix
  return prefix === undefined ? undefined : hookSource(stack, prefix)
}

/** The zip library is loaded only here: up, doctor and cleanup load these steps for every stack, with or without a hook. */
async function hookPackage(stack: string, prefix: string): Promise<Buffer> {
  const {zipStored} = await import('./zip.ts')
  return zipStored({[hookFile]: hookSource(stack, prefix)})
}

/** Lambda reports CodeSha256 as the base64 SHA-256 of the package. */
function packageSha(zip: Buffer): string {
  return createHash('sha256').update(zip).digest('base64')
}

const isLambdaRoleNotReady = (error: unknown): boolean =>
  awsErrorCode(error) === 'InvalidParameterValueException' && /role .*cannot be assumed|assumed by Lambda/i.test((error as Error).message ?? '')

/** Splits a hook ARN into what AddPermission/RemovePermission take. */
function functionOf(arn: string): {FunctionName: string; Qualifier?: string} {
  const parsed = parseLambdaArn(arn)
  return {FunctionName: `arn:${parsed.partition}:lambda:${parsed.region}:${parsed.accountId}:function:${parsed.functionName}`, ...(parsed.qualifier ? {Qualifier: parsed.qualifier} : {})}
}

export const fleetHookStep: Step = {
  id: 'fleet-hook',
  title: 'Pre-provisioning hook (fleet)',
  account: 'iot',
  provides: [fleetHookFact],
  async validate(ctx) {
    const {hookArn, serialPrefix} = fleetSettingsOf(ctx.settings)
    const lambda = await ctx.accounts.iot.lambda()
    if (hookArn !== undefined) {
      checkHookHome(parseLambdaArn(hookArn), hookArn, {region: ctx.accounts.iot.region, accountId: ctx.identities.iot.accountId})
      if (!(await getFunction(lambda, hookArn))) throw new InputError(`--hook-arn ${hookArn}: no such Lambda function in the IoT account`)
    }
    if (serialPrefix !== undefined) {
      const fn = await getFunction(lambda, hookFunctionName(ctx.stack))
      if (fn && !hasStackTag(fn.tags, ctx.stack)) throw new InputError(`Lambda function ${hookFunctionName(ctx.stack)} already exists without the tag iotctl:stack=${ctx.stack}: delete it or use another --stack`)
    }
  },
  async read(ctx) {
    const {hookArn, serialPrefix, template} = fleetSettingsOf(ctx.settings)
    const lambda = await ctx.accounts.iot.lambda()
    const sid = hookStatementId(ctx.stack)
    const resources: ResourceRecord[] = []
    const missing: string[] = []
    const fnName = hookFunctionName(ctx.stack)
    const role = await getRole(await ctx.accounts.iot.iam(), hookRoleName(ctx.stack))
    const ownRole = role && hasStackTag(role.Tags, ctx.stack) ? role : undefined
    if (ownRole) resources.push(record(ctx, 'fleet-hook', 'iam:role', ownRole.RoleName!, {arn: ownRole.Arn!}))
    // Permissions for IoT on users' functions: the settings', the ledger's, and the hooks of the stack's templates.
    const candidates = new Set<string>()
    if (hookArn !== undefined) candidates.add(hookArn)
    for (const r of ctx.ledger.forStep('fleet-hook')) if (r.kind === 'lambda:permission') candidates.add(r.id)
    const templates = await stackTemplates(await ctx.accounts.iot.iot(), ctx.stack)
    for (const t of templates) if (t.hookArn && !t.hookArn.includes(`:function:${fnName}`)) candidates.add(t.hookArn)
    // A stack without any sign of a hook asks Lambda nothing (cleanup of stacks that never used fleet provisioning).
    const anyHook = serialPrefix !== undefined || ownRole !== undefined || candidates.size > 0 || templates.some((t) => t.hookArn) || ctx.ledger.forStep('fleet-hook').length > 0
    if (!anyHook) {
      ctx.facts.set(fleetHookFact, null)
      return {resources, missing: []}
    }
    // The deployed hook, found by name and tag (its role is deleted last, so an interrupted cleanup still finds it).
    const fn = await getFunction(lambda, fnName)
    const ownFunction = fn && hasStackTag(fn.tags, ctx.stack) ? fn : undefined
    if (ownFunction) resources.push(record(ctx, 'fleet-hook', 'lambda:function', fnName, {arn: ownFunction.arn}))
    let userPermission = false
    for (const arn of candidates) {
      const target = functionOf(arn)
      if ((await permissionSids(lambda, target.FunctionName, target.Qualifier)).includes(sid)) {
        resources.push(record(ctx, 'fleet-hook', 'lambda:permission', arn, {sid}))
        if (arn === hookArn) userPermission = true
      }
    }
    let hook: string | null = null
    if (hookArn !== undefined) {
      hook = hookArn
      if (!userPermission) missing.push(`add permission ${sid} to ${hookArn}: iot.amazonaws.com may invoke it for template ${template ?? '(the stack\'s)'}`)
    } else if (serialPrefix !== undefined) {
      const zip = await hookPackage(ctx.stack, serialPrefix)
      if (!role || !hasStackTag(role.Tags, ctx.stack)) missing.push(`create IAM role ${hookRoleName(ctx.stack)} for the hook (trusted by lambda.amazonaws.com, no permissions)`)
      if (!ownFunction) missing.push(`deploy Lambda function ${fnName} allowing serial numbers starting with ${JSON.stringify(serialPrefix)} (its code: --dry-run prints it)`)
      else if (ownFunction.codeSha256 !== packageSha(zip)) missing.push(`update the code of ${fnName}: allow serial numbers starting with ${JSON.stringify(serialPrefix)}`)
      if (!ownFunction || !(await permissionSids(lambda, fnName)).includes(sid)) missing.push(`add permission ${sid} to ${fnName}: iot.amazonaws.com may invoke it`)
      if (ownFunction) hook = ownFunction.arn
    }
    if (missing.length === 0) ctx.facts.set(fleetHookFact, hook)
    return {resources, missing}
  },
  async create(ctx, observed) {
    const {hookArn, serialPrefix, template} = fleetSettingsOf(ctx.settings)
    const lambda = await ctx.accounts.iot.lambda()
    const home = iotHomeOf(ctx)
    const sid = hookStatementId(ctx.stack)
    const resources = [...observed.resources]
    // Confused-deputy prevention: only IoT acting for this account's template ("Pre-provisioning hooks").
    const permission = (target: {FunctionName: string; Qualifier?: string}) => ({
      ...target, StatementId: sid, Action: 'lambda:InvokeFunction', Principal: 'iot.amazonaws.com', SourceAccount: home.accountId,
      SourceArn: templateArnOf(ctx, template ?? '*'),
    })
    if (hookArn !== undefined) {
      const target = functionOf(hookArn)
      if (!(await permissionSids(lambda, target.FunctionName, target.Qualifier)).includes(sid)) {
        await lambdaapi.addPermission(lambda, permission(target), `adding permission ${sid} to ${hookArn}`)
        const r = record(ctx, 'fleet-hook', 'lambda:permission', hookArn, {sid})
        ctx.ledger.put(r)
        resources.push(r)
        ctx.checkpoint()
      }
      ctx.facts.set(fleetHookFact, hookArn)
      return resources
    }
    if (serialPrefix === undefined) {
      ctx.facts.set(fleetHookFact, null)
      return resources
    }
    const iam = await ctx.accounts.iot.iam()
    const roleName = hookRoleName(ctx.stack)
    let roleArn = resources.find((r) => r.kind === 'iam:role')?.attrs?.arn
    if (!roleArn) {
      const role = await createRole(iam, roleName, hookTrustPolicy(), `${stackMark(ctx.stack)} role of the fleet pre-provisioning hook (no permissions)`, ctx.stack)
      roleArn = role.Arn!
      const r = record(ctx, 'fleet-hook', 'iam:role', roleName, {arn: roleArn})
      ctx.ledger.put(r)
      resources.push(r)
      ctx.checkpoint()
    }
    const fnName = hookFunctionName(ctx.stack)
    const zip = await hookPackage(ctx.stack, serialPrefix)
    let fn = await getFunction(lambda, fnName)
    if (!fn) {
      const created = await retryWhileIamPropagates(
        () => lambdaapi.createFunction(lambda, {
          FunctionName: fnName, Runtime: hookRuntime, Handler: hookHandler, Role: roleArn, Code: {ZipFile: zip},
          Description: `${stackMark(ctx.stack)} fleet pre-provisioning hook: serial numbers starting with ${serialPrefix}`, Timeout: 5, Tags: stackTagMap(ctx.stack),
        }),
        {transient: isLambdaRoleNotReady, what: `IAM to let Lambda assume ${roleName}`, progress: ctx.progress, checkpoint: ctx.checkpoint},
      ).catch((error: unknown) => {
        throw isNotFound(error) ? error : Object.assign(error as Error, {message: `deploying Lambda function ${fnName}: ${(error as Error).message}`})
      })
      fn = {arn: created.FunctionArn!, tags: stackTagMap(ctx.stack)}
      const r = record(ctx, 'fleet-hook', 'lambda:function', fnName, {arn: fn.arn})
      ctx.ledger.put(r)
      resources.push(r)
      ctx.checkpoint()
    } else if (fn.codeSha256 !== packageSha(zip)) {
      await lambdaapi.updateFunctionCode(lambda, {FunctionName: fnName, ZipFile: zip}, `updating the code of ${fnName}`)
      ctx.checkpoint()
    }
    if (!(await permissionSids(lambda, fnName)).includes(sid)) {
      await lambdaapi.addPermission(lambda, permission({FunctionName: fnName}), `adding permission ${sid} to ${fnName}`)
      ctx.checkpoint()
    }
    ctx.facts.set(fleetHookFact, fn.arn)
    return resources
  },
  async delete(ctx, resources) {
    const lambda = await ctx.accounts.iot.lambda()
    const iam = await ctx.accounts.iot.iam()
    const ofKind = (kind: string) => resources.filter((r) => r.kind === kind)
    await deleteEach(ctx, ofKind('lambda:permission'), {what: (r) => `removing permission ${r.attrs?.sid} from ${r.id}`}, async (r) => {
      await lambdaapi.removePermission(lambda, {...functionOf(r.id), StatementId: r.attrs?.sid ?? hookStatementId(ctx.stack)})
    })
    // The deployed function's permission goes with it.
    await deleteEach(ctx, ofKind('lambda:function'), {what: (r) => `deleting Lambda function ${r.id}`}, (r) => lambdaapi.deleteFunction(lambda, {FunctionName: r.id}))
    await deleteEach(ctx, ofKind('iam:role'), {what: (r) => `deleting IAM role ${r.id}`}, (r) => deleteRole(iam, r.id))
  },
}

// ---- fleet-template ------------------------------------------------------------------

function wantedTemplate(ctx: StepContext): {body: string; roleArn?: string; hookArn: string | null | undefined} {
  return {body: templateBody(ctx.stack, devicePolicyName(ctx.stack)), roleArn: ctx.facts.get(fleetRoleFact), hookArn: ctx.facts.get(fleetHookFact)}
}

export const fleetTemplateStep: Step = {
  id: 'fleet-template',
  title: 'Provisioning template (fleet)',
  account: 'iot',
  needs: [fleetRoleFact, fleetDevicePolicyFact, fleetHookFact],
  provides: [fleetTemplateFact],
  async validate(ctx) {
    const name = fleetSettingsOf(ctx.settings).template
    if (name === undefined) return
    const existing = await describeTemplate(await ctx.accounts.iot.iot(), name)
    if (existing && !hasStackTag(existing.tags, ctx.stack)) throw new InputError(`--template ${name}: a provisioning template of that name already exists without the tag iotctl:stack=${ctx.stack}: iotctl did not create it; choose another name`)
  },
  async read(ctx) {
    const name = fleetSettingsOf(ctx.settings).template
    const found = await stackTemplates(await ctx.accounts.iot.iot(), ctx.stack)
    const resources = found.map((t) => record(ctx, 'fleet-template', 'iot:provisioning-template', t.name, {arn: t.arn}))
    if (name === undefined) return {resources, missing: []}
    const current = found.find((t) => t.name === name)
    const wanted = wantedTemplate(ctx)
    const hook = fleetSettingsOf(ctx.settings).hookArn ?? (fleetSettingsOf(ctx.settings).serialPrefix ? hookFunctionName(ctx.stack) : undefined)
    const what = `provisioning template ${name} (role ${provisioningRoleName(ctx.stack)}, policy ${devicePolicyName(ctx.stack)}${hook ? `, hook ${hook}` : ', no hook'})`
    if (!current) return {resources, missing: [`create ${what}`]}
    const differs = current.body === undefined || !sameJson(current.body, JSON.parse(wanted.body) as object)
      || (wanted.roleArn !== undefined && current.roleArn !== wanted.roleArn)
      || (wanted.hookArn !== undefined && (current.hookArn ?? null) !== wanted.hookArn)
      || (wanted.hookArn === undefined && hook === undefined && current.hookArn !== undefined)
      || current.enabled === false
    if (differs) return {resources, missing: [`replace ${what}`]}
    ctx.facts.set(fleetTemplateFact, name)
    return {resources, missing: []}
  },
  async create(ctx, observed) {
    const iot = await ctx.accounts.iot.iot()
    const name = fleetSettingsOf(ctx.settings).template
    if (name === undefined) throw new InputError('--template is required (or fleet.template in iotctl.json)')
    const wanted = wantedTemplate(ctx)
    if (!wanted.roleArn) throw new InputError(`the provisioning role ${provisioningRoleName(ctx.stack)} is not ready: run \`iotctl fleet setup\` again`)
    const resources = observed.resources.filter((r) => r.id !== name)
    // A template's body changes through versions and its hook through UpdateProvisioningTemplate; replacing it keeps one path.
    if (observed.resources.some((r) => r.id === name)) {
      await iotapi.deleteProvisioningTemplate(iot, {templateName: name}, `deleting provisioning template ${name} to replace it`)
      ctx.checkpoint()
    }
    const answer = await retryWhileIamPropagates(
      () => iotapi.createProvisioningTemplate(iot, {
        templateName: name,
        description: `${stackMark(ctx.stack)} fleet provisioning by claim`,
        templateBody: wanted.body,
        enabled: true,
        provisioningRoleArn: wanted.roleArn,
        ...(wanted.hookArn ? {preProvisioningHook: {targetArn: wanted.hookArn, payloadVersion: '2020-04-01'}} : {}),
        tags: stackTags(ctx.stack),
        type: 'FLEET_PROVISIONING',
      }),
      {transient: isRoleNotUsableYet, what: `IAM to let AWS IoT assume ${provisioningRoleName(ctx.stack)}`, progress: ctx.progress, checkpoint: ctx.checkpoint},
    ).catch((error: unknown) => {
      throw Object.assign(error as Error, {message: `creating provisioning template ${name}: ${(error as Error).message}`})
    })
    const r = record(ctx, 'fleet-template', 'iot:provisioning-template', name, {arn: answer.templateArn!})
    ctx.ledger.put(r)
    ctx.checkpoint()
    ctx.facts.set(fleetTemplateFact, name)
    return [...resources, r]
  },
  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    await deleteEach(ctx, resources, {what: (r) => `deleting provisioning template ${r.id}`}, (r) => iotapi.deleteProvisioningTemplate(iot, {templateName: r.id}))
  },
}

// ---- fleet-claim (found) ---------------------------------------------------------------

/** Claim certificates take no tags: `fleet claim-cert` marks each on the stack's claim policy with this tag key. */
export const claimMarkPrefix = 'iotctl:claim-cert:'

export function claimMarks(tags: Tag[]): string[] {
  return tags.filter((t) => t.Key?.startsWith(claimMarkPrefix)).map((t) => t.Key!.slice(claimMarkPrefix.length))
}

export const fleetClaimStep: FoundStep = {
  id: 'fleet-claim',
  title: 'Claim certificates and policy (fleet claim-cert)',
  account: 'iot',
  needs: [fleetTemplateFact],
  async read(ctx) {
    const iot = await ctx.accounts.iot.iot()
    const name = claimPolicyName(ctx.stack)
    const policy = await getPolicy(iot, name)
    if (!policy || !hasStackTag(policy.tags, ctx.stack)) return {resources: [], missing: []}
    const marked = new Set(claimMarks(policy.tags))
    const resources: ResourceRecord[] = []
    const leftInPlace: LeftInPlace[] = []
    const seen = new Set<string>()
    for (const target of await policyTargets(iot, name)) {
      const id = certificateIdOf(target)
      if (!id) continue
      seen.add(id)
      if (marked.has(id)) resources.push(record(ctx, 'fleet-claim', 'iot:certificate', id, {arn: target}))
      else leftInPlace.push({kind: 'iot:certificate', id, account: 'iot', reason: `not made by \`fleet claim-cert\` of stack '${ctx.stack}': only detached from policy ${name}`})
    }
    for (const id of marked) {
      if (seen.has(id)) continue
      const arn = await certificateArn(iot, id)
      if (arn) resources.push(record(ctx, 'fleet-claim', 'iot:certificate', id, {arn}))
    }
    resources.push(record(ctx, 'fleet-claim', 'iot:policy', name, {arn: policy.policyArn}))
    return {resources, missing: [], ...(leftInPlace.length > 0 ? {leftInPlace} : {})}
  },
  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    const options = {checkpoint: () => ctx.checkpoint()}
    await deleteEach(ctx, resources.filter((r) => r.kind === 'iot:certificate'), {what: (r) => `deleting claim certificate ${r.id}`}, (r) => deleteCertificate(iot, r.id, r.attrs!.arn, options))
    await deleteEach(ctx, resources.filter((r) => r.kind === 'iot:policy'), {what: (r) => `deleting policy ${r.id}`}, (r) => deletePolicy(iot, r.id, options))
  },
}

// ---- fleet-devices (found) ----------------------------------------------------------------

export const fleetDevicesStep: FoundStep = {
  id: 'fleet-devices',
  title: 'Provisioned things and certificates (fleet)',
  account: 'iot',
  needs: [fleetDevicePolicyFact],
  async read(ctx) {
    const iot = await ctx.accounts.iot.iot()
    const things = (await iotapi.listAllThingsWithAttribute(iot, fleetAttribute, ctx.stack, 'listing the provisioned things'))
      .filter((t) => t.thingName && t.attributes?.[fleetAttribute] === ctx.stack)
    const certificates: ResourceRecord[] = []
    for (const thing of things) {
      for (const principal of await thingPrincipals(iot, thing.thingName!)) {
        const id = certificateIdOf(principal)
        if (id && !certificates.some((c) => c.id === id)) certificates.push(record(ctx, 'fleet-devices', 'iot:certificate', id, {arn: principal, thing: thing.thingName!}))
      }
    }
    return {resources: [...certificates, ...things.map((t) => record(ctx, 'fleet-devices', 'iot:thing', t.thingName!))], missing: []}
  },
  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    const options = {checkpoint: () => ctx.checkpoint()}
    await deleteEach(ctx, resources.filter((r) => r.kind === 'iot:certificate'), {what: (r) => `deleting certificate ${r.id}`}, async (r) => {
      ctx.progress(`deactivating, detaching and deleting certificate ${r.id}`)
      await deleteCertificate(iot, r.id, r.attrs!.arn, options)
    })
    await deleteEach(ctx, resources.filter((r) => r.kind === 'iot:thing'), {what: (r) => `deleting thing ${r.id}`}, (r) => deleteThing(iot, r.id, options))
  },
}

export const fleetSteps = [fleetRoleStep, fleetDevicePolicyStep, fleetHookStep, fleetTemplateStep] as const
export const fleetFoundSteps = [fleetClaimStep, fleetDevicesStep] as const
export const fleetStepIds: readonly string[] = fleetSteps.map((s) => s.id)
