// What Amazon MSK's CreateCluster / CreateClusterV2 (provisioned) refuse that
// moto 5.2.5 accepts, checked before the request reaches moto:
// - broker sizes MSK offers — MSK developer guide, "Amazon MSK broker sizes"
//   (https://docs.aws.amazon.com/msk/latest/developerguide/broker-instance-sizes.html);
// - Apache Kafka versions MSK offers for new clusters — "Supported Apache Kafka versions"
//   (https://docs.aws.amazon.com/msk/latest/developerguide/supported-kafka-versions.html):
//   the versions without a passed end-of-support date on that page, plus their KRaft
//   builds (x.y.x.kraft, "KRaft mode" in the same guide). 3.6.0 (end of support 2026-06-01)
//   is still accepted: MSK "phases out" creation for such versions rather than refusing at once;
// - two or three client subnets, in distinct Availability Zones, and a broker count that is
//   a multiple of them — CreateCluster API reference, BrokerNodeGroupInfo.ClientSubnets
//   ("specify either two or three subnets… must be in distinct Availability Zones");
// - SASL/SCRAM needs TLS between clients and brokers — "SASL/SCRAM authentication"
//   ("Amazon MSK supports SASL/SCRAM only with TLS encryption in transit"), so
//   ClientBroker PLAINTEXT is refused.
// All refusals are BadRequestException 400 with `invalidParameter`.
import {AwsServiceError} from './aws-errors.ts'
import type {CallContext} from './context.ts'
import {xmlTexts, type MotoClient} from './moto-client.ts'

const brokerSizes = [
  'kafka.t3.small',
  ...['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'].map((size) => `kafka.m5.${size}`),
  ...['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'].map((size) => `kafka.m7g.${size}`),
  ...['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'].map((size) => `express.m7g.${size}`),
]
export const mskInstanceTypes: ReadonlySet<string> = new Set(brokerSizes)

export const mskKafkaVersions: ReadonlySet<string> = new Set([
  '3.6.0',
  '3.7.x',
  '3.7.x.kraft',
  '3.8.x',
  '3.8.x.kraft',
  '3.9.x',
  '3.9.x.kraft',
  '4.0.x',
  '4.0.x.kraft',
  '4.1.x',
  '4.1.x.kraft',
])

const badRequest = (message: string, parameter: string): AwsServiceError => new AwsServiceError('BadRequestException', 400, message, {invalidParameter: parameter})

interface ProvisionedRequest {
  kafkaVersion?: unknown
  numberOfBrokerNodes?: unknown
  brokerNodeGroupInfo?: {instanceType?: unknown; clientSubnets?: unknown}
  clientAuthentication?: {sasl?: {scram?: {enabled?: unknown}}}
  encryptionInfo?: {encryptionInTransit?: {clientBroker?: unknown}}
}

/** The subnets' Availability Zones in the caller's account (moto EC2 DescribeSubnets); undefined for a subnet that does not exist. */
async function subnetZones(moto: MotoClient, account: string, region: string, subnetIds: string[]): Promise<Map<string, string>> {
  const zones = new Map<string, string>()
  const params: Record<string, string> = {Action: 'DescribeSubnets', Version: '2016-11-15'}
  subnetIds.forEach((id, i) => (params[`Filter.1.Value.${i + 1}`] = id))
  params['Filter.1.Name'] = 'subnet-id'
  const answer = await moto.query('ec2', account, region, params)
  const xml = answer.body.toString('utf8')
  const ids = xmlTexts(xml, 'subnetId')
  const azs = xmlTexts(xml, 'availabilityZone')
  ids.forEach((id, i) => zones.set(id, azs[i] ?? ''))
  return zones
}

/**
 * One page of an MSK list: maxResults 1–100 (default 100) and an opaque
 * nextToken, each refused with BadRequestException when out of range.
 */
export function mskPage<T>(c: CallContext, all: readonly T[]): {items: T[]; nextToken?: string} {
  const maxResults = Number(c.url.searchParams.get('maxResults') ?? 100)
  if (!Number.isInteger(maxResults) || maxResults < 1 || maxResults > 100) throw badRequest('maxResults must be between 1 and 100', 'maxResults')
  const token = c.url.searchParams.get('nextToken')
  const start = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
  if (!Number.isInteger(start) || start < 0 || start > all.length) throw badRequest('The nextToken is not valid', 'nextToken')
  const end = start + maxResults
  return {items: all.slice(start, end), ...(end < all.length ? {nextToken: Buffer.from(String(end)).toString('base64url')} : {})}
}

/** Throws MSK's BadRequestException for a provisioned cluster request MSK would refuse. */
export async function checkProvisionedCluster(c: CallContext, request: ProvisionedRequest | undefined): Promise<void> {
  if (!request) return
  const group = request.brokerNodeGroupInfo ?? {}
  const instanceType = String(group.instanceType ?? '')
  if (!mskInstanceTypes.has(instanceType)) {
    throw badRequest(`The instance type ${instanceType} is not supported. Specify one of: ${[...mskInstanceTypes].join(', ')}.`, 'instanceType')
  }
  const version = String(request.kafkaVersion ?? '')
  if (!mskKafkaVersions.has(version)) {
    throw badRequest(`Unsupported KafkaVersion [${version}]. Valid values: ${[...mskKafkaVersions].join(', ')}.`, 'kafkaVersion')
  }
  if (instanceType.startsWith('express.') && !/^(3\.[6-9]|[4-9])\./.test(version)) {
    throw badRequest(`Express brokers require Apache Kafka version 3.6 or later.`, 'kafkaVersion')
  }
  const subnets = Array.isArray(group.clientSubnets) ? group.clientSubnets.map(String) : []
  if (subnets.length < 2 || subnets.length > 3) {
    throw badRequest(`Specify either two or three client subnets in distinct Availability Zones; you specified ${subnets.length}.`, 'clientSubnets')
  }
  const zones = await subnetZones(c.moto, c.account, c.region, subnets)
  const missing = subnets.filter((id) => !zones.has(id))
  if (missing.length > 0) throw badRequest(`The subnet(s) ${missing.join(', ')} could not be found in your account.`, 'clientSubnets')
  const distinct = new Set(subnets.map((id) => zones.get(id)))
  if (distinct.size !== subnets.length) {
    throw badRequest(`The client subnets must be in distinct Availability Zones; ${subnets.map((id) => `${id} (${zones.get(id)})`).join(', ')} are not.`, 'clientSubnets')
  }
  const brokers = Number(request.numberOfBrokerNodes)
  if (!Number.isInteger(brokers) || brokers % subnets.length !== 0) {
    throw badRequest('The number of broker nodes must be a multiple of Availability Zones in the Client Subnets parameter.', 'numberOfBrokerNodes')
  }
  const clientBroker = request.encryptionInfo?.encryptionInTransit?.clientBroker ?? 'TLS'
  if (request.clientAuthentication?.sasl?.scram?.enabled === true && clientBroker === 'PLAINTEXT') {
    throw badRequest('SASL/SCRAM authentication requires TLS encryption in transit between clients and brokers; ClientBroker PLAINTEXT is not allowed with SASL/SCRAM.', 'clientBroker')
  }
}
