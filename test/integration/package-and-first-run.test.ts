// What a user sees of the package before any AWS: what `npm pack` ships, the
// license and version it states, and help piped into a pager that stops early.
import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {test} from 'node:test'
import {binPath, repoRoot, runCli} from '../support/cli.ts'

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {version: string; license: string}

test('npm pack ships the built CLI, its docs and license, and no tests, sources or source maps', () => {
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']})) as [{files: {path: string}[]}]
  const files = packed.files.map((f) => f.path)
  for (const needed of ['bin/run.js', 'oclif.manifest.json', 'package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/commands/up.js', 'dist/base-command.js']) {
    assert.ok(files.includes(needed), `the package lacks ${needed}`)
  }
  const unwanted = files.filter((f) => /^(test|src|bench|scripts|docs|\.ci)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts') || /(^|\/)\.(env|venv|tools|cache)/.test(f))
  assert.deepEqual(unwanted, [], 'files that do not belong in the package')
})

test('the license file is the one package.json names', () => {
  assert.equal(manifest.license, 'Apache-2.0')
  const license = readFileSync(join(repoRoot, 'LICENSE'), 'utf8')
  assert.match(license, /^\s*Apache License\s+Version 2\.0, January 2004/)
})

test('--version, package.json and the changelog name the same version', async () => {
  const result = await runCli(['--version'])
  assert.equal(result.code, 0)
  assert.match(result.stdout, new RegExp(`^iotctl/${manifest.version.replaceAll('.', '\\.')} `))
  const changelog = readFileSync(join(repoRoot, 'CHANGELOG.md'), 'utf8')
  const released = /^## \[(\d+\.\d+\.\d+[^\]]*)\]/m.exec(changelog.replace(/^## \[Unreleased\][^]*?(?=^## \[)/m, ''))
  assert.equal(released?.[1], manifest.version, 'the newest released version in CHANGELOG.md')
})

test('every command takes --json, save the two the README names (their output is a session or a byte stream)', () => {
  const commands = (JSON.parse(readFileSync(join(repoRoot, 'oclif.manifest.json'), 'utf8')) as {commands: Record<string, {flags: Record<string, unknown>}>}).commands
  const without = Object.entries(commands).filter(([, command]) => !('json' in command.flags)).map(([id]) => id).sort()
  assert.deepEqual(without, ['tunnel:proxy', 'tunnel:ssh'])
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  assert.match(readme.replace(/\s+/g, ' '), /with `--json` except `tunnel ssh` and `tunnel proxy`/)
})

test('README and the developer docs point only at files in the repository', () => {
  const missing: string[] = []
  for (const doc of ['README.md', 'docs/DEVELOPING.md']) {
    const text = readFileSync(join(repoRoot, doc), 'utf8')
    // Markdown links and backticked paths that name a file of the repository.
    const named = [...text.matchAll(/\]\(([^)#\s]+)\)|`((?:\.\.\/|src\/|test\/|scripts\/|docs\/|bench\/|bin\/|\.ci\/)[^`\s*<>…]+)`/g)].map((m) => m[1] ?? m[2])
    for (const path of named.filter((p) => !/^[a-z]+:/.test(p))) {
      // Outside the repository counts as missing: a fresh clone has nothing beside it.
      const candidates = [join(repoRoot, path), join(repoRoot, dirname(doc), path)].filter((candidate) => candidate.startsWith(`${repoRoot}/`))
      if (!candidates.some((candidate) => existsSync(candidate))) missing.push(`${doc}: ${path}`)
    }
  }
  assert.deepEqual(missing, [])
})

test('help piped into a reader that stops after one line: exit 0, nothing on stderr', async () => {
  for (const args of [['--help'], ['up', '--help']]) {
    const child = spawn(process.execPath, [binPath, ...args], {cwd: repoRoot, env: {...process.env, NO_COLOR: '1'}, stdio: ['ignore', 'pipe', 'pipe']})
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    // As `| head -1` does: read the first chunk, then close the pipe.
    child.stdout.once('data', () => child.stdout.destroy())
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    assert.equal(code, 0, `${args.join(' ')}: exit code (stderr: ${stderr})`)
    assert.doesNotMatch(stderr, /Warning|EPIPE|unsettled/, `${args.join(' ')}: stderr`)
  }
})

test('shell completion: `iotctl autocomplete` sets up bash, which then completes commands and flags', async () => {
  const home = mkdtempSync(join(tmpdir(), 'iotctl-completion-'))
  try {
    const env = {...process.env, HOME: home, XDG_CACHE_HOME: join(home, '.cache')}
    const setup = await runCli(['autocomplete', 'bash'], {env})
    assert.equal(setup.code, 0, setup.stderr)
    assert.match(setup.stdout, /iotctl autocomplete script bash/)
    const functions = join(home, '.cache', 'iotctl', 'autocomplete', 'functions', 'bash', 'iotctl.bash')
    const complete = (line: string): string[] => {
      const words = line.split(' ')
      const script = `source "${functions}"; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMP_LINE='${line}'; _iotctl_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`
      return execFileSync('bash', ['-c', script], {encoding: 'utf8'}).split('\n').filter(Boolean)
    }
    assert.ok(complete('iotctl pe').includes('peer'), 'iotctl pe<TAB> offers peer')
    assert.deepEqual(complete('iotctl peer setup --iot-p'), ['--iot-profile'])
  } finally {
    rmSync(home, {recursive: true, force: true})
  }
})
