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
  ListAliasesCommandInput,
  ListResourceTagsCommandInput,
  PutKeyPolicyCommandInput,
  ScheduleKeyDeletionCommandInput,
  UpdateAliasCommandInput,
  KMSClient,
  KeyListEntry,
} from '@aws-sdk/client-kms'
import {collect, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-kms')

export const cancelKeyDeletion = (kms: KMSClient, input: CancelKeyDeletionCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).CancelKeyDeletionCommand(input)))

export const createAlias = (kms: KMSClient, input: CreateAliasCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).CreateAliasCommand(input)))

export const createKey = (kms: KMSClient, input: CreateKeyCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).CreateKeyCommand(input)))

export const deleteAlias = (kms: KMSClient, input: DeleteAliasCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).DeleteAliasCommand(input)))

export const describeKey = (kms: KMSClient, input: DescribeKeyCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).DescribeKeyCommand(input)))

export const enableKey = (kms: KMSClient, input: EnableKeyCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).EnableKeyCommand(input)))

export const getKeyPolicy = (kms: KMSClient, input: GetKeyPolicyCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).GetKeyPolicyCommand(input)))

export const listAliases = (kms: KMSClient, input: ListAliasesCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).ListAliasesCommand(input)))

export const listResourceTags = (kms: KMSClient, input: ListResourceTagsCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).ListResourceTagsCommand(input)))

export const putKeyPolicy = (kms: KMSClient, input: PutKeyPolicyCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).PutKeyPolicyCommand(input)))

export const scheduleKeyDeletion = (kms: KMSClient, input: ScheduleKeyDeletionCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).ScheduleKeyDeletionCommand(input)))

export const updateAlias = (kms: KMSClient, input: UpdateAliasCommandInput, what?: string) =>
  send(what, async () => kms.send(new (await sdk()).UpdateAliasCommand(input)))

// Lists, every page through the SDK's paginator.

/** Every key of the account and region, 1000 a page (the most ListKeys returns). */
export const listAllKeys = (kms: KMSClient, what?: string): Promise<KeyListEntry[]> =>
  collect(what, async () => (await sdk()).paginateListKeys({client: kms}, {Limit: 1000}), (page) => page.Keys)
