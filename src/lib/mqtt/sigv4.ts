// The presigned URL for MQTT over WebSocket into AWS IoT Core, signed with
// Signature Version 4 (service "iotdevicegateway") by the SDK's own signer.
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import {aws} from '../errors.ts'

export interface PresignOptions {
  /** The IoT data endpoint host name (DescribeEndpoint, iot:Data-ATS). */
  endpoint: string
  region: string
  credentials: AwsCredentialIdentityProvider
  /** 'wss' (AWS IoT) or 'ws' (a local test broker). Default 'wss'. */
  scheme?: 'wss' | 'ws'
  /** Default 443 for wss, 80 for ws; a default port is left out of the URL and of the signed Host. */
  port?: number
  /** Default '/mqtt'. */
  path?: string
  /** How long the URL may be used to connect; default 900 s. The connection itself may last longer. */
  expiresInSeconds?: number
  /** The signing time; default now (tests fix it). */
  signingDate?: Date
}

export const iotSigningService = 'iotdevicegateway'

/** Returns the wss:// URL with the SigV4 query parameters, ready for a WebSocket connection. */
export async function presignMqttWebSocketUrl(options: PresignOptions): Promise<string> {
  const scheme = options.scheme ?? 'wss'
  const defaultPort = scheme === 'wss' ? 443 : 80
  const authority = options.port === undefined || options.port === defaultPort ? options.endpoint : `${options.endpoint}:${options.port}`
  const path = options.path ?? '/mqtt'
  const identity = await aws('read AWS credentials to sign the MQTT WebSocket URL', () => options.credentials())
  // Loaded here, not at the top: only WebSocket connections sign anything.
  const [{SignatureV4}, {Sha256}] = await Promise.all([import('@smithy/signature-v4'), import('@aws-crypto/sha256-js')])
  // AWS IoT wants the session token appended after signing, not in the canonical
  // request ("IAM users, groups, and roles" in the AWS IoT Developer Guide: "do not
  // include X-Amz-Security-Token in the canonical query string … append it as a query
  // parameter after the signature has been computed"). The SDK signer would sign it,
  // so it signs with the key pair alone and the token is added below.
  const signer = new SignatureV4({
    service: iotSigningService,
    region: options.region,
    credentials: {accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey},
    sha256: Sha256,
  })
  const signed = await signer.presign(
    {method: 'GET', protocol: `${scheme}:`, hostname: options.endpoint, port: options.port, path, query: {}, headers: {host: authority}},
    {expiresIn: options.expiresInSeconds ?? 900, signingDate: options.signingDate},
  )
  const query = Object.entries(signed.query ?? {}).map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
  if (identity.sessionToken) query.push(`X-Amz-Security-Token=${encodeURIComponent(identity.sessionToken)}`)
  return `${scheme}://${authority}${path}?${query.join('&')}`
}
