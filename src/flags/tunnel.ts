// Flags the tunnel commands share, defined once (the commands cannot hold a
// shared module: oclif loads every file under src/commands as a command).
import {Flags} from '@oclif/core'
import {oclifFlags} from './index.ts'
import {maxConnectionsFlagSpec, maxReconnectsFlagSpec, maxTunnelsFlagSpec, proxyEndpointFlagSpec, tunnelIdFlagSpec} from './table.ts'

// Defined in ./table.ts, where the lean runner (src/lean) reads them too.
export const {proxyEndpointFlag, tunnelIdFlag, maxTunnelsFlag, maxConnectionsFlag, maxReconnectsFlag} = oclifFlags({
  proxyEndpointFlag: proxyEndpointFlagSpec,
  tunnelIdFlag: tunnelIdFlagSpec,
  maxTunnelsFlag: maxTunnelsFlagSpec,
  maxConnectionsFlag: maxConnectionsFlagSpec,
  maxReconnectsFlag: maxReconnectsFlagSpec,
})

export const timeoutMinutesFlag = Flags.integer({
  summary: 'Lifetime of the tunnel, 1–720 minutes (default 720); AWS closes it then.',
  helpValue: '<minutes>',
})
