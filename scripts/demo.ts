// The demo: the whole flow on the embedded local AWS (moto + stand-in, two
// accounts through role_arn profiles), each command shown with its output.
//   bash scripts/demo.sh   (installs, builds, then runs this)
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
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

  const run = (args: string[], expectFailure = false): void => {
    console.log(`\n$ iotctl ${args.join(' ')}`)
    const result = spawnSync(process.execPath, [binPath, ...args], {cwd: workdir, env: aws.childEnv({CI: 'true'}), stdio: 'inherit'})
    if ((result.status !== 0) !== expectFailure) {
      failed = true
      throw new Error(`iotctl ${args[0]} exited ${result.status}`)
    }
  }

  const accounts = ['--iot-profile', 'iot', '--msk-profile', 'msk']
  const peering = [...accounts, '--iot-vpc', network.iot.vpcId, '--msk-vpc', network.msk.vpcId, '--msk-security-group', network.msk.securityGroupId]
  run(['peer', 'setup', ...peering, '--dry-run'])
  run(['peer', 'setup', ...peering])
  run(['peer', 'status', ...peering])
  run(['peer', 'setup', ...peering])
  run(['msk', 'create', '--msk-profile', 'msk', '--subnets', network.msk.subnetIds.join(','), '--security-group', network.msk.securityGroupId])
  run(['secret', 'mirror', ...accounts, '--username', 'alice'])
  run(['secret', 'mirror', ...accounts])
  run(['secret', 'rotate', ...accounts])
  run(['msk', 'associate-secret', '--msk-profile', 'msk'])
  run(['msk', 'brokers', '--msk-profile', 'msk'])
  run(['cleanup', ...accounts, '--include-cluster', '--dry-run'])
  run(['cleanup', ...accounts, '--include-cluster', '--yes'])
  run(['cleanup', ...accounts, '--include-cluster', '--yes'])
  console.log('\ndemo finished: everything iotctl created is gone from both accounts')
} finally {
  await aws.stop()
  rmSync(workdir, {recursive: true, force: true})
}
process.exitCode = failed ? 1 : 0
