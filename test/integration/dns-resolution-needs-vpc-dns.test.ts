// `--dns-resolution` needs DNS hostnames and DNS support on both VPCs (VPC
// peering guide, "Enable DNS resolution for a VPC peering connection"). New VPCs
// have DNS support on and DNS hostnames off, as on AWS. iotctl checks both
// VPCs first: exit 2 naming the VPC and the attribute, with the command that
// enables it, and nothing changed; once enabled, the peering resolves DNS both
// ways. The built binary against the local two-account AWS.
import assert from 'node:assert/strict'
import {execFile, execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {after, before, describe, test} from 'node:test'
import {DescribeVpcPeeringConnectionsCommand, EC2Client, ModifyVpcAttributeCommand} from '@aws-sdk/client-ec2'
import {assertBadInput} from '../support/bad-input.ts'
import {runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network, type ProfileName} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

let aws: LocalAws
let network: Network
let cwd: string

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 180_000})
const ec2 = (profile: ProfileName) => new EC2Client(aws.clientConfig(profile))

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-dns-'))
  writeStackConfig(cwd, 'dns', network)
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

/** The fix commands a refusal printed, in order. */
let printed: string[] = []

describe('peer setup --dns-resolution checks both VPCs\' DNS attributes first', () => {
  test('DNS hostnames off on both VPCs: exit 2 naming each VPC and attribute, with the command that enables it; nothing changed', async () => {
    aws.resetLog()
    const result = await cli(['peer', 'setup', '--dns-resolution'])
    assertBadInput(aws, result, new RegExp(
      `--dns-resolution \\(peering\\.dnsResolution\\) needs DNS hostnames and DNS support on both VPCs: ` +
      `--iot-vpc ${network.iot.vpcId} has enableDnsHostnames off; enable it with: aws ec2 modify-vpc-attribute --vpc-id ${network.iot.vpcId} --enable-dns-hostnames '\\{"Value":true\\}' --region us-east-1 --profile iot; ` +
      `--msk-vpc ${network.msk.vpcId} has enableDnsHostnames off; enable it with: aws ec2 modify-vpc-attribute --vpc-id ${network.msk.vpcId} --enable-dns-hostnames '\\{"Value":true\\}' --region us-east-1 --profile msk$`))
    printed = [...result.stderr.matchAll(/enable it with: (aws ec2 modify-vpc-attribute [^;\n]+)/g)].map((m) => m[1])
    assert.equal(printed.length, 2)
  })

  test('the printed commands are what fixes it: run with the AWS CLI, then the peering allows DNS resolution from each side', async () => {
    if (hasAwsCli()) {
      // The AWS CLI reads the same profiles and AWS_ENDPOINT_URL as iotctl; its own HOME, so no role credentials it
      // cached from another run of the local AWS are reused. Not execFileSync: the local AWS answers from this process.
      const env = aws.childEnv({HOME: join(cwd, 'aws-cli-home')})
      for (const command of printed) await promisify(execFile)('sh', ['-c', command], {env, timeout: 60_000})
    } else {
      for (const [profile, vpcId] of [['iot', network.iot.vpcId], ['msk', network.msk.vpcId]] as const) {
        await ec2(profile).send(new ModifyVpcAttributeCommand({VpcId: vpcId, EnableDnsHostnames: {Value: true}}))
      }
    }
    const result = await cli(['peer', 'setup', '--dns-resolution', '--json'])
    assert.equal(result.code, 0, result.stdout + result.stderr)
    const {VpcPeeringConnections: [pcx] = []} = await ec2('iot').send(new DescribeVpcPeeringConnectionsCommand({Filters: [{Name: 'tag:iotctl:stack', Values: ['dns']}]}))
    assert.equal(pcx?.Status?.Code, 'active')
    assert.equal(pcx?.RequesterVpcInfo?.PeeringOptions?.AllowDnsResolutionFromRemoteVpc, true)
    assert.equal(pcx?.AccepterVpcInfo?.PeeringOptions?.AllowDnsResolutionFromRemoteVpc, true)
  })

  test('DNS support turned off later on the MSK VPC: up stops on that attribute alone, before any change', async () => {
    await ec2('msk').send(new ModifyVpcAttributeCommand({VpcId: network.msk.vpcId, EnableDnsSupport: {Value: false}}))
    aws.resetLog()
    const result = await cli(['up', '--create-cluster', '--dns-resolution'])
    assertBadInput(aws, result, new RegExp(`needs DNS hostnames and DNS support on both VPCs: --msk-vpc ${network.msk.vpcId} has enableDnsSupport off; enable it with: aws ec2 modify-vpc-attribute --vpc-id ${network.msk.vpcId} --enable-dns-support '\\{"Value":true\\}' --region us-east-1 --profile msk$`))
  })
})

function hasAwsCli(): boolean {
  try {
    execFileSync('aws', ['--version'], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}
