// `iotctl msk create` → `secret mirror` → `msk associate-secret` → `msk brokers`
// → cleanup (the cluster kept unless --include-cluster), run as the built binary
// against the local two-account AWS, whose stand-in implements the SCRAM and
// bootstrap-broker APIs and brings new clusters to ACTIVE after a delay.
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {CreateSubnetCommand, EC2Client} from '@aws-sdk/client-ec2'
import {DescribeClusterV2Command, KafkaClient} from '@aws-sdk/client-kafka'
import {DescribeSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {assertBadInput} from '../support/bad-input.ts'
import {jsonOf, runCli, type CliResult} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
let kafka: KafkaClient
let mskSecrets: SecretsManagerClient
/** A third subnet of the MSK VPC, in the same zone as the first. */
let sameZoneSubnet: string
let clusterArn: string

const cli = (args: string[], input?: string): Promise<CliResult> => runCli(args, {cwd, env: aws.childEnv(), input})
const subnets = () => network.msk.subnetIds.join(',')

before(async () => {
  aws = await startLocalAws({clusterActivationDelayMs: 4000})
  network = await aws.createNetwork()
  kafka = new KafkaClient(aws.clientConfig('msk'))
  mskSecrets = new SecretsManagerClient(aws.clientConfig('msk'))
  const ec2 = new EC2Client(aws.clientConfig('msk'))
  const extra = await ec2.send(new CreateSubnetCommand({VpcId: network.msk.vpcId, CidrBlock: '10.10.9.0/24', AvailabilityZone: network.msk.subnets[0].availabilityZone}))
  sameZoneSubnet = extra.Subnet!.SubnetId!
  ec2.destroy()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-msk-'))
})

after(async () => {
  kafka?.destroy()
  mskSecrets?.destroy()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('MSK cluster, SCRAM association and bootstrap brokers', () => {
  test('bad input: exit 2, one line naming it, no mutating request', async (t) => {
    const [a] = network.msk.subnetIds
    const create = ['msk', 'create', '--msk-profile', 'msk']
    const cases: [string, () => string[], RegExp][] = [
      ['two subnets in one zone', () => [...create, '--subnets', `${a},${sameZoneSubnet}`], new RegExp(`^iotctl: --subnets: ${a} and ${sameZoneSubnet} are both in ${network.msk.subnets[0].availabilityZone}`)],
      ['a single subnet', () => [...create, '--subnets', a], /^iotctl: --subnets: MSK needs subnets in at least two Availability Zones/],
      ['no subnets', () => create, /^iotctl: missing --subnets/],
      ['a subnet that does not exist', () => [...create, '--subnets', `${a},subnet-0123456789abcdef0`], /^iotctl: --subnets: subnet-0123456789abcdef0: no such subnet in profile msk/],
      ['subnets outside --msk-vpc', () => [...create, '--subnets', subnets(), '--msk-vpc', network.iot.vpcId], new RegExp(`^iotctl: --subnets: ${a} is in ${network.msk.vpcId}, not in --msk-vpc ${network.iot.vpcId}`)],
      ['brokers not a multiple of the subnets', () => [...create, '--subnets', subnets(), '--brokers', '3'], /^iotctl: --brokers 3: MSK needs a multiple of the number of subnets \(2\)/],
      ['a cluster name MSK refuses', () => [...create, '--subnets', subnets(), '--cluster-name', 'my_cluster'], /^iotctl: --cluster-name 'my_cluster': MSK cluster names are 1–64 letters, digits and hyphens/],
      ['a Kafka version that is not one', () => [...create, '--subnets', subnets(), '--kafka-version', 'latest'], /^iotctl: --kafka-version 'latest'/],
      ['a broker type that is not one', () => [...create, '--subnets', subnets(), '--broker-type', 'm5.large'], /^iotctl: --broker-type 'm5.large'/],
      ['a security group of the other account', () => [...create, '--subnets', subnets(), '--security-group', network.iot.securityGroupId], new RegExp(`^iotctl: --security-group ${network.iot.securityGroupId}: no such security group`)],
      ['a cluster ARN that is not one', () => ['msk', 'associate-secret', '--msk-profile', 'msk', '--cluster-arn', 'my-cluster'], /^iotctl: --cluster-arn '?my-cluster'?: expected a.* MSK cluster ARN/],
      ['associate with no cluster at all', () => ['msk', 'associate-secret', '--msk-profile', 'msk'], /^iotctl: no MSK cluster for stack 'iotctl': pass --cluster-arn/],
      ['brokers of no cluster', () => ['msk', 'brokers', '--msk-profile', 'msk'], /^iotctl: no MSK cluster for stack 'iotctl'/],
      ['a secret name without AmazonMSK_', () => ['msk', 'associate-secret', '--msk-profile', 'msk', '--name', 'users'], /^iotctl: --name 'users': MSK only uses secrets whose name starts with AmazonMSK_/],
    ]
    for (const [name, args, expected] of cases) {
      await t.test(name, async () => {
        aws.resetLog()
        assertBadInput(aws, await cli(args()), expected)
      })
    }
  })

  test('msk create --no-wait: a SASL/SCRAM + TLS cluster tagged with the stack, returned while CREATING', async () => {
    const result = await cli(['msk', 'create', '--msk-profile', 'msk', '--subnets', subnets(), '--security-group', network.msk.securityGroupId, '--msk-vpc', network.msk.vpcId, '--no-wait', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    assert.equal(document.changed, true)
    assert.equal(document.state, 'CREATING')
    assert.equal(document.clusterName, 'iotctl')
    clusterArn = document.clusterArn
    const cluster = (await kafka.send(new DescribeClusterV2Command({ClusterArn: clusterArn}))).ClusterInfo!
    assert.equal(cluster.Tags?.['iotctl:stack'], 'iotctl')
    assert.equal(cluster.Provisioned?.ClientAuthentication?.Sasl?.Scram?.Enabled, true)
    assert.deepEqual(cluster.Provisioned?.BrokerNodeGroupInfo?.ClientSubnets, network.msk.subnetIds)
    assert.equal(cluster.Provisioned?.NumberOfBrokerNodes, 2)
    const ledger = JSON.parse(readFileSync(join(cwd, '.iotctl', 'iotctl.json'), 'utf8'))
    assert.deepEqual(ledger.resources.filter((r: {step: string}) => r.step === 'msk-cluster').map((r: {id: string}) => r.id), [clusterArn])
  })

  test('associate-secret waits for ACTIVE, then associates A\'s secret; a second run sends nothing', async () => {
    const mirror = await cli(['secret', 'mirror', '--iot-profile', 'iot', '--msk-profile', 'msk'])
    assert.equal(mirror.code, 0, mirror.stderr)
    const secretArn = (await mskSecrets.send(new DescribeSecretCommand({SecretId: 'AmazonMSK_iotctl'}))).ARN!
    // The cluster stays CREATING until associate-secret has looked at it twice (so it is waiting), whatever the machine's load.
    const activationDelay = aws.settings.clusterActivationDelayMs
    aws.settings.clusterActivationDelayMs = 3_600_000
    aws.resetLog()
    const running = cli(['msk', 'associate-secret', '--msk-profile', 'msk', '--json'])
    const looks = () => aws.log().filter((r) => r.service === 'kafka' && r.operation.startsWith('DescribeCluster') && r.status === 200).length
    const deadline = Date.now() + 60_000
    while (looks() < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25))
    aws.settings.clusterActivationDelayMs = activationDelay
    const result = await running
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /waiting for cluster iotctl to become ACTIVE/)
    assert.equal(jsonOf(result).secretArn, secretArn)
    assert.deepEqual(aws.standIn.msk.scramSecrets(clusterArn), [secretArn])

    aws.resetLog()
    const again = await cli(['msk', 'associate-secret', '--msk-profile', 'msk'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to change: \S+ is associated with /)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('msk create again adopts the ACTIVE cluster and changes nothing', async () => {
    aws.resetLog()
    const result = await cli(['msk', 'create', '--msk-profile', 'msk', '--subnets', subnets()])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, new RegExp(`cluster iotctl is ACTIVE: ${clusterArn.replace(/[/.]/g, '\\$&')}`))
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('brokers: the SASL/SCRAM bootstrap string, and the whole answer with --json', async () => {
    const result = await cli(['msk', 'brokers', '--msk-profile', 'msk'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /^b-1\.\S+:9096,b-2\.\S+:9096\n$/)
    const document = jsonOf(await cli(['msk', 'brokers', '--msk-profile', 'msk', '--json']))
    assert.equal(document.clusterArn, clusterArn)
    assert.equal(document.BootstrapBrokerStringSaslScram, result.stdout.trim())
    assert.ok(!('BootstrapBrokerString' in document), 'no plaintext brokers on a TLS-only cluster')
  })

  test('cleanup removes the association, secrets and keys but keeps the cluster; --include-cluster deletes it', async () => {
    const result = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    const outcome = (id: string) => document.steps.find((s: {id: string}) => s.id === id)?.outcome
    assert.equal(outcome('scram-association'), 'deleted')
    assert.equal(outcome('secret:msk'), 'deleted')
    assert.equal(outcome('kms-key:iot'), 'deleted')
    assert.equal(outcome('msk-cluster'), 'kept')
    assert.deepEqual(aws.standIn.msk.scramSecrets(clusterArn), [])
    assert.equal((await kafka.send(new DescribeClusterV2Command({ClusterArn: clusterArn}))).ClusterInfo?.State, 'ACTIVE')

    const withCluster = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes', '--include-cluster', '--json'])
    assert.equal(withCluster.code, 0, withCluster.stderr)
    assert.equal(jsonOf(withCluster).deleted, 1)
    await assert.rejects(kafka.send(new DescribeClusterV2Command({ClusterArn: clusterArn})), (error: Error) => error.name === 'NotFoundException')

    aws.resetLog()
    const again = await cli(['cleanup', '--iot-profile', 'iot', '--msk-profile', 'msk', '--yes', '--include-cluster'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to delete/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })
})
