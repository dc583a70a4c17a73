// A stack made by an older iotctl: its role trusts AWS IoT with aws:SourceAccount
// only, and its policy lacks the conditional CreateNetworkInterfacePermission and
// the CreateTags a VPC destination needs on a real account. doctor says so; `up`
// updates both documents in place, saying what it changed, and doctor passes.
// The built binary against the local two-account AWS.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {GetRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand, UpdateAssumeRolePolicyCommand} from '@aws-sdk/client-iam'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

let aws: LocalAws
let cwd: string
let iam: IAMClient
let B: string

const stack = 'old'
const roleName = `iotctl-${stack}-iot-to-msk`
const policyName = 'iotctl-vpc-destination-and-secret'
const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 180_000})
const decoded = (text: string | undefined) => JSON.parse(decodeURIComponent(text ?? '')) as {Statement: Record<string, unknown>[]}

interface DoctorCheck {id: string; status: string; detail: string; hint?: string}
async function doctorChecks(): Promise<DoctorCheck[]> {
  return jsonOf<{checks: DoctorCheck[]}>(await cli(['doctor', '--json'])).checks
}

before(async () => {
  aws = await startLocalAws()
  B = aws.accounts.iot
  const network = await aws.createNetwork()
  iam = new IAMClient(aws.clientConfig('iot'))
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-old-role-'))
  writeStackConfig(cwd, stack, network)
  const up = await cli(['up', '--create-cluster'])
  assert.equal(up.code, 0, up.stdout + up.stderr)
  // What iotctl wrote before: no aws:SourceArn, no conditional statements.
  const secretArn = (decoded((await iam.send(new GetRolePolicyCommand({RoleName: roleName, PolicyName: policyName}))).PolicyDocument).Statement
    .find((s) => s.Sid === 'ReadKafkaCredentials') as {Resource: string}).Resource
  await iam.send(new UpdateAssumeRolePolicyCommand({RoleName: roleName, PolicyDocument: JSON.stringify({Version: '2012-10-17', Statement: [
    {Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole', Condition: {StringEquals: {'aws:SourceAccount': B}}},
  ]})}))
  await iam.send(new PutRolePolicyCommand({RoleName: roleName, PolicyName: policyName, PolicyDocument: JSON.stringify({Version: '2012-10-17', Statement: [
    {Sid: 'VpcDestinationNetworkInterfaces', Effect: 'Allow', Resource: '*', Action: [
      'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface',
      'ec2:DescribeSubnets', 'ec2:DescribeVpcs', 'ec2:DescribeVpcAttribute', 'ec2:DescribeSecurityGroups',
    ]},
    {Sid: 'ReadKafkaCredentials', Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn},
  ]})}))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('up on a stack whose role an older iotctl made', () => {
  test('doctor: the trust lacks aws:SourceArn (warning) and IAM denies the role ec2:CreateTags (failure), each with iotctl\'s fix', async () => {
    const checks = await doctorChecks()
    const trust = checks.find((c) => c.id === 'role-trust')
    assert.equal(trust?.status, 'warn')
    assert.match(trust?.detail ?? '', /trusts iot\.amazonaws\.com without aws:SourceArn/)
    const permissions = checks.find((c) => c.id === 'role-permissions')
    assert.equal(permissions?.status, 'fail')
    assert.match(permissions?.detail ?? '', /^IAM denies iotctl-old-iot-to-msk ec2:CreateTags \(ec2:CreateAction=CreateNetworkInterface, aws:RequestTag\/VPCDestinationENI=true\)/)
    assert.match(permissions?.hint ?? '', /iotctl iot role/)
  })

  test('up updates the trust and the policy in place and says so; the role is the same role', async () => {
    const before = (await iam.send(new GetRoleCommand({RoleName: roleName}))).Role
    const result = await cli(['up'])
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, new RegExp(`update the trust policy of ${roleName} to iot\\.amazonaws\\.com with aws:SourceAccount ${B} and aws:SourceArn arn:aws:iot:us-east-1:${B}:\\*`))
    assert.match(result.stdout, new RegExp(`update inline policy ${policyName} of ${roleName}: change the EC2 network-interface calls of the VPC destination; ` +
      'add ec2:CreateNetworkInterfacePermission on interfaces tagged VPCDestinationENI=true; add ec2:CreateTags of the VPCDestinationENI=true tag on new interfaces'))

    const role = (await iam.send(new GetRoleCommand({RoleName: roleName}))).Role
    assert.equal(role?.RoleId, before?.RoleId, 'updated, not recreated')
    assert.deepEqual(decoded(role?.AssumeRolePolicyDocument).Statement, [{
      Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole',
      Condition: {StringEquals: {'aws:SourceAccount': B}, ArnLike: {'aws:SourceArn': `arn:aws:iot:us-east-1:${B}:*`}},
    }])
    const statements = decoded((await iam.send(new GetRolePolicyCommand({RoleName: roleName, PolicyName: policyName}))).PolicyDocument).Statement
    assert.deepEqual(statements.map((s) => s.Sid), ['VpcDestinationNetworkInterfaces', 'VpcDestinationInterfacePermission', 'VpcDestinationInterfaceTags', 'ReadKafkaCredentials'])
  })

  test('then doctor passes every check, and up again changes nothing', async () => {
    // This local AWS runs without its Kafka broker, so doctor cannot tell whether the topic exists (a warning).
    const unexplained = (await doctorChecks()).filter((c) => c.status !== 'pass' && c.id !== 'profiles' && !(c.id === 'kafka-topic' && c.status === 'warn'))
    assert.deepEqual(unexplained, [])
    const again = jsonOf<{changed: boolean}>(await cli(['up', '--json']))
    assert.equal(again.changed, false)
  })
})
