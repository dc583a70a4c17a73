// `iotctl doctor` on a stack `up` made: every check passes; each link broken
// on purpose (a route, B's secret, the role's policy, the rule) fails exactly
// its check, with a fix that works; profiles that do not resolve fail the
// first check and skip the rest. The built binary against the local two-account AWS.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {DeleteRouteCommand, EC2Client} from '@aws-sdk/client-ec2'
import {DeleteRolePolicyCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand} from '@aws-sdk/client-iam'
import {DisableTopicRuleCommand, IoTClient} from '@aws-sdk/client-iot'
import {GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string
let iot: {iam: IAMClient; iot: IoTClient; secrets: SecretsManagerClient}
let mskEc2: EC2Client
let mskSecrets: SecretsManagerClient

const stack = 'doc'
const ruleName = 'doc_device_data'
const roleName = `iotctl-${stack}-iot-to-msk`
const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 180_000})

interface DoctorCheck {id: string; status: string; detail: string; hint?: string}
async function doctor(extra: string[] = []): Promise<{code: number | null; checks: DoctorCheck[]}> {
  const result = await cli(['doctor', '--json', ...extra])
  return {code: result.code, checks: jsonOf<{checks: DoctorCheck[]}>(result).checks}
}

function failing(checks: DoctorCheck[]): DoctorCheck[] {
  return checks.filter((c) => c.status === 'fail')
}

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  iot = {iam: new IAMClient(aws.clientConfig('iot')), iot: new IoTClient(aws.clientConfig('iot')), secrets: new SecretsManagerClient(aws.clientConfig('iot'))}
  mskEc2 = new EC2Client(aws.clientConfig('msk'))
  mskSecrets = new SecretsManagerClient(aws.clientConfig('msk'))
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-doctor-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack,
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId},
    rule: {name: ruleName},
  }))
  const up = await cli(['up', '--create-cluster'])
  assert.equal(up.code, 0, up.stderr)
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('doctor checks every link of the chain', () => {
  test('doctor passes every check', async () => {
    const result = await cli(['doctor'])
    assert.equal(result.code, 0, result.stdout + result.stderr)
    assert.match(result.stdout, /all \d+ checks pass/)
    const {checks} = await doctor()
    assert.deepEqual(failing(checks), [])
    assert.deepEqual(checks.map((c) => c.id), [
      'profiles', 'cidrs', 'peering', 'routes:iot', 'routes:msk', 'sg-ingress', 'secret:msk', 'secret:iot', 'secrets-match', 'secret-keys',
      // The second SCRAM user (alternating users), checked like the first.
      'secret-b:msk', 'secret-b:iot', 'secrets-match-b', 'secret-keys-b',
      'scram-association', 'scram-association-b', 'kafka-topic', 'role-trust', 'role-permissions', 'key-user', 'destination', 'secret-age', 'rule',
    ])
  })

  const breaks: {name: string; check: string; hint: RegExp; detail: RegExp; break(): Promise<void>; repair(): Promise<void>}[] = [
    {
      name: 'a route deleted in the MSK account',
      check: 'routes:msk',
      detail: /missing: route 10\.20\.0\.0\/16 → pcx-/,
      hint: /iotctl peer setup/,
      break: async () => { await mskEc2.send(new DeleteRouteCommand({RouteTableId: network.msk.routeTableId, DestinationCidrBlock: network.iot.cidr})) },
      repair: async () => { assert.equal((await cli(['up'])).code, 0) },
    },
    {
      name: 'B\'s secret changed',
      check: 'secrets-match',
      detail: /differ \(compared by SHA-256 digest\)/,
      hint: /iotctl secret mirror --force/,
      break: async () => {
        const arn = (await iot.secrets.send(new GetSecretValueCommand({SecretId: `AmazonMSK_${stack}`}))).ARN
        await iot.secrets.send(new PutSecretValueCommand({SecretId: arn, SecretString: JSON.stringify({username: 'iotctl', password: 'changed-behind-its-back'})}))
      },
      repair: async () => {
        const a = await mskSecrets.send(new GetSecretValueCommand({SecretId: `AmazonMSK_${stack}`}))
        await iot.secrets.send(new PutSecretValueCommand({SecretId: `AmazonMSK_${stack}`, SecretString: a.SecretString}))
      },
    },
    {
      name: 'the role\'s policy removed',
      check: 'role-permissions',
      detail: /IAM denies iotctl-doc-iot-to-msk ec2:CreateNetworkInterface.*secretsmanager:GetSecretValue/,
      hint: /iotctl iot role/,
      break: async () => { await iot.iam.send(new DeleteRolePolicyCommand({RoleName: roleName, PolicyName: 'iotctl-vpc-destination-and-secret'})) },
      repair: async () => { assert.equal((await cli(['iot', 'role'])).code, 0) },
    },
    {
      name: 'the role\'s policy narrowed by hand (its ec2:CreateTags statement removed)',
      check: 'role-permissions',
      detail: /^IAM denies iotctl-doc-iot-to-msk ec2:CreateTags \(ec2:CreateAction=CreateNetworkInterface, aws:RequestTag\/VPCDestinationENI=true\) on arn:aws:ec2:[^ ]+:network-interface\/\* \(implicitDeny\)$/,
      hint: /iotctl iot role.*re-applies the inline policy/,
      break: async () => {
        const current = await iot.iam.send(new GetRolePolicyCommand({RoleName: roleName, PolicyName: 'iotctl-vpc-destination-and-secret'}))
        const policy = JSON.parse(decodeURIComponent(current.PolicyDocument!)) as {Statement: {Action: string | string[]}[]}
        policy.Statement = policy.Statement.filter((s) => s.Action !== 'ec2:CreateTags')
        await iot.iam.send(new PutRolePolicyCommand({RoleName: roleName, PolicyName: 'iotctl-vpc-destination-and-secret', PolicyDocument: JSON.stringify(policy)}))
      },
      repair: async () => {
        const fixed = await cli(['iot', 'role'])
        assert.equal(fixed.code, 0, fixed.stderr)
        assert.match(fixed.stdout, /update inline policy iotctl-vpc-destination-and-secret of iotctl-doc-iot-to-msk: add ec2:CreateTags of the VPCDestinationENI=true tag on new interfaces/)
      },
    },
    {
      name: 'the rule disabled',
      check: 'rule',
      detail: /rule doc_device_data is disabled/,
      hint: /iotctl iot rule/,
      break: async () => { await iot.iot.send(new DisableTopicRuleCommand({ruleName})) },
      repair: async () => { assert.equal((await cli(['iot', 'rule'])).code, 0) },
    },
  ]

  for (const broken of breaks) {
    test(`${broken.name}: doctor fails exactly ${broken.check}, with its fix; the fix works`, async () => {
      await broken.break()
      const {code, checks} = await doctor()
      assert.equal(code, 1)
      const failed = failing(checks)
      assert.deepEqual(failed.map((c) => c.id), [broken.check], JSON.stringify(failed, null, 2))
      assert.match(failed[0].detail, broken.detail)
      assert.match(failed[0].hint ?? '', broken.hint)
      const human = await cli(['doctor'])
      assert.match(human.stdout, new RegExp(`✗ FAIL  ${broken.check.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} .* — fix: `))
      await broken.repair()
      assert.deepEqual(failing((await doctor()).checks), [])
    })
  }

  test('doctor is read-only', async () => {
    aws.resetLog()
    assert.equal((await cli(['doctor'])).code, 0)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('profiles that do not resolve: the first check fails with a fix, the others are skipped, exit 1', async () => {
    const {code, checks} = await doctor(['--iot-profile', 'nosuchprofile'])
    assert.equal(code, 1)
    assert.deepEqual(checks[0], {id: 'profiles', title: 'both AWS profiles resolve', status: 'fail', detail: "profile 'nosuchprofile' is not defined in the AWS config or credentials file",
      hint: 'set iot.profile and msk.profile in iotctl.json (or --iot-profile/--msk-profile) to profiles with working credentials (aws sso login, role_arn)'})
    assert.ok(checks.slice(1).every((c) => c.status === 'skip'))
  })
})
