// `iotctl init` in a real terminal (a pseudo-terminal driven by Python's pty
// module, the one interpreter the test set-up already has): accepting every
// suggestion against the local two-account AWS writes an iotctl.json that
// names the network the accounts have, and `up --dry-run` accepts it.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {binPath, repoRoot, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let cwd: string

// Answers each new question with IOTCTL_TEST_ANSWER (default Enter: the suggestion) once it is drawn; prints the transcript.
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
        os.write(master, os.environ.get('IOTCTL_TEST_ANSWER', '\\r').encode())
sys.stdout.write(re.sub(rb'\\x1b\\[[0-9;?]*[A-Za-z]', b'', out).decode(errors='replace'))
if time.time() >= deadline:
    child.kill()
    sys.exit(124)
sys.exit(child.wait(timeout=10))
`

function inTerminal(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{code: number | null; transcript: string}> {
  return new Promise((resolve, reject) => {
    const python = join(repoRoot, '.venv', 'bin', 'python')
    // A key given as undefined is removed from the child's environment.
    const merged = Object.fromEntries(Object.entries({...aws.childEnv({NO_COLOR: '1'}), ...env}).filter(([, value]) => value !== undefined))
    const child = spawn(python, ['-c', driver, process.execPath, binPath, ...args], {cwd, env: merged})
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

  test('Ctrl-C at a question: exit 130, nothing written', async () => {
    const config = join(cwd, 'interrupted.json')
    const {code, transcript} = await inTerminal(['init', '-c', config, '--iot-profile', 'iot', '--msk-profile', 'msk'], {IOTCTL_TEST_ANSWER: '\x03'})
    assert.equal(code, 130, transcript)
    assert.match(transcript, /init interrupted at a question; nothing was written/)
    assert.doesNotMatch(transcript, /force closed/)
    assert.equal(existsSync(config), false)
  })

  test('an existing config: its values are the defaults, so accepting every one keeps them', async () => {
    const config = join(cwd, 'existing.json')
    const before = {
      stack: 'kept',
      iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: [network.iot.subnetIds[0]], securityGroupIds: [network.iot.securityGroupId], routeTableIds: [network.iot.routeTableId]},
      msk: {profile: 'msk', vpcId: network.msk.vpcId, securityGroupId: network.msk.securityGroupId, routeTableIds: [network.msk.routeTableId], subnetIds: network.msk.subnetIds},
      secret: {name: 'AmazonMSK_kept_secret'},
      rule: {name: 'kept_rule', kafkaTopic: 'kept-topic'},
    }
    writeFileSync(config, JSON.stringify(before))
    const {code, transcript} = await inTerminal(['init', '-c', config, '--yes'])
    assert.equal(code, 0, transcript)
    assert.match(transcript, /existing\.json exists: its values are the defaults/)
    assert.deepEqual(JSON.parse(readFileSync(config, 'utf8')), before)
  })

  test('no AWS credentials anywhere: said before any question, exit 2', async () => {
    const empty = join(cwd, 'empty-aws-config')
    writeFileSync(empty, '')
    const {code, transcript} = await inTerminal(['init', '-c', join(cwd, 'never.json')], {
      AWS_CONFIG_FILE: empty, AWS_SHARED_CREDENTIALS_FILE: empty, AWS_PROFILE: undefined, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_SESSION_TOKEN: undefined, AWS_EC2_METADATA_DISABLED: 'true',
    })
    assert.equal(code, 2, transcript)
    assert.match(transcript, /no AWS set up for the IoT account: there are no profiles/)
    assert.doesNotMatch(transcript, /^\? /m, 'no question was asked')
  })
})
