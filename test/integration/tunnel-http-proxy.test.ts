// Reaching the tunneling service through an HTTP CONNECT proxy (HTTPS_PROXY),
// bypassing it (NO_PROXY), and trusting a CA from NODE_EXTRA_CA_CERTS.
import assert from 'node:assert/strict'
import {execFile} from 'node:child_process'
import {after, before, describe, it} from 'node:test'
import {fileURLToPath} from 'node:url'
import {promisify} from 'node:util'
import {startRelayAndEcho, startTunnelPair, type RelayAndEcho} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip} from '../support/tunnel-relay/tcp.ts'
import {TINYPROXY, startTinyproxy, type Tinyproxy} from '../support/tunnel-relay/tinyproxy.ts'

describe('through an HTTP proxy', () => {
  let fixture: RelayAndEcho
  let shared: RelayAndEcho['shared']
  let echo: RelayAndEcho['echo']
  let proxy: Tinyproxy | undefined

  before(async () => {
    fixture = await startRelayAndEcho()
    ;({shared, echo} = fixture)
    if (TINYPROXY) proxy = await startTinyproxy([shared.relay.port])
  })
  after(async () => {
    await proxy?.close()
    await fixture.close()
  })

  it('connects both proxies with CONNECT through tinyproxy (HTTPS_PROXY)', {skip: TINYPROXY ? false : 'tinyproxy is not installed'}, async () => {
    const env = {HTTPS_PROXY: proxy!.url}
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: {env}, destination: {env}})
    try {
      const socket = await connectTo(pair.source.ports.SSH)
      const {sent, received} = await echoRoundTrip(socket, 4 * 1024 * 1024)
      assert.equal(received.sha256, sent.sha256)
      const connects = proxy!.log().split('\n').filter(line => line.includes(`CONNECT 127.0.0.1:${shared.relay.port} HTTP/1.1`))
      assert.equal(connects.length, 2, `one CONNECT per proxy in tinyproxy's log:\n${proxy!.log()}`)
    } finally {
      await pair.close()
    }
  })

  it('goes direct when NO_PROXY names the endpoint', async () => {
    const env = {HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: 'localhost,127.0.0.1'}
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: {env}, destination: {env}})
    try {
      const socket = await connectTo(pair.source.ports.SSH)
      const {sent, received} = await echoRoundTrip(socket, 10_000)
      assert.equal(received.sha256, sent.sha256)
    } finally {
      await pair.close()
    }
  })

  it('trusts the relay CA from NODE_EXTRA_CA_CERTS when no `ca` is passed', async () => {
    const tunnel = shared.registry.openTunnel({services: ['SSH']})
    const lib = fileURLToPath(new URL('../../src/lib/tunnel/protocol/index.ts', import.meta.url))
    const script = `
      const {startDestinationProxy} = await import(${JSON.stringify(lib)})
      const proxy = startDestinationProxy({endpoint: process.env.ENDPOINT, token: process.env.TOKEN, services: {SSH: 22}})
      const ready = await proxy.ready.then(info => info.serviceIds.join(','), error => 'error: ' + error.message)
      await proxy.close()
      console.log(ready)`
    const run = (extra: Record<string, string>) => promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: {...process.env, ENDPOINT: shared.relay.url, TOKEN: tunnel.destinationAccessToken, HTTPS_PROXY: '', NODE_OPTIONS: '', ...extra},
    })
    const untrusted = await run({})
    // Not retried: a certificate does not change by retrying.
    assert.match(untrusted.stdout, /^error: .*Unreachable: the TLS certificate of 127\.0\.0\.1:\d+ was not accepted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE/m)
    const trusted = await run({NODE_EXTRA_CA_CERTS: shared.relay.caFile})
    assert.equal(trusted.stdout.trim(), 'SSH')
  })
})
