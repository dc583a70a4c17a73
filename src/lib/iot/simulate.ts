// What the role must be allowed, asked of IAM itself (iam:SimulatePrincipalPolicy):
// every action AWS IoT takes with the role for the VPC destination, with the
// context keys the documented policy conditions on, and get_secret on the
// exact secret. IAM evaluates every policy of the role (inline, managed,
// boundary), so a policy someone narrowed by hand shows as the denied action.
import type {ContextEntry, IAMClient} from '@aws-sdk/client-iam'
import * as iamapi from '../aws/iam.ts'
import {createTagsContext, destinationEniTag, networkInterfaceArns, vpcDestinationActions, type IotAccount} from './policies.ts'

export interface PermissionCheck {
  action: string
  resource: string
  /** Condition keys as the calling service sets them (all strings here). */
  context?: Record<string, string>
}

export interface PermissionVerdict extends PermissionCheck {
  /** IAM's EvalDecision: allowed, explicitDeny or implicitDeny. */
  decision: string
}

export interface RolePermissionInput {
  account: IotAccount
  /** B's mirrored secret, which get_secret reads. */
  secretArn?: string
  /** The error action's topic, when the rule has one. */
  errorTopicArn?: string
}

/**
 * The calls AWS IoT makes with the role (IoT developer guide, "Apache Kafka
 * Virtual Private Cloud (VPC) destinations": the role's policy and its
 * conditions; https://docs.aws.amazon.com/iot/latest/developerguide/kafka-vpc-destination.html).
 */
export function rolePermissionChecks(input: RolePermissionInput): PermissionCheck[] {
  const interfaces = networkInterfaceArns(input.account)
  const checks: PermissionCheck[] = vpcDestinationActions.map((action) => ({action, resource: '*'}))
  checks.push(
    {action: 'ec2:CreateNetworkInterfacePermission', resource: interfaces, context: {[`ec2:ResourceTag/${destinationEniTag}`]: 'true'}},
    {action: 'ec2:CreateTags', resource: interfaces, context: createTagsContext()},
  )
  if (input.secretArn) checks.push({action: 'secretsmanager:GetSecretValue', resource: input.secretArn})
  if (input.errorTopicArn) checks.push({action: 'iot:Publish', resource: input.errorTopicArn})
  return checks
}

/** `ec2:CreateTags (ec2:CreateAction=CreateNetworkInterface, …) on arn:…` — how a check reads in a finding. */
export function describeCheck(check: PermissionCheck): string {
  const context = Object.entries(check.context ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')
  return `${check.action}${context ? ` (${context})` : ''}${check.resource === '*' ? '' : ` on ${check.resource}`}`
}

function contextEntries(context: Record<string, string> | undefined): ContextEntry[] | undefined {
  const entries = Object.entries(context ?? {})
  return entries.length === 0 ? undefined : entries.map(([ContextKeyName, value]) => ({ContextKeyName, ContextKeyValues: [value], ContextKeyType: 'string'}))
}

/**
 * Simulates each check as the role. Context entries apply to a whole request,
 * so checks are grouped by resource and context: one request per group.
 */
export async function simulateRole(iam: IAMClient, roleArn: string, checks: PermissionCheck[]): Promise<PermissionVerdict[]> {
  const groups = new Map<string, PermissionCheck[]>()
  for (const check of checks) {
    const key = JSON.stringify([check.resource, check.context ?? {}])
    groups.set(key, [...(groups.get(key) ?? []), check])
  }
  const verdicts: PermissionVerdict[] = []
  for (const group of groups.values()) {
    const [{resource, context}] = group
    const decisions = new Map<string, string>()
    const results = await iamapi.simulateAllPrincipalPolicy(iam, {
      PolicySourceArn: roleArn,
      ActionNames: group.map((c) => c.action),
      ResourceArns: [resource],
      ContextEntries: contextEntries(context),
    }, `simulating ${group.map((c) => c.action).join(', ')} as ${roleArn} (iam:SimulatePrincipalPolicy)`)
    for (const result of results) decisions.set((result.EvalActionName ?? '').toLowerCase(), result.EvalDecision ?? 'implicitDeny')
    for (const check of group) verdicts.push({...check, decision: decisions.get(check.action.toLowerCase()) ?? 'implicitDeny'})
  }
  return verdicts
}
