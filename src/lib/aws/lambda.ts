// The Lambda operations iotctl uses (the fleet provisioning hook), each a typed
// function over the client that AwsAccount.lambda() hands out; `what` labels a
// failure (call.ts). The SDK module loads on first use.
import type {
  AddPermissionCommandInput,
  CreateFunctionCommandInput,
  DeleteFunctionCommandInput,
  GetFunctionCommandInput,
  GetPolicyCommandInput,
  LambdaClient,
  RemovePermissionCommandInput,
  UpdateFunctionCodeCommandInput,
} from '@aws-sdk/client-lambda'
import type {HttpHandlerOptions} from '@smithy/types'
import {send} from './call.ts'

const sdk = () => import('@aws-sdk/client-lambda')

export const addPermission = (lambda: LambdaClient, input: AddPermissionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).AddPermissionCommand(input), options))

export const createFunction = (lambda: LambdaClient, input: CreateFunctionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).CreateFunctionCommand(input), options))

export const deleteFunction = (lambda: LambdaClient, input: DeleteFunctionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).DeleteFunctionCommand(input), options))

export const getFunction = (lambda: LambdaClient, input: GetFunctionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).GetFunctionCommand(input), options))

export const getPolicy = (lambda: LambdaClient, input: GetPolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).GetPolicyCommand(input), options))

export const removePermission = (lambda: LambdaClient, input: RemovePermissionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).RemovePermissionCommand(input), options))

export const updateFunctionCode = (lambda: LambdaClient, input: UpdateFunctionCodeCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => lambda.send(new (await sdk()).UpdateFunctionCodeCommand(input), options))
