// Bad input to `iot rule|destination`, `up` and `init`: exit 2, one line on
// stderr naming the problem, nothing on stdout, and not one mutating request.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
/** A second VPC in each account, to name subnets and groups of the wrong VPC. */
let other: Network
let cwd: string

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  other = await aws.createNetwork({name: 'other', iot: {cidr: '10.40.0.0/16'}, msk: {cidr: '10.50.0.0/16'}})
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-iot-bad-'))
  const good = {
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, securityGroupId: network.msk.securityGroupId, clusterArn: `arn:aws:kafka:${aws.region}:${aws.accounts.msk}:cluster/none/0`},
  }
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify(good))
  writeFileSync(join(cwd, 'rule-name-type.json'), JSON.stringify({...good, rule: {name: 7}}))
  writeFileSync(join(cwd, 'rule-unknown-key.json'), JSON.stringify({...good, rule: {topic: 'x'}}))
  writeFileSync(join(cwd, 'dashed-rule.json'), JSON.stringify({...good, rule: {name: 'device-data'}}))
  writeFileSync(join(cwd, 'no-iot-vpc.json'), JSON.stringify({...good, iot: {profile: 'iot'}}))
  writeFileSync(join(cwd, 'profiles-only.json'), JSON.stringify({iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  writeFileSync(join(cwd, 'bad-subnet-id.json'), JSON.stringify({...good, iot: {...good.iot, subnetIds: ['subnet_1']}}))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('the IoT commands, up and init refuse bad input before changing anything', () => {
  const cases: {name: string; args: () => string[]; message: () => RegExp}[] = [
    {name: 'a rule name with a dash', args: () => ['iot', 'rule', '--name', 'device-data'], message: () => /--name 'device-data': IoT rule names allow letters, digits and underscores only, no dashes \(try 'device_data'\)/},
    {name: 'a rule name with a space', args: () => ['iot', 'rule', '--name', 'device data'], message: () => /'device data': IoT rule names allow letters, digits and underscores only/},
    {name: 'SQL that is not a SELECT', args: () => ['iot', 'rule', '--sql', "DELETE FROM 'device/+/data'"], message: () => /--sql: an IoT rule statement starts with SELECT/},
    {name: 'SQL without a topic filter', args: () => ['iot', 'rule', '--sql', 'SELECT * FROM device'], message: () => /--sql: the statement needs FROM '<topic filter>'/},
    {name: 'a Kafka topic Kafka would refuse', args: () => ['iot', 'rule', '--kafka-topic', 'device data'], message: () => /--kafka-topic 'device data': Kafka topic names allow letters, digits, '\.', '_' and '-' only/},
    {name: 'a Kafka topic of 250 characters', args: () => ['iot', 'rule', '--kafka-topic', 'x'.repeat(250)], message: () => /a Kafka topic name has 1 to 249 characters/},
    {name: 'an error topic with a wildcard', args: () => ['iot', 'rule', '--error-topic', 'errors/#'], message: () => /--error-topic 'errors\/#': a topic to publish to cannot contain the wildcards/},
    {name: 'a subnet of another VPC', args: () => ['iot', 'destination', '--iot-subnets', other.iot.subnetIds[0]], message: () => new RegExp(`--iot-subnets ${other.iot.subnetIds[0]}: subnet belongs to ${other.iot.vpcId}, not to the IoT VPC ${network.iot.vpcId}`)},
    {name: 'a subnet that does not exist', args: () => ['iot', 'destination', '--iot-subnets', 'subnet-0123456789abcdef0'], message: () => /--iot-subnets subnet-0123456789abcdef0: no such subnet/},
    {name: 'a security group of another VPC', args: () => ['iot', 'destination', '--iot-security-groups', other.iot.securityGroupId], message: () => new RegExp(`--iot-security-groups ${other.iot.securityGroupId}: security group belongs to ${other.iot.vpcId}, not to ${network.iot.vpcId}`)},
    {name: 'a malformed subnet id in the config', args: () => ['iot', 'destination', '-c', 'bad-subnet-id.json'], message: () => /bad-subnet-id\.json: iot\.subnetIds\.0: expected a subnet id/},
    {name: 'a wrongly typed rule name in the config', args: () => ['iot', 'rule', '-c', 'rule-name-type.json'], message: () => /rule-name-type\.json: rule\.name: /},
    {name: 'an unknown rule key in the config', args: () => ['up', '-c', 'rule-unknown-key.json'], message: () => /rule-unknown-key\.json: unknown key 'rule\.topic'/},
    {name: 'up with a dashed rule name in the config', args: () => ['up', '-c', 'dashed-rule.json'], message: () => /^iotctl: rule\.name in \.\/dashed-rule\.json 'device-data': IoT rule names allow letters, digits and underscores only, no dashes/},
    {name: 'up with a dashed --rule-name', args: () => ['up', '--rule-name', 'a-b'], message: () => /--rule-name 'a-b': IoT rule names allow letters, digits and underscores only, no dashes/},
    {name: 'up without the IoT VPC', args: () => ['up', '-c', 'no-iot-vpc.json'], message: () => /missing --iot-vpc \(or iot\.vpcId in the config file\)/},
    // Every missing setting in one line, not one per run (issue 19).
    {name: 'peer setup with only the profiles', args: () => ['peer', 'setup', '-c', 'profiles-only.json'], message: () => /^iotctl: missing --iot-vpc, --msk-vpc and --msk-security-group \(or iot\.vpcId, msk\.vpcId and msk\.securityGroupId in the config file\)$/},
    {name: 'iot destination without the IoT VPC', args: () => ['iot', 'destination', '-c', 'no-iot-vpc.json'], message: () => /missing --iot-vpc \(or iot\.vpcId in the config file\)/},
    {name: 'iot destination before iot role', args: () => ['iot', 'destination'], message: () => /the stack has no IoT role yet: run `iotctl iot role` first/},
    {name: 'iot role before secret mirror', args: () => ['iot', 'role'], message: () => /no AmazonMSK_ secret of this stack yet: run `iotctl secret mirror` first/},
    {name: 'init without a terminal', args: () => ['init'], message: () => /iotctl init asks questions and needs a terminal; without one, write iotctl\.json yourself \(keys iot\.profile, iot\.vpcId.*\) or pass the same as flags to `iotctl up` \(--iot-profile/},
  ]

  for (const c of cases) {
    test(c.name, async () => {
      aws.resetLog()
      const result = await runCli(c.args(), {cwd, env: aws.childEnv()})
      assert.equal(result.code, 2, `exit code (stdout: ${result.stdout}; stderr: ${result.stderr})`)
      assert.equal(result.stdout, '')
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`)
      assert.match(lines[0], c.message())
      assert.deepEqual(aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`), [])
    })
  }
})
