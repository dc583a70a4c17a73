// iotctl.json: the stack's settings. Validated with a strict schema so that an
// unknown key or a wrong type is an error naming the key (exit 2).
import {readFileSync} from 'node:fs'
import {z} from 'zod'
import {InputError} from '../errors.ts'

const vpcId = z.string().regex(/^vpc-[0-9a-f]{8,17}$/, 'expected a VPC id like vpc-0abc1234')
const subnetId = z.string().regex(/^subnet-[0-9a-f]{8,17}$/, 'expected a subnet id like subnet-0abc1234')
const routeTableId = z.string().regex(/^rtb-[0-9a-f]{8,17}$/, 'expected a route table id like rtb-0abc1234')
const securityGroupId = z.string().regex(/^sg-[0-9a-f]{8,17}$/, 'expected a security group id like sg-0abc1234')
export const stackName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$/, 'letters, digits, - and _ only, at most 40 characters')
const profileName = z.string().min(1)
const region = z.string().min(1)
const port = z.number().int().min(1).max(65535)

const accountSection = {
  profile: profileName.optional(),
  region: region.optional(),
  vpcId: vpcId.optional(),
  routeTableIds: z.array(routeTableId).min(1).optional(),
}

export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  stack: stackName.optional(),
  region: region.optional(),
  iot: z.strictObject({
    ...accountSection,
    subnetIds: z.array(subnetId).min(1).optional(),
    securityGroupIds: z.array(securityGroupId).min(1).optional(),
  }).optional(),
  msk: z.strictObject({
    ...accountSection,
    securityGroupId: securityGroupId.optional(),
    port: port.optional(),
    subnetIds: z.array(subnetId).min(1).optional(),
    clusterArn: z.string().regex(/^arn:aws[a-z-]*:kafka:/, 'expected an MSK cluster ARN').optional(),
    clusterName: z.string().optional(),
    kafkaVersion: z.string().optional(),
    brokerType: z.string().optional(),
    brokers: z.number().int().min(1).optional(),
    // `msk consumer-network`; when set, `up` makes it too.
    consumerNetwork: z.strictObject({
      via: z.enum(['endpoints', 'nat', 'none'], 'expected endpoints, nat or none').optional(),
      selfReferencing: z.boolean().optional(),
    }).optional(),
  }).optional(),
  peering: z.strictObject({
    dnsResolution: z.boolean().optional(),
  }).optional(),
  secret: z.strictObject({
    name: z.string().optional(),
    username: z.string().optional(),
    keyAlias: z.string().optional(),
  }).optional(),
  // `doctor` warns when the secret the rule reads is older than this (`secret rotate --if-older-than` on a schedule rotates it).
  rotation: z.strictObject({
    maxAgeDays: z.number().int().min(1).optional(),
  }).optional(),
  rule: z.strictObject({
    name: z.string().optional(),
    sql: z.string().optional(),
    kafkaTopic: z.string().optional(),
    kafkaTopicPartitions: z.number().int().min(1).optional(),
    kafkaTopicReplicationFactor: z.number().int().min(1).optional(),
    errorTopic: z.string().optional(),
    s3Bucket: z.string().optional(),
    s3Key: z.string().optional(),
  }).optional(),
  // Fleet provisioning by claim (`iotctl fleet setup`; `up` makes it only when this section names a template).
  fleet: z.strictObject({
    template: z.string().optional(),
    serialPrefix: z.string().optional(),
    hookArn: z.string().optional(),
    rule: z.string().optional(),
  }).optional(),
})

export type IotctlConfig = z.infer<typeof configSchema>

/** Turns the first schema issue into one line naming the key: `iotctl.json: iot.vpcId: expected …`. */
function describeIssue(file: string, error: z.ZodError): string {
  const issue = error.issues[0]
  const path = issue.path.join('.')
  if (issue.code === 'unrecognized_keys') {
    const where = path ? `${path}.` : ''
    return `${file}: unknown key '${where}${issue.keys[0]}'`
  }
  return `${file}: ${path || '(top level)'}: ${issue.message}`
}

/** Parses and validates a config document; InputError names the offending key. */
export function parseConfig(text: string, file: string): IotctlConfig {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message})`)
  }
  const result = configSchema.safeParse(json)
  if (!result.success) throw new InputError(describeIssue(file, result.error))
  return result.data
}

/**
 * Reads the config file. A missing file is an empty config unless the user named
 * it explicitly; an unreadable or malformed file is always an InputError.
 */
export function loadConfig(file: string, explicit: boolean): IotctlConfig {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' && !explicit) return {}
    throw new InputError(`config file ${file}: ${code === 'ENOENT' ? 'not found' : `cannot be read (${code})`}`)
  }
  return parseConfig(text, file)
}
