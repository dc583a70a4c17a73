// Flag → config-path mappings shared by commands.
import type {SettingOverrides} from './lib/config/settings.ts'

interface AccountFlagValues {
  stack?: string
  region?: string
  profile?: string
  'iot-profile'?: string
  'msk-profile'?: string
}

/** --profile names both accounts' profile; --iot-profile / --msk-profile override it per account. */
export function accountOverrides(flags: AccountFlagValues): SettingOverrides {
  return {
    stack: flags.stack,
    region: flags.region,
    'iot.profile': flags['iot-profile'] ?? flags.profile,
    'msk.profile': flags['msk-profile'] ?? flags.profile,
    // An explicit --region wins over per-account regions in the config file.
    'iot.region': flags.region,
    'msk.region': flags.region,
  }
}
