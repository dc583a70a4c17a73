// `tunnel forward` at both ends of a tunnel, as localproxy users run it:
// `--destination SSH=host:port` replaces `localproxy -m dst -d …` (the token in
// AWSIOT_TUNNEL_ACCESS_TOKEN), and `--source … --destination-client-type V2`
// replaces `localproxy -s … -y V2` for a device whose proxy only speaks V2 (one
// connection per stream, no CONNECTION_START). Through the relay fixture, with a
// real TCP service on loopback.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {startDestinationProxy, startSourceProxy} from '../../src/lib/tunnel/protocol/index.ts'
import {MessageType, type TunnelMessage} from '../../src/lib/tunnel/protocol/message.ts'
import {createTunnelRegistry, startTunnelRelay, type TunnelRegistry, type TunnelRelay} from '../support/tunnel-relay/index.ts'
import {connectTo, echoRoundTrip, readAll, startEchoServer, type TestServer} from '../support/tunnel-relay/tcp.ts'
import {startIotctl} from '../support/tunnel-service.ts'

let relay: TunnelRelay
let registry: TunnelRegistry
let echo: TestServer
let cwd: string
/** What the sources said, per tunnel. */
const fromSource = new Map<string, TunnelMessage[]>()

before(async () => {
  registry = createTunnelRegistry()
  relay = await startTunnelRelay({
    authorize: (token) => registry.authorize(token),
    onMessage: ({tunnelId, mode, message}) => {
      if (mode === 'source') fromSource.set(tunnelId, [...fromSource.get(tunnelId) ?? [], message])
    },
  })
  echo = await startEchoServer()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-forward-ends-'))
  // No AWS request is made: the token comes from the environment and the endpoint from --proxy-endpoint.
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'ends', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
})

after(async () => {
  await relay?.close()
  await echo?.close()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

function iotctl(args: string[], token: string) {
  return startIotctl([...args, '--proxy-endpoint', relay.url], {
    cwd,
    env: {...process.env, AWSIOT_TUNNEL_ACCESS_TOKEN: token, NODE_EXTRA_CA_CERTS: relay.caFile, HTTPS_PROXY: '', ALL_PROXY: '', AWS_PROFILE: ''},
  })
}

describe('tunnel forward --destination (standalone destination mode)', () => {
  test('serves a tunnel\'s services to local ones: several connections at once, Ctrl-C exits 130 with the figures', async () => {
    const tunnel = registry.openTunnel({services: ['SSH', 'HTTP']})
    const destination = iotctl(['tunnel', 'forward', '--destination', `SSH=127.0.0.1:${echo.port},HTTP=localhost:${echo.port}`, '--json'], tunnel.destinationAccessToken)
    try {
      await relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')
      const source = await startSourceProxy({endpoint: relay.url, ca: relay.ca, token: tunnel.sourceAccessToken, services: {SSH: 0, HTTP: 0}})
      try {
        await source.ready
        const rounds = await Promise.all([source.ports.SSH, source.ports.SSH, source.ports.HTTP].map(async (port) => echoRoundTrip(await connectTo(port), 300_000)))
        for (const round of rounds) assert.equal(round.received.sha256, round.sent.sha256)
      } finally {
        await source.close()
      }
    } finally {
      const result = await destination.interrupt()
      assert.equal(result.code, 130, result.stderr)
      const json = JSON.parse(result.stdout) as {mode: string; destinations: Record<string, string>; connections: number; bytesFromDevice: number}
      assert.equal(json.mode, 'destination')
      assert.deepEqual(json.destinations, {SSH: `127.0.0.1:${echo.port}`, HTTP: `localhost:${echo.port}`})
      assert.equal(json.connections, 3)
      assert.equal(json.bytesFromDevice, 900_000)
      assert.ok(!result.stderr.includes(tunnel.destinationAccessToken), 'the token is never printed')
    }
    assert.deepEqual(relay.violations, [])
  })

  test('a used-up destination token: exit 1 naming the rejection, not retried', async () => {
    const tunnel = registry.openTunnel({services: ['SSH']})
    // Used by a first destination without a client token: the service then refuses it.
    const first = startDestinationProxy({endpoint: relay.url, ca: relay.ca, token: tunnel.destinationAccessToken, clientToken: 'a'.repeat(32), services: {SSH: echo.port}})
    await first.ready
    await first.close()
    const result = await iotctl(['tunnel', 'forward', '--destination', `SSH=${echo.port}`], tunnel.destinationAccessToken).exited
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /rejected the destination token with HTTP 4\d\d/)
  })
})

describe('tunnel forward --source --destination-client-type V2 (localproxy -y V2)', () => {
  test('a V3 source keeps one connection per stream for a V2 destination: no CONNECTION_START, no connection ids', async () => {
    const tunnel = registry.openTunnel({services: ['SSH']})
    // The device end speaks only aws.iot.securetunneling-2.0.
    const destination = startDestinationProxy({endpoint: relay.url, ca: relay.ca, token: tunnel.destinationAccessToken, services: {SSH: echo.port}, protocols: [2]})
    await destination.ready
    const source = iotctl(['tunnel', 'forward', '--source', 'SSH=0', '--destination-client-type', 'V2'], tunnel.sourceAccessToken)
    try {
      const line = await source.waitForStderr(/forwarding 127\.0\.0\.1:\d+ -> SSH/)
      const port = Number(/127\.0\.0\.1:(\d+)/.exec(line)![1])
      await source.waitForStderr(/connected to the tunnel as its source/)
      const first = await echoRoundTrip(await connectTo(port), 100_000)
      assert.equal(first.received.sha256, first.sent.sha256)
      // A second connection while the first is open replaces it (V2: one per service).
      const older = await connectTo(port)
      const olderEnded = readAll(older)
      older.write('x')
      const newer = await echoRoundTrip(await connectTo(port), 100_000)
      assert.equal(newer.received.sha256, newer.sent.sha256)
      // Asserted before waiting for the older one to end: a V3 source would leave it open.
      assert.equal((fromSource.get(tunnel.tunnelId) ?? []).filter((message) => message.type === MessageType.CONNECTION_START).length, 0, 'no CONNECTION_START')
      await olderEnded
    } finally {
      const result = await source.interrupt()
      assert.equal(result.code, 130, result.stderr)
      await destination.close()
    }
    const said = fromSource.get(tunnel.tunnelId) ?? []
    const starts = said.filter((message) => message.type === MessageType.STREAM_START)
    assert.equal(starts.length, 3, 'one STREAM_START per connection')
    assert.deepEqual(starts.map((message) => message.connectionId), [0, 0, 0])
    assert.equal(said.filter((message) => message.type === MessageType.CONNECTION_START).length, 0)
    assert.ok(said.every((message) => message.connectionId === 0), 'no connection id in any message')
    assert.deepEqual(relay.violations, [])
  })
})
