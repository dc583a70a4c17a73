// `iotctl cleanup` touches only what the stack made (issue 15), with the built
// CLI against the local two-account AWS:
// - a ledger written for another stack is refused before any AWS request;
// - certificates iotctl did not create, attached to the stack's thing or
//   carrying the stack's policy (or named by a ledger entry), are only detached
//   from the stack's thing and policy, never deactivated or deleted, and cleanup
//   says so, one line per certificate (and in --json);
// - a ledger entry naming a peering the stack does not own deletes neither the
//   peering nor a route through it;
// - a route replaced while cleanup waits at its confirmation prompt (driven in a
//   pseudo-terminal) is re-read before deletion and left alone.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {
  AcceptVpcPeeringConnectionCommand, AttachInternetGatewayCommand, CreateInternetGatewayCommand, CreateRouteCommand, CreateRouteTableCommand,
  CreateVpcPeeringConnectionCommand, DescribeRouteTablesCommand, DescribeVpcPeeringConnectionsCommand, EC2Client, ReplaceRouteCommand,
} from '@aws-sdk/client-ec2'
import {
  AttachPolicyCommand, AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, DescribeCertificateCommand, IoTClient,
  ListAttachedPoliciesCommand, ListPrincipalThingsCommand,
} from '@aws-sdk/client-iot'
import {binPath, jsonOf, repoRoot, runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'
import {writeStackConfig} from '../support/stack-config.ts'

const stack = 'own'
let aws: LocalAws
let network: Network
let cwd: string
let iot: IoTClient
let iotEc2: EC2Client

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 180_000})
const ledgerPath = () => join(cwd, '.iotctl', `${stack}.json`)
const readLedger = () => JSON.parse(readFileSync(ledgerPath(), 'utf8')) as {stack: string; resources: Record<string, unknown>[]}

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-cleanup-own-'))
  writeStackConfig(cwd, stack, network)
  iot = new IoTClient(aws.clientConfig('iot'))
  iotEc2 = new EC2Client(aws.clientConfig('iot'))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

async function routeIn(tableId: string, cidr: string) {
  const table = (await iotEc2.send(new DescribeRouteTablesCommand({RouteTableIds: [tableId]}))).RouteTables?.[0]
  return table?.Routes?.find((r) => r.DestinationCidrBlock === cidr)
}

async function peeringState(id: string): Promise<string | undefined> {
  const answer = await iotEc2.send(new DescribeVpcPeeringConnectionsCommand({VpcPeeringConnectionIds: [id]}))
  return answer.VpcPeeringConnections?.[0]?.Status?.Code
}

async function certificate(id: string) {
  const description = (await iot.send(new DescribeCertificateCommand({certificateId: id}))).certificateDescription!
  const things = (await iot.send(new ListPrincipalThingsCommand({principal: description.certificateArn}))).things ?? []
  const policies = ((await iot.send(new ListAttachedPoliciesCommand({target: description.certificateArn}))).policies ?? []).map((p) => p.policyName)
  return {status: description.status, things, policies}
}

describe('cleanup touches only what the stack made', () => {
  const policyName = `iotctl-${stack}-device-dev1`
  let ownCertificate: string
  /** Made by hand: attached to the stack's thing (and the stack's policy), carrying only the stack's policy, and only named by a ledger entry. */
  const foreign = {onThing: '', onPolicy: '', inLedger: ''}
  let foreignPeering: string
  let foreignTable: string
  const foreignCidr = '10.77.0.0/16'

  before(async () => {
    const setup = await cli(['peer', 'setup'])
    assert.equal(setup.code, 0, setup.stderr)
    const device = await cli(['device', 'create', 'dev1', '--out', join(cwd, 'certs'), '--json'])
    assert.equal(device.code, 0, device.stderr)
    ownCertificate = jsonOf(device).certificateId

    const made = async () => (await iot.send(new CreateKeysAndCertificateCommand({setAsActive: true})))
    const onThing = await made()
    await iot.send(new AttachThingPrincipalCommand({thingName: 'dev1', principal: onThing.certificateArn}))
    await iot.send(new AttachPolicyCommand({policyName, target: onThing.certificateArn}))
    const onPolicy = await made()
    await iot.send(new AttachPolicyCommand({policyName, target: onPolicy.certificateArn}))
    const inLedger = await made()
    Object.assign(foreign, {onThing: onThing.certificateId, onPolicy: onPolicy.certificateId, inLedger: inLedger.certificateId})

    // A peering and a route nobody tagged for the stack: the IoT VPC to a CIDR of somebody else's, in a table of its own.
    const mskEc2 = new EC2Client(aws.clientConfig('msk'))
    foreignPeering = (await iotEc2.send(new CreateVpcPeeringConnectionCommand({VpcId: network.iot.vpcId, PeerVpcId: network.msk.vpcId, PeerOwnerId: aws.accounts.msk, PeerRegion: aws.region}))).VpcPeeringConnection!.VpcPeeringConnectionId!
    await mskEc2.send(new AcceptVpcPeeringConnectionCommand({VpcPeeringConnectionId: foreignPeering}))
    foreignTable = (await iotEc2.send(new CreateRouteTableCommand({VpcId: network.iot.vpcId}))).RouteTable!.RouteTableId!
    await iotEc2.send(new CreateRouteCommand({RouteTableId: foreignTable, DestinationCidrBlock: foreignCidr, VpcPeeringConnectionId: foreignPeering}))

    // Ledger entries that name them (a stale copy, a hand edit, a planted file).
    const ledger = readLedger()
    const base = {account: 'iot', accountId: aws.accounts.iot, region: aws.region, profile: 'iot'}
    ledger.resources.push(
      {step: 'peering', kind: 'ec2:vpc-peering-connection', id: foreignPeering, ...base, attrs: {requesterVpc: network.iot.vpcId, accepterVpc: network.msk.vpcId, accepterAccountId: aws.accounts.msk}},
      {step: 'routes:iot', kind: 'ec2:route', id: `${foreignTable}:${foreignCidr}`, ...base, attrs: {routeTableId: foreignTable, destination: foreignCidr, peeringId: foreignPeering}},
      {step: 'devices', kind: 'iot:certificate', id: inLedger.certificateId, ...base, attrs: {arn: inLedger.certificateArn!, thing: 'dev1'}},
    )
    writeFileSync(ledgerPath(), JSON.stringify(ledger, null, 2), {mode: 0o600})
  })

  test('a ledger written for another stack: exit 2, one line naming the file and both stacks, no AWS request', async () => {
    const original = readFileSync(ledgerPath(), 'utf8')
    try {
      writeFileSync(ledgerPath(), JSON.stringify({...readLedger(), stack: 'somebody-else'}, null, 2), {mode: 0o600})
      aws.resetLog()
      const result = await cli(['cleanup', '--yes'])
      assert.equal(result.code, 2, result.stderr)
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, result.stderr)
      assert.ok(lines[0].includes(ledgerPath()), lines[0])
      assert.match(lines[0], /'somebody-else'/)
      assert.match(lines[0], /'own'/)
      assert.deepEqual(aws.log(), [], 'no AWS request at all')
    } finally {
      writeFileSync(ledgerPath(), original, {mode: 0o600})
    }
  })

  test('the plan (--dry-run --json) names only the stack\'s certificate, route and peering, and the certificates it leaves in place', async () => {
    const result = await cli(['cleanup', '--dry-run', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const steps = jsonOf(result).steps as {id: string; resources: {kind: string; id: string}[]; leftInPlace?: {kind: string; id: string; reason: string}[]}[]
    const ids = steps.flatMap((s) => s.resources.map((r) => r.id))
    assert.ok(ids.includes(ownCertificate))
    for (const id of [...Object.values(foreign), foreignPeering, `${foreignTable}:${foreignCidr}`]) assert.equal(ids.includes(id), false, `${id} is not in the plan`)
    const devices = steps.find((s) => s.id === 'devices')!
    assert.deepEqual(devices.leftInPlace?.map((l) => l.id).sort(), Object.values(foreign).sort())
    for (const left of devices.leftInPlace ?? []) assert.equal(left.kind, 'iot:certificate')
    const onThing = devices.leftInPlace?.find((l) => l.id === foreign.onThing)
    assert.match(onThing?.reason ?? '', /not created by stack 'own'.*detached from thing dev1 and policy iotctl-own-device-dev1/)
  })

  test('cleanup deletes the stack\'s own and leaves the others: foreign certificates only detached, the foreign peering and its route in place', async () => {
    const result = await cli(['cleanup', '--yes'])
    assert.equal(result.code, 0, result.stderr)
    for (const id of Object.values(foreign)) {
      const lines = result.stdout.split('\n').filter((l) => l.includes(id))
      assert.equal(lines.length, 1, `one line for ${id}:\n${result.stdout}`)
      assert.match(lines[0], /left in place/)
    }
    assert.match(result.stdout, /^deleted \d+ resource\(s\) of stack 'own'; 3 left in place \(not the stack's, see above\)$/m)
    await assert.rejects(iot.send(new DescribeCertificateCommand({certificateId: ownCertificate})), /ResourceNotFound/)
    for (const id of Object.values(foreign)) {
      const left = await certificate(id)
      assert.equal(left.status, 'ACTIVE', `${id} still active`)
      assert.deepEqual(left.things, [], `${id} detached from the stack's thing`)
      assert.deepEqual(left.policies, [], `${id} detached from the stack's policy`)
    }
    assert.equal(await peeringState(foreignPeering), 'active')
    assert.equal((await routeIn(foreignTable, foreignCidr))?.VpcPeeringConnectionId, foreignPeering)
    assert.equal(await routeIn(network.iot.routeTableId, network.msk.cidr), undefined, 'the stack\'s route is gone')
  })

  test('a route pointed elsewhere while cleanup waits at its prompt is left alone, and cleanup says so', async () => {
    const setup = await cli(['peer', 'setup'])
    assert.equal(setup.code, 0, setup.stderr)
    const ours = await routeIn(network.iot.routeTableId, network.msk.cidr)
    assert.ok(ours?.VpcPeeringConnectionId, 'peer setup made the route')
    const gateway = (await iotEc2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!
    await iotEc2.send(new AttachInternetGatewayCommand({InternetGatewayId: gateway, VpcId: network.iot.vpcId}))

    const {code, transcript} = await inTerminal(['cleanup'], async () => {
      // The plan was shown with the route in it; now somebody points it at their gateway.
      await iotEc2.send(new ReplaceRouteCommand({RouteTableId: network.iot.routeTableId, DestinationCidrBlock: network.msk.cidr, GatewayId: gateway}))
    })
    assert.equal(code, 0, transcript)
    assert.match(transcript, new RegExp(`delete ec2:route ${network.iot.routeTableId}:${network.msk.cidr.replace(/[./]/g, '\\$&')}`), 'the plan named the route')
    const route = await routeIn(network.iot.routeTableId, network.msk.cidr)
    assert.equal(route?.GatewayId, gateway, 'the replaced route survives')
    const said = transcript.split('\n').filter((l) => l.includes(`${network.iot.routeTableId}`) && l.includes('left in place'))
    assert.equal(said.length, 1, transcript)
    assert.match(said[0], new RegExp(`now targets ${gateway}`))
    assert.equal(await peeringState(ours.VpcPeeringConnectionId), 'deleted', 'the stack\'s peering went')
  })

  test('with the ledger gone, the mark on the stack\'s thing still tells its certificate from a foreign one (--json)', async () => {
    const device = await cli(['device', 'create', 'dev2', '--out', join(cwd, 'certs'), '--json'])
    assert.equal(device.code, 0, device.stderr)
    const own = jsonOf(device).certificateId as string
    const stranger = await iot.send(new CreateKeysAndCertificateCommand({setAsActive: true}))
    await iot.send(new AttachThingPrincipalCommand({thingName: 'dev2', principal: stranger.certificateArn}))
    rmSync(join(cwd, '.iotctl'), {recursive: true, force: true})

    const result = await cli(['cleanup', '--yes', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const devices = (jsonOf(result).steps as {id: string; outcome: string; resources: {id: string}[]; leftInPlace?: {id: string; reason: string}[]}[]).find((s) => s.id === 'devices')!
    assert.equal(devices.outcome, 'deleted')
    assert.ok(devices.resources.some((r) => r.id === own))
    assert.deepEqual(devices.leftInPlace?.map((l) => l.id), [stranger.certificateId])
    assert.match(devices.leftInPlace?.[0]?.reason ?? '', /only detached from thing dev2, never deactivated or deleted/)
    await assert.rejects(iot.send(new DescribeCertificateCommand({certificateId: own})), /ResourceNotFound/)
    assert.deepEqual(await certificate(stranger.certificateId!), {status: 'ACTIVE', things: [], policies: []})
  })
})

// Drives a command in a pseudo-terminal: when the confirmation question is drawn,
// writes `<dir>/asked` and waits for `<dir>/answer`, then answers "y".
const driver = `
import os, pty, re, select, subprocess, sys, time
flags = sys.argv[1]
master, slave = pty.openpty()
child = subprocess.Popen(sys.argv[2:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
out, answered, deadline = b'', False, time.time() + 150
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
    if not answered and 'Delete these resources' in text:
        open(os.path.join(flags, 'asked'), 'w').close()
        if os.path.exists(os.path.join(flags, 'answer')):
            answered = True
            os.write(master, b'y\\r')
sys.stdout.write(re.sub(rb'\\x1b\\[[0-9;?]*[A-Za-z]', b'', out).decode(errors='replace'))
if time.time() >= deadline:
    child.kill()
    sys.exit(124)
sys.exit(child.wait(timeout=10))
`

async function inTerminal(args: string[], whileAsked: () => Promise<void>): Promise<{code: number | null; transcript: string}> {
  const flags = mkdtempSync(join(tmpdir(), 'iotctl-pty-'))
  try {
    const python = join(repoRoot, '.venv', 'bin', 'python')
    const child = spawn(python, ['-c', driver, flags, process.execPath, binPath, ...args], {cwd, env: aws.childEnv({NO_COLOR: '1'})})
    let transcript = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { transcript += d })
    const closed = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code) => resolve(code))
    })
    let exited = false
    void closed.then(() => { exited = true })
    while (!existsSync(join(flags, 'asked')) && !exited) await new Promise((resolve) => setTimeout(resolve, 100))
    if (!exited) await whileAsked()
    writeFileSync(join(flags, 'answer'), '')
    return {code: await closed, transcript}
  } finally {
    rmSync(flags, {recursive: true, force: true})
  }
}
