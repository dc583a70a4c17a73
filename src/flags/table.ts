// The flags of the commands the lean runner serves (`tunnel forward`, `proxy`,
// `agent`), as plain data without @oclif/core: the oclif commands build their
// flags from these tables (oclifFlags in ./index.ts) and src/lean parses argv
// with util.parseArgs from the same tables, so there is one definition of each.
// Chosen over deriving the lean parser from oclif.manifest.json: the manifest
// does not say which option flags are integers (oclif keeps that in a parse
// function), and reading its ~180 KB would cost every `ssh` (ProxyCommand) time.
import {MAX_CONNECTIONS, MAX_RECONNECTS, MAX_TUNNELS} from '../lib/tunnel/agent/limits.ts'

export interface FlagSpec {
  /** string: any text; integer: oclif's Flags.integer (an error for anything but -?digits). */
  kind: 'string' | 'integer'
  summary: string
  helpValue: string
  helpGroup?: 'AWS'
  char?: 'c'
  required?: boolean
}

/** Where the stack's settings and ledger come from: on every command (BaseCommand's baseFlags). */
export const stackFlagTable = {
  config: {kind: 'string', char: 'c', summary: 'Config file (default ./iotctl.json).', helpValue: '<file>'},
  stack: {kind: 'string', summary: 'Stack name: tags, ledger and names derive from it (default: the config\'s "stack", else "iotctl").', helpValue: '<name>'},
} as const satisfies Record<string, FlagSpec>

/** Commands that work in one account. */
export const oneAccountFlagTable = {
  profile: {kind: 'string', summary: 'AWS profile (default: the config\'s IoT profile, else the SDK default chain).', helpValue: '<profile>', helpGroup: 'AWS'},
  region: {kind: 'string', summary: 'AWS region (default: iotctl.json\'s, else AWS_REGION, else the profile\'s).', helpValue: '<region>', helpGroup: 'AWS'},
} as const satisfies Record<string, FlagSpec>

export const proxyEndpointFlagSpec = {
  kind: 'string',
  summary: 'Tunneling service endpoint (default wss://data.tunneling.iot.<region>.amazonaws.com); extra trusted CAs come from NODE_EXTRA_CA_CERTS.',
  helpValue: '<wss://host:port>',
} as const satisfies FlagSpec

export const tunnelIdFlagSpec = {
  kind: 'string',
  summary: 'A tunnel opened with `iotctl tunnel open` here: its token file .iotctl/tunnels/<id>.json gives the source token (the destination token with `tunnel forward --destination`).',
  helpValue: '<tunnel-id>',
} as const satisfies FlagSpec

/** `tunnel forward`'s own flags (BaseCommand adds the stack flags and --json). */
export const forwardFlagTable = {
  ...oneAccountFlagTable,
  'tunnel-id': tunnelIdFlagSpec,
  source: {kind: 'string', summary: 'Source mode: service=local port, comma-separated (a bare port: the tunnel\'s only service).', helpValue: '<SSH=5555[,HTTP=8080]>'},
  destination: {kind: 'string', summary: 'Destination mode: service=host:port to connect to, comma-separated, at most 3 (a bare port: localhost).', helpValue: '<SSH=localhost:22[,HTTP=host:port]>'},
  'destination-client-type': {kind: 'string', summary: 'Source mode, for a device running an older local proxy: V1 or V2 keep one connection per service at a time (default V3).', helpValue: '<V1|V2|V3>'},
  'proxy-endpoint': proxyEndpointFlagSpec,
} as const satisfies Record<string, FlagSpec>

/** `tunnel proxy`'s own flags (no --json: stdout belongs to the tunnel). */
export const proxyFlagTable = {
  ...oneAccountFlagTable,
  'tunnel-id': tunnelIdFlagSpec,
  service: {kind: 'string', summary: 'The service to reach (default: the tunnel\'s only service).', helpValue: '<SSH>'},
  'proxy-endpoint': proxyEndpointFlagSpec,
} as const satisfies Record<string, FlagSpec>

// The agent's limits: bounds, defaults and help from one table (lib/tunnel/agent/limits.ts,
// constants only: --help loads no SDK). Checked in the lib: a bad value is exit 2 naming the flag.

export const maxTunnelsFlagSpec = {
  kind: 'integer',
  summary: `Tunnels served at once, ${MAX_TUNNELS.min}-${MAX_TUNNELS.max} (default ${MAX_TUNNELS.default}); a notification beyond it is refused with a log line (a repeat of one being served does not count). E.g. --max-tunnels 2.`,
  helpValue: '<n>',
} as const satisfies FlagSpec

export const maxConnectionsFlagSpec = {
  kind: 'integer',
  summary: `Local TCP connections one tunnel opens at once, ${MAX_CONNECTIONS.min}-${MAX_CONNECTIONS.max} (default ${MAX_CONNECTIONS.default}); further StreamStart/ConnectionStart are reset. E.g. --max-connections 16.`,
  helpValue: '<n>',
} as const satisfies FlagSpec

export const maxReconnectsFlagSpec = {
  kind: 'integer',
  summary: `Reconnect attempts (with backoff up to 30 s) of a tunnel that cannot reach the tunneling service, ${MAX_RECONNECTS.min}-${MAX_RECONNECTS.max} (default ${MAX_RECONNECTS.default}); then it is given up with a log line. E.g. --max-reconnects 5.`,
  helpValue: '<n>',
} as const satisfies FlagSpec

/** `tunnel agent`'s own flags. */
export const agentFlagTable = {
  thing: {kind: 'string', summary: 'The thing this device is.', required: true, helpValue: '<thing>'},
  cert: {kind: 'string', summary: 'The thing\'s certificate (PEM).', required: true, helpValue: '<file>'},
  key: {kind: 'string', summary: 'The certificate\'s private key (PEM).', required: true, helpValue: '<file>'},
  ca: {kind: 'string', summary: 'CA bundle (PEM) for the MQTT endpoint, where it is the only trust, and for the tunnels\' TLS, where it is added to Node\'s roots and NODE_EXTRA_CA_CERTS (default: Node\'s roots, which include Amazon Root CA 1).', helpValue: '<file>'},
  endpoint: {kind: 'string', summary: 'The IoT data endpoint, host[:port] (port 8883 by default); without it, DescribeEndpoint (iot:Data-ATS) with --profile\'s credentials.', helpValue: '<host[:port]>'},
  'client-id': {kind: 'string', summary: 'MQTT client id (default: the thing name).', helpValue: '<id>'},
  destination: {kind: 'string', summary: 'Service=local host:port, comma-separated, at most 3.', required: true, helpValue: '<SSH=localhost:22[,HTTP=localhost:8080]>'},
  'proxy-endpoint': proxyEndpointFlagSpec,
  'max-tunnels': maxTunnelsFlagSpec,
  'max-connections': maxConnectionsFlagSpec,
  'max-reconnects': maxReconnectsFlagSpec,
  ...oneAccountFlagTable,
} as const satisfies Record<string, FlagSpec>
