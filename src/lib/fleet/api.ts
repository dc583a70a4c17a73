// What the fleet steps ask AWS, on top of src/lib/aws: the stack's provisioning
// templates (found by tag), Lambda resource-policy statements, roles.
import type {IAMClient, Role} from '@aws-sdk/client-iam'
import type {IoTClient} from '@aws-sdk/client-iot'
import type {LambdaClient} from '@aws-sdk/client-lambda'
import * as iamapi from '../aws/iam.ts'
import * as iotapi from '../aws/iot.ts'
import * as lambdaapi from '../aws/lambda.ts'
import {isNotFound, toAwsError} from '../errors.ts'
import {hasStackTag, stackTags, type Tag} from '../plan/tags.ts'

export interface StackTemplate {
  name: string
  arn: string
  roleArn?: string
  hookArn?: string
  body?: string
  enabled?: boolean
  tags: Tag[]
}

/** The template of that name, or undefined. */
export async function describeTemplate(iot: IoTClient, name: string): Promise<StackTemplate | undefined> {
  try {
    const t = await iotapi.describeProvisioningTemplate(iot, {templateName: name})
    const tags = await iotapi.listAllTagsForResource(iot, t.templateArn!, `listing the tags of template ${name}`)
    return {
      name, arn: t.templateArn!, tags,
      ...(t.provisioningRoleArn ? {roleArn: t.provisioningRoleArn} : {}),
      ...(t.preProvisioningHook?.targetArn ? {hookArn: t.preProvisioningHook.targetArn} : {}),
      ...(t.templateBody ? {body: t.templateBody} : {}),
      ...(t.enabled === undefined ? {} : {enabled: t.enabled}),
    }
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading provisioning template ${name}`, error)
  }
}

/** Every provisioning template that carries the stack's tag, described. */
export async function stackTemplates(iot: IoTClient, stack: string): Promise<StackTemplate[]> {
  const all = await iotapi.listAllProvisioningTemplates(iot, 'listing provisioning templates')
  const found: StackTemplate[] = []
  for (const summary of all) {
    if (!summary.templateName) continue
    const template = await describeTemplate(iot, summary.templateName)
    if (template && hasStackTag(template.tags, stack)) found.push(template)
  }
  return found
}

export const getRole = (iam: IAMClient, name: string): Promise<Role | undefined> => iamapi.findRole(iam, name, 'IoT')

export async function createRole(iam: IAMClient, name: string, trust: object, description: string, stack: string): Promise<Role> {
  const created = await iamapi.createRole(iam, {RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust), Description: description, Tags: stackTags(stack)}, `creating IAM role ${name} (IoT account)`)
  return created.Role!
}

/** Detaches and deletes every policy of the role, then the role; a role already gone is done. */
export const deleteRole = (iam: IAMClient, name: string): Promise<void> => iamapi.deleteRoleAndPolicies(iam, name, 'IoT')

export async function attachedPolicyArns(iam: IAMClient, name: string): Promise<string[]> {
  const answer = await iamapi.listAttachedRolePolicies(iam, {RoleName: name}, `listing the policies of ${name}`)
  return (answer.AttachedPolicies ?? []).map((p) => p.PolicyArn ?? '')
}

export interface LambdaFunction {
  arn: string
  codeSha256?: string
  tags: Record<string, string>
}

export async function getFunction(lambda: LambdaClient, name: string): Promise<LambdaFunction | undefined> {
  try {
    const answer = await lambdaapi.getFunction(lambda, {FunctionName: name})
    return {arn: answer.Configuration!.FunctionArn!, ...(answer.Configuration?.CodeSha256 ? {codeSha256: answer.Configuration.CodeSha256} : {}), tags: answer.Tags ?? {}}
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading Lambda function ${name}`, error)
  }
}

/** The statement ids of the function's resource policy; empty when it has none (or the function is gone). */
export async function permissionSids(lambda: LambdaClient, functionName: string, qualifier?: string): Promise<string[]> {
  try {
    const answer = await lambdaapi.getPolicy(lambda, {FunctionName: functionName, ...(qualifier ? {Qualifier: qualifier} : {})})
    const policy = JSON.parse(answer.Policy ?? '{}') as {Statement?: {Sid?: string}[]}
    return (policy.Statement ?? []).map((s) => s.Sid ?? '')
  } catch (error) {
    if (isNotFound(error)) return []
    throw toAwsError(`reading the resource policy of ${functionName}`, error)
  }
}
