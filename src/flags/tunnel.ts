// Flags the tunnel commands share, defined once (the commands cannot hold a
// shared module: oclif loads every file under src/commands as a command).
import {Flags} from '@oclif/core'

export const proxyEndpointFlag = Flags.string({
  summary: 'Tunneling service endpoint (default wss://data.tunneling.iot.<region>.amazonaws.com); extra trusted CAs come from NODE_EXTRA_CA_CERTS.',
  helpValue: '<wss://host:port>',
})

export const tunnelIdFlag = Flags.string({
  summary: 'A tunnel opened with `iotctl tunnel open` here: its token file .iotctl/tunnels/<id>.json gives the source token.',
  helpValue: '<tunnel-id>',
})

export const timeoutMinutesFlag = Flags.integer({
  summary: 'Lifetime of the tunnel, 1–720 minutes (default 720); AWS closes it then.',
  helpValue: '<minutes>',
})
