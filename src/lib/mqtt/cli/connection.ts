// From the flags of `mqtt publish | subscribe | load` to a checked MqttConnection:
// mutual TLS when --cert/--key are given, else MQTT over a SigV4-signed WebSocket
// with the profile's credentials; the endpoint from --endpoint or DescribeEndpoint
// (iot:Data-ATS). Every file and value is checked before anything goes on the
// network; the account is opened only when it is needed (WebSocket credentials,
// endpoint discovery) or named (a profile, for reading topic rules).
import {randomBytes} from 'node:crypto'
import {basename} from 'node:path'
import {AwsAccount} from '../../aws/account.ts'
import type {LoadedSettings} from '../../config/settings.ts'
import {InputError} from '../../errors.ts'
import {type ConnectionOptions, describeIotDataEndpoint, type MqttConnection, prepareConnection} from '../index.ts'
import {caBundleOf, dataPlanePort} from '../local-endpoint.ts'
import {parseEndpoint, type ParsedEndpoint} from './endpoint.ts'

export interface ConnectionFlagValues {
  endpoint?: string
  cert?: string
  key?: string
  ca?: string
  'client-id'?: string
}

export interface ResolvedConnection {
  connection: MqttConnection
  /** The IoT account, when one was opened or a profile is configured (for reading topic rules). */
  account?: AwsAccount
  /** True when a profile is named (--profile, the config, AWS_PROFILE): rules are worth reading. */
  profileConfigured: boolean
  /** How the endpoint was found. */
  endpointSource: 'flag' | 'DescribeEndpoint'
}

/** The default client id: the thing name of a `<thing>.cert.pem` from `device create`, else iotctl-<random>. */
export function defaultClientId(cert: string | undefined, prefix = 'iotctl'): string {
  const thing = cert === undefined ? undefined : /^(.+)\.cert\.pem$/.exec(basename(cert))?.[1]
  return thing ?? `${prefix}-${randomBytes(4).toString('hex')}`
}

// A stand-in host for checking certificates and keys before the real endpoint is known.
const placeholderHost = 'endpoint.invalid'

function connectionOptions(flags: ConnectionFlagValues, parsed: ParsedEndpoint | undefined, host: string, clientId: string, account: AwsAccount | undefined): ConnectionOptions {
  // The local convention (../mqtt/local-endpoint.ts): port and CA from the
  // environment when it names this host; nothing changes against AWS.
  const testTransport = parsed?.scheme === 'mqtt' || parsed?.scheme === 'ws' || host === placeholderHost
  const port = parsed?.port ?? (testTransport ? undefined : dataPlanePort(host))
  flags = {...flags, ca: caBundleOf(flags.ca)}
  if (flags.cert !== undefined || flags.key !== undefined) {
    if (flags.cert === undefined || flags.key === undefined) throw new InputError('mutual TLS needs both --cert and --key')
    if (parsed?.scheme !== undefined && parsed.scheme !== 'mqtts') {
      throw new InputError(`--cert and --key connect with mutual TLS: --endpoint must be host[:port] or mqtts://host:port, not ${parsed.scheme}://`)
    }
    return {kind: 'mtls', endpoint: host, clientId, cert: flags.cert, key: flags.key, ...(port === undefined ? {} : {port}), ...(flags.ca === undefined ? {} : {ca: flags.ca})}
  }
  if (parsed?.scheme === 'mqtts') throw new InputError('mqtts:// (mutual TLS) needs --cert and --key; without them iotctl connects over a SigV4-signed WebSocket (wss://)')
  if (parsed?.scheme === 'mqtt') return {kind: 'tcp', endpoint: host, clientId, ...(port === undefined ? {} : {port})}
  if (!account) throw new Error('internal: a WebSocket connection needs the account')
  return {
    kind: 'websocket',
    endpoint: host,
    region: account.region,
    credentials: async () => (await account.credentials())(),
    clientId,
    scheme: parsed?.scheme === 'ws' ? 'ws' : 'wss',
    ...(port === undefined ? {} : {port}),
    ...(parsed?.path === undefined ? {} : {path: parsed.path}),
    ...(flags.ca === undefined ? {} : {ca: flags.ca}),
  }
}

/**
 * Checks the flags and files (InputError, exit 2), then finds the endpoint. The only
 * AWS call it may make is DescribeEndpoint (read-only), after every check passed.
 */
export async function resolveConnection(loaded: LoadedSettings, flags: ConnectionFlagValues, openAccount: () => Promise<AwsAccount>, options: {clientId?: string} = {}): Promise<ResolvedConnection> {
  const parsed = flags.endpoint === undefined ? undefined : parseEndpoint(flags.endpoint)
  const clientId = flags['client-id'] ?? options.clientId ?? defaultClientId(flags.cert)
  const {settings} = loaded
  const profile = settings.iot?.profile
  const profileConfigured = profile !== undefined || process.env.AWS_PROFILE !== undefined
  const mutualTls = flags.cert !== undefined || flags.key !== undefined
  const needsAccount = !parsed || (!mutualTls && parsed.scheme !== 'mqtt')
  const account = needsAccount || profileConfigured ? await openAccount() : undefined
  // Files first (certificate and key match, CA parses), with a stand-in host when the endpoint is still unknown.
  let connection = await prepareConnection(connectionOptions(flags, parsed, parsed?.host ?? placeholderHost, clientId, account))
  if (parsed) return {connection, ...(account ? {account} : {}), profileConfigured, endpointSource: 'flag'}
  const host = await describeIotDataEndpoint(await (account as AwsAccount).iot())
  connection = await prepareConnection(connectionOptions(flags, parsed, host, clientId, account))
  return {connection, account: account as AwsAccount, profileConfigured, endpointSource: 'DescribeEndpoint'}
}
