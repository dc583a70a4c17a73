// `iotctl init` in a real terminal (a pseudo-terminal driven by Python's pty
// module, the one interpreter the test set-up already has): accepting every
// suggestion against the local two-account AWS writes an iotctl.json that
// names the network the accounts have, and `up --dry-run` accepts it.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {binPath, repoRoot, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string

// Answers each new question with Enter (the suggestion) once it is drawn; prints the transcript.
const driver = `
import os, pty, re, select, subprocess, sys, time
master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[1:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
out, answered, deadline = b'', 0, time.time() + 90
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        continue
    if child.poll() is not None:
        break
    text = re.sub(rb'\\x1b\\[[0-9;?]*[A-Za-z]', b'', out).decode(errors='replace')
    questions = len(re.findall(r'(?m)^\\? ', text))
    if questions > answered:
        answered = questions
        os.write(master, b'\\r')
sys.stdout.write(re.sub(rb'\\x1b\\[[0-9;?]*[A-Za-z]', b'', out).decode(errors='replace'))
if time.time() >= deadline:
    child.kill()
    sys.exit(124)
sys.exit(child.wait(timeout=10))
`

function inTerminal(args: string[]): Promise<{code: number | null; transcript: string}> {
  return new Promise((resolve, reject) => {
    const python = join(repoRoot, '.venv', 'bin', 'python')
    const child = spawn(python, ['-c', driver, process.execPath, binPath, ...args], {cwd, env: aws.childEnv({NO_COLOR: '1'})})
    let transcript = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { transcript += d })
    child.on('error', reject)
    child.on('close', (code) => resolve({code, transcript}))
  })
}

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-init-'))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('init in a terminal', () => {
  test('accepting every suggestion writes a config naming the accounts\' network, and up --dry-run accepts it', async () => {
    const {code, transcript} = await inTerminal(['init', '--iot-profile', 'iot', '--msk-profile', 'msk', '--stack', 'demo'])
    assert.equal(code, 0, transcript)
    assert.match(transcript, new RegExp(`IoT account ${aws.accounts.iot} \\(${aws.region}\\), MSK account ${aws.accounts.msk}`))
    assert.match(transcript, /wrote .*iotctl\.json; next: iotctl up --dry-run/)
    const config = JSON.parse(readFileSync(join(cwd, 'iotctl.json'), 'utf8'))
    // Subnets are offered (and kept) in Availability Zone order, as the fixture made them.
    assert.deepEqual(config, {
      stack: 'demo',
      iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId], routeTableIds: [network.iot.routeTableId]},
      msk: {profile: 'msk', vpcId: network.msk.vpcId, securityGroupId: network.msk.securityGroupId, routeTableIds: [network.msk.routeTableId], subnetIds: network.msk.subnetIds},
      secret: {name: 'AmazonMSK_demo'},
      rule: {name: 'iotctl_demo_to_kafka', kafkaTopic: 'device-data'},
    })
    aws.resetLog()
    const plan = await runCli(['up', '--create-cluster', '--dry-run'], {cwd, env: aws.childEnv()})
    assert.equal(plan.code, 0, plan.stderr)
    assert.deepEqual(aws.mutatingRequests().map((r) => r.operation), [])
  })
})
