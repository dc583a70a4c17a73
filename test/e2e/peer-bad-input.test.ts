// Bad input to `peer setup`: exit 2, one line on stderr naming the offending
// flag or value, and not one mutating request at the local AWS.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {runCli} from '../support/cli.ts'
import {startLocalAws, type LocalAws, type Network} from '../support/local-aws/index.ts'

let aws: LocalAws
let network: Network
let overlapping: Network
let cwd: string

before(async () => {
  aws = await startLocalAws()
  network = await aws.createNetwork()
  overlapping = await aws.createNetwork({name: 'overlap', iot: {cidr: '10.10.128.0/17'}, msk: {cidr: '10.30.0.0/16'}})
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-bad-'))
  writeFileSync(join(cwd, 'broken.json'), '{"iot": {"vpcId": ')
  writeFileSync(join(cwd, 'unknown-key.json'), JSON.stringify({msk: {securityGroup: 'sg-01234567'}}))
  writeFileSync(join(cwd, 'wrong-type.json'), JSON.stringify({msk: {port: '9096'}}))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('peer setup refuses bad input before changing anything', () => {
  const base = () => ({
    '--iot-profile': 'iot', '--msk-profile': 'msk',
    '--iot-vpc': network.iot.vpcId, '--msk-vpc': network.msk.vpcId, '--msk-security-group': network.msk.securityGroupId,
  } as Record<string, string>)

  const cases: {name: string; flags: () => Record<string, string>; extra?: string[]; message: () => RegExp}[] = [
    {name: 'overlapping CIDRs', flags: () => ({...base(), '--iot-vpc': overlapping.iot.vpcId}), message: () => new RegExp(`--iot-vpc ${overlapping.iot.vpcId} \\(10\\.10\\.128\\.0/17\\) overlaps --msk-vpc`)},
    {name: 'an IoT VPC that is not in the IoT account', flags: () => ({...base(), '--iot-vpc': network.msk.vpcId}), message: () => new RegExp(`--iot-vpc ${network.msk.vpcId}: no such VPC in account ${aws.accounts.iot}`)},
    {name: 'a VPC that does not exist', flags: () => ({...base(), '--msk-vpc': 'vpc-0123456789abcdef0'}), message: () => /--msk-vpc vpc-0123456789abcdef0: no such VPC/},
    {name: 'a route table of another VPC', flags: () => ({...base(), '--msk-route-tables': overlapping.msk.routeTableId}), message: () => new RegExp(`--msk-route-tables ${overlapping.msk.routeTableId}: route table belongs to ${overlapping.msk.vpcId}`)},
    {name: 'a route table that does not exist', flags: () => ({...base(), '--iot-route-tables': 'rtb-0123456789abcdef0'}), message: () => /--iot-route-tables rtb-0123456789abcdef0: no such route table/},
    {name: 'a security group of another VPC', flags: () => ({...base(), '--msk-security-group': overlapping.msk.securityGroupId}), message: () => new RegExp(`--msk-security-group ${overlapping.msk.securityGroupId}: security group belongs to ${overlapping.msk.vpcId}`)},
    {name: 'a security group that does not exist', flags: () => ({...base(), '--msk-security-group': 'sg-0123456789abcdef0'}), message: () => /--msk-security-group sg-0123456789abcdef0: no such security group/},
    {name: 'an unknown profile', flags: () => ({...base(), '--msk-profile': 'nosuchprofile'}), message: () => /profile 'nosuchprofile' is not defined/},
    {name: 'a port above 65535', flags: () => ({...base(), '--port': '70000'}), message: () => /--port: Expected an integer less than or equal to 65535/},
    {name: 'port 0', flags: () => ({...base(), '--port': '0'}), message: () => /--port: Expected an integer greater than or equal to 1/},
    {name: 'a region that is not a region', flags: () => ({...base(), '--region': 'mars-north-1'}), message: () => /region 'mars-north-1' is not an AWS region name/},
    {name: 'a malformed VPC id', flags: () => ({...base(), '--iot-vpc': 'vpc_123'}), message: () => /--iot-vpc vpc_123: expected a VPC id/},
    {name: 'a malformed route table in a list', flags: () => ({...base(), '--msk-route-tables': `${network.msk.routeTableId},rtb_x`}), message: () => /--msk-route-tables rtb_x: expected a route table id/},
    {name: 'a malformed config file', flags: () => ({...base(), '-c': 'broken.json'}), message: () => /broken\.json: not valid JSON/},
    {name: 'an unknown config key', flags: () => ({...base(), '-c': 'unknown-key.json'}), message: () => /unknown-key\.json: unknown key 'msk\.securityGroup'/},
    {name: 'a wrongly typed config value', flags: () => ({...base(), '-c': 'wrong-type.json'}), message: () => /wrong-type\.json: msk\.port: /},
    {name: 'a config file that does not exist', flags: () => ({...base(), '-c': 'absent.json'}), message: () => /absent\.json: not found/},
    {name: 'a missing VPC', flags: () => { const f = base(); delete f['--msk-vpc']; return f }, message: () => /missing --msk-vpc/},
    {name: 'an unknown flag', flags: () => ({...base(), '--msk-vcp': 'vpc-1'}), message: () => /unknown flag --msk-vcp \(did you mean --msk-vpc\?\)/},
  ]

  for (const c of cases) {
    test(c.name, async () => {
      aws.resetLog()
      const args = ['peer', 'setup', ...Object.entries(c.flags()).flat(), ...(c.extra ?? [])]
      const result = await runCli(args, {cwd, env: aws.childEnv()})
      assert.equal(result.code, 2, `exit code (stderr: ${result.stderr})`)
      assert.equal(result.stdout, '')
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`)
      assert.match(lines[0], c.message())
      assert.deepEqual(aws.mutatingRequests().map((r) => `${r.service}:${r.operation}`), [])
    })
  }

  test('with --json the error is a JSON document on stdout, still exit 2 and no change', async () => {
    aws.resetLog()
    const result = await runCli(['peer', 'setup', ...Object.entries({...base(), '--iot-vpc': overlapping.iot.vpcId}).flat(), '--json'], {cwd, env: aws.childEnv()})
    assert.equal(result.code, 2)
    const document = JSON.parse(result.stdout)
    assert.equal(document.error.exitCode, 2)
    assert.match(document.error.message, /overlaps/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })

  test('both profiles in one account: says so and carries on (same-account peering is valid)', async () => {
    aws.resetLog()
    const result = await runCli(['peer', 'setup', '--profile', 'iot', '--iot-vpc', network.iot.vpcId, '--msk-vpc', overlapping.iot.vpcId,
      '--msk-security-group', overlapping.iot.securityGroupId, '--dry-run'], {cwd, env: aws.childEnv()})
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, new RegExp(`both profiles resolve to account ${aws.accounts.iot}`))
    assert.match(result.stdout, /would create/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })
})
