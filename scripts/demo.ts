// The demo: the whole flow on the embedded local AWS (moto + stand-in, two
// accounts through role_arn profiles), each command shown with its output.
//   bash scripts/demo.sh   (installs, builds, then runs this)
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {binPath} from '../test/support/cli.ts'
import {startLocalAws} from '../test/support/local-aws/index.ts'

const aws = await startLocalAws()
const workdir = mkdtempSync(join(tmpdir(), 'iotctl-demo-'))
let failed = false
try {
  console.log(`local AWS on ${aws.endpoint}: MSK account ${aws.accounts.msk} (profile msk), IoT account ${aws.accounts.iot} (profile iot)`)
  const network = await aws.createNetwork()
  console.log(`MSK VPC ${network.msk.vpcId} ${network.msk.cidr}, brokers' security group ${network.msk.securityGroupId}`)
  console.log(`IoT VPC ${network.iot.vpcId} ${network.iot.cidr}, subnets ${network.iot.subnetIds.join(', ')}`)

  // Asynchronous on purpose: the local AWS answers from this very process.
  const run = async (args: string[], expectFailure = false): Promise<void> => {
    console.log(`\n$ iotctl ${args.join(' ')}`)
    const child = spawn(process.execPath, [binPath, ...args], {cwd: workdir, env: aws.childEnv({CI: 'true'}), stdio: ['ignore', 'inherit', 'inherit']})
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
  await run(['cleanup', '--include-cluster', '--yes'])
  console.log('\ndemo finished: everything iotctl created is gone from both accounts')
} finally {
  await aws.stop()
  rmSync(workdir, {recursive: true, force: true})
}
process.exitCode = failed ? 1 : 0
