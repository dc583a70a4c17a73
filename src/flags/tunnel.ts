// Flags the tunnel commands share, defined once (the commands cannot hold a
// shared module: oclif loads every file under src/commands as a command).
import {Flags} from '@oclif/core'
import {oclifFlags} from './index.ts'
import {proxyEndpointFlagSpec} from './table.ts'

// Defined in ./table.ts, where the lean runner (src/lean) reads it too; forward,
// proxy and agent take their whole flag tables from there.
export const {proxyEndpointFlag} = oclifFlags({proxyEndpointFlag: proxyEndpointFlagSpec})

export const timeoutMinutesFlag = Flags.integer({
  summary: 'Lifetime of the tunnel, 1–720 minutes (default 720); AWS closes it then.',
  helpValue: '<minutes>',
})
