// Flags the tunnel commands share, defined once (the commands cannot hold a
// shared module: oclif loads every file under src/commands as a command).
import {Flags} from '@oclif/core'
import {MAX_CONNECTIONS, MAX_RECONNECTS, MAX_TUNNELS} from '../lib/tunnel/agent/limits.ts'

export const proxyEndpointFlag = Flags.string({
  summary: 'Tunneling service endpoint (default wss://data.tunneling.iot.<region>.amazonaws.com); extra trusted CAs come from NODE_EXTRA_CA_CERTS.',
  helpValue: '<wss://host:port>',
})

export const tunnelIdFlag = Flags.string({
  summary: 'A tunnel opened with `iotctl tunnel open` here: its token file .iotctl/tunnels/<id>.json gives the source token (the destination token with `tunnel forward --destination`).',
  helpValue: '<tunnel-id>',
})

export const timeoutMinutesFlag = Flags.integer({
  summary: 'Lifetime of the tunnel, 1–720 minutes (default 720); AWS closes it then.',
  helpValue: '<minutes>',
})

// The agent's limits: bounds, defaults and help from one table (lib/tunnel/agent/limits.ts,
// constants only: --help loads no SDK). Checked in the lib: a bad value is exit 2 naming the flag.

export const maxTunnelsFlag = Flags.integer({
  summary: `Tunnels served at once, ${MAX_TUNNELS.min}-${MAX_TUNNELS.max} (default ${MAX_TUNNELS.default}); a notification beyond it is refused with a log line (a repeat of one being served does not count). E.g. --max-tunnels 2.`,
  helpValue: '<n>',
})

export const maxConnectionsFlag = Flags.integer({
  summary: `Local TCP connections one tunnel opens at once, ${MAX_CONNECTIONS.min}-${MAX_CONNECTIONS.max} (default ${MAX_CONNECTIONS.default}); further StreamStart/ConnectionStart are reset. E.g. --max-connections 16.`,
  helpValue: '<n>',
})

export const maxReconnectsFlag = Flags.integer({
  summary: `Reconnect attempts (with backoff up to 30 s) of a tunnel that cannot reach the tunneling service, ${MAX_RECONNECTS.min}-${MAX_RECONNECTS.max} (default ${MAX_RECONNECTS.default}); then it is given up with a log line. E.g. --max-reconnects 5.`,
  helpValue: '<n>',
})
