// What AWS IoT does to provision a VPC topic rule destination, asked of the
// policies: assume the destination's role as iot.amazonaws.com (the trust
// policy, with the confused-deputy keys IoT presents), then, as the role,
// describe the subnets, VPC and security groups and create a network interface
// in each subnet tagged VPCDestinationENI=true (EC2 authorizes tags given at
// creation as ec2:CreateTags with ec2:CreateAction), give IoT's service the
// interface permission and be able to delete the interface later. The role
// policy the IoT developer guide gives for this ("Virtual private cloud (VPC)
// destinations", https://docs.aws.amazon.com/iot/latest/developerguide/vpc-rule-action.html):
//   ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces, ec2:DescribeVpcs,
//   ec2:DeleteNetworkInterface, ec2:DescribeSubnets, ec2:DescribeVpcAttribute,
//   ec2:DescribeSecurityGroups on *; ec2:CreateNetworkInterfacePermission with
//   ec2:ResourceTag/VPCDestinationENI = true; ec2:CreateTags with
//   ec2:CreateAction = CreateNetworkInterface and aws:RequestTag/VPCDestinationENI = true.
import {createHash} from 'node:crypto'
import {xmlText, type MotoClient} from '../moto-client.ts'
import {PolicyEngine, type Decision} from './engine.ts'

/**
 * Availability zones (by zone id, the same in every account) where AWS IoT
 * places no VPC destination interfaces (IoT developer guide, Apache Kafka rule
 * action / VPC destinations: use1-az3 in us-east-1). In moto, us-east-1e is use1-az3.
 */
export const UNSUPPORTED_DESTINATION_ZONE_IDS: ReadonlySet<string> = new Set(['use1-az3'])

export const DESTINATION_ENI_TAG = 'VPCDestinationENI'

export interface VpcDestinationFacts {
  account: string
  region: string
  /** The destination's ARN: what IoT presents as aws:SourceArn (`arn:aws:iot:<region>:<account>:ruledestination/vpc/<id>`). */
  destinationArn: string
  roleArn: string
  vpcId: string
  subnetIds: string[]
  securityGroups: string[]
}

interface SubnetFacts {
  subnetId: string
  availabilityZone?: string
  availabilityZoneId?: string
}

async function describeSubnet(moto: MotoClient, account: string, region: string, subnetId: string): Promise<SubnetFacts | undefined> {
  const answer = await moto.query('ec2', account, region, {Action: 'DescribeSubnets', Version: '2016-11-15', 'SubnetId.1': subnetId})
  const xml = answer.body.toString('utf8')
  if (answer.status !== 200 || xmlText(xml, 'subnetId') !== subnetId) return undefined
  const availabilityZone = xmlText(xml, 'availabilityZone')
  const availabilityZoneId = xmlText(xml, 'availabilityZoneId')
  return {subnetId, ...(availabilityZone ? {availabilityZone} : {}), ...(availabilityZoneId ? {availabilityZoneId} : {})}
}

/** The refusal of CreateTopicRuleDestination for a subnet in a zone IoT does not support; undefined when all are supported. */
export async function unsupportedZoneRefusal(moto: MotoClient, account: string, region: string, subnetIds: string[]): Promise<string | undefined> {
  for (const subnetId of subnetIds) {
    const subnet = await describeSubnet(moto, account, region, subnetId)
    if (subnet?.availabilityZoneId && UNSUPPORTED_DESTINATION_ZONE_IDS.has(subnet.availabilityZoneId)) {
      return `The subnet ${subnetId} is in availability zone ${subnet.availabilityZone ?? '?'} (${subnet.availabilityZoneId}), which AWS IoT VPC destinations do not support. Choose subnets in other availability zones.`
    }
  }
  return undefined
}

/** A stable made-up interface id per destination and subnet (the interface does not exist yet when IoT is authorized to create it). */
function eniId(destinationArn: string, subnetId: string): string {
  return `eni-${createHash('sha256').update(`${destinationArn}/${subnetId}`).digest('hex').slice(0, 17)}`
}

/** ENABLED, or ERROR with the first refusal IoT would meet, in the order it acts. */
export async function destinationPermissionsOutcome(
  moto: MotoClient,
  facts: VpcDestinationFacts,
): Promise<{status: 'ENABLED' | 'ERROR'; reason?: string}> {
  const engine = new PolicyEngine(moto, {region: facts.region})
  const assume = await engine.mayAssume(facts.roleArn, 'iot.amazonaws.com', {
    'aws:SourceAccount': facts.account,
    'aws:SourceArn': facts.destinationArn,
  })
  if (!assume.allowed) return {status: 'ERROR', reason: assume.reason}
  const role = await engine.principal(facts.roleArn)
  if (!role) return {status: 'ERROR', reason: `The role ${facts.roleArn} does not exist`}

  const {account, region, vpcId} = facts
  const ec2Arn = (type: string, id: string): string => `arn:aws:ec2:${region}:${account}:${type}/${id}`
  const vpcArn = ec2Arn('vpc', vpcId)
  const checks: {action: string; resource: string; context: Record<string, string | string[]>}[] = [
    {action: 'ec2:DescribeSubnets', resource: '*', context: {}},
    {action: 'ec2:DescribeVpcs', resource: '*', context: {}},
    {action: 'ec2:DescribeVpcAttribute', resource: vpcArn, context: {}},
    {action: 'ec2:DescribeSecurityGroups', resource: '*', context: {}},
    {action: 'ec2:DescribeNetworkInterfaces', resource: '*', context: {}},
  ]
  for (const subnetId of facts.subnetIds) {
    const subnet = await describeSubnet(moto, account, region, subnetId)
    const eni = ec2Arn('network-interface', eniId(facts.destinationArn, subnetId))
    const placement: Record<string, string> = {
      'ec2:Region': region,
      'ec2:Vpc': vpcArn,
      'ec2:Subnet': ec2Arn('subnet', subnetId),
      ...(subnet?.availabilityZone ? {'ec2:AvailabilityZone': subnet.availabilityZone} : {}),
    }
    const requestTags = {[`aws:RequestTag/${DESTINATION_ENI_TAG}`]: 'true', 'aws:TagKeys': [DESTINATION_ENI_TAG]}
    const resourceTags = {[`ec2:ResourceTag/${DESTINATION_ENI_TAG}`]: 'true', [`aws:ResourceTag/${DESTINATION_ENI_TAG}`]: 'true'}
    // CreateNetworkInterface is authorized against the new interface, the subnet and each security group.
    for (const resource of [eni, ec2Arn('subnet', subnetId), ...facts.securityGroups.map((g) => ec2Arn('security-group', g))]) {
      checks.push({action: 'ec2:CreateNetworkInterface', resource, context: {...placement, ...requestTags}})
    }
    checks.push({action: 'ec2:CreateTags', resource: eni, context: {...placement, ...requestTags, 'ec2:CreateAction': 'CreateNetworkInterface'}})
    checks.push({action: 'ec2:CreateNetworkInterfacePermission', resource: eni, context: {...placement, ...resourceTags}})
    checks.push({action: 'ec2:DeleteNetworkInterface', resource: eni, context: {...placement, ...resourceTags}})
  }
  for (const check of checks) {
    const result: Decision = await PolicyEngine.evaluateAs(role, check.action, check.resource, check.context)
    // EC2's UnauthorizedOperation message, as IoT passes it on.
    if (!result.allowed) return {status: 'ERROR', reason: `You are not authorized to perform this operation. ${result.reason}`}
  }
  return {status: 'ENABLED'}
}
