// Bad input to the tunnel commands: exit 2, one line on stderr naming the
// problem, nothing on stdout, and no tunnel opened (not one mutating request
// in the stand-in's log).
import assert from 'node:assert/strict'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {assertBadInput} from '../support/bad-input.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {createTestPki, type TestPki} from '../support/mosquitto/pki.ts'
import {runIotctl} from '../support/tunnel-service.ts'

let aws: LocalAws
let cwd: string
let pki: TestPki
let busy: Server
let busyPort: number
/** A tunnel with a token file, for the port-in-use case. */
let tunnelId: string

before(async () => {
  aws = await startLocalAws({openTunnelsPerSecond: 0})
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-tunnel-bad-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'bad', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  const pkiDir = join(cwd, 'pki')
  mkdirSync(pkiDir)
  pki = await createTestPki(pkiDir)
  await Promise.all([pki.device('dev1'), pki.device('dev2')])
  busy = createServer()
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
  busyPort = (busy.address() as {port: number}).port
  const opened = await runIotctl(['tunnel', 'open', '--thing', 'dev1'], {cwd, env: aws.childEnv()})
  assert.equal(opened.code, 0, opened.stderr)
  tunnelId = opened.stdout.trim()
  // A token file that is a folder (unreadable even for root) and one that is not JSON.
  mkdirSync(join(cwd, '.iotctl', 'tunnels', 'folder-not-file.json'))
  writeFileSync(join(cwd, '.iotctl', 'tunnels', 'not-json.json'), 'AQGAAX…', {mode: 0o600})
})

after(async () => {
  busy?.close()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('the tunnel commands refuse bad input before opening anything', () => {
  const device = (name: string) => join(cwd, 'pki', `device-${name}`)
  const cases: {name: string; args: () => string[]; message: () => RegExp; env?: NodeJS.ProcessEnv}[] = [
    {name: 'more than 3 services', args: () => ['tunnel', 'open', '--thing', 'dev1', '--services', 'SSH,HTTP,RDP,VNC'], message: () => /--services: a tunnel carries at most 3 services, got 4 \(SSH, HTTP, RDP, VNC\)/},
    {name: 'a service name that does not parse', args: () => ['tunnel', 'open', '--thing', 'dev1', '--services', 'SSH,my service'], message: () => /--services: service name "my service" must be 1-128 letters, digits/},
    {name: 'a service named twice', args: () => ['tunnel', 'open', '--thing', 'dev1', '--services', 'SSH,SSH'], message: () => /--services: service SSH is named twice/},
    {name: 'a timeout of 0 minutes', args: () => ['tunnel', 'open', '--thing', 'dev1', '--timeout-minutes', '0'], message: () => /--timeout-minutes 0: a tunnel lives 1 to 720 minutes/},
    {name: 'a timeout of 721 minutes', args: () => ['tunnel', 'open', '--thing', 'dev1', '--timeout-minutes', '721'], message: () => /--timeout-minutes 721: a tunnel lives 1 to 720 minutes/},
    {name: 'a timeout that is not a number', args: () => ['tunnel', 'open', '--thing', 'dev1', '--timeout-minutes', 'soon'], message: () => /Expected an integer but received: soon/},
    {name: 'a thing name with a slash', args: () => ['tunnel', 'open', '--thing', 'dev/1'], message: () => /--thing "dev\/1": a thing name is 1-128 letters/},
    {name: 'tunnel ssh with a timeout of 721 minutes', args: () => ['tunnel', 'ssh', 'dev1', '--timeout-minutes', '721'], message: () => /--timeout-minutes 721: a tunnel lives 1 to 720 minutes/},
    {name: 'tunnel ssh with an unknown ssh option', args: () => ['tunnel', 'ssh', 'dev1', '--', '-Z', 'uptime'], message: () => /-Z is not an ssh option/},
    {name: 'tunnel ssh with ssh arguments before --', args: () => ['tunnel', 'ssh', 'dev1', 'uptime'], message: () => /ssh options and the remote command go after --/},
    {name: 'a port map that does not parse', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', 'SSH:5555'], message: () => /--source: "SSH:5555" is not SERVICE=PORT with a port 0-65535/},
    {name: 'a port above 65535', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', 'SSH=70000'], message: () => /--source: "SSH=70000" is not SERVICE=PORT/},
    {name: 'more than 3 forwarded services', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', 'A=1,B=2,C=3,D=4'], message: () => /--source: a tunnel carries at most 3 services, got 4/},
    {name: 'a destination port out of range', args: () => ['tunnel', 'forward', '--destination', 'SSH=localhost:70000'], message: () => /--destination: destination of service SSH: port 70000 is out of range 1-65535/},
    {name: 'a destination without a host', args: () => ['tunnel', 'forward', '--destination', 'SSH=:22'], message: () => /--destination: destination of service SSH has no host before the port, got ":22"/},
    {name: '--source and --destination together (names both)', args: () => ['tunnel', 'forward', '--source', 'SSH=5555', '--destination', 'SSH=localhost:22'], message: () => /--source and --destination cannot be used together/},
    {name: '--destination-client-type with --destination', args: () => ['tunnel', 'forward', '--destination', 'SSH=22', '--destination-client-type', 'V2'], message: () => /--destination-client-type names the version of the destination: it goes with --source/},
    {name: 'an unknown --destination-client-type', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', 'SSH=0', '--destination-client-type', 'V4'], message: () => /--destination-client-type "V4": give V1, V2 or V3/},
    {name: 'a proxy URL with an unknown scheme (password not shown)', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', 'SSH=0'], env: {HTTPS_PROXY: 'socks4://me:pass-4711@proxy.test:1080'}, message: () => /^iotctl: HTTPS_PROXY=socks4:\/\/me@proxy\.test:1080: the tunnel goes through http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\/ proxies, not socks4:\/\/$/},
    {name: 'tunnel ssh with an ALL_PROXY of an unknown scheme (before OpenTunnel)', args: () => ['tunnel', 'ssh', 'dev1', '--', 'true'], env: {ALL_PROXY: 'socks4://proxy.test:1080'}, message: () => /ALL_PROXY=socks4:\/\/proxy\.test:1080: the tunnel goes through/},
    {name: 'a service the tunnel does not have', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', 'HTTP=0'], message: () => /service HTTP is not one of the tunnel's services \(SSH\)/},
    {name: 'a port in use (says which)', args: () => ['tunnel', 'forward', '--tunnel-id', tunnelId, '--source', `SSH=${busyPort}`], message: () => new RegExp(`port ${busyPort} on 127\\.0\\.0\\.1 \\(service SSH\\) is already in use`)},
    {name: 'an unknown tunnel id (no token file)', args: () => ['tunnel', 'forward', '--tunnel-id', 'no-such-tunnel', '--source', 'SSH=0'], message: () => /no token file for tunnel no-such-tunnel \(.*no-such-tunnel\.json\)/},
    {name: 'a token file that cannot be read', args: () => ['tunnel', 'proxy', '--tunnel-id', 'folder-not-file'], message: () => /token file .*folder-not-file\.json cannot be read \(EISDIR\)/},
    {name: 'a token file that is not JSON', args: () => ['tunnel', 'proxy', '--tunnel-id', 'not-json'], message: () => /token file .*not-json\.json is not JSON/},
    {name: 'a tunnel id that is a path', args: () => ['tunnel', 'proxy', '--tunnel-id', '../bad'], message: () => /--tunnel-id "\.\.\/bad" is not a tunnel id/},
    {name: 'proxy without a tunnel id or token', args: () => ['tunnel', 'proxy'], message: () => /give --tunnel-id <id> .* or the source access token in AWSIOT_TUNNEL_ACCESS_TOKEN/},
    {name: 'close with a tunnel id that is a path', args: () => ['tunnel', 'close', 'a/b'], message: () => /tunnel id "a\/b" is not a tunnel id/},
    {name: 'agent with a certificate that does not match its key', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev1')}.crt`, '--key', `${device('dev2')}.key`, '--endpoint', '127.0.0.1:8883', '--destination', 'SSH=localhost:22'], message: () => /certificate .*device-dev1\.crt and private key .*device-dev2\.key do not belong together/},
    {name: 'agent without --endpoint, with a certificate that does not match its key (checked before the endpoint is looked up)', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev2')}.crt`, '--key', `${device('dev1')}.key`, '--profile', 'iot', '--destination', 'SSH=localhost:22'], message: () => /certificate .*device-dev2\.crt and private key .*device-dev1\.key do not belong together/},
    {name: 'agent with a key file that does not exist', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev1')}.crt`, '--key', join(cwd, 'missing.key'), '--endpoint', '127.0.0.1:8883', '--destination', 'SSH=localhost:22'], message: () => /private key file .*missing\.key does not exist/},
    {name: 'agent with a destination that does not parse', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev1')}.crt`, '--key', `${device('dev1')}.key`, '--endpoint', '127.0.0.1:8883', '--destination', 'SSH=localhost:ssh'], message: () => /--destination: destination of service SSH must be host:port or a port, got "localhost:ssh"/},
    {name: 'agent with a destination without a service', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev1')}.crt`, '--key', `${device('dev1')}.key`, '--endpoint', '127.0.0.1:8883', '--destination', 'localhost:22'], message: () => /--destination: "localhost:22" is not SERVICE=HOST:PORT/},
    {name: 'agent with an HTTPS_PROXY of an unknown scheme', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev1')}.crt`, '--key', `${device('dev1')}.key`, '--endpoint', '127.0.0.1:8883', '--destination', 'SSH=22'], env: {HTTPS_PROXY: 'gopher://proxy.test:70'}, message: () => /HTTPS_PROXY=gopher:\/\/proxy\.test:70: the tunnel goes through http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\/ proxies, not gopher:\/\//},
    {name: 'agent with more than 3 destinations', args: () => ['tunnel', 'agent', '--thing', 'dev1', '--cert', `${device('dev1')}.crt`, '--key', `${device('dev1')}.key`, '--endpoint', '127.0.0.1:8883', '--destination', 'A=1,B=2,C=3,D=4'], message: () => /--destination: a tunnel carries at most 3 services, got 4/},
  ]

  for (const c of cases) {
    test(c.name, async () => {
      aws.resetLog()
      const result = await runIotctl(c.args(), {cwd, env: aws.childEnv(c.env)})
      assert.equal(result.stdout, '', `nothing on stdout (stderr: ${result.stderr})`)
      assertBadInput(aws, result, c.message())
    })
  }
})
