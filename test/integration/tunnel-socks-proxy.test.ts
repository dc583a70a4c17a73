// Reaching the tunneling service through a SOCKS5 proxy (Debian's microsocks,
// with a user name and password) given in ALL_PROXY or HTTPS_PROXY as socks5://
// or socks5h:// (the proxy resolves the host), NO_PROXY bypassing it, and a
// wrong password: exit 1 naming the proxy, the password never printed.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, it} from 'node:test'
import {startRelayAndEcho, startTunnelPair, type RelayAndEcho} from '../support/tunnel-relay/harness.ts'
import {MICROSOCKS, startMicrosocks, type Microsocks} from '../support/tunnel-relay/microsocks.ts'
import {connectTo, echoRoundTrip} from '../support/tunnel-relay/tcp.ts'
import {runIotctl} from '../support/tunnel-service.ts'

const skip = MICROSOCKS ? false : 'microsocks is not installed (scripts/setup-test-deps.sh)'
const auth = {user: 'tunnel-user', password: 'socks-Secret-4711'}

describe('through a SOCKS5 proxy', {skip}, () => {
  let fixture: RelayAndEcho
  let socks: Microsocks
  let cwd: string

  before(async () => {
    fixture = await startRelayAndEcho()
    socks = await startMicrosocks(auth)
    cwd = mkdtempSync(join(tmpdir(), 'iotctl-socks-'))
    writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'socks', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  })
  after(async () => {
    await socks?.close()
    await fixture?.close()
    if (cwd) rmSync(cwd, {recursive: true, force: true})
  })

  it('connects both ends with user and password: socks5h:// in ALL_PROXY (host resolved by the proxy), socks5:// in HTTPS_PROXY', async () => {
    const {shared, echo} = fixture
    // `localhost`: a name only the proxy resolves with socks5h (the relay's certificate names it too).
    const endpoint = shared.relay.url.replace('127.0.0.1', 'localhost')
    const pair = await startTunnelPair({
      shared,
      targets: {SSH: `127.0.0.1:${echo.port}`},
      source: {endpoint, env: {ALL_PROXY: socks.url('socks5h')}},
      destination: {endpoint, env: {HTTPS_PROXY: socks.url('socks5')}},
    })
    try {
      const {sent, received} = await echoRoundTrip(await connectTo(pair.source.ports.SSH), 2 * 1024 * 1024)
      assert.equal(received.sha256, sent.sha256)
    } finally {
      await pair.close()
    }
    assert.deepEqual(shared.relay.violations, [])
  })

  it('goes direct when NO_PROXY names the endpoint', async () => {
    const {shared, echo} = fixture
    const env = {ALL_PROXY: 'socks5h://127.0.0.1:9', NO_PROXY: '127.0.0.1'}
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: {env}, destination: {env}})
    try {
      const {sent, received} = await echoRoundTrip(await connectTo(pair.source.ports.SSH), 10_000)
      assert.equal(received.sha256, sent.sha256)
    } finally {
      await pair.close()
    }
  })

  it('a wrong password: exit 1 naming the proxy (user and host), never the password, not retried', async () => {
    const tunnel = fixture.shared.registry.openTunnel({services: ['SSH']})
    const wrong = 'wrong-Secret-0815'
    const result = await runIotctl(['tunnel', 'forward', '--source', 'SSH=0', '--proxy-endpoint', fixture.shared.relay.url], {
      cwd,
      // DEBUG: the proxy agents' and iotctl's debug lines must not show it either.
      env: {...process.env, DEBUG: '*', AWSIOT_TUNNEL_ACCESS_TOKEN: tunnel.sourceAccessToken, NODE_EXTRA_CA_CERTS: fixture.shared.relay.caFile,
        HTTPS_PROXY: '', ALL_PROXY: socks.url('socks5h', {user: auth.user, password: wrong})},
      timeoutMs: 60_000,
    })
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, new RegExp(`the SOCKS5 proxy socks5h://tunnel-user@127\\.0\\.0\\.1:${socks.port} refused the user name and password`))
    assert.ok(!`${result.stdout}${result.stderr}`.includes(wrong), `the password is never printed:\n${result.stderr}`)
    assert.doesNotMatch(result.stderr, /reconnecting/, 'a refused password is not retried')
  })
})
