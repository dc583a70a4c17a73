// Private files (device keys, tunnel token files, the ledger) go only where no
// other user can read or redirect them. Reproduced: each writer wrote through
// `<file>.<pid>.tmp`, opened without O_EXCL/O_NOFOLLOW, so a symlink planted at
// that name by another user received the private key, both tunnel tokens and
// the ledger. Here the symlink is planted at that name for this process's pid.
import assert from 'node:assert/strict'
import {chmodSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, describe, test} from 'node:test'
import {writeDeviceFile} from '../../src/lib/device/files.ts'
import {InputError} from '../../src/lib/errors.ts'
import {checkPrivateDirectory, ensurePrivateDirectory, writePrivateFile, type LstatFn} from '../../src/lib/files/private-file.ts'
import {Ledger} from '../../src/lib/plan/ledger.ts'
import {tokenFilePath, writeTokenFile, type TunnelTokenFile} from '../../src/lib/tunnel/api/token-file.ts'

const roots: string[] = []
after(() => {
  for (const root of roots) rmSync(root, {recursive: true, force: true})
})

/** A fresh 0700 directory, and a file elsewhere that a planted link points to (the attacker's). */
function setting(): {root: string; stolen: string} {
  const root = mkdtempSync(join(tmpdir(), 'iotctl-private-'))
  roots.push(root)
  const stolen = join(root, 'attacker', 'stolen')
  mkdirSync(join(root, 'attacker'))
  writeFileSync(stolen, '')
  return {root, stolen}
}

/** Plants a symlink at the old predictable temporary name of `path`. */
function plant(path: string, stolen: string): void {
  symlinkSync(stolen, `${path}.${process.pid}.tmp`)
}

const tokens: TunnelTokenFile = {
  version: 1, tunnelId: '11111111-2222-3333-4444-555555555555', tunnelArn: 'arn:aws:iot:us-east-1:222222222222:tunnel/11111111-2222-3333-4444-555555555555',
  stack: 'demo', services: ['SSH'], region: 'us-east-1', accountId: '222222222222', openedAt: '2026-01-01T00:00:00.000Z',
  sourceAccessToken: 'SOURCE-TOKEN-secret', destinationAccessToken: 'DESTINATION-TOKEN-secret', sourceClientToken: 'iotctl-client-token',
}

describe('a symlink planted at the old temporary name receives nothing', () => {
  test('device files: the private key goes to the key file only', () => {
    const {root, stolen} = setting()
    const out = join(root, 'certs')
    mkdirSync(out, {mode: 0o700})
    const key = join(out, 'dev1.private.key')
    plant(key, stolen)
    writeDeviceFile(key, '-----BEGIN RSA PRIVATE KEY-----\nsecret\n-----END RSA PRIVATE KEY-----\n')
    assert.equal(readFileSync(stolen, 'utf8'), '', 'the planted target stays empty')
    assert.equal(readFileSync(key, 'utf8'), '-----BEGIN RSA PRIVATE KEY-----\nsecret\n-----END RSA PRIVATE KEY-----\n')
    assert.ok(!lstatSync(key).isSymbolicLink())
    assert.equal(statSync(key).mode & 0o777, 0o600)
  })

  test('token files: both tokens go to the token file only', () => {
    const {root, stolen} = setting()
    const state = join(root, '.iotctl')
    mkdirSync(join(state, 'tunnels'), {recursive: true, mode: 0o700})
    const path = tokenFilePath(state, tokens.tunnelId)
    plant(path, stolen)
    assert.equal(writeTokenFile(state, tokens), path)
    assert.equal(readFileSync(stolen, 'utf8'), '', 'the planted target stays empty')
    assert.equal((JSON.parse(readFileSync(path, 'utf8')) as TunnelTokenFile).destinationAccessToken, 'DESTINATION-TOKEN-secret')
    assert.equal(statSync(path).mode & 0o777, 0o600)
  })

  test('the ledger goes to the ledger file only', () => {
    const {root, stolen} = setting()
    const state = join(root, '.iotctl')
    mkdirSync(state, {mode: 0o700})
    plant(Ledger.pathFor(state, 'demo'), stolen)
    Ledger.open(state, 'demo').put({step: 'devices', kind: 'iot:thing', id: 'dev1', account: 'iot', accountId: '222222222222', region: 'us-east-1'})
    assert.equal(readFileSync(stolen, 'utf8'), '', 'the planted target stays empty')
    assert.deepEqual(Ledger.open(state, 'demo').resources.map((r) => r.id), ['dev1'])
    assert.equal(statSync(Ledger.pathFor(state, 'demo')).mode & 0o777, 0o600)
  })
})

describe('writePrivateFile', () => {
  test('creates a missing directory 0700 and the file 0600, whatever the umask, and leaves no temporary', () => {
    const {root} = setting()
    const previous = process.umask(0o000)
    try {
      writePrivateFile(join(root, 'new', 'deeper', 'file'), 'content')
    } finally {
      process.umask(previous)
    }
    assert.equal(statSync(join(root, 'new')).mode & 0o777, 0o700)
    assert.equal(statSync(join(root, 'new', 'deeper')).mode & 0o777, 0o700)
    assert.equal(statSync(join(root, 'new', 'deeper', 'file')).mode & 0o777, 0o600)
    assert.deepEqual(readdirSync(join(root, 'new', 'deeper')), ['file'])
  })

  test('replaces a symlink at the target name instead of writing through it', () => {
    const {root, stolen} = setting()
    const dir = join(root, 'd')
    mkdirSync(dir, {mode: 0o700})
    symlinkSync(stolen, join(dir, 'file'))
    writePrivateFile(join(dir, 'file'), 'secret')
    assert.equal(readFileSync(stolen, 'utf8'), '')
    assert.ok(!lstatSync(join(dir, 'file')).isSymbolicLink())
    assert.equal(readFileSync(join(dir, 'file'), 'utf8'), 'secret')
  })

  test('a failed write leaves the old file and no temporary', () => {
    const {root} = setting()
    const dir = join(root, 'd')
    mkdirSync(dir, {mode: 0o700})
    writePrivateFile(join(dir, 'file'), 'old')
    // A directory in the way of the rename: renaming a file over a directory fails (EISDIR).
    mkdirSync(join(dir, 'in-the-way'))
    assert.throws(() => writePrivateFile(join(dir, 'in-the-way'), 'new'), /EISDIR/)
    assert.deepEqual(readdirSync(dir).sort(), ['file', 'in-the-way'])
    assert.equal(readFileSync(join(dir, 'file'), 'utf8'), 'old')
  })
})

describe('a directory for private files that others can change is refused, naming it', () => {
  test('a symlink', () => {
    const {root} = setting()
    mkdirSync(join(root, 'real'), {mode: 0o700})
    symlinkSync(join(root, 'real'), join(root, 'link'))
    assert.throws(() => writePrivateFile(join(root, 'link', 'file'), 'secret', {label: '--out'}), (error: Error) => {
      assert.ok(error instanceof InputError)
      assert.match(error.message, /^--out .*\/link is a symbolic link/)
      return true
    })
    assert.deepEqual(readdirSync(join(root, 'real')), [])
  })

  test('writable by group or by others: says to chmod go-w', () => {
    const {root} = setting()
    for (const mode of [0o770, 0o707, 0o777]) {
      const dir = join(root, `mode-${mode.toString(8)}`)
      mkdirSync(dir)
      chmodSync(dir, mode)
      assert.throws(() => ensurePrivateDirectory(dir, 'state directory'), (error: Error) => {
        assert.ok(error instanceof InputError)
        assert.match(error.message, new RegExp(`^state directory ${dir} is writable by (its group|others) \\(mode ${mode.toString(8)}\\): run \`chmod go-w ${dir}\`$`))
        return true
      })
    }
  })

  test('owned by another user (an injected stat)', () => {
    const foreign: LstatFn = () => ({isDirectory: () => true, isSymbolicLink: () => false, uid: 4242, mode: 0o40700})
    assert.throws(() => checkPrivateDirectory('/srv/shared/.iotctl', 'state directory', {lstat: foreign, uid: 1000}),
      /state directory \/srv\/shared\/\.iotctl is owned by uid 4242, not by you \(uid 1000\)/)
    const own: LstatFn = () => ({isDirectory: () => true, isSymbolicLink: () => false, uid: 1000, mode: 0o40755})
    assert.doesNotThrow(() => checkPrivateDirectory('/home/me/.iotctl', 'state directory', {lstat: own, uid: 1000}))
  })

  test('not a directory', () => {
    const {root} = setting()
    writeFileSync(join(root, 'plain'), '')
    assert.throws(() => checkPrivateDirectory(join(root, 'plain'), '--out'), /--out .*plain is not a directory/)
  })

  test('a missing directory passes (iotctl creates it 0700)', () => {
    const {root} = setting()
    assert.doesNotThrow(() => checkPrivateDirectory(join(root, 'absent'), '--out'))
  })
})
