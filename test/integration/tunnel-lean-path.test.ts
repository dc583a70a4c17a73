// `tunnel forward`, `tunnel proxy` and `tunnel agent` start without oclif, the
// config schema (zod) or the AWS SDK when argv and the environment give all they
// need (src/lean), and say exactly what the oclif commands say; any other argv
// (a typo, --help) still gets oclif's own answer. The tunneling endpoint is a
// local TCP listener here: the lines and Ctrl-C come before any tunnel traffic
// (the tests with a relay, e.g. tunnel-cmd-ssh's "source token in
// AWSIOT_TUNNEL_ACCESS_TOKEN", run the lean path end to end).
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {binPath, repoRoot} from '../support/cli.ts'

const HEAVY = /\/node_modules\/(@oclif\/core|zod|@aws-sdk)\//

let root: string
let bare: string
let configured: string
let endpoint: Server
let endpointUrl: string
const held: Socket[] = []

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'iotctl-lean-'))
  // No iotctl.json in `bare`: the lean path; one in `configured`: oclif's, which reads it.
  bare = join(root, 'bare')
  configured = join(root, 'configured')
  mkdirSync(bare)
  mkdirSync(configured)
  writeFileSync(join(configured, 'iotctl.json'), JSON.stringify({stack: 'lean'}))
  endpoint = createServer((socket) => held.push(socket))
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  const address = endpoint.address()
  endpointUrl = `wss://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
})

after(() => {
  for (const socket of held) socket.destroy()
  endpoint?.close()
  if (root) rmSync(root, {recursive: true, force: true})
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
  /** Every module URL the process loaded (test/support/record-imports.js). */
  imports: string[]
}

/**
 * Runs the built CLI with its module resolutions recorded. With `interruptWhen`,
 * sends Ctrl-C (SIGINT) once it holds for stderr and the process has connected
 * to the endpoint.
 */
function run(args: string[], options: {cwd: string; env?: NodeJS.ProcessEnv; interruptWhen?: (stderr: string) => boolean}): Promise<Run> {
  const record = join(root, `imports-${Math.random().toString(36).slice(2)}.txt`)
  writeFileSync(record, '')
  const child = spawn(process.execPath, ['--import', join(repoRoot, 'test/support/record-imports.js'), binPath, ...args], {
    cwd: options.cwd,
    env: {...process.env, DEBUG: '', NO_COLOR: '1', IOTCTL_RECORD_IMPORTS: record, AWSIOT_TUNNEL_ACCESS_TOKEN: 'lean-test-token', ...options.env},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  let connected = false
  const check = () => {
    if (options.interruptWhen && connected && options.interruptWhen(stderr)) {
      options.interruptWhen = undefined
      child.kill('SIGINT')
    }
  }
  const onConnection = () => {
    connected = true
    check()
  }
  endpoint.on('connection', onConnection)
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => { stdout += chunk })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
    check()
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) => child.on('close', (code) => {
    clearTimeout(timer)
    endpoint.off('connection', onConnection)
    resolve({code, stdout, stderr, imports: readFileSync(record, 'utf8').split('\n').filter(Boolean)})
  }))
}

const heavy = (result: Run) => result.imports.filter((url) => HEAVY.test(url))

describe('the lean path', () => {
  test('tunnel forward: the same lines and exit 130 as the oclif command, without oclif, zod or the AWS SDK', async () => {
    const args = ['tunnel', 'forward', '--source', '0', '--proxy-endpoint', endpointUrl]
    const interruptWhen = (stderr: string) => stderr.includes('forwarding 127.0.0.1:')
    const [lean, full] = await Promise.all([run(args, {cwd: bare, interruptWhen}), run(args, {cwd: configured, interruptWhen})])
    assert.deepEqual(heavy(lean), [], lean.stderr)
    assert.ok(full.imports.some((url) => url.includes('/@oclif/core/')), 'with an iotctl.json here, oclif\'s path (it reads and checks the file)')
    for (const result of [lean, full]) {
      assert.equal(result.code, 130, result.stderr)
      assert.equal(result.stdout, '')
    }
    const shown = (stderr: string) => stderr.replace(/127\.0\.0\.1:\d+/, '127.0.0.1:N')
    assert.equal(shown(lean.stderr), 'forwarding 127.0.0.1:N -> the tunnel\'s service\n\nstopping after the requests in flight (Ctrl-C again to quit at once)\n')
    assert.equal(shown(lean.stderr), shown(full.stderr))
  })

  test('tunnel proxy: connects with the token of AWSIOT_TUNNEL_ACCESS_TOKEN, Ctrl-C exits 130, nothing on stdout', async () => {
    const result = await run(['tunnel', 'proxy', '--proxy-endpoint', endpointUrl], {cwd: bare, interruptWhen: () => true})
    assert.equal(result.code, 130, result.stderr)
    assert.equal(result.stdout, '')
    assert.deepEqual(heavy(result), [])
  })

  test('DEBUG=*: the tunnel\'s debug lines, never the token (bin/run.js redacts before the lean path)', async () => {
    const token = 'AQGAAXi0tCt1-lean-secret-4711'
    const result = await run(['tunnel', 'proxy', '--proxy-endpoint', endpointUrl], {cwd: bare, env: {DEBUG: '*', AWSIOT_TUNNEL_ACCESS_TOKEN: token}, interruptWhen: (stderr) => stderr.includes('connecting to the tunnel')})
    assert.equal(result.code, 130, result.stderr)
    assert.match(result.stderr, /^iotctl: debug: connecting to the tunnel /m)
    assert.ok(!result.stderr.includes('4711'), result.stderr)
    assert.deepEqual(heavy(result), [])
  })

  test('tunnel proxy --tunnel-id: the token file of ./.iotctl, and an error as one line, exit 2', async () => {
    const result = await run(['tunnel', 'proxy', '--tunnel-id', 'no-such-tunnel'], {cwd: bare})
    assert.equal(result.code, 2)
    const file = join(bare, '.iotctl', 'tunnels', 'no-such-tunnel.json')
    assert.equal(result.stderr, `iotctl: no token file for tunnel no-such-tunnel (${file}): open tunnels with \`iotctl tunnel open\` from this directory, or pass the source token in AWSIOT_TUNNEL_ACCESS_TOKEN\n`)
    assert.deepEqual(heavy(result), [])
  })

  test('tunnel agent with --endpoint: bad input is the oclif command\'s line and exit 2', async () => {
    const args = ['tunnel', 'agent', '--thing', 'dev1', '--cert', join(bare, 'missing.pem'), '--key', join(bare, 'missing.key'), '--endpoint', '127.0.0.1:8883', '--destination', 'SSH=22']
    // A --json run is oclif's (the agent's result document): the same message there.
    const [lean, full] = await Promise.all([run(args, {cwd: bare}), run([...args, '--json'], {cwd: bare})])
    assert.equal(lean.code, 2)
    assert.match(lean.stderr, /^iotctl: certificate file .*missing\.pem does not exist\n$/)
    assert.deepEqual(heavy(lean), [])
    assert.equal(full.code, 2)
    assert.equal(JSON.parse(full.stdout).error.message, lean.stderr.slice('iotctl: '.length, -1))
  })
})

describe('what the lean path leaves to oclif', () => {
  test('a typo in a flag: oclif\'s usage line (the suggestion), exit 2', async () => {
    const result = await run(['tunnel', 'forward', '--sorce', '0', '--region', 'eu-west-1'], {cwd: bare})
    assert.equal(result.code, 2)
    assert.equal(result.stderr, 'iotctl: unknown flag --sorce (did you mean --source?); iotctl tunnel forward --help lists the flags\n')
    assert.ok(result.imports.some((url) => url.includes('/@oclif/core/')))
  })

  test('a token file without a region: the lean run hands over to oclif, which asks the profile', async () => {
    const tunnels = join(bare, '.iotctl', 'tunnels')
    mkdirSync(tunnels, {recursive: true, mode: 0o700})
    writeFileSync(join(tunnels, 't-noregion.json'), JSON.stringify({version: 1, tunnelId: 't-noregion', sourceAccessToken: 'AQG-noregion', sourceClientToken: 'iotctl-noregion', services: ['SSH']}), {mode: 0o600})
    // A profile without a region, and no region in the environment.
    const awsConfig = join(root, 'aws-config')
    writeFileSync(awsConfig, '[profile lean-test]\noutput = json\n')
    const result = await run(['tunnel', 'proxy', '--tunnel-id', 't-noregion'], {cwd: bare, env: {
      AWS_REGION: '', AWS_DEFAULT_REGION: '', AWS_PROFILE: 'lean-test', AWS_CONFIG_FILE: awsConfig, AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-such-file'),
    }})
    assert.equal(result.code, 2)
    assert.equal(result.stderr, 'iotctl: no region for profile \'lean-test\': pass --region or set region in the profile\n')
    assert.ok(result.imports.some((url) => url.includes('/@oclif/core/')))
  })

  test('--help: oclif\'s help, as without a token', async () => {
    const args = ['tunnel', 'proxy', '--proxy-endpoint', endpointUrl, '--help']
    const [withToken, withoutToken] = await Promise.all([run(args, {cwd: bare}), run(args, {cwd: bare, env: {AWSIOT_TUNNEL_ACCESS_TOKEN: ''}})])
    assert.equal(withToken.code, 0)
    assert.match(withToken.stdout, /USAGE\n {2}\$ iotctl tunnel proxy /)
    assert.match(withToken.stdout, /--proxy-endpoint=<wss:\/\/host:port>/)
    assert.equal(withToken.stdout, withoutToken.stdout)
  })
})
