// Step 1 of the walkthrough as data: the cluster `msk create` asks for, with
// every check MSK would otherwise make after minutes of waiting (or refuse
// with a less helpful message) done first, as pure functions.
import type {CreateClusterRequest} from '@aws-sdk/client-kafka'
import {InputError} from '../errors.ts'
import type {StackSettings} from '../plan/types.ts'
import {stackTagMap} from '../plan/tags.ts'
import {stackPrefix} from '../config/stack-names.ts'

// 3.6.0 is the first version with MSK's topic API (MSK developer guide, "Topic
// Operations", requirements), which `up` uses to create the rule's topic; 3.6.0
// itself reached MSK's end of support on 2026-06-01 ("Supported Apache Kafka
// versions"), so the default is the line MSK marks recommended.
export const defaultKafkaVersion = '3.8.x'
/** The smallest broker type MSK offers: this is a test and walkthrough tool. */
export const defaultBrokerType = 'kafka.t3.small'
/** The console's default EBS volume per broker, in GiB. */
export const defaultVolumeGiB = 100

export interface ClusterSpec {
  name: string
  kafkaVersion: string
  brokerType: string
  brokers: number
  subnetIds: string[]
  securityGroupIds: string[]
  volumeGiB: number
}

export interface SubnetFacts {
  subnetId: string
  vpcId: string
  availabilityZone: string
}

export function clusterNameOf(settings: StackSettings): string {
  return settings.msk?.clusterName ?? stackPrefix(settings.stack).replace(/_/g, '-')
}

// CreateCluster, "ClusterName": 1–64 characters, letters, digits and hyphens, starting with a letter or digit.
const clusterNamePattern = /^[0-9A-Za-z][0-9A-Za-z-]{0,63}$/

export function checkClusterName(name: string): void {
  if (!clusterNamePattern.test(name)) {
    throw new InputError(`--cluster-name '${name}': MSK cluster names are 1–64 letters, digits and hyphens, starting with a letter or digit`)
  }
}

// Versions as ListKafkaVersions names them: 3.6.0, 2.8.2.tiered, 3.7.x, 3.7.x.kraft.
const kafkaVersionPattern = /^\d+\.\d+\.(?:\d+|x)(?:\.[a-z0-9]+)?$/

export function checkKafkaVersion(version: string): void {
  if (!kafkaVersionPattern.test(version)) throw new InputError(`--kafka-version '${version}': expected an MSK Kafka version such as ${defaultKafkaVersion} or 3.7.x.kraft`)
}

// Standard brokers: kafka.<family>.<size>. Express brokers (express.*) take no EBS storage, so they are not offered here.
const brokerTypePattern = /^kafka\.[a-z0-9]+\.[a-z0-9]+$/

export function checkBrokerType(type: string): void {
  if (!brokerTypePattern.test(type)) throw new InputError(`--broker-type '${type}': expected a standard MSK broker type such as ${defaultBrokerType} or kafka.m5.large`)
}

/**
 * MSK spreads brokers over the client subnets, one subnet per Availability
 * Zone, two or three zones (CreateCluster, "BrokerNodeGroupInfo.ClientSubnets").
 */
export function checkSubnetLayout(subnets: SubnetFacts[], vpcId: string | undefined): void {
  if (subnets.length < 2) throw new InputError(`--subnets: MSK needs subnets in at least two Availability Zones; got ${subnets.length === 0 ? 'none' : subnets[0].subnetId}`)
  if (subnets.length > 3) throw new InputError(`--subnets: MSK takes two or three subnets, one per Availability Zone; got ${subnets.length}`)
  const vpc = vpcId ?? subnets[0].vpcId
  const stray = subnets.find((s) => s.vpcId !== vpc)
  if (stray) throw new InputError(`--subnets: ${stray.subnetId} is in ${stray.vpcId}, not in ${vpcId ? '--msk-vpc ' : ''}${vpc}`)
  const byZone = new Map<string, string>()
  for (const subnet of subnets) {
    const other = byZone.get(subnet.availabilityZone)
    if (other) throw new InputError(`--subnets: ${other} and ${subnet.subnetId} are both in ${subnet.availabilityZone}; MSK needs one subnet in each of two or three Availability Zones`)
    byZone.set(subnet.availabilityZone, subnet.subnetId)
  }
}

export function checkBrokerCount(brokers: number, zones: number): void {
  if (!Number.isInteger(brokers) || brokers < 1) throw new InputError(`--brokers ${brokers}: expected a positive whole number`)
  if (zones > 0 && brokers % zones !== 0) {
    throw new InputError(`--brokers ${brokers}: MSK needs a multiple of the number of subnets (${zones}), the same number of brokers in each Availability Zone`)
  }
}

/** The spec from the settings, with the checks that need no AWS call. */
export function clusterSpecOf(settings: StackSettings): ClusterSpec {
  const msk = settings.msk ?? {}
  const subnetIds = msk.subnetIds ?? []
  const spec: ClusterSpec = {
    name: clusterNameOf(settings),
    kafkaVersion: msk.kafkaVersion ?? defaultKafkaVersion,
    brokerType: msk.brokerType ?? defaultBrokerType,
    brokers: msk.brokers ?? subnetIds.length,
    subnetIds,
    securityGroupIds: msk.securityGroupId ? [msk.securityGroupId] : [],
    volumeGiB: defaultVolumeGiB,
  }
  checkClusterName(spec.name)
  checkKafkaVersion(spec.kafkaVersion)
  checkBrokerType(spec.brokerType)
  if (msk.brokers !== undefined) checkBrokerCount(msk.brokers, subnetIds.length)
  return spec
}

/**
 * The CreateCluster request: SASL/SCRAM client authentication only (the
 * walkthrough's IoT rule authenticates with the mirrored secret) and TLS both
 * between clients and brokers and inside the cluster.
 */
export function createClusterRequest(spec: ClusterSpec, stack: string): CreateClusterRequest {
  return {
    ClusterName: spec.name,
    KafkaVersion: spec.kafkaVersion,
    NumberOfBrokerNodes: spec.brokers,
    BrokerNodeGroupInfo: {
      ClientSubnets: spec.subnetIds,
      InstanceType: spec.brokerType,
      ...(spec.securityGroupIds.length > 0 ? {SecurityGroups: spec.securityGroupIds} : {}),
      StorageInfo: {EbsStorageInfo: {VolumeSize: spec.volumeGiB}},
    },
    ClientAuthentication: {
      Sasl: {Scram: {Enabled: true}, Iam: {Enabled: false}},
      Unauthenticated: {Enabled: false},
    },
    EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS', InCluster: true}},
    Tags: stackTagMap(stack),
  }
}

// arn:<partition>:kafka:<region>:<account>:cluster/<name>/<uuid>
const clusterArnPattern = /^arn:aws[a-z-]*:kafka:[a-z0-9-]+:\d{12}:cluster\/[0-9A-Za-z][0-9A-Za-z/-]*$/

/** A flag value is not schema-checked like the config file: check the ARN's shape before any call. */
export function checkClusterArn(arn: string): void {
  if (!clusterArnPattern.test(arn)) throw new InputError(`--cluster-arn '${arn}': expected a provisioned MSK cluster ARN (arn:aws:kafka:<region>:<account>:cluster/<name>/<id>)`)
}
