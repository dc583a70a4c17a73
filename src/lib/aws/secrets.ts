// The Secrets Manager operations iotctl uses, each a typed function over the client
// that AwsAccount.secrets() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  CreateSecretCommandInput,
  DeleteSecretCommandInput,
  DescribeSecretCommandInput,
  GetSecretValueCommandInput,
  PutSecretValueCommandInput,
  RestoreSecretCommandInput,
  UpdateSecretCommandInput,
  Filter,
  SecretListEntry,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import {collect, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-secrets-manager')

export const createSecret = (secrets: SecretsManagerClient, input: CreateSecretCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).CreateSecretCommand(input)))

export const deleteSecret = (secrets: SecretsManagerClient, input: DeleteSecretCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).DeleteSecretCommand(input)))

export const describeSecret = (secrets: SecretsManagerClient, input: DescribeSecretCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).DescribeSecretCommand(input)))

export const getSecretValue = (secrets: SecretsManagerClient, input: GetSecretValueCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).GetSecretValueCommand(input)))

export const putSecretValue = (secrets: SecretsManagerClient, input: PutSecretValueCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).PutSecretValueCommand(input)))

export const restoreSecret = (secrets: SecretsManagerClient, input: RestoreSecretCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).RestoreSecretCommand(input)))

export const updateSecret = (secrets: SecretsManagerClient, input: UpdateSecretCommandInput, what?: string) =>
  send(what, async () => secrets.send(new (await sdk()).UpdateSecretCommand(input)))

// Lists, every page through the SDK's paginator.

/** Every secret the filters match, those scheduled for deletion included. */
export const listAllSecrets = (secrets: SecretsManagerClient, filters: Filter[], what?: string): Promise<SecretListEntry[]> =>
  collect(what, async () => (await sdk()).paginateListSecrets({client: secrets}, {Filters: filters, IncludePlannedDeletion: true}), (page) => page.SecretList)
