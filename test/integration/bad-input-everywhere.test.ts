// Bad input to every command, from every direction — flags, the config file,
// the environment (profiles, credentials, regions) — refused before any
// change: exit 2, one line on stderr naming the offending input and nothing on
// stdout; with --json, one JSON error document on stdout (exit 2, the same
// message) and nothing on stderr; and not one mutating request at the stand-in.
//
// Extension point: every command in oclif.manifest.json must have a case here
// (the last test names any that has none): a new command adds its rows to
// `cases`. Rows for a command that is not built yet are skipped, saying so;
// commands without --json (the stdio proxies) are run without it only.
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {CreateSubnetCommand, EC2Client} from '@aws-sdk/client-ec2'
import {repoRoot, runCli, type CliResult} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
/** A subnet of the IoT VPC in us-east-1e, which is use1-az3: AWS IoT refuses it for VPC destinations. */
let use1az3Subnet: string
/** AWS config with two more profiles: one without credentials, one without a region. */
let brokenProfiles: string

interface Case {
  name: string
  /** For a command line that names no command at all: run whatever the manifest says. */
  anyCommand?: boolean
  args: () => string[]
  /** What the one stderr line (and the JSON error's message) must say: it names the offending input. */
  message: () => RegExp
  env?: () => NodeJS.ProcessEnv
  input?: string
}

/** Config files, by name, written into the working directory. */
const configFiles: Record<string, string> = {
  'not-json.json': '{"iot": {"vpcId": ',
  'array.json': '[]',
  'unknown-key.json': JSON.stringify({iot: {vpc: 'vpc-01234567'}}),
  'dns-string.json': JSON.stringify({peering: {dnsResolution: 'yes'}}),
  'brokers-zero.json': JSON.stringify({msk: {brokers: 0}}),
  'port-range.json': JSON.stringify({msk: {port: 70000}}),
  'stack-space.json': JSON.stringify({stack: 'my stack'}),
  'cluster-arn.json': JSON.stringify({msk: {clusterArn: 'cluster/plant/1'}}),
  'profile-number.json': JSON.stringify({iot: {profile: 7}}),
  'no-profiles.json': JSON.stringify({stack: 'bad'}),
  // Settings complete apart from the profile, so the profile is what is wrong.
  'ghost-profile.json': JSON.stringify({iot: {profile: 'ghost', vpcId: 'vpc-0000000b'}, msk: {profile: 'msk', vpcId: 'vpc-0000000a', securityGroupId: 'sg-0000000a'}}),
  'dashed-rule.json': JSON.stringify({iot: {profile: 'iot'}, msk: {profile: 'msk'}, rule: {name: 'plant-7'}}),
}

const cases: Case[] = [
  // The config file: unreadable, not JSON, wrong shape, unknown keys, wrong types, out-of-range numbers.
  {name: 'up: a config file that is a folder', args: () => ['up', '-c', 'a-folder'], message: () => /a-folder: cannot be read \(EISDIR\)/},
  {name: 'secret rotate: a config file that does not exist', args: () => ['secret', 'rotate', '-c', 'absent.json'], message: () => /absent\.json: not found/},
  {name: 'up: a config file that is not JSON', args: () => ['up', '-c', 'not-json.json'], message: () => /not-json\.json: not valid JSON/},
  {name: 'msk brokers: a config file that is an array', args: () => ['msk', 'brokers', '-c', 'array.json'], message: () => /array\.json: \(top level\): /},
  {name: 'msk consume: a --bootstrap-server that is not host:port', args: () => ['msk', 'consume', '--topic', 'device-data', '--bootstrap-server', 'nohost'], message: () => /--bootstrap-server 'nohost': expected host:port/},
  {name: 'msk consume: a --count of 0', args: () => ['msk', 'consume', '--count', '0'], message: () => /--count must be a whole number greater than 0, not 0/},
  {name: 'msk consume: a topic name Kafka refuses', args: () => ['msk', 'consume', '--topic', 'bad topic'], message: () => /--topic 'bad topic': Kafka topic names allow/},
  {name: 'msk acl: a topic name Kafka refuses', args: () => ['msk', 'acl', '--topic', 'bad topic'], message: () => /--topic 'bad topic': Kafka topic names allow/},
  {name: 'msk acl: a --consumer name with a space', args: () => ['msk', 'acl', '--consumer', 'bad user'], message: () => /--consumer 'bad user': a SCRAM user name has/},
  {name: 'msk acl --lock-down: a --group Kafka ACLs would not name', args: () => ['msk', 'acl', '--lock-down', '--consumer', 'reader', '--group', 'readers*'], message: () => /--group 'readers\*': a consumer group for an ACL has/},
  {name: 'doctor: --probe-wait without --probe', args: () => ['doctor', '--probe-wait', '5'], message: () => /--probe-wait is for --probe: add --probe/},
  {name: 'doctor --probe: a --bootstrap-server that is not host:port', args: () => ['doctor', '--probe', '--bootstrap-server', 'b-1:port'], message: () => /--bootstrap-server 'b-1:port': expected host:port/},
  {name: 'up: a Kafka topic replication factor of 0', args: () => ['up', '--kafka-topic-replication-factor', '0'], message: () => /replication-factor/},
  {name: 'doctor: an unknown key in the config', args: () => ['doctor', '-c', 'unknown-key.json'], message: () => /unknown-key\.json: unknown key 'iot\.vpc'/},
  {name: 'peer status: a string where the config wants a boolean', args: () => ['peer', 'status', '-c', 'dns-string.json'], message: () => /dns-string\.json: peering\.dnsResolution: /},
  {name: 'msk create: 0 brokers in the config', args: () => ['msk', 'create', '-c', 'brokers-zero.json'], message: () => /brokers-zero\.json: msk\.brokers: /},
  {name: 'peer setup: a port above 65535 in the config', args: () => ['peer', 'setup', '-c', 'port-range.json'], message: () => /port-range\.json: msk\.port: /},
  {name: 'secret mirror: a stack name with a space in the config', args: () => ['secret', 'mirror', '-c', 'stack-space.json'], message: () => /stack-space\.json: stack: letters, digits, - and _ only/},
  {name: 'cleanup: a cluster ARN that is not one in the config', args: () => ['cleanup', '--yes', '-c', 'cluster-arn.json'], message: () => /cluster-arn\.json: msk\.clusterArn: expected an MSK cluster ARN/},
  {name: 'iot role: a profile that is a number in the config', args: () => ['iot', 'role', '-c', 'profile-number.json'], message: () => /profile-number\.json: iot\.profile: /},
  {name: 'iot rule: a rule name AWS refuses in the config', args: () => ['iot', 'rule', '-c', 'dashed-rule.json'], message: () => /'plant-7': IoT rule names allow letters, digits and underscores only, no dashes/},

  // The environment: profiles, credentials, regions.
  {name: 'up: an unknown profile in the config', args: () => ['up', '-c', 'ghost-profile.json'], message: () => /profile 'ghost' is not defined in the AWS config or credentials file/},
  {name: 'secret rotate: an unknown --msk-profile', args: () => ['secret', 'rotate', '--msk-profile', 'nosuchprofile'], message: () => /profile 'nosuchprofile' is not defined/},
  {name: 'tunnel list: AWS_PROFILE names no profile', args: () => ['tunnel', 'list', '-c', 'no-profiles.json'], env: () => ({AWS_PROFILE: 'nosuchprofile'}), message: () => /AWS_PROFILE 'nosuchprofile' is not defined in the AWS config or credentials file/},
  {name: 'peer setup: a profile without credentials', args: () => ['peer', 'setup', '--iot-profile', 'nocreds'], env: () => ({AWS_CONFIG_FILE: brokenProfiles}), message: () => /profile nocreds: no usable AWS credentials/},
  {name: 'msk brokers: a profile without a region', args: () => ['msk', 'brokers', '--msk-profile', 'noregion'], env: () => ({AWS_CONFIG_FILE: brokenProfiles}), message: () => /no region for profile 'noregion': pass --region/},
  {name: 'up: a region that does not exist', args: () => ['up', '--region', 'us-west-7'], message: () => /region 'us-west-7' \(profile (iot|msk)\): AWS has no such region/},
  {name: 'secret mirror: a region that is not a region name', args: () => ['secret', 'mirror', '--region', 'mars-north-1'], message: () => /region 'mars-north-1' is not an AWS region name/},
  {name: 'tunnel open: AWS_REGION that is not a region name', args: () => ['tunnel', 'open', '--thing', 'dev1'], env: () => ({AWS_REGION: 'eu-nowhere-1'}), message: () => /region 'eu-nowhere-1' is not an AWS region name/},

  // Flags: types, ranges, unknown and missing ones.
  {name: 'up: --port that is not a number', args: () => ['up', '--port', 'abc'], message: () => /--port.*Expected an integer but received: abc/},
  {name: 'peer status: --port 0', args: () => ['peer', 'status', '--port', '0'], message: () => /--port.*Expected an integer greater than or equal to 1/},
  {name: 'cleanup: --kms-pending-days 3 (KMS waits 7–30 days)', args: () => ['cleanup', '--yes', '--kms-pending-days', '3'], message: () => /--kms-pending-days.*greater than or equal to 7/},
  {name: 'cleanup: --kms-pending-days 31', args: () => ['cleanup', '--yes', '--kms-pending-days', '31'], message: () => /--kms-pending-days.*less than or equal to 30/},
  {name: 'msk create: --brokers 0', args: () => ['msk', 'create', '--brokers', '0'], message: () => /--brokers.*greater than or equal to 1/},
  {name: 'up: a --stack with a space', args: () => ['up', '--stack', 'my stack'], message: () => /--stack my stack: letters, digits, - and _ only/},
  {name: 'doctor: a --stack of 41 characters', args: () => ['doctor', '--stack', 's'.repeat(41)], message: () => /--stack s{41}: letters, digits, - and _ only, at most 40 characters/},
  {name: 'cleanup without --yes and no terminal to ask on', args: () => ['cleanup'], message: () => /cleanup deletes resources: pass --yes/},
  {name: 'secret rotate: a misspelt flag', args: () => ['secret', 'rotate', '--passwrd-stdin'], message: () => /unknown flag --passwrd-stdin \(did you mean --password-stdin\?\)/},
  {name: 'tunnel open: the required --thing missing', args: () => ['tunnel', 'open'], message: () => /missing --thing \(e\.g\. iotctl tunnel open --thing /},
  {name: 'peer setup: an argument it does not take', args: () => ['peer', 'setup', 'now'], message: () => /peer setup takes no argument 'now'/},
  {name: 'tunnel close: a second argument', args: () => ['tunnel', 'close', 'abc', 'extra'], message: () => /unexpected argument 'extra'; iotctl tunnel close --help shows its usage/},
  {name: 'a command that does not exist', anyCommand: true, args: () => ['peer', 'stat'], message: () => /'peer stat' is not an iotctl command; did you mean `peer status`\?/},
  {name: 'iot destination: a malformed security group id', args: () => ['iot', 'destination', '--iot-security-groups', 'sg_1'], message: () => /--iot-security-groups sg_1: expected a security group id/},
  {name: 'peer status: a malformed VPC id', args: () => ['peer', 'status', '--iot-vpc', 'vpc_1'], message: () => /--iot-vpc vpc_1: expected a VPC id/},
  {name: 'iot destination: a subnet in use1-az3, which AWS IoT refuses', args: () => ['iot', 'destination', '--iot-subnets', use1az3Subnet], message: () => new RegExp(`--iot-subnets ${use1az3Subnet}: in availability zone use1-az3 \\(us-east-1e\\), where AWS IoT does not accept VPC destination subnets`)},
  {name: 'peer setup: --dns-resolution between VPCs without DNS hostnames', args: () => ['peer', 'setup', '--dns-resolution'], message: () => new RegExp(`--dns-resolution \\(peering\\.dnsResolution\\) needs DNS hostnames and DNS support on both VPCs: --iot-vpc ${network.iot.vpcId} has enableDnsHostnames off; enable it with: aws ec2 modify-vpc-attribute --vpc-id ${network.iot.vpcId} --enable-dns-hostnames`)},

  // Names and values AWS (or MSK, or Kafka) would refuse.
  {name: 'secret mirror: a secret name without AmazonMSK_', args: () => ['secret', 'mirror', '--name', 'plant7'], message: () => /--name 'plant7': MSK only uses secrets whose name starts with AmazonMSK_/},
  {name: 'secret mirror: the default aws/secretsmanager key', args: () => ['secret', 'mirror', '--key-alias', 'alias/aws/secretsmanager'], message: () => /--key-alias alias\/aws\/secretsmanager: MSK rejects secrets encrypted with the default/},
  {name: 'secret mirror: a key alias without alias/', args: () => ['secret', 'mirror', '--key-alias', 'plant-key'], message: () => /--key-alias 'plant-key': a KMS alias starts with alias\//},
  {name: 'secret mirror: a SCRAM username with a comma', args: () => ['secret', 'mirror', '--username', 'a,b'], message: () => /--username 'a,b': use 1–128 letters/},
  {name: 'secret rotate: an empty password on stdin', args: () => ['secret', 'rotate', '--password-stdin'], input: '', message: () => /--password-stdin: the password read from stdin is empty/},
  {name: 'msk create: a cluster name with underscores', args: () => ['msk', 'create', '--cluster-name', 'plant_7'], message: () => /--cluster-name 'plant_7': MSK cluster names are 1–64 letters, digits and hyphens/},
  {name: 'msk create: a Kafka version MSK does not offer', args: () => ['msk', 'create', '--kafka-version', 'latest'], message: () => /--kafka-version 'latest': expected an MSK Kafka version/},
  {name: 'msk consumer-network: an unknown --via', args: () => ['msk', 'consumer-network', '--via', 'vpn'], message: () => /expected --via=vpn to be one of: endpoints, nat, none/},
  {name: 'iot rule: an --s3-bucket S3 would refuse', args: () => ['iot', 'rule', '--s3-bucket', 'Bad_Bucket'], message: () => /--s3-bucket 'Bad_Bucket': an S3 bucket name has lowercase letters, digits, dots and hyphens only/},
  {name: 'mqtt publish --basic-ingest: a rule name with a dash', args: () => ['mqtt', 'publish', '--basic-ingest', '--rule-name', 'bad-name', '--topic', 'device/1/data', '--message', '{}'], message: () => /--rule-name 'bad-name': IoT rule names allow letters, digits and underscores only, no dashes/},
  {name: 'msk associate-secret: a --cluster-arn that is not an ARN', args: () => ['msk', 'associate-secret', '--cluster-arn', 'plant'], message: () => /--cluster-arn plant: expected an MSK cluster ARN/},
  {name: 'iot rule: a rule name of 129 characters', args: () => ['iot', 'rule', '--name', 'r'.repeat(129)], message: () => /--name 'r{129}': IoT rule names allow letters, digits and underscores only, 1 to 128 characters/},
  {name: 'up: an error topic reserved by AWS IoT', args: () => ['up', '--error-topic', '$aws/things/x'], message: () => /--error-topic '\$aws\/things\/x': topics starting with '\$' are reserved by AWS IoT/},
  {name: 'init without a terminal', args: () => ['init'], message: () => /iotctl init asks questions and needs a terminal/},
  {name: 'tunnel close: a tunnel id with a slash', args: () => ['tunnel', 'close', 'not/an/id'], message: () => /tunnel id "not\/an\/id" is not a tunnel id/},
  {name: 'tunnel list: a thing name with a space', args: () => ['tunnel', 'list', '--thing', 'dev 1'], message: () => /"dev 1": a thing name is 1-128 letters/},
  {name: 'tunnel forward: a port above 65535', args: () => ['tunnel', 'forward', '--tunnel-id', 'abc', '--source', 'SSH=70000'], message: () => /--source: "SSH=70000" is not SERVICE=PORT with a port 0-65535/},
  {name: 'tunnel proxy: a service name with a space', args: () => ['tunnel', 'proxy', '--tunnel-id', 'abc', '--service', 'my service'], message: () => /service name "my service" must be 1-128 letters/},
  {name: 'tunnel agent: a destination that is not SERVICE=HOST:PORT', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', 'c.pem', '--key', 'k.pem', '--destination', 'SSH'], message: () => /--destination: .*SSH/},
  {name: 'tunnel ssh: a thing name with a slash', args: () => ['tunnel', 'ssh', 'dev/1'], message: () => /"dev\/1": a thing name is 1-128 letters/},
  {name: 'device create: a thing name with a slash', args: () => ['device', 'create', 'dev/1'], message: () => /thing name "dev\/1" must be 1-128 letters/},
  {name: 'device create: certificate files that exist, without --force', args: () => ['device', 'create', 'dev2'], message: () => /dev2\.cert\.pem.* already exists?: pass --force/},
  {name: 'mqtt publish: a topic with a wildcard', args: () => ['mqtt', 'publish', '--topic', 'device/+/data', '--message', '{}'], message: () => /topic "device\/\+\/data" contains a wildcard/},
  {name: 'mqtt publish: no --message, no --file and an empty stdin', args: () => ['mqtt', 'publish', '--topic', 'device/1/data'], input: '', message: () => /no payload: stdin was empty; give --message/},
  {name: 'mqtt publish: QoS 2, which AWS IoT does not support', args: () => ['mqtt', 'publish', '--topic', 'device/1/data', '--qos', '2', '--message', '{}'], message: () => /QoS 2 is not supported by AWS IoT Core/},
  {name: 'mqtt load: 0 devices', args: () => ['mqtt', 'load', '--devices', '0', '--rate', '10', '--duration', '5'], message: () => /--devices must be a whole number greater than 0, not 0/},
  {name: 'mqtt subscribe: a filter with # before the last level', args: () => ['mqtt', 'subscribe', '--topic', 'device/#/data'], message: () => /topic filter "device\/#\/data": '#' must be the whole last level/},
  {name: 'fleet setup: a --serial-prefix with a character a serial cannot hold', args: () => ['fleet', 'setup', '--template', 'sensors', '--serial-prefix', 'SN/'], message: () => /--serial-prefix "SN\/": a serial number names the thing/},
  {name: 'fleet claim-cert: a template name IoT refuses', args: () => ['fleet', 'claim-cert', '--template', 'my template'], message: () => /--template "my template": AWS IoT takes template names of 1-36/},
  {name: 'fleet register: a serial with a space', args: () => ['fleet', 'register', '--claim-cert', 'c.pem', '--claim-key', 'k.pem', '--template', 'sensors', '--serial', 'SN 1'], message: () => /--serial "SN 1": a serial number names the thing/},
  {name: 'mqtt subscribe: an endpoint port above 65535', args: () => ['mqtt', 'subscribe', '--topic', 'device/#', '--endpoint', 'localhost:70000'], message: () => /--endpoint localhost:70000: port 70000 is not a TCP port/},
]

const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}

/** The command a case runs (`tunnel:close`, `up`), as the manifest names it; undefined when it is not built. */
function commandOf(c: Case): string | undefined {
  const [first, second] = c.args()
  if (second !== undefined && !second.startsWith('-') && `${first}:${second}` in manifest.commands) return `${first}:${second}`
  return first in manifest.commands ? first : undefined
}

function assertRefused(c: Case, plain: CliResult, json: CliResult | undefined): void {
  assert.equal(plain.code, 2, `exit 2 (stdout: ${plain.stdout}; stderr: ${plain.stderr})`)
  assert.equal(plain.stdout, '', 'nothing on stdout')
  const lines = plain.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got:\n${plain.stderr}`)
  assert.match(lines[0], c.message())
  if (!json) return

  assert.equal(json.code, 2, `--json: exit 2 (stdout: ${json.stdout}; stderr: ${json.stderr})`)
  assert.equal(json.stderr, '', '--json: nothing on stderr')
  const document = JSON.parse(json.stdout) as {error: {exitCode: number; code: string; message: string}}
  assert.equal(document.error.exitCode, 2)
  assert.equal(document.error.code, 'InvalidInput', 'every exit 2 carries one code in --json')
  assert.match(document.error.message, c.message())
}

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  use1az3Subnet = (await new EC2Client(aws.clientConfig('iot')).send(new CreateSubnetCommand({VpcId: network.iot.vpcId, CidrBlock: '10.20.200.0/24', AvailabilityZone: 'us-east-1e'}))).Subnet!.SubnetId!
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-bad-everywhere-'))
  // A good iotctl.json: each case breaks one thing.
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack: 'bad',
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId,
      clusterArn: `arn:aws:kafka:${aws.region}:${aws.accounts.msk}:cluster/none/00000000-0000-0000-0000-000000000000-1`},
  }))
  for (const [name, text] of Object.entries(configFiles)) writeFileSync(join(cwd, name), text)
  mkdirSync(join(cwd, 'a-folder'))
  writeFileSync(join(cwd, 'dev2.cert.pem'), '-----BEGIN CERTIFICATE-----\n')
  brokenProfiles = join(cwd, 'aws-config')
  writeFileSync(brokenProfiles, `${readFileSync(aws.configFile, 'utf8')}\n[profile nocreds]\nregion = ${aws.region}\n\n[profile noregion]\nrole_arn = arn:aws:iam::${aws.accounts.msk}:role/iotctl-admin\nsource_profile = base\n`)
  aws.resetLog()
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('every command refuses bad input before changing anything', () => {
  test(`at least 30 cases (${cases.length})`, () => {
    assert.ok(cases.length >= 30)
  })

  for (const c of cases) {
    const command = commandOf(c)
    const skip = !c.anyCommand && !command && `${c.args().slice(0, 2).join(' ')} is not built yet`
    // The stdio proxies (tunnel proxy, tunnel ssh) have no --json: their stdout is the connection.
    const withJson = c.anyCommand || (command !== undefined && 'json' in manifest.commands[command].flags)
    test(c.name, {skip}, async () => {
      aws.resetLog()
      const run = (extra: string[]) => runCli([...c.args(), ...extra], {cwd, env: aws.childEnv(c.env?.()), input: c.input})
      const [plain, json] = await Promise.all([run([]), withJson ? run(['--json']) : undefined])
      assertRefused(c, plain, json)
      assert.deepEqual(aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`), [], 'no mutating request')
    })
  }

  test('every command of the manifest has a case here', () => {
    const covered = new Set(cases.map(commandOf))
    const missing = Object.keys(manifest.commands).filter((id) => !covered.has(id))
    assert.deepEqual(missing, [], 'add bad-input cases for these commands to test/integration/bad-input-everywhere.test.ts')
  })
})
