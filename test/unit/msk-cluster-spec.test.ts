// Step 1's bad input, refused before any call that changes something: names
// MSK refuses, subnet layouts it cannot use, broker counts it cannot spread.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {checkBrokerCount, checkBrokerType, checkClusterArn, checkClusterName, checkKafkaVersion, checkSubnetLayout, clusterSpecOf, createClusterRequest, type SubnetFacts} from '../../src/lib/msk/cluster-spec.ts'
import type {StackSettings} from '../../src/lib/plan/types.ts'

function refusal(check: () => void): string {
  try {
    check()
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`)
    assert.ok(!error.message.includes('\n'))
    return error.message
  }
  assert.fail('expected a refusal')
}

test('cluster names: 1–64 letters, digits and hyphens, starting with a letter or digit', () => {
  for (const ok of ['iotctl-demo', 'a', 'MSK-1', '9lives', 'x'.repeat(64)]) assert.doesNotThrow(() => checkClusterName(ok), ok)
  for (const bad of ['', '-lead', 'under_score', 'dot.ted', 'x'.repeat(65), 'spa ce']) {
    assert.match(refusal(() => checkClusterName(bad)), /^--cluster-name '.*': MSK cluster names are 1–64 letters/, bad)
  }
})

test('Kafka versions and broker types as MSK names them', () => {
  for (const ok of ['3.6.0', '2.8.2.tiered', '3.7.x', '3.7.x.kraft', '3.9.x']) assert.doesNotThrow(() => checkKafkaVersion(ok), ok)
  for (const bad of ['3', '3.6', 'latest', 'v3.6.0']) assert.match(refusal(() => checkKafkaVersion(bad)), /^--kafka-version/, bad)
  for (const ok of ['kafka.t3.small', 'kafka.m5.large', 'kafka.m7g.4xlarge']) assert.doesNotThrow(() => checkBrokerType(ok), ok)
  for (const bad of ['t3.small', 'express.m7g.large', 'kafka.m5', 'KAFKA.M5.LARGE']) assert.match(refusal(() => checkBrokerType(bad)), /^--broker-type/, bad)
})

test('subnets: two or three, one per Availability Zone, all in the MSK VPC', () => {
  const subnet = (id: string, az: string, vpc = 'vpc-a'): SubnetFacts => ({subnetId: id, availabilityZone: az, vpcId: vpc})
  const cases: [string, SubnetFacts[], string | undefined, RegExp | undefined][] = [
    ['two zones', [subnet('s1', 'us-east-1a'), subnet('s2', 'us-east-1b')], 'vpc-a', undefined],
    ['three zones, no VPC named', [subnet('s1', 'a'), subnet('s2', 'b'), subnet('s3', 'c')], undefined, undefined],
    ['one subnet', [subnet('s1', 'a')], undefined, /at least two Availability Zones; got s1/],
    ['none', [], undefined, /at least two Availability Zones; got none/],
    ['same zone', [subnet('s1', 'us-east-1a'), subnet('s2', 'us-east-1a')], undefined, /s1 and s2 are both in us-east-1a/],
    ['four', [subnet('s1', 'a'), subnet('s2', 'b'), subnet('s3', 'c'), subnet('s4', 'd')], undefined, /two or three subnets/],
    ['other VPC than --msk-vpc', [subnet('s1', 'a', 'vpc-b'), subnet('s2', 'b', 'vpc-b')], 'vpc-a', /s1 is in vpc-b, not in --msk-vpc vpc-a/],
    ['mixed VPCs', [subnet('s1', 'a', 'vpc-a'), subnet('s2', 'b', 'vpc-b')], undefined, /s2 is in vpc-b, not in vpc-a/],
  ]
  for (const [name, subnets, vpc, expected] of cases) {
    if (expected) assert.match(refusal(() => checkSubnetLayout(subnets, vpc)), expected, name)
    else assert.doesNotThrow(() => checkSubnetLayout(subnets, vpc), name)
  }
})

test('broker counts: a multiple of the number of subnets', () => {
  const cases: [number, number, boolean][] = [[2, 2, true], [4, 2, true], [3, 3, true], [6, 3, true], [3, 2, false], [1, 2, false], [4, 3, false], [0, 2, false]]
  for (const [brokers, zones, ok] of cases) {
    if (ok) assert.doesNotThrow(() => checkBrokerCount(brokers, zones))
    else assert.match(refusal(() => checkBrokerCount(brokers, zones)), /^--brokers/, `${brokers} over ${zones}`)
  }
})

test('cluster ARNs given as flags are checked for shape', () => {
  for (const ok of ['arn:aws:kafka:us-east-1:111111111111:cluster/demo/6357e0b2-0e6a-4b86-a0b4-70df934c2e31-5', 'arn:aws:kafka:us-east-1:111111111111:cluster/0f8e7d6c-aaaa-bbbb-cccc-0123456789ab']) {
    assert.doesNotThrow(() => checkClusterArn(ok), ok)
  }
  for (const bad of ['demo', 'arn:aws:kafka:us-east-1:111111111111:serverless-cluster/x/y', 'arn:aws:kms:us-east-1:111111111111:key/x']) {
    assert.match(refusal(() => checkClusterArn(bad)), /^--cluster-arn/, bad)
  }
})

test('the spec: defaults from the stack, one broker per subnet, and the CreateCluster request with SASL/SCRAM and TLS in the cluster', () => {
  const settings = {stack: 'ci_42', msk: {subnetIds: ['subnet-1', 'subnet-2'], securityGroupId: 'sg-1'}} as StackSettings
  const spec = clusterSpecOf(settings)
  assert.deepEqual(spec, {name: 'iotctl-ci-42', kafkaVersion: '3.8.x', brokerType: 'kafka.t3.small', brokers: 2, subnetIds: ['subnet-1', 'subnet-2'], securityGroupIds: ['sg-1'], volumeGiB: 100})
  assert.deepEqual(createClusterRequest(spec, 'ci_42'), {
    ClusterName: 'iotctl-ci-42',
    KafkaVersion: '3.8.x',
    NumberOfBrokerNodes: 2,
    BrokerNodeGroupInfo: {ClientSubnets: ['subnet-1', 'subnet-2'], InstanceType: 'kafka.t3.small', SecurityGroups: ['sg-1'], StorageInfo: {EbsStorageInfo: {VolumeSize: 100}}},
    ClientAuthentication: {Sasl: {Scram: {Enabled: true}, Iam: {Enabled: false}}, Unauthenticated: {Enabled: false}},
    EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS', InCluster: true}},
    Tags: {'iotctl:stack': 'ci_42', 'iotctl:managed': 'true'},
  })
  assert.match(refusal(() => clusterSpecOf({...settings, msk: {...settings.msk, brokers: 3}})), /^--brokers 3: MSK needs a multiple of the number of subnets \(2\)/)
  assert.match(refusal(() => clusterSpecOf({...settings, msk: {...settings.msk, clusterName: 'bad_name'}})), /^--cluster-name 'bad_name'/)
})
