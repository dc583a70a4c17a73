// Common flags of DESIGN.md, defined once and spread into the commands that take them.
// Flags live here, not under src/lib (which never imports @oclif/core); the mqtt and
// tunnel commands' own flags are in mqtt.ts and tunnel.ts beside this file.
import {Flags, type Interfaces} from '@oclif/core'
import {oneAccountFlagTable, stackFlagTable, type FlagSpec} from './table.ts'

/** The oclif flag a table row (./table.ts) becomes: its value is string or number, undefined unless required. */
export type OclifFlagOf<S extends FlagSpec> = S extends {required: true}
  ? (S['kind'] extends 'integer' ? Interfaces.OptionFlag<number> : Interfaces.OptionFlag<string>)
  : (S['kind'] extends 'integer' ? Interfaces.OptionFlag<number | undefined> : Interfaces.OptionFlag<string | undefined>)

/** One row of ./table.ts as an oclif flag. */
function oclifFlag(spec: FlagSpec): unknown {
  const {kind, ...options} = spec
  return kind === 'integer' ? Flags.integer(options) : Flags.string(options)
}

/** A table of ./table.ts (the lean runner's too) as oclif flags, typed as Flags.string/integer would type them. */
export function oclifFlags<T extends Record<string, FlagSpec>>(table: T): {[K in keyof T]: OclifFlagOf<T[K]>} {
  const built: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(table)) built[name] = oclifFlag(spec)
  // The mapping of each row's kind and required to its value type is what Flags.string/integer do; TypeScript cannot follow it through the loop.
  return built as {[K in keyof T]: OclifFlagOf<T[K]>}
}

/**
 * A number flag that keeps a bad value (0, -1, abc → NaN) for the library's
 * checks, which say in one line what is wrong (exit 2), instead of oclif's parse error.
 */
export const numberFlag = Flags.custom<number>({
  parse: async (input) => (input.trim() === '' ? Number.NaN : Number(input)),
})

/** Where the stack's settings and ledger come from: on every command. */
export const stackFlags = oclifFlags(stackFlagTable)

/** Commands that work across the two accounts. */
export const twoAccountFlags = {
  'iot-profile': Flags.string({summary: 'AWS profile of the IoT account (B).', helpValue: '<profile>', helpGroup: 'AWS'}),
  'msk-profile': Flags.string({summary: 'AWS profile of the MSK account (A).', helpValue: '<profile>', helpGroup: 'AWS'}),
  profile: Flags.string({summary: 'One AWS profile for both accounts (same-account setups).', helpValue: '<profile>', helpGroup: 'AWS'}),
  region: Flags.string({summary: 'AWS region (default: iotctl.json\'s, else AWS_REGION, else the profile\'s).', helpValue: '<region>', helpGroup: 'AWS'}),
}

/** Commands that work in one account. */
export const oneAccountFlags = oclifFlags(oneAccountFlagTable)

/** Commands that work in the MSK account (A) only: msk create, associate-secret, brokers. */
export const mskAccountFlags = {
  'msk-profile': twoAccountFlags['msk-profile'],
  profile: twoAccountFlags.profile,
  region: twoAccountFlags.region,
}

/** Commands that walk the step graph (up, cleanup): how many steps run side by side. */
export const parallelFlag = Flags.integer({
  summary: 'Steps in flight at once per account (default 4); 1 runs them one at a time.',
  description: 'A step starts as soon as the steps it needs are done; a long wait (a cluster becoming ACTIVE, IAM propagation) holds up only the steps that need it.',
  min: 1,
  max: 16,
  helpValue: '<n>',
})

/**
 * How long a run that changes the stack waits while another run holds the
 * stack's lease (src/lib/lease); a bad value is exit 2 from the lib's check.
 */
export const waitLockFlag = numberFlag({
  summary: 'Seconds to wait while another run changes the same stack (default 300; 0: exit 1 at once).',
  description: 'Runs that change a stack take turns through a lease in the IoT account (a DynamoDB table iotctl-<stack>-lease). While another run holds it, this one waits, naming the holder (host, command, since when), and exits 1 when the wait ends. A run that died releases it after IOTCTL_LEASE_TTL seconds (default 60).',
  helpValue: '<seconds>',
})

/** Commands that change the stack: --dry-run, --yes and --wait-lock. */
export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'Show what would change, change nothing.'}),
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
  'wait-lock': waitLockFlag,
  verbose: Flags.boolean({summary: 'List every step, also those with nothing to do (cleanup folds them into one line).'}),
}

/** The two VPCs and how they are peered (peer setup, up). */
export const networkFlags = {
  'iot-vpc': Flags.string({summary: 'VPC of the IoT account that the rule destination uses.', helpValue: '<vpc-id>'}),
  'msk-vpc': Flags.string({summary: 'VPC of the MSK cluster.', helpValue: '<vpc-id>'}),
  'iot-route-tables': Flags.string({summary: 'Route tables of the IoT VPC to route through the peering (comma-separated).', helpValue: '<rtb-id,…>'}),
  'msk-route-tables': Flags.string({summary: 'Route tables of the MSK VPC to route through the peering (comma-separated).', helpValue: '<rtb-id,…>'}),
  'msk-security-group': Flags.string({summary: 'Security group of the MSK brokers.', helpValue: '<sg-id>'}),
  port: Flags.integer({summary: 'Broker port: 9096 SASL/SCRAM, 9094 TLS, 9098 IAM, 9092 plaintext.', min: 1, max: 65535, helpValue: '<port>'}),
  'dns-resolution': Flags.boolean({summary: 'Let each VPC resolve the other\'s private DNS names across the peering.', allowNo: true}),
}

/** Where the VPC topic rule destination puts its network interfaces (iot destination, up). */
export const destinationFlags = {
  'iot-vpc': networkFlags['iot-vpc'],
  'iot-subnets': Flags.string({summary: 'Subnets of the IoT VPC for the rule destination (comma-separated; default: all of the VPC\'s subnets).', helpValue: '<subnet-id,…>'}),
  'iot-security-groups': Flags.string({summary: 'Security groups of the rule destination (comma-separated; default: the VPC\'s default group).', helpValue: '<sg-id,…>'}),
}

/** The topic rule's name: `--name` on `iot rule`, `--rule-name` on `up`. */
export const ruleNameFlag = Flags.string({summary: 'Topic rule name: letters, digits and underscores (default iotctl_<stack>_to_kafka).', helpValue: '<rule_name>'})

/** The topic rule (iot rule, up). */
export const ruleFlags = {
  sql: Flags.string({summary: 'Rule statement (default: SELECT topic(2) as device_id, temperature FROM \'device/+/data\').', helpValue: '<SELECT …>'}),
  'kafka-topic': Flags.string({summary: 'Kafka topic the rule writes to (default device-data).', helpValue: '<topic>'}),
  'error-topic': Flags.string({summary: 'MQTT topic an error action republishes failed deliveries to, to see why delivery fails.', helpValue: '<topic>'}),
  's3-bucket': Flags.string({summary: 'Also write each message to this S3 bucket (an S3 action; the role may s3:PutObject in it only).', helpValue: '<bucket>'}),
  's3-key': Flags.string({summary: 'Object key template of the S3 action (default ${topic()}/${timestamp()}).', helpValue: '<template>'}),
  'cluster-arn': Flags.string({summary: 'An existing MSK cluster (default: the config\'s msk.clusterArn, else the stack\'s cluster).', helpValue: '<arn>'}),
}
