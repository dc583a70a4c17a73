// `iotctl up` against the same walkthrough written as a plain AWS CLI v2 shell
// script (walkthrough.sh), both from an empty state to an enabled Kafka rule
// on the local two-account AWS, timed in one run; then both are cleaned up
// (iotctl cleanup, cleanup.sh), also timed. Prints the wall times and the ratio.
//
//   source scripts/node-env.sh && npm run build
//   node bench/up/run.ts [--runs 3] [--json]
//
// Each run starts from empty accounts: a network per contender (so their routes
// cannot meet) and, made beforehand and not timed, an MSK cluster with SASL/SCRAM
// in each MSK VPC that both walkthroughs use (`up` without --create-cluster). The
// local AWS answers at once (no destination or cluster delays): what is timed is
// the tools, not AWS's provisioning. The AWS CLI is Debian's awscli (v2.9) at
// /usr/bin/aws, which knows no AWS_ENDPOINT_URL: the script passes --endpoint-url.
import {spawn} from 'node:child_process'
import {copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {CreateClusterCommand, KafkaClient} from '@aws-sdk/client-kafka'
import {IoTClient, ListTopicRuleDestinationsCommand, ListTopicRulesCommand, GetTopicRuleCommand} from '@aws-sdk/client-iot'
import {roleArn, startLocalAws, type LocalAws, type Network} from '../../test/support/local-aws/index.ts'
import {counts, inventory, oneOfEach} from '../../test/support/stack-inventory.ts'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const bin = join(root, 'bin', 'run.js')
const awsCli = '/usr/bin/aws'
const {values: args} = parseArgs({options: {runs: {type: 'string', default: '1'}, json: {type: 'boolean', default: false}}})
const runs = Number(args.runs)

if (!existsSync(join(root, 'dist', 'commands', 'up.js'))) throw new Error('build first: npm run build')
if (!existsSync(awsCli)) throw new Error(`${awsCli} (Debian's awscli) is not installed`)

interface Timed {
  ms: number
  requests: number
  mutating: number
}

function run(command: string, commandArgs: string[], options: {cwd: string; env: NodeJS.ProcessEnv}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, commandArgs, {cwd: options.cwd, env: options.env, stdio: ['ignore', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d })
    child.on('error', reject)
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${commandArgs.join(' ')} exited ${code}:\n${stderr.slice(-3000)}`))))
  })
}

/** Wall time of one command, and the requests it made (the stand-in's log). */
async function timed(aws: LocalAws, command: string, commandArgs: string[], options: {cwd: string; env: NodeJS.ProcessEnv}): Promise<Timed> {
  aws.resetLog()
  const started = performance.now()
  await run(command, commandArgs, options)
  const ms = performance.now() - started
  return {ms, requests: aws.log().length, mutating: aws.mutatingRequests().length}
}

/** An ACTIVE SASL/SCRAM cluster in the network's MSK VPC, owned by no stack. */
async function cluster(aws: LocalAws, network: Network, name: string): Promise<string> {
  const kafka = new KafkaClient(aws.clientConfig('msk'))
  try {
    const created = await kafka.send(new CreateClusterCommand({
      ClusterName: name, KafkaVersion: '3.6.0', NumberOfBrokerNodes: 2,
      BrokerNodeGroupInfo: {ClientSubnets: network.msk.subnetIds, InstanceType: 'kafka.t3.small', SecurityGroups: [network.msk.securityGroupId]},
      ClientAuthentication: {Sasl: {Scram: {Enabled: true}}},
      EncryptionInfo: {EncryptionInTransit: {ClientBroker: 'TLS', InCluster: true}},
    }))
    return created.ClusterArn!
  } finally {
    kafka.destroy()
  }
}

/** Both contenders ended with an enabled rule on an ENABLED destination, and one of each resource. */
async function checkBothUp(aws: LocalAws, networks: Network[], rules: string[]): Promise<void> {
  const twice = Object.fromEntries(Object.entries(oneOfEach).map(([kind, n]) => [kind, 2 * n]))
  const found = counts(await inventory(aws, networks))
  if (JSON.stringify(found, Object.keys(twice).sort()) !== JSON.stringify(twice, Object.keys(twice).sort())) {
    throw new Error(`expected one of each per contender, found ${JSON.stringify(found)}`)
  }
  const iot = new IoTClient(aws.clientConfig('iot'))
  try {
    const destinations = (await iot.send(new ListTopicRuleDestinationsCommand({}))).destinationSummaries ?? []
    if (destinations.some((d) => d.status !== 'ENABLED')) throw new Error(`a destination is not ENABLED: ${JSON.stringify(destinations)}`)
    const names = ((await iot.send(new ListTopicRulesCommand({}))).rules ?? []).map((r) => r.ruleName).sort()
    if (JSON.stringify(names) !== JSON.stringify([...rules].sort())) throw new Error(`rules ${names.join(', ')}`)
    for (const ruleName of rules) {
      const rule = (await iot.send(new GetTopicRuleCommand({ruleName}))).rule
      if (rule?.ruleDisabled !== false || !rule.actions?.[0]?.kafka) throw new Error(`rule ${ruleName} is not an enabled Kafka rule`)
    }
  } finally {
    iot.destroy()
  }
}

async function checkAllGone(aws: LocalAws, networks: Network[]): Promise<void> {
  const left = (await inventory(aws, networks)).filter((item) => item.kind !== 'kafka:cluster')
  if (left.length > 0) throw new Error(`left after cleanup: ${JSON.stringify(left)}`)
}

interface Round {
  iotctl: {up: Timed; cleanup: Timed}
  awsCli: {up: Timed; cleanup: Timed}
}

async function round(aws: LocalAws, work: string): Promise<Round> {
  await aws.reset()
  await aws.warmedUp
  const networks = {
    iotctl: await aws.createNetwork({name: 'bench-iotctl'}),
    awsCli: await aws.createNetwork({name: 'bench-cli', msk: {cidr: '10.30.0.0/16'}, iot: {cidr: '10.40.0.0/16'}}),
  }
  const clusters = {iotctl: await cluster(aws, networks.iotctl, 'bench-iotctl'), awsCli: await cluster(aws, networks.awsCli, 'bench-cli')}

  // iotctl, from an iotctl.json as `iotctl init` writes it.
  const iotctlDir = mkdtempSync(join(work, 'iotctl-'))
  const n = networks.iotctl
  writeFileSync(join(iotctlDir, 'iotctl.json'), JSON.stringify({
    stack: 'benchiotctl',
    iot: {profile: 'iot', vpcId: n.iot.vpcId, subnetIds: n.iot.subnetIds, securityGroupIds: [n.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: n.msk.vpcId, securityGroupId: n.msk.securityGroupId, clusterArn: clusters.iotctl},
  }))
  const iotctlEnv = aws.childEnv({NO_COLOR: '1'})
  const iotctlUp = await timed(aws, process.execPath, [bin, 'up'], {cwd: iotctlDir, env: iotctlEnv})

  // The AWS CLI script: profiles msk and iot (session credentials the script gets itself), same local AWS.
  const cliDir = mkdtempSync(join(work, 'awscli-'))
  const c = networks.awsCli
  writeFileSync(join(cliDir, 'config'), ['base', 'msk', 'iot'].map((p) => `[profile ${p}]\nregion = ${aws.region}\n`).join('\n'))
  copyFileSync(aws.credentialsFile, join(cliDir, 'credentials'))
  const cliEnv: NodeJS.ProcessEnv = {
    ...aws.childEnv(),
    AWS_ENDPOINT_URL: undefined,
    AWS_CONFIG_FILE: join(cliDir, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(cliDir, 'credentials'),
    AWS_PAGER: '',
    ENDPOINT: aws.endpoint,
    REGION: aws.region,
    STACK: 'benchcli',
    IOT_VPC: c.iot.vpcId,
    MSK_VPC: c.msk.vpcId,
    IOT_SUBNETS: c.iot.subnetIds.join(','),
    IOT_SG: c.iot.securityGroupId,
    MSK_SG: c.msk.securityGroupId,
    CLUSTER_ARN: clusters.awsCli,
    BASE_PROFILE: 'base',
    MSK_ROLE_ARN: roleArn(aws.accounts.msk),
    IOT_ROLE_ARN: roleArn(aws.accounts.iot),
    STATE_FILE: join(cliDir, 'state.env'),
  }
  const cliUp = await timed(aws, 'bash', [join(here, 'walkthrough.sh')], {cwd: cliDir, env: cliEnv})

  await checkBothUp(aws, [networks.iotctl, networks.awsCli], ['iotctl_benchiotctl_to_kafka', 'iotctl_benchcli_to_kafka'])
  const iotctlCleanup = await timed(aws, process.execPath, [bin, 'cleanup', '--yes', '--force-delete-secrets'], {cwd: iotctlDir, env: iotctlEnv})
  const cliCleanup = await timed(aws, 'bash', [join(here, 'cleanup.sh')], {cwd: cliDir, env: cliEnv})
  await checkAllGone(aws, [networks.iotctl, networks.awsCli])
  return {iotctl: {up: iotctlUp, cleanup: iotctlCleanup}, awsCli: {up: cliUp, cleanup: cliCleanup}}
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const aws = await startLocalAws({destinationActivationDelayMs: 0, clusterActivationDelayMs: 0})
const work = mkdtempSync(join(tmpdir(), 'iotctl-bench-up-'))
const rounds: Round[] = []
try {
  for (let i = 0; i < runs; i++) rounds.push(await round(aws, work))
} finally {
  await aws.stop()
  rmSync(work, {recursive: true, force: true})
}

const figure = (pick: (r: Round) => Timed) => ({seconds: median(rounds.map((r) => pick(r).ms)) / 1000, requests: pick(rounds[0]).requests, mutating: pick(rounds[0]).mutating})
const summary = {
  runs,
  node: process.version,
  up: {iotctl: figure((r) => r.iotctl.up), awsCli: figure((r) => r.awsCli.up)},
  cleanup: {iotctl: figure((r) => r.iotctl.cleanup), awsCli: figure((r) => r.awsCli.cleanup)},
}
const ratio = (which: 'up' | 'cleanup') => summary[which].awsCli.seconds / summary[which].iotctl.seconds
if (args.json) {
  console.log(JSON.stringify({...summary, ratio: {up: ratio('up'), cleanup: ratio('cleanup')}}, null, 2))
} else {
  const row = (name: string, t: {seconds: number; requests: number; mutating: number}) =>
    `  ${name.padEnd(38)} ${t.seconds.toFixed(2).padStart(7)} s   ${String(t.requests).padStart(4)} requests (${t.mutating} changes)`
  console.log(`iotctl up vs the same walkthrough as an AWS CLI script, local two-account AWS (median of ${runs} run${runs === 1 ? '' : 's'}, node ${process.version})`)
  console.log('up: empty accounts → enabled Kafka rule')
  console.log(row('iotctl up', summary.up.iotctl))
  console.log(row('AWS CLI 2.9 (bench/up/walkthrough.sh)', summary.up.awsCli))
  console.log(`  iotctl is ${ratio('up').toFixed(1)}× faster (goal ≥ 5×)`)
  console.log('cleanup: everything the walkthrough made')
  console.log(row('iotctl cleanup --yes', summary.cleanup.iotctl))
  console.log(row('AWS CLI 2.9 (bench/up/cleanup.sh)', summary.cleanup.awsCli))
  console.log(`  iotctl is ${ratio('cleanup').toFixed(1)}× faster`)
}
