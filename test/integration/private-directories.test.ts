// Private files go only into directories that no other user can change: the
// state directory .iotctl/ (the ledger), .iotctl/tunnels/ (the token files) and
// device create's --out (the private key). One that is a symbolic link, or is
// writable by group or others, is bad input: exit 2, one line naming it (and
// the fix), before any AWS request — nothing is created that could not be
// written safely. (A directory owned by another user needs a second user to
// make: test/unit/private-files.test.ts covers it with an injected stat.)
import assert from 'node:assert/strict'
import {chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, beforeEach, describe, test} from 'node:test'
import {runCli, type CliResult} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'

let aws: LocalAws
let root: string
let cwd: string

before(async () => {
  aws = await startLocalAws()
  root = mkdtempSync(join(tmpdir(), 'iotctl-private-dirs-'))
})

after(async () => {
  await aws?.stop()
  if (root) rmSync(root, {recursive: true, force: true})
})

let counter = 0
beforeEach(() => {
  cwd = join(root, `case-${++counter}`)
  mkdirSync(cwd, {mode: 0o700})
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'priv', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  aws.resetLog()
})

const cli = (args: string[]) => runCli(args, {cwd, env: aws.childEnv(), timeoutMs: 60_000})

/** Exit 2, one stderr line matching `expected`, nothing on stdout, and not one request to AWS. */
function assertRefused(result: CliResult, expected: RegExp): void {
  assert.equal(result.code, 2, `exit 2 expected; stderr: ${result.stderr}`)
  assert.equal(result.stdout, '')
  const lines = result.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one stderr line, got:\n${result.stderr}`)
  assert.match(lines[0], expected)
  assert.deepEqual(aws.log().map((r) => `${r.service}:${r.operation}`), [], 'no AWS request')
}

/** A directory with `mode` (chmod: mkdir's mode is filtered by the umask). */
function directory(path: string, mode: number): string {
  mkdirSync(path, {recursive: true})
  chmodSync(path, mode)
  return path
}

describe('device create --out', () => {
  test('a symbolic link (to a directory of the user\'s) is refused, and nothing is written through it', async () => {
    directory(join(cwd, 'real'), 0o700)
    symlinkSync(join(cwd, 'real'), join(cwd, 'certs'))
    assertRefused(await cli(['device', 'create', 'dev1', '--out', 'certs']), /^iotctl: --out certs is a symbolic link: /)
    assert.deepEqual(statSync(join(cwd, 'real')).nlink, 2, 'nothing was created in the link\'s target')
  })

  test('writable by the group: refused, saying chmod go-w', async () => {
    directory(join(cwd, 'shared'), 0o775)
    assertRefused(await cli(['device', 'create', 'dev1', '--out', 'shared']), /^iotctl: --out shared is writable by its group \(mode 775\): run `chmod go-w shared`$/)
  })

  test('writable by others (even with --json: the error document, exit 2)', async () => {
    directory(join(cwd, 'open'), 0o757)
    const result = await cli(['device', 'create', 'dev1', '--out', 'open', '--json'])
    assert.equal(result.code, 2, result.stderr)
    const document = JSON.parse(result.stdout) as {error: {message: string}}
    assert.match(document.error.message, /^--out open is writable by others \(mode 757\): run `chmod go-w open`$/)
    assert.deepEqual(aws.log(), [])
  })

  test('a state directory .iotctl writable by the group is refused before any AWS call', async () => {
    directory(join(cwd, '.iotctl'), 0o770)
    const state = join(cwd, '.iotctl')
    assertRefused(await cli(['device', 'create', 'dev1', '--out', 'certs']), new RegExp(`^iotctl: state directory ${state} is writable by its group \\(mode 770\\): run \`chmod go-w ${state}\`$`))
  })

  test('directories it creates itself are 0700, its files 0600', async () => {
    const result = await cli(['device', 'create', 'dev1', '--out', join('new', 'certs')])
    assert.equal(result.code, 0, result.stderr)
    for (const dir of ['new', join('new', 'certs'), '.iotctl']) assert.equal(statSync(join(cwd, dir)).mode & 0o777, 0o700, dir)
    for (const file of ['dev1.private.key', 'dev1.cert.pem', 'dev1.endpoint']) assert.equal(statSync(join(cwd, 'new', 'certs', file)).mode & 0o777, 0o600, file)
    assert.equal(statSync(join(cwd, '.iotctl', 'priv.json')).mode & 0o777, 0o600)
  })
})

describe('tunnel open', () => {
  test('a token directory .iotctl/tunnels writable by the group: refused, no tunnel opened', async () => {
    directory(join(cwd, '.iotctl'), 0o700)
    const tunnels = directory(join(cwd, '.iotctl', 'tunnels'), 0o770)
    assertRefused(await cli(['tunnel', 'open', '--thing', 'dev1']), new RegExp(`^iotctl: token directory ${tunnels} is writable by its group \\(mode 770\\): run \`chmod go-w ${tunnels}\`$`))
  })

  test('a state directory .iotctl that is a symbolic link: refused, no tunnel opened', async () => {
    const elsewhere = directory(join(root, `elsewhere-${counter}`), 0o700)
    symlinkSync(elsewhere, join(cwd, '.iotctl'))
    assertRefused(await cli(['tunnel', 'open', '--thing', 'dev1']), new RegExp(`^iotctl: state directory ${join(cwd, '.iotctl')} is a symbolic link: `))
  })

  test('tunnel close refuses it too, before any AWS call', async () => {
    const state = directory(join(cwd, '.iotctl'), 0o770)
    assertRefused(await cli(['tunnel', 'close', '11111111-2222-3333-4444-555555555555']), new RegExp(`^iotctl: state directory ${state} is writable by its group`))
  })

  test('tunnel ssh refuses it too, before opening anything', async () => {
    directory(join(cwd, '.iotctl'), 0o707)
    assertRefused(await cli(['tunnel', 'ssh', 'dev1']), /^iotctl: state directory .*\.iotctl is writable by others \(mode 707\)/)
  })
})

describe('the step commands (the ledger)', () => {
  test('secret mirror with a group-writable .iotctl: refused before any AWS call', async () => {
    const state = directory(join(cwd, '.iotctl'), 0o775)
    assertRefused(await cli(['secret', 'mirror']), new RegExp(`^iotctl: state directory ${state} is writable by its group \\(mode 775\\)`))
  })

  test('cleanup with a .iotctl that is a symbolic link: refused before any AWS call', async () => {
    const elsewhere = directory(join(root, `elsewhere-${counter}`), 0o700)
    symlinkSync(elsewhere, join(cwd, '.iotctl'))
    assertRefused(await cli(['cleanup', '--yes']), /^iotctl: state directory .*\.iotctl is a symbolic link: /)
  })

  test('a dry run writes no ledger and is not refused', async () => {
    directory(join(cwd, '.iotctl'), 0o775)
    const result = await cli(['secret', 'mirror', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
  })
})
