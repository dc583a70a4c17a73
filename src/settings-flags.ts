// The one table from flags to iotctl.json settings. Each entry keeps the flag's
// name, so a bad value's message names the flag the user typed (`--iot-vpc vpc-x: …`),
// and is typed: its path must be a setting of IotctlConfig, and the flag's value
// (or what `parse` makes of it) must have that setting's type.
import type {ConfigPath, ConfigValue, SettingOverride, SettingValue} from './lib/config/settings.ts'

/** The values oclif gives the flags that set a config value (the commands' flags must agree). */
export interface SettingFlagValues {
  stack: string
  region: string
  profile: string
  'iot-profile': string
  'msk-profile': string
  'iot-vpc': string
  'msk-vpc': string
  'iot-route-tables': string
  'msk-route-tables': string
  'msk-security-group': string
  port: number
  'dns-resolution': boolean
  'iot-subnets': string
  'iot-security-groups': string
  name: string
  'rule-name': string
  sql: string
  'kafka-topic': string
  'kafka-topic-partitions': number
  'kafka-topic-replication-factor': number
  'error-topic': string
  'cluster-arn': string
  'cluster-name': string
  subnets: string
  'security-group': string
  'kafka-version': string
  'broker-type': string
  brokers: number
  'secret-name': string
  username: string
  'key-alias': string
  template: string
  'serial-prefix': string
  'hook-arn': string
  'basic-ingest-rule': string
  via: 'endpoints' | 'nat' | 'none'
  's3-bucket': string
  's3-key': string
  'self-referencing': boolean
}

export type SettingFlag = keyof SettingFlagValues

/** One row of the table: reads its flag from a command's parsed flags. */
export interface FlagSetting {
  flag: SettingFlag
  path: ConfigPath
  read(flags: Partial<SettingFlagValues>): SettingOverride | undefined
}

type Parse<F extends SettingFlag, P extends ConfigPath> = (value: SettingFlagValues[F]) => ConfigValue<P> & SettingValue

/**
 * A row: `--flag` sets `path`. A flag whose value already has the setting's
 * type needs no `parse`; any other must say how its text becomes the setting.
 */
function setting<F extends SettingFlag, P extends ConfigPath>(
  flag: F, path: P, ...parse: SettingFlagValues[F] extends ConfigValue<P> ? [Parse<F, P>?] : [Parse<F, P>]
): FlagSetting {
  const [convert] = parse
  return {
    flag,
    path,
    read: (flags) => {
      const value = flags[flag]
      if (value === undefined) return undefined
      return {path, value: convert ? convert(value) : value, flag}
    },
  }
}

/** `a, b,,c` → `['a', 'b', 'c']`: the comma-separated flags. */
export function splitList(value: string): string[] {
  return value.split(',').map((v) => v.trim()).filter(Boolean)
}

/**
 * On every command that has them (the base applies these). Later rows win:
 * --iot-profile / --msk-profile over --profile, and an explicit --region over
 * the per-account regions of the config file.
 */
export const stackSettings: readonly FlagSetting[] = [
  setting('stack', 'stack'),
  setting('region', 'region'),
  setting('region', 'iot.region'),
  setting('region', 'msk.region'),
  setting('profile', 'iot.profile'),
  setting('profile', 'msk.profile'),
  setting('iot-profile', 'iot.profile'),
  setting('msk-profile', 'msk.profile'),
]

/** The two VPCs and how they are peered (peer setup, up, doctor). */
export const networkSettings: readonly FlagSetting[] = [
  setting('iot-vpc', 'iot.vpcId'),
  setting('msk-vpc', 'msk.vpcId'),
  setting('iot-route-tables', 'iot.routeTableIds', splitList),
  setting('msk-route-tables', 'msk.routeTableIds', splitList),
  setting('msk-security-group', 'msk.securityGroupId'),
  setting('port', 'msk.port'),
  setting('dns-resolution', 'peering.dnsResolution'),
]

/** The rule destination's network (iot destination, iot rule, up, doctor). */
export const destinationSettings: readonly FlagSetting[] = [
  setting('iot-vpc', 'iot.vpcId'),
  setting('iot-subnets', 'iot.subnetIds', splitList),
  setting('iot-security-groups', 'iot.securityGroupIds', splitList),
]

/** The topic rule (iot rule, up, doctor): its name is --name on `iot rule`, --rule-name elsewhere. */
export const ruleSettings: readonly FlagSetting[] = [
  setting('name', 'rule.name'),
  setting('rule-name', 'rule.name'),
  setting('sql', 'rule.sql'),
  setting('kafka-topic', 'rule.kafkaTopic'),
  setting('error-topic', 'rule.errorTopic'),
  setting('s3-bucket', 'rule.s3Bucket'),
  setting('s3-key', 'rule.s3Key'),
  setting('cluster-arn', 'msk.clusterArn'),
]

/** `up` only: the topic it creates and the mirrored secret. */
export const upSettings: readonly FlagSetting[] = [
  setting('secret-name', 'secret.name'),
  setting('kafka-topic-partitions', 'rule.kafkaTopicPartitions'),
  setting('kafka-topic-replication-factor', 'rule.kafkaTopicReplicationFactor'),
]

/** An existing MSK cluster (msk brokers, consume, associate-secret). */
export const clusterSettings: readonly FlagSetting[] = [
  setting('cluster-arn', 'msk.clusterArn'),
]

/** The cluster `msk create` makes. */
export const clusterSpecSettings: readonly FlagSetting[] = [
  setting('cluster-name', 'msk.clusterName'),
  setting('subnets', 'msk.subnetIds', splitList),
  setting('security-group', 'msk.securityGroupId'),
  setting('msk-vpc', 'msk.vpcId'),
  setting('kafka-version', 'msk.kafkaVersion'),
  setting('broker-type', 'msk.brokerType'),
  setting('brokers', 'msk.brokers'),
]

/** The mirrored secret (secret mirror, secret rotate, msk associate-secret): --name is the secret's. */
export const secretSettings: readonly FlagSetting[] = [
  setting('name', 'secret.name'),
  setting('username', 'secret.username'),
  setting('key-alias', 'secret.keyAlias'),
]

/** The network an MSK consumer needs (msk consumer-network). */
export const consumerNetworkSettings: readonly FlagSetting[] = [
  setting('via', 'msk.consumerNetwork.via'),
  setting('self-referencing', 'msk.consumerNetwork.selfReferencing'),
]

/** The overrides of a command's flags, in the table's order. */
export function overridesOf(flags: Partial<SettingFlagValues>, table: readonly FlagSetting[]): SettingOverride[] {
  return table.flatMap((row) => row.read(flags) ?? [])
}

/** `fleet setup` (fleet provisioning by claim). */
export const fleetSettings: readonly FlagSetting[] = [
  setting('template', 'fleet.template'),
  setting('serial-prefix', 'fleet.serialPrefix'),
  setting('hook-arn', 'fleet.hookArn'),
  setting('basic-ingest-rule', 'fleet.rule'),
]
