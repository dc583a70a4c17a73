// `iotctl up` from an empty two-account AWS (only the network a user already
// has) to an enabled rule; `up` again changes nothing; `cleanup` leaves nothing.
// The built binary, run as a user would, against the local two-account AWS.
// (doctor-links.test.ts breaks each link of such a stack on purpose.)
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {GetRoleCommand, IAMClient, ListRolesCommand} from '@aws-sdk/client-iam'
import {GetTopicRuleCommand, IoTClient, ListTopicRuleDestinationsCommand, ListTopicRulesCommand} from '@aws-sdk/client-iot'
import {GetKeyPolicyCommand, KMSClient} from '@aws-sdk/client-kms'
import {DescribeSecretCommand, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import {jsonOf, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

let aws: LocalAws
let network: Network
let cwd: string
let iot: {iam: IAMClient; iot: IoTClient; kms: KMSClient; secrets: SecretsManagerClient}

const stack = 'flow'
const ruleName = 'flow_device_data'
const roleName = `iotctl-${stack}-iot-to-msk`
const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 180_000})

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  const config = aws.clientConfig('iot')
  iot = {iam: new IAMClient(config), iot: new IoTClient(config), kms: new KMSClient(config), secrets: new SecretsManagerClient(config)}
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-up-'))
  // What `iotctl init` would write for this network.
  writeStackConfig(cwd, stack, network, {rule: {name: ruleName, kafkaTopic: 'device-data'}})
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

/**
 * Per account, how many steps the summary counts (changed or would change, plus in place):
 * a dry run and the run after it count the same steps, whatever each found to do.
 */
function stepCounts(stdout: string): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const m of stdout.matchAll(/^(MSK|IoT) account \([AB]\) \d{12}: (\d+) steps? (?:would change|changed), (\d+) in place/gm)) counts[m[1]] = Number(m[2]) + Number(m[3])
  return counts
}
let planned: Record<string, number> = {}

describe('up → up again → cleanup on an empty two-account AWS', () => {
  test('--dry-run prints the whole plan and makes no mutating call', async () => {
    aws.resetLog()
    const result = await cli(['up', '--create-cluster', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    planned = stepCounts(result.stdout)
    assert.deepEqual(Object.keys(planned).sort(), ['IoT', 'MSK'], result.stdout)
    assert.doesNotMatch(result.stdout, /✓/, 'a dry run shows nothing as done')
    for (const line of [/create MSK cluster/, /request VPC peering/, /create IAM role iotctl-flow-iot-to-msk trusted by iot\.amazonaws\.com/,
      /add key-policy statement iotctlflowZIotRuleRoleKeyUser/, /create a VPC topic rule destination in vpc-/, /create rule flow_device_data: SELECT topic\(2\) as device_id, temperature FROM 'device\/\+\/data' → Kafka topic 'device-data'/,
      /dry run: nothing was changed/]) {
      assert.match(result.stdout, line)
    }
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('up creates every part, ending with an enabled rule and a summary', async () => {
    const result = await cli(['up', '--create-cluster'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /IoT account \(B\) 222222222222: \d+ steps changed, 0 in place$/m)
    assert.deepEqual(stepCounts(result.stdout), planned, 'the run counts the steps its dry run counted')
    // In a log (no terminal) each step's result is said once: the step list, not a progress line as well.
    const said = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /^[+✓·=!✗…-] .* \[(iot|msk)\]: /.test(line))
    const titles = said.map((line) => line.replace(/^. /, '').replace(/: .*$/, ''))
    assert.deepEqual(titles.filter((title, i) => titles.indexOf(title) !== i), [], `a step said twice:\n${said.join('\n')}`)
    assert.doesNotMatch(result.stderr, /^✓ /m, 'no completion lines on stderr besides the step list')
    assert.match(result.stdout, /rule flow_device_data: messages on 'device\/\+\/data' go to Kafka topic 'device-data'/)
    assert.match(result.stdout, /next: iotctl doctor --stack flow {3}then: iotctl mqtt publish --topic device\/1\/data/)

    const role = (await iot.iam.send(new GetRoleCommand({RoleName: roleName}))).Role
    assert.ok(role?.Tags?.some((t) => t.Key === 'iotctl:stack' && t.Value === stack))
    const rule = (await iot.iot.send(new GetTopicRuleCommand({ruleName}))).rule
    assert.equal(rule?.ruleDisabled, false)
    const kafka = rule?.actions?.[0]?.kafka
    const destinations = (await iot.iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? []
    assert.equal(destinations.length, 1)
    assert.equal(destinations[0].status, 'ENABLED')
    assert.equal(kafka?.destinationArn, destinations[0].arn)
    assert.equal(kafka?.clientProperties?.['security.protocol'], 'SASL_SSL')
    assert.match(kafka?.clientProperties?.['sasl.scram.password'] ?? '', new RegExp(`^\\$\\{get_secret\\('AmazonMSK_\\w+', 'SecretString', 'password', '${role?.Arn}'\\)\\}$`))
    assert.match(kafka?.clientProperties?.['bootstrap.servers'] ?? '', /:9096/)

    const keyId = (await iot.secrets.send(new DescribeSecretCommand({SecretId: `AmazonMSK_${stack}`}))).KmsKeyId
    const keyPolicy = JSON.parse((await iot.kms.send(new GetKeyPolicyCommand({KeyId: keyId, PolicyName: 'default'}))).Policy ?? '{}')
    const statement = keyPolicy.Statement.find((s: {Sid?: string}) => s.Sid === 'iotctlflowZIotRuleRoleKeyUser')
    assert.deepEqual(statement?.Principal, {AWS: role?.Arn})
    assert.deepEqual(statement?.Condition, {StringEquals: {'kms:ViaService': `secretsmanager.${aws.region}.amazonaws.com`}})

    const ledger = JSON.parse(readFileSync(join(cwd, '.iotctl', `${stack}.json`), 'utf8')) as {resources: {step: string}[]}
    for (const step of ['iot-role', 'iot-key-user', 'iot-destination', 'iot-rule']) assert.ok(ledger.resources.some((r) => r.step === step), step)
  })

  test('up again changes nothing and makes no mutating call', async () => {
    aws.resetLog()
    const result = await cli(['up', '--create-cluster', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const document = jsonOf(result)
    assert.equal(document.changed, false)
    assert.deepEqual(document.summary.iot.created, [])
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })

  test('cleanup leaves nothing of the IoT side in either account; again it is a no-op', async () => {
    const result = await cli(['cleanup', '--yes', '--include-cluster', '--json'])
    assert.equal(result.code, 0, result.stderr)
    assert.deepEqual(((await iot.iot.send(new ListTopicRulesCommand({}))).rules ?? []).map((r) => r.ruleName), [])
    assert.deepEqual((await iot.iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? [], [])
    assert.deepEqual(((await iot.iam.send(new ListRolesCommand({}))).Roles ?? []).map((r) => r.RoleName).filter((n) => n?.startsWith('iotctl-') && n !== 'iotctl-admin'), [])
    const ledger = JSON.parse(readFileSync(join(cwd, '.iotctl', `${stack}.json`), 'utf8')) as {resources: unknown[]}
    assert.deepEqual(ledger.resources, [])

    aws.resetLog()
    const again = await cli(['cleanup', '--yes', '--include-cluster'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to delete/)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })
})
