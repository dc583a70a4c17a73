// The IoT secure tunneling operations iotctl uses, each a typed function over the client
// that AwsAccount.tunneling() hands out; `what` labels a failure (call.ts). The SDK
// module loads on first use, so importing this file loads none of it.
import type {
  CloseTunnelCommandInput,
  DescribeTunnelCommandInput,
  IoTSecureTunnelingClient,
  ListTunnelsCommandInput,
  OpenTunnelCommandInput,
  RotateTunnelAccessTokenCommandInput,
  TunnelSummary,
} from '@aws-sdk/client-iotsecuretunneling'
import type {HttpHandlerOptions} from '@smithy/types'
import {collect, inputPerPage, send} from './call.ts'

const sdk = () => import('@aws-sdk/client-iotsecuretunneling')

export const closeTunnel = (tunneling: IoTSecureTunnelingClient, input: CloseTunnelCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => tunneling.send(new (await sdk()).CloseTunnelCommand(input), options))

export const describeTunnel = (tunneling: IoTSecureTunnelingClient, input: DescribeTunnelCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => tunneling.send(new (await sdk()).DescribeTunnelCommand(input), options))

export const openTunnel = (tunneling: IoTSecureTunnelingClient, input: OpenTunnelCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => tunneling.send(new (await sdk()).OpenTunnelCommand(input), options))

export const rotateTunnelAccessToken = (tunneling: IoTSecureTunnelingClient, input: RotateTunnelAccessTokenCommandInput, what?: string, options?: HttpHandlerOptions) =>
  send(what, async () => tunneling.send(new (await sdk()).RotateTunnelAccessTokenCommand(input), options))

// Lists, every page through the SDK's paginator.

/** Every tunnel summary ListTunnels returns for the filters (newest first). */
export const listAllTunnels = (tunneling: IoTSecureTunnelingClient, input: Omit<ListTunnelsCommandInput, 'nextToken'>, what?: string): Promise<TunnelSummary[]> =>
  collect(what, async () => (await sdk()).paginateListTunnels({client: inputPerPage(tunneling)}, {...input}), (page) => page.tunnelSummaries)
