// `iotctl init`: asks which profiles, VPCs, subnets, route tables, security
// groups and MSK cluster to use — offering what it finds in both accounts and
// suggesting defaults — and writes a validated iotctl.json. The questions go
// through a Prompter so the flow is the same with inquirer or in a test.
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
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

/** The file init would replace, when it exists and is valid: its values are the defaults offered. */
function existingConfig(file: string, prompt: Prompter): IotctlConfig | undefined {
  if (!existsSync(file)) return undefined
  try {
    const config = parseConfig(readFileSync(file, 'utf8'), file)
    prompt.note(`${file} exists: its values are the defaults`)
    return config
  } catch (error) {
    if (!(error instanceof InputError)) throw error
    prompt.note(`${file} exists but is not valid (${error.message}); starting from the suggestions`)
    return undefined
  }
}

export async function runInit(prompt: Prompter, options: InitOptions): Promise<InitResult> {
  const open = options.openAccount ?? ((profile, region) => AwsAccount.open({profile, region}))
  const before = existingConfig(options.configFile, prompt)
  const profiles = await profileNames()
  // Without profiles there is nothing to choose: find out whether AWS answers at all before asking anything.
  const noProfiles = profiles.length === 0 && !options.iotProfile && !options.mskProfile
  const reach = async (role: string, profile: string | undefined) => {
    try {
      const account = await open(profile, options.region)
      return {account, identity: await account.identity()}
    } catch (error) {
      if (!noProfiles) throw error
      throw new InputError(`no AWS set up for the ${role} account: there are no profiles in the AWS config or credentials files and no credentials in the environment (${(error as Error).message}); run \`aws configure --profile iot\` and \`aws configure --profile msk\`, or try iotctl on its local AWS first: bash scripts/demo.sh`)
    }
  }
  const pickProfile = async (label: string, preset: string | undefined, fallback: string | undefined) => preset ?? (profiles.length === 0 ? undefined
    : await prompt.select(`AWS profile of the ${label}`, profiles.map((p) => ({name: p, value: p})), fallback && profiles.includes(fallback) ? fallback : profiles[0]))
  const iotProfile = await pickProfile('IoT account (B: AWS IoT Core, the rule)', options.iotProfile, before?.iot?.profile ?? 'iot')
  const iotReached = await reach('IoT', iotProfile)
  const mskProfile = await pickProfile('MSK account (A: the Kafka cluster)', options.mskProfile, before?.msk?.profile ?? 'msk')
  const mskReached = await reach('MSK', mskProfile)
  const {account: iot} = iotReached
  const {account: msk} = mskReached
  const accounts = {iot: iotReached.identity, msk: mskReached.identity}
  prompt.note(`IoT account ${accounts.iot.accountId} (${iot.region}), MSK account ${accounts.msk.accountId} (${msk.region})${accounts.iot.accountId === accounts.msk.accountId ? ' — the same account: fine for trying it out' : ''}`)
  const stack = options.stack ?? await prompt.input('Stack name (tags, ledger and names derive from it)', before?.stack ?? defaultStack, (v) => stackName.safeParse(v).success || 'letters, digits, - and _ only, at most 40 characters')
  // A value of the existing file is the default when the account still offers it.
  const kept = <T>(value: T | undefined, offered: readonly T[]): T | undefined => (value !== undefined && offered.includes(value) ? value : undefined)
  const keptList = (values: readonly string[] | undefined, offered: readonly string[]) => values?.filter((v) => offered.includes(v))

  // The MSK side: an existing cluster fixes the VPC, subnets and security group.
  const clusters = await listMskClusters(msk)
  const clusterArn = await prompt.select<string | undefined>('MSK cluster', [
    ...clusters.map((c) => ({
      name: `${c.name} (${c.state})`, value: c.arn, description: c.arn,
      disabled: c.scram ? false : 'SASL/SCRAM authentication is off',
    })),
    {name: 'none yet: `iotctl up --create-cluster` creates one', value: undefined},
  ], kept(before?.msk?.clusterArn, clusters.filter((c) => c.scram).map((c) => c.arn)) ?? clusters.find((c) => c.scram)?.arn)
  const cluster = clusters.find((c) => c.arn === clusterArn)
  const mskVpcs = await listVpcs(msk)
  const clusterVpc = cluster?.subnetIds[0] ? await vpcOfSubnet(msk, cluster.subnetIds[0]) : undefined
  const mskVpcId = clusterVpc ?? await prompt.select('VPC of the MSK cluster (account A)', mskVpcs.map((v) => ({name: vpcLabel(v), value: v.vpcId})), kept(before?.msk?.vpcId, mskVpcs.map((v) => v.vpcId)) ?? mskVpcs.find((v) => !v.isDefault)?.vpcId)
  if (clusterVpc) prompt.note(`the cluster is in ${clusterVpc}`)
  let mskSubnetIds: string[] | undefined
  if (!cluster) {
    const subnets = await listSubnets(msk, mskVpcId)
    const chosen = keptList(before?.msk?.subnetIds, subnets.map((s) => s.subnetId))
    mskSubnetIds = await prompt.checkbox('Subnets for the brokers (two or three, in different Availability Zones)',
      subnets.map((s) => ({name: `${s.subnetId} ${s.cidr} ${s.availabilityZone}${s.name ? ` (${s.name})` : ''}`, value: s.subnetId, checked: chosen?.length ? chosen.includes(s.subnetId) : true})), {min: 2})
  }
  const mskGroups = await listSecurityGroups(msk, mskVpcId)
  const mskSecurityGroupId = await prompt.select('Security group of the brokers (it gets the ingress from the IoT VPC)',
    mskGroups.map((g) => ({name: `${g.groupId} ${g.groupName}`, value: g.groupId, description: g.description})),
    cluster?.securityGroupIds[0] ?? kept(before?.msk?.securityGroupId, mskGroups.map((g) => g.groupId)) ?? mskGroups.find((g) => g.groupName !== 'default')?.groupId)

  // The IoT side: a VPC that does not overlap A's, its subnets and groups for the destination.
  const mskCidrs = mskVpcs.find((v) => v.vpcId === mskVpcId)?.cidrs ?? []
  const iotVpcs = await listVpcs(iot)
  const overlaps = (v: VpcChoice) => v.cidrs.some((a) => mskCidrs.some((b) => cidrsOverlap(a, b)))
  const iotVpcId = await prompt.select('VPC of the IoT rule destination (account B)',
    iotVpcs.map((v) => ({name: vpcLabel(v), value: v.vpcId, disabled: overlaps(v) ? `overlaps ${mskCidrs.join(', ')}` : false})),
    kept(before?.iot?.vpcId, iotVpcs.filter((v) => !overlaps(v)).map((v) => v.vpcId)) ?? iotVpcs.find((v) => !overlaps(v) && !v.isDefault)?.vpcId ?? iotVpcs.find((v) => !overlaps(v))?.vpcId)
  const iotSubnets = await listSubnets(iot, iotVpcId)
  const chosenIotSubnets = keptList(before?.iot?.subnetIds, iotSubnets.map((s) => s.subnetId))
  const iotSubnetIds = await prompt.checkbox('Subnets for the destination\'s network interfaces',
    iotSubnets.map((s) => {
      // AWS IoT refuses destination subnets in some zones (use1-az3): shown, not offered.
      const refused = isRefusedDestinationZone(s.availabilityZoneId)
      return {name: `${s.subnetId} ${s.cidr} ${s.availabilityZone}${s.name ? ` (${s.name})` : ''}`, value: s.subnetId, checked: !refused && (chosenIotSubnets?.length ? chosenIotSubnets.includes(s.subnetId) : true),
        ...(refused ? {disabled: `${s.availabilityZoneId}: AWS IoT does not accept VPC destination subnets there`} : {})}
    }), {min: 1})
  const iotGroups = await listSecurityGroups(iot, iotVpcId)
  const chosenIotGroups = keptList(before?.iot?.securityGroupIds, iotGroups.map((g) => g.groupId))
  const iotSecurityGroupIds = await prompt.checkbox('Security groups of the destination (they must allow outbound to the brokers)',
    iotGroups.map((g) => ({name: `${g.groupId} ${g.groupName}`, value: g.groupId, checked: chosenIotGroups?.length ? chosenIotGroups.includes(g.groupId) : iotGroups.length === 1 || g.groupName !== 'default'})), {min: 1})
  const routeTables = async (account: AwsAccount, vpcId: string, subnetIds: string[] | undefined, label: string, previous: readonly string[] | undefined) => {
    const tables = await listRouteTables(account, vpcId)
    const chosen = keptList(previous, tables.map((t) => t.routeTableId))
    const associated = (t: {routeTableId: string; subnetIds: string[]}) => chosen?.length ? chosen.includes(t.routeTableId)
      : subnetIds === undefined ? t.subnetIds.length > 0 : t.subnetIds.some((s) => subnetIds.includes(s))
    return prompt.checkbox(`Route tables of the ${label} VPC to route through the peering`, tables.map((t) => ({
      name: `${t.routeTableId}${t.name ? ` (${t.name})` : ''}${t.main ? ' [main]' : ''}${t.subnetIds.length ? ` subnets ${t.subnetIds.join(', ')}` : ''}`,
      value: t.routeTableId, checked: associated(t) || (t.main && !tables.some(associated)),
    })), {min: 1})
  }
  const mskRouteTableIds = await routeTables(msk, mskVpcId, cluster?.subnetIds ?? mskSubnetIds, 'MSK', before?.msk?.routeTableIds)
  const iotRouteTableIds = await routeTables(iot, iotVpcId, iotSubnetIds, 'IoT', before?.iot?.routeTableIds)

  const secretName = await prompt.input('Name of the mirrored secret', before?.secret?.name ?? secretNameOf({stack}), (v) => valid(() => checkSecretName(v)))
  const ruleName = await prompt.input('Topic rule name', before?.rule?.name ?? defaultRuleName(stack), (v) => valid(() => checkRuleName(v, 'rule name')))
  const kafkaTopic = await prompt.input('Kafka topic the rule writes to', before?.rule?.kafkaTopic ?? defaultKafkaTopic, (v) => valid(() => checkKafkaTopic(v, 'Kafka topic')))

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
