// The demo: the whole flow on the embedded local AWS (moto + stand-in, two
// accounts through role_arn profiles), each command shown with its output.
//   bash scripts/demo.sh   (installs, builds, then runs this)
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {binPath} from '../test/support/cli.ts'
import {startLocalAws} from '../test/support/local-aws/index.ts'
import {startSshd, type Sshd} from '../test/support/sshd/index.ts'
import {startTunnelRelay, type TunnelRelay} from '../test/support/tunnel-relay/index.ts'

// The data path is real: a Kafka broker (SASL_SSL, SCRAM-SHA-512) behind the
// MSK cluster, an IoT data plane and rules engine behind AWS IoT Core.
const aws = await startLocalAws({kafka: true})
const workdir = mkdtempSync(join(tmpdir(), 'iotctl-demo-'))
let failed = false
let relay: TunnelRelay | undefined
let sshd: Sshd | undefined
let agent: ReturnType<typeof spawn> | undefined
try {
  console.log(`local AWS on ${aws.endpoint}: MSK account ${aws.accounts.msk} (profile msk), IoT account ${aws.accounts.iot} (profile iot)`)
  console.log(`Kafka broker behind every MSK cluster: ${aws.kafka!.bootstrap}; IoT data endpoint: localhost:${aws.iotData.port}`)
  const network = await aws.createNetwork()
  console.log(`MSK VPC ${network.msk.vpcId} ${network.msk.cidr}, brokers' security group ${network.msk.securityGroupId}`)
  console.log(`IoT VPC ${network.iot.vpcId} ${network.iot.cidr}, subnets ${network.iot.subnetIds.join(', ')}`)

  // Asynchronous on purpose: the local AWS answers from this very process.
  const env = (): NodeJS.ProcessEnv => aws.childEnv({CI: 'true', ...(relay ? {NODE_EXTRA_CA_CERTS: relay.caFile} : {})})
  const run = async (args: string[], expectFailure = false): Promise<void> => {
    console.log(`\n$ iotctl ${args.join(' ')}`)
    const child = spawn(process.execPath, [binPath, ...args], {cwd: workdir, env: env(), stdio: ['ignore', 'inherit', 'inherit']})
    const status = await new Promise<number | null>((resolve) => child.on('close', resolve))
    if ((status !== 0) !== expectFailure) {
      failed = true
      throw new Error(`iotctl ${args[0]} exited ${status}`)
    }
  }

  const accounts = ['--iot-profile', 'iot', '--msk-profile', 'msk']
  const peering = [...accounts, '--iot-vpc', network.iot.vpcId, '--msk-vpc', network.msk.vpcId, '--msk-security-group', network.msk.securityGroupId]
  await run(['peer', 'setup', ...peering, '--dry-run'])
  await run(['peer', 'setup', ...peering])
  await run(['peer', 'status', ...peering])
  await run(['peer', 'setup', ...peering])
  await run(['msk', 'create', '--msk-profile', 'msk', '--subnets', network.msk.subnetIds.join(','), '--security-group', network.msk.securityGroupId])
  await run(['secret', 'mirror', ...accounts, '--username', 'alice'])
  await run(['secret', 'mirror', ...accounts])
  await run(['secret', 'rotate', ...accounts])
  await run(['msk', 'associate-secret', '--msk-profile', 'msk'])
  await run(['msk', 'brokers', '--msk-profile', 'msk'])
  await run(['cleanup', ...accounts, '--include-cluster', '--dry-run'])
  await run(['cleanup', ...accounts, '--include-cluster', '--yes'])
  await run(['cleanup', ...accounts, '--include-cluster', '--yes'])

  // The whole walkthrough in one command, from the config file `iotctl init` would write.
  const config = join(workdir, 'iotctl.json')
  writeFileSync(config, JSON.stringify({
    stack: 'demo',
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId},
    rule: {name: 'demo_device_data', kafkaTopic: 'device-data'},
  }, null, 2) + '\n')
  console.log(`\n$ cat iotctl.json\n${readFileSync(config, 'utf8').trimEnd()}`)
  await run(['up', '--create-cluster', '--dry-run'])
  await run(['up', '--create-cluster'])
  await run(['up', '--create-cluster'])
  await run(['doctor'])

  // A device's message, from MQTT to Kafka through the rule.
  const kafkaFlags = ['--bootstrap-server', aws.kafka!.bootstrap, '--ca', aws.kafka!.caFile]
  await run(['device', 'create', 'dev1'])
  await run(['mqtt', 'publish', '--cert', 'dev1.cert.pem', '--key', 'dev1.private.key', '--topic', 'device/dev1/data', '--message', '{"temperature": 21.5, "humidity": 40}'])
  await run(['msk', 'consume', '--topic', 'device-data', '--from-beginning', '--count', '1', '--timeout', '30', ...kafkaFlags])
  await run(['doctor', '--probe', '--bootstrap-server', aws.kafka!.bootstrap, '--kafka-ca', aws.kafka!.caFile])

  // ssh to the device through Secure Tunneling: the device runs `iotctl tunnel
  // agent`, which hears of the tunnel on $aws/things/dev1/tunnels/notify (the
  // local AWS publishes there on OpenTunnel, as AWS IoT does) and bridges to its sshd.
  const tunnels = aws.tunnels
  relay = await startTunnelRelay({
    authorize: (token) => tunnels.authorize(token),
    onConnectionState: (change) => tunnels.setConnectionState(change.tunnelId, change.mode, change.state),
  })
  const openRelay = relay
  tunnels.on('closed', (tunnel) => openRelay.closeTunnel(tunnel.tunnelId))
  sshd = await startSshd()
  const agentArgs = ['tunnel', 'agent', '--thing', 'dev1', '--cert', 'dev1.cert.pem', '--key', 'dev1.private.key',
    '--destination', `SSH=${sshd.host}:${sshd.port}`, '--proxy-endpoint', relay.url]
  console.log(`\n$ iotctl ${agentArgs.join(' ')} &   # on the device`)
  agent = spawn(process.execPath, [binPath, ...agentArgs], {cwd: workdir, env: env(), stdio: ['ignore', 'ignore', 'pipe']})
  await new Promise<void>((resolve, reject) => {
    let seen = ''
    agent!.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk
      if (seen.includes('subscribed to')) resolve()
    })
    agent!.once('exit', (code) => reject(new Error(`tunnel agent exited ${code}: ${seen}`)))
  })
  await run(['tunnel', 'ssh', 'dev1', '--proxy-endpoint', relay.url, '--user', sshd.user, '--', ...(await sshd.clientOptions(['dev1'])), 'echo', 'hello from dev1 over Secure Tunneling'])

  await run(['cleanup', '--include-cluster', '--yes'])
  console.log('\ndemo finished: everything iotctl created is gone from both accounts')
} finally {
  agent?.kill('SIGINT')
  await relay?.close()
  await sshd?.stop()
  await aws.stop()
  rmSync(workdir, {recursive: true, force: true})
}
process.exitCode = failed ? 1 : 0
