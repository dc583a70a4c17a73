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

export function splitList(value: string | undefined): string[] | undefined {
  return value?.split(',').map((v) => v.trim()).filter(Boolean)
}

interface NetworkFlagValues {
  'iot-vpc'?: string
  'msk-vpc'?: string
  'iot-route-tables'?: string
  'msk-route-tables'?: string
  'msk-security-group'?: string
  port?: number
  'dns-resolution'?: boolean
}

export function networkOverrides(flags: NetworkFlagValues): SettingOverrides {
  return {
    'iot.vpcId': flags['iot-vpc'],
    'msk.vpcId': flags['msk-vpc'],
    'iot.routeTableIds': splitList(flags['iot-route-tables']),
    'msk.routeTableIds': splitList(flags['msk-route-tables']),
    'msk.securityGroupId': flags['msk-security-group'],
    'msk.port': flags.port,
    'peering.dnsResolution': flags['dns-resolution'],
  }
}

interface IotFlagValues {
  'iot-vpc'?: string
  'iot-subnets'?: string
  'iot-security-groups'?: string
  name?: string
  'rule-name'?: string
  sql?: string
  'kafka-topic'?: string
  'error-topic'?: string
  'cluster-arn'?: string
}

/** The destination and rule flags of `iot …` and `up`. */
export function iotOverrides(flags: IotFlagValues): SettingOverrides {
  return {
    'iot.vpcId': flags['iot-vpc'],
    'iot.subnetIds': splitList(flags['iot-subnets']),
    'iot.securityGroupIds': splitList(flags['iot-security-groups']),
    'rule.name': flags.name ?? flags['rule-name'],
    'rule.sql': flags.sql,
    'rule.kafkaTopic': flags['kafka-topic'],
    'rule.errorTopic': flags['error-topic'],
    'msk.clusterArn': flags['cluster-arn'],
  }
}
