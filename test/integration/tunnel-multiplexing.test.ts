// Many TCP connections over one V3 tunnel, several services, and the V2
// subprotocol's one-connection-per-service behaviour.
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {PassThrough} from 'node:stream'
import {after, before, describe, it} from 'node:test'
import {openSourceStream} from '../../src/lib/tunnel/protocol/index.ts'
import {nextEvent, startTunnelPair, startTunnelRelayWithRegistry} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip, readAll, startEchoServer, startSinkServer, type TestServer} from '../support/tunnel-relay/tcp.ts'

describe('multiplexing over one tunnel', () => {
  let echo: TestServer

  before(async () => {
    echo = await startEchoServer()
  })
  after(async () => {
    await echo.close()
  })

  it('keeps all of 64 simultaneous connections intact (V3, one stream, 64 connection ids)', async () => {
    const pair = await startTunnelPair({targets: {SSH: `127.0.0.1:${echo.port}`}})
    try {
      const opened: number[] = []
      pair.destination.on('connection-open', info => opened.push(info.connectionId))
      const sockets = await Promise.all(Array.from({length: 64}, () => connectTo(pair.source.ports.SSH)))
      const results = await Promise.all(sockets.map((socket, i) => echoRoundTrip(socket, 256 * 1024 + i * 4099, {seed: i * 7919})))
      for (const [i, {sent, received}] of results.entries()) {
        assert.equal(received.bytes, sent.bytes, `connection ${i} length`)
        assert.equal(received.sha256, sent.sha256, `connection ${i} checksum`)
      }
      assert.equal(new Set(opened).size, 64, 'the destination saw 64 distinct connection ids')
      assert.equal(pair.relay.violations.length, 0)
    } finally {
      await pair.close()
    }
  })

  it('serves three services on their own ports and streams', async () => {
    const sink = await startSinkServer()
    const echo2 = await startEchoServer()
    const pair = await startTunnelPair({
      services: ['SSH', 'HTTP', 'BULK'],
      targets: {SSH: `127.0.0.1:${echo.port}`, HTTP: `127.0.0.1:${echo2.port}`, BULK: `localhost:${sink.port}`},
    })
    try {
      const ports = pair.source.ports
      assert.equal(new Set(Object.values(ports)).size, 3)
      const [ssh, http] = await Promise.all([connectTo(ports.SSH), connectTo(ports.HTTP)])
      const [a, b] = await Promise.all([echoRoundTrip(ssh, 300_000, {seed: 1}), echoRoundTrip(http, 200_000, {seed: 2})])
      assert.equal(a.received.sha256, a.sent.sha256)
      assert.equal(b.received.sha256, b.sent.sha256)
      const bulk = await connectTo(ports.BULK)
      bulk.end('to the sink')
      assert.equal((await sink.result(0)).bytes, 11)
    } finally {
      await pair.close()
      await sink.close()
      await echo2.close()
    }
  })

  it('works on the V2 subprotocol for one connection, and a second one replaces the first', async () => {
    const shared = await startTunnelRelayWithRegistry({protocols: ['2.0']})
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}})
    try {
      assert.equal((await pair.source.ready).protocol, 2)
      assert.equal(pair.relay.handshakes.at(-1)!.protocol, 'aws.iot.securetunneling-2.0')
      const first = await connectTo(pair.source.ports.SSH)
      const {sent, received} = await echoRoundTrip(first, 1024 * 1024)
      assert.equal(received.sha256, sent.sha256)

      const opened = nextEvent(pair.destination, 'connection-open')
      const held = await connectTo(pair.source.ports.SSH)
      const heldEnd = new Promise<void>(resolve => held.once('close', () => resolve()))
      await opened
      const replaced = nextEvent(pair.source, 'stream-reset', (info: {reason: string}) => info.reason === 'replaced by a new local connection')
      const replacing = await connectTo(pair.source.ports.SSH)
      await replaced
      const again = await echoRoundTrip(replacing, 100_000)
      assert.equal(again.received.sha256, again.sent.sha256)
      await heldEnd
      assert.equal(pair.relay.violations.length, 0)
    } finally {
      await pair.close()
      await shared.relay.close()
    }
  })

  it('carries an unnamed stream on a tunnel opened without services (V1 style: no service ids on the wire)', async () => {
    const serviceIds: string[] = []
    const shared = await startTunnelRelayWithRegistry({onMessage: ({message}) => serviceIds.push(message.serviceId)})
    const pair = await startTunnelPair({shared, services: [], targets: {'': `127.0.0.1:${echo.port}`}})
    try {
      assert.deepEqual((await pair.source.ready).serviceIds, [])
      const socket = await connectTo(pair.source.ports[''])
      const {sent, received} = await echoRoundTrip(socket, 100_000)
      assert.equal(received.sha256, sent.sha256)
      assert.ok(serviceIds.length > 0)
      assert.deepEqual(new Set(serviceIds), new Set(['']))
    } finally {
      await pair.close()
      await shared.relay.close()
    }
  })

  it('closes the client connection when the destination service refuses, and the tunnel stays up', async () => {
    const closedPort = await new Promise<number>(resolve => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const {port} = server.address() as {port: number}
        server.close(() => resolve(port))
      })
    })
    const pair = await startTunnelPair({services: ['DOWN', 'SSH'], targets: {DOWN: `127.0.0.1:${closedPort}`, SSH: `127.0.0.1:${echo.port}`}})
    try {
      const refused = nextEvent<{error?: Error}>(pair.destination, 'connection-close')
      const socket = await connectTo(pair.source.ports.DOWN)
      const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
      socket.write('anyone there?')
      assert.match((await refused).error?.message ?? '', /ECONNREFUSED/)
      await closed
      const ssh = await connectTo(pair.source.ports.SSH)
      const {sent, received} = await echoRoundTrip(ssh, 10_000)
      assert.equal(received.sha256, sent.sha256)
    } finally {
      await pair.close()
    }
  })

  it('forwards one stream on stdin/stdout (ProxyCommand)', async () => {
    const shared = await startTunnelRelayWithRegistry()
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}})
    const input = new PassThrough()
    const output = new PassThrough()
    const stream = openSourceStream({
      endpoint: shared.relay.url, ca: shared.relay.ca, token: pair.tunnel.sourceAccessToken, input, output,
      // The harness's source proxy holds the source token; this one reconnects as the same client.
      clientToken: pair.source.clientToken,
    })
    try {
      await stream.ready
      const echoed = readAll(output as never, 5)
      input.write('hello')
      assert.equal((await echoed).bytes, 5)
      input.end()
      const {error} = await stream.closed
      assert.equal(error, undefined)
    } finally {
      await stream.close()
      await pair.close()
      await shared.relay.close()
    }
  })
})
