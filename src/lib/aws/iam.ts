// The IAM operations iotctl uses, each a typed function over the client
// that AwsAccount.iam() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  AttachRolePolicyCommandInput,
  CreateRoleCommandInput,
  DeleteRoleCommandInput,
  DeleteRolePolicyCommandInput,
  DetachRolePolicyCommandInput,
  EvaluationResult,
  GetRoleCommandInput,
  GetRolePolicyCommandInput,
  IAMClient,
  ListAttachedRolePoliciesCommandInput,
  ListRolePoliciesCommandInput,
  PutRolePolicyCommandInput,
  Role,
  SimulatePrincipalPolicyCommandInput,
  UpdateAssumeRolePolicyCommandInput,
} from '@aws-sdk/client-iam'
import type {HttpHandlerOptions} from '@smithy/types'
import {awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-iam')

export const attachRolePolicy = (iam: IAMClient, input: AttachRolePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).AttachRolePolicyCommand(input), options))

export const createRole = (iam: IAMClient, input: CreateRoleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).CreateRoleCommand(input), options))

export const deleteRole = (iam: IAMClient, input: DeleteRoleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).DeleteRoleCommand(input), options))

export const deleteRolePolicy = (iam: IAMClient, input: DeleteRolePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).DeleteRolePolicyCommand(input), options))

export const detachRolePolicy = (iam: IAMClient, input: DetachRolePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).DetachRolePolicyCommand(input), options))

export const getRole = (iam: IAMClient, input: GetRoleCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).GetRoleCommand(input), options))

export const getRolePolicy = (iam: IAMClient, input: GetRolePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).GetRolePolicyCommand(input), options))

export const listAttachedRolePolicies = (iam: IAMClient, input: ListAttachedRolePoliciesCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).ListAttachedRolePoliciesCommand(input), options))

export const listRolePolicies = (iam: IAMClient, input: ListRolePoliciesCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).ListRolePoliciesCommand(input), options))

export const putRolePolicy = (iam: IAMClient, input: PutRolePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).PutRolePolicyCommand(input), options))

export const updateAssumeRolePolicy = (iam: IAMClient, input: UpdateAssumeRolePolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => iam.send(new (await sdk()).UpdateAssumeRolePolicyCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every evaluation result of a policy simulation. */
export const simulateAllPrincipalPolicy = (iam: IAMClient, input: SimulatePrincipalPolicyCommandInput, what?: string): Promise<EvaluationResult[]> =>
  collect(what, async () => (await sdk()).paginateSimulatePrincipalPolicy({client: inputPerPage(iam)}, {...input}), (page) => page.EvaluationResults)

/**
 * Deletes role `name` with its inline and attached policies first (IAM refuses to
 * delete a role that still has any: DeleteConflict); a role already gone is done.
 */
export async function deleteRoleAndPolicies(iam: IAMClient, name: string, account: string): Promise<void> {
  try {
    for (const policyName of (await listRolePolicies(iam, {RoleName: name})).PolicyNames ?? []) {
      await deleteRolePolicy(iam, {RoleName: name, PolicyName: policyName})
    }
    for (const attached of (await listAttachedRolePolicies(iam, {RoleName: name})).AttachedPolicies ?? []) {
      await detachRolePolicy(iam, {RoleName: name, PolicyArn: attached.PolicyArn})
    }
    await deleteRole(iam, {RoleName: name})
  } catch (error) {
    if (!isNotFound(error)) throw toAwsError(`deleting IAM role ${name} (${account} account)`, error)
  }
}

/** Role `name`, or undefined when IAM does not know it. */
export async function findRole(iam: IAMClient, name: string, account: string): Promise<Role | undefined> {
  try {
    return (await getRole(iam, {RoleName: name})).Role
  } catch (error) {
    if (awsErrorCode(error) === 'NoSuchEntity' || awsErrorCode(error) === 'NoSuchEntityException') return undefined
    throw toAwsError(`reading IAM role ${name} (${account} account)`, error)
  }
}
