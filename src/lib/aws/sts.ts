// The STS operations iotctl uses, each a typed function over the client
// that AwsAccount.sts() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  GetCallerIdentityCommandInput,
  STSClient,
} from '@aws-sdk/client-sts'
import type {HttpHandlerOptions} from '@smithy/types'
import {send} from './call.ts'

const sdk = () => import('@aws-sdk/client-sts')

export const getCallerIdentity = (sts: STSClient, input: GetCallerIdentityCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => sts.send(new (await sdk()).GetCallerIdentityCommand(input), options))
