// What a user sees before any AWS call: version, help with examples, a
// current command manifest, and no AWS SDK loaded just to print help.
import assert from 'node:assert/strict'
import {execFileSync, spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'
import {binPath, repoRoot, runCli} from '../support/cli.ts'

const manifest = JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {examples?: string[]; summary?: string}>}
const commandIds = Object.keys(manifest.commands)

function importsOf(args: string[]): string[] {
  const record = join(mkdtempSync(join(tmpdir(), 'iotctl-imports-')), 'imports.txt')
  const result = spawnSync(process.execPath, ['--import', join(repoRoot, 'test/support/record-imports.js'), binPath, ...args], {
    env: {...process.env, IOTCTL_RECORD_IMPORTS: record}, encoding: 'utf8',
  })
  assert.equal(result.status, 0, result.stderr)
  return readFileSync(record, 'utf8').split('\n').filter(Boolean)
}

test('--version prints name, version, platform and node', async () => {
  const {version} = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'))
  const result = await runCli(['--version'])
  assert.equal(result.code, 0)
  assert.equal(result.stdout, `iotctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
})

test('--version loads neither oclif nor any AWS SDK module', () => {
  const loaded = importsOf(['--version'])
  assert.deepEqual(loaded.filter((url) => /@oclif|@aws-sdk|@smithy/.test(url)), [])
})

test('--help and every command\'s --help load no AWS SDK client', () => {
  for (const args of [['--help'], ...commandIds.map((id) => [...id.split(':'), '--help'])]) {
    const sdk = importsOf(args).filter((url) => url.includes('@aws-sdk/client-'))
    assert.deepEqual(sdk, [], `iotctl ${args.join(' ')}`)
  }
})

test('every command has a summary and at least one example', () => {
  assert.ok(commandIds.length >= 3)
  for (const id of commandIds) {
    assert.ok(manifest.commands[id].summary, `${id} has a summary`)
    assert.ok((manifest.commands[id].examples ?? []).length > 0, `${id} has examples`)
  }
})

test('the committed oclif.manifest.json matches the commands (regenerate with npm run build)', (t) => {
  // The build rewrites the manifest in the work tree; compare it with what is committed.
  const dirty = spawnSync('git', ['status', '--porcelain', '--', 'src/commands', 'src/flags', 'src/base-command.ts'], {cwd: repoRoot, encoding: 'utf8'})
  if (dirty.status !== 0) return t.skip('not a git checkout')
  if (dirty.stdout.trim()) return t.skip('commands have uncommitted changes; the check runs on a clean checkout')
  const committed = execFileSync('git', ['show', 'HEAD:oclif.manifest.json'], {cwd: repoRoot, encoding: 'utf8'})
  const built = readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')
  assert.deepEqual(JSON.parse(built).commands, JSON.parse(committed).commands, 'oclif.manifest.json is stale: run npm run build and commit it')
})
