// `iotctl init`: asks which profiles, VPCs, subnets, route tables, security
// groups and MSK cluster to use — offering what it finds in both accounts and
// suggesting defaults — and writes a validated iotctl.json. The questions go
// through a Prompter so the flow is the same with inquirer or in a test.
import {existsSync, writeFileSync} from 'node:fs'
import {AwsAccount, type CallerIdentity} from '../aws/account.ts'
import {InputError} from '../errors.ts'
import {parseConfig, stackName, type IotctlConfig} from '../config/schema.ts'
import {defaultStack} from '../config/settings.ts'
import {checkKafkaTopic, checkRuleName, defaultKafkaTopic, defaultRuleName, isRefusedDestinationZone} from '../iot/names.ts'
import {cidrsOverlap} from '../peering/cidr.ts'
import {checkSecretName, secretNameOf} from '../secrets/names.ts'
import {listMskClusters, listRouteTables, listSecurityGroups, listSubnets, listVpcs, profileNames, vpcOfSubnet, type VpcChoice} from './discover.ts'

export interface Choice<T> {
  name: string
  value: T
  description?: string
  checked?: boolean
  disabled?: string | boolean
}

/** The questions init asks; the command answers them with inquirer, tests with a script. */
export interface Prompter {
  select<T>(message: string, choices: Choice<T>[], defaultValue?: T): Promise<T>
  checkbox<T>(message: string, choices: Choice<T>[], options?: {min?: number}): Promise<T[]>
  input(message: string, defaultValue: string, validate: (value: string) => string | true): Promise<string>
  confirm(message: string, defaultValue: boolean): Promise<boolean>
  /** A line of information between questions (account ids, what was found). */
  note(message: string): void
}

export interface InitOptions {
  configFile: string
  /** Preset answers from flags (--iot-profile, --msk-profile, --region, --stack). */
  iotProfile?: string
  mskProfile?: string
  region?: string
  stack?: string
  /** Print the document instead of writing it. */
  dryRun: boolean
  /** Overwrite an existing file without asking. */
  yes: boolean
  /** Opens an account handle (tests pass fakes). */
  openAccount?: (profile: string | undefined, region: string | undefined) => Promise<AwsAccount>
}

export interface InitResult {
  configFile: string
  written: boolean
  accounts: {iot: CallerIdentity; msk: CallerIdentity}
  config: IotctlConfig
}

/** What a user without a terminal does instead: one line naming the flags and keys. */
export const withoutTerminal = 'iotctl init asks questions and needs a terminal; without one, write iotctl.json yourself (keys iot.profile, iot.vpcId, iot.subnetIds, iot.securityGroupIds, msk.profile, msk.vpcId, msk.securityGroupId, msk.clusterArn or msk.subnetIds, secret.name, rule.name, rule.kafkaTopic) or pass the same as flags to `iotctl up` (--iot-profile, --msk-profile, --iot-vpc, --iot-subnets, --iot-security-groups, --msk-vpc, --msk-security-group, --cluster-arn, --secret-name, --rule-name, --kafka-topic)'

const vpcLabel = (v: VpcChoice) => `${v.vpcId} ${v.cidrs.join(', ')}${v.name ? ` (${v.name})` : ''}${v.isDefault ? ' [default VPC]' : ''}`

export async function runInit(prompt: Prompter, options: InitOptions): Promise<InitResult> {
  const open = options.openAccount ?? ((profile, region) => AwsAccount.open({profile, region}))
  const profiles = await profileNames()
  const pickProfile = async (label: string, preset: string | undefined, fallback: string | undefined) => preset ?? (profiles.length === 0 ? undefined
    : await prompt.select(`AWS profile of the ${label}`, profiles.map((p) => ({name: p, value: p})), fallback && profiles.includes(fallback) ? fallback : profiles[0]))
  const iotProfile = await pickProfile('IoT account (B: AWS IoT Core, the rule)', options.iotProfile, 'iot')
  const mskProfile = await pickProfile('MSK account (A: the Kafka cluster)', options.mskProfile, 'msk')
  const stack = options.stack ?? await prompt.input('Stack name (tags, ledger and names derive from it)', defaultStack, (v) => stackName.safeParse(v).success || 'letters, digits, - and _ only, at most 40 characters')
  const iot = await open(iotProfile, options.region)
  const msk = await open(mskProfile, options.region)
  const accounts = {iot: await iot.identity(), msk: await msk.identity()}
  prompt.note(`IoT account ${accounts.iot.accountId} (${iot.region}), MSK account ${accounts.msk.accountId} (${msk.region})${accounts.iot.accountId === accounts.msk.accountId ? ' — the same account: fine for trying it out' : ''}`)

  // The MSK side: an existing cluster fixes the VPC, subnets and security group.
  const clusters = await listMskClusters(msk)
  const clusterArn = await prompt.select<string | undefined>('MSK cluster', [
    ...clusters.map((c) => ({
      name: `${c.name} (${c.state})`, value: c.arn, description: c.arn,
      disabled: c.scram ? false : 'SASL/SCRAM authentication is off',
    })),
    {name: 'none yet: `iotctl up --create-cluster` creates one', value: undefined},
  ], clusters.find((c) => c.scram)?.arn)
  const cluster = clusters.find((c) => c.arn === clusterArn)
  const mskVpcs = await listVpcs(msk)
  const clusterVpc = cluster?.subnetIds[0] ? await vpcOfSubnet(msk, cluster.subnetIds[0]) : undefined
  const mskVpcId = clusterVpc ?? await prompt.select('VPC of the MSK cluster (account A)', mskVpcs.map((v) => ({name: vpcLabel(v), value: v.vpcId})), mskVpcs.find((v) => !v.isDefault)?.vpcId)
  if (clusterVpc) prompt.note(`the cluster is in ${clusterVpc}`)
  let mskSubnetIds: string[] | undefined
  if (!cluster) {
    const subnets = await listSubnets(msk, mskVpcId)
    mskSubnetIds = await prompt.checkbox('Subnets for the brokers (two or three, in different Availability Zones)',
      subnets.map((s) => ({name: `${s.subnetId} ${s.cidr} ${s.availabilityZone}${s.name ? ` (${s.name})` : ''}`, value: s.subnetId, checked: true})), {min: 2})
  }
  const mskGroups = await listSecurityGroups(msk, mskVpcId)
  const mskSecurityGroupId = await prompt.select('Security group of the brokers (it gets the ingress from the IoT VPC)',
    mskGroups.map((g) => ({name: `${g.groupId} ${g.groupName}`, value: g.groupId, description: g.description})),
    cluster?.securityGroupIds[0] ?? mskGroups.find((g) => g.groupName !== 'default')?.groupId)

  // The IoT side: a VPC that does not overlap A's, its subnets and groups for the destination.
  const mskCidrs = mskVpcs.find((v) => v.vpcId === mskVpcId)?.cidrs ?? []
  const iotVpcs = await listVpcs(iot)
  const overlaps = (v: VpcChoice) => v.cidrs.some((a) => mskCidrs.some((b) => cidrsOverlap(a, b)))
  const iotVpcId = await prompt.select('VPC of the IoT rule destination (account B)',
    iotVpcs.map((v) => ({name: vpcLabel(v), value: v.vpcId, disabled: overlaps(v) ? `overlaps ${mskCidrs.join(', ')}` : false})),
    iotVpcs.find((v) => !overlaps(v) && !v.isDefault)?.vpcId ?? iotVpcs.find((v) => !overlaps(v))?.vpcId)
  const iotSubnets = await listSubnets(iot, iotVpcId)
  const iotSubnetIds = await prompt.checkbox('Subnets for the destination\'s network interfaces',
    iotSubnets.map((s) => {
      // AWS IoT refuses destination subnets in some zones (use1-az3): shown, not offered.
      const refused = isRefusedDestinationZone(s.availabilityZoneId)
      return {name: `${s.subnetId} ${s.cidr} ${s.availabilityZone}${s.name ? ` (${s.name})` : ''}`, value: s.subnetId, checked: !refused,
        ...(refused ? {disabled: `${s.availabilityZoneId}: AWS IoT does not accept VPC destination subnets there`} : {})}
    }), {min: 1})
  const iotGroups = await listSecurityGroups(iot, iotVpcId)
  const iotSecurityGroupIds = await prompt.checkbox('Security groups of the destination (they must allow outbound to the brokers)',
    iotGroups.map((g) => ({name: `${g.groupId} ${g.groupName}`, value: g.groupId, checked: iotGroups.length === 1 || g.groupName !== 'default'})), {min: 1})
  const routeTables = async (account: AwsAccount, vpcId: string, subnetIds: string[] | undefined, label: string) => {
    const tables = await listRouteTables(account, vpcId)
    const associated = (t: {subnetIds: string[]}) => subnetIds === undefined ? t.subnetIds.length > 0 : t.subnetIds.some((s) => subnetIds.includes(s))
    return prompt.checkbox(`Route tables of the ${label} VPC to route through the peering`, tables.map((t) => ({
      name: `${t.routeTableId}${t.name ? ` (${t.name})` : ''}${t.main ? ' [main]' : ''}${t.subnetIds.length ? ` subnets ${t.subnetIds.join(', ')}` : ''}`,
      value: t.routeTableId, checked: associated(t) || (t.main && !tables.some(associated)),
    })), {min: 1})
  }
  const mskRouteTableIds = await routeTables(msk, mskVpcId, cluster?.subnetIds ?? mskSubnetIds, 'MSK')
  const iotRouteTableIds = await routeTables(iot, iotVpcId, iotSubnetIds, 'IoT')

  const secretName = await prompt.input('Name of the mirrored secret', secretNameOf({stack}), (v) => valid(() => checkSecretName(v)))
  const ruleName = await prompt.input('Topic rule name', defaultRuleName(stack), (v) => valid(() => checkRuleName(v, 'rule name')))
  const kafkaTopic = await prompt.input('Kafka topic the rule writes to', defaultKafkaTopic, (v) => valid(() => checkKafkaTopic(v, 'Kafka topic')))

  const config: IotctlConfig = {
    stack,
    iot: {...(iotProfile ? {profile: iotProfile} : {}), ...(options.region ? {region: options.region} : {}), vpcId: iotVpcId, subnetIds: iotSubnetIds, securityGroupIds: iotSecurityGroupIds, routeTableIds: iotRouteTableIds},
    msk: {
      ...(mskProfile ? {profile: mskProfile} : {}), ...(options.region ? {region: options.region} : {}), vpcId: mskVpcId, securityGroupId: mskSecurityGroupId, routeTableIds: mskRouteTableIds,
      ...(clusterArn ? {clusterArn} : {subnetIds: mskSubnetIds}),
    },
    secret: {name: secretName},
    rule: {name: ruleName, kafkaTopic},
  }
  // The same validation every command applies when it reads the file.
  const text = JSON.stringify(config, null, 2) + '\n'
  parseConfig(text, options.configFile)
  if (options.dryRun) return {configFile: options.configFile, written: false, accounts, config}
  if (existsSync(options.configFile) && !options.yes && !await prompt.confirm(`${options.configFile} exists; replace it?`, false)) {
    return {configFile: options.configFile, written: false, accounts, config}
  }
  writeFileSync(options.configFile, text)
  return {configFile: options.configFile, written: true, accounts, config}
}

function valid(check: () => void): string | true {
  try {
    check()
    return true
  } catch (error) {
    if (error instanceof InputError) return error.message
    throw error
  }
}
