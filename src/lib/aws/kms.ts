// The KMS operations iotctl uses, each a typed function over the client
// that AwsAccount.kms() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  CancelKeyDeletionCommandInput,
  CreateAliasCommandInput,
  CreateKeyCommandInput,
  DeleteAliasCommandInput,
  DescribeKeyCommandInput,
  EnableKeyCommandInput,
  GetKeyPolicyCommandInput,
  KeyListEntry,
  KMSClient,
  ListAliasesCommandInput,
  ListResourceTagsCommandInput,
  PutKeyPolicyCommandInput,
  ScheduleKeyDeletionCommandInput,
  UpdateAliasCommandInput,
} from '@aws-sdk/client-kms'
import type {HttpHandlerOptions} from '@smithy/types'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-kms')

export const cancelKeyDeletion = (kms: KMSClient, input: CancelKeyDeletionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).CancelKeyDeletionCommand(input), options))

export const createAlias = (kms: KMSClient, input: CreateAliasCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).CreateAliasCommand(input), options))

export const createKey = (kms: KMSClient, input: CreateKeyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).CreateKeyCommand(input), options))

export const deleteAlias = (kms: KMSClient, input: DeleteAliasCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).DeleteAliasCommand(input), options))

export const describeKey = (kms: KMSClient, input: DescribeKeyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).DescribeKeyCommand(input), options))

export const enableKey = (kms: KMSClient, input: EnableKeyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).EnableKeyCommand(input), options))

export const getKeyPolicy = (kms: KMSClient, input: GetKeyPolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).GetKeyPolicyCommand(input), options))

export const listAliases = (kms: KMSClient, input: ListAliasesCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).ListAliasesCommand(input), options))

export const listResourceTags = (kms: KMSClient, input: ListResourceTagsCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).ListResourceTagsCommand(input), options))

export const putKeyPolicy = (kms: KMSClient, input: PutKeyPolicyCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).PutKeyPolicyCommand(input), options))

export const scheduleKeyDeletion = (kms: KMSClient, input: ScheduleKeyDeletionCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).ScheduleKeyDeletionCommand(input), options))

export const updateAlias = (kms: KMSClient, input: UpdateAliasCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => kms.send(new (await sdk()).UpdateAliasCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every key of the account and region, 1000 a page (the most ListKeys returns). */
export const listAllKeys = (kms: KMSClient, what?: string): Promise<KeyListEntry[]> =>
  collect(what, async () => (await sdk()).paginateListKeys({client: inputPerPage(kms)}, {Limit: 1000}), (page) => page.Keys)
