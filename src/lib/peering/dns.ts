// DNS resolution across the peering (--dns-resolution, peering.dnsResolution)
// needs DNS hostnames and DNS support on both VPCs ("Both VPCs must be enabled
// for DNS hostnames and DNS resolution": VPC peering guide, "Enable DNS
// resolution for a VPC peering connection",
// https://docs.aws.amazon.com/vpc/latest/peering/vpc-peering-dns.html).
// Checked before any change, so a run never stops half-way on it.
import type {AccountRole, AwsAccount} from '../aws/account.ts'
import * as ec2api from '../aws/ec2.ts'
import {InputError} from '../errors.ts'

export const dnsAttributes = ['enableDnsHostnames', 'enableDnsSupport'] as const
export type DnsAttribute = (typeof dnsAttributes)[number]

export interface VpcDnsState {
  role: AccountRole
  vpcId: string
  /** The profile and region the fix runs with. */
  profile?: string
  region: string
  enableDnsHostnames: boolean
  enableDnsSupport: boolean
}

const vpcFlag: Record<AccountRole, string> = {iot: '--iot-vpc', msk: '--msk-vpc'}
const cliOption: Record<DnsAttribute, string> = {enableDnsHostnames: '--enable-dns-hostnames', enableDnsSupport: '--enable-dns-support'}

/** The AWS CLI command that turns one attribute on (modify-vpc-attribute takes one attribute per call). */
export function enableCommand(state: Pick<VpcDnsState, 'vpcId' | 'profile' | 'region'>, attribute: DnsAttribute): string {
  return `aws ec2 modify-vpc-attribute --vpc-id ${state.vpcId} ${cliOption[attribute]} '{"Value":true}' --region ${state.region}${state.profile ? ` --profile ${state.profile}` : ''}`
}

/** One phrase per attribute that is off, naming the VPC, the attribute and the command that enables it. */
export function dnsProblems(states: VpcDnsState[]): string[] {
  return states.flatMap((state) => dnsAttributes.filter((attribute) => !state[attribute]).map((attribute) =>
    `${vpcFlag[state.role]} ${state.vpcId} has ${attribute} off; enable it with: ${enableCommand(state, attribute)}`))
}

export async function describeVpcDns(account: AwsAccount, role: AccountRole, vpcId: string): Promise<VpcDnsState> {
  const ec2 = await account.ec2()
  const read = async (attribute: DnsAttribute) => {
    const answer = await ec2api.describeVpcAttribute(ec2, {VpcId: vpcId, Attribute: attribute}, `reading ${attribute} of ${vpcId} (${role} account)`)
    return (attribute === 'enableDnsHostnames' ? answer.EnableDnsHostnames?.Value : answer.EnableDnsSupport?.Value) === true
  }
  return {role, vpcId, profile: account.profile, region: account.region, enableDnsHostnames: await read('enableDnsHostnames'), enableDnsSupport: await read('enableDnsSupport')}
}

/** Bad input naming every VPC and attribute that is off, with the commands that fix them. */
export async function checkDnsResolution(accounts: Record<AccountRole, AwsAccount>, vpcs: Record<AccountRole, string>): Promise<void> {
  const states = [await describeVpcDns(accounts.iot, 'iot', vpcs.iot), await describeVpcDns(accounts.msk, 'msk', vpcs.msk)]
  const problems = dnsProblems(states)
  if (problems.length > 0) {
    throw new InputError(`--dns-resolution (peering.dnsResolution) needs DNS hostnames and DNS support on both VPCs: ${problems.join('; ')}`)
  }
}
