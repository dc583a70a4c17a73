// The Secrets Manager operations iotctl uses, each a typed function over the client
// that AwsAccount.secrets() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  CreateSecretCommandInput,
  DeleteSecretCommandInput,
  DescribeSecretCommandInput,
  Filter,
  GetSecretValueCommandInput,
  PutSecretValueCommandInput,
  RestoreSecretCommandInput,
  SecretListEntry,
  SecretsManagerClient,
  UpdateSecretCommandInput,
} from '@aws-sdk/client-secrets-manager'
import type {HttpHandlerOptions} from '@smithy/types'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-secrets-manager')

export const createSecret = (secrets: SecretsManagerClient, input: CreateSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).CreateSecretCommand(input), options))

export const deleteSecret = (secrets: SecretsManagerClient, input: DeleteSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).DeleteSecretCommand(input), options))

export const describeSecret = (secrets: SecretsManagerClient, input: DescribeSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).DescribeSecretCommand(input), options))

export const getSecretValue = (secrets: SecretsManagerClient, input: GetSecretValueCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).GetSecretValueCommand(input), options))

export const putSecretValue = (secrets: SecretsManagerClient, input: PutSecretValueCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).PutSecretValueCommand(input), options))

export const restoreSecret = (secrets: SecretsManagerClient, input: RestoreSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).RestoreSecretCommand(input), options))

export const updateSecret = (secrets: SecretsManagerClient, input: UpdateSecretCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => secrets.send(new (await sdk()).UpdateSecretCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every secret the filters match, those scheduled for deletion included. */
export const listAllSecrets = (secrets: SecretsManagerClient, filters: Filter[], what?: string): Promise<SecretListEntry[]> =>
  collect(what, async () => (await sdk()).paginateListSecrets({client: inputPerPage(secrets)}, {Filters: filters, IncludePlannedDeletion: true}), (page) => page.SecretList)
