// Random data through source proxy -> TLS relay -> destination proxy to a TCP
// sink, compared by sha256 at both ends.
import assert from 'node:assert/strict'
import {after, before, describe, it} from 'node:test'
import {startTunnelPair, type TunnelPair} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip, sendRandom, startEchoServer, startSinkServer, type SinkServer, type TestServer} from '../support/tunnel-relay/tcp.ts'

// 1 GiB takes about 10-20 s here with all three parties in this one process;
// TUNNEL_INTEGRITY_BYTES makes it smaller (bench/tunnel/run.ts moves 1 GiB too).
const BYTES = Number(process.env.TUNNEL_INTEGRITY_BYTES ?? 1024 ** 3)

describe('data integrity through the tunnel', () => {
  let sink: SinkServer
  let echo: TestServer
  let pair: TunnelPair

  before(async () => {
    sink = await startSinkServer()
    echo = await startEchoServer()
    pair = await startTunnelPair({services: ['BULK', 'ECHO'], targets: {BULK: `127.0.0.1:${sink.port}`, ECHO: `127.0.0.1:${echo.port}`}})
  })
  after(async () => {
    await pair.close()
    await sink.close()
    await echo.close()
  })

  it(`delivers ${(BYTES / 1024 ** 2).toFixed(0)} MiB of random data intact, source to destination`, async () => {
    const socket = await connectTo(pair.source.ports.BULK)
    const sent = await sendRandom(socket, BYTES, {chunkSize: 1024 * 1024})
    const received = await sink.result(0)
    assert.equal(received.bytes, sent.bytes)
    assert.equal(received.sha256, sent.sha256)
    assert.equal(pair.relay.violations.length, 0)
  })

  it('carries 64 MiB both ways through an echo service intact', async () => {
    const socket = await connectTo(pair.source.ports.ECHO)
    const {sent, received} = await echoRoundTrip(socket, 64 * 1024 * 1024)
    assert.equal(received.bytes, sent.bytes)
    assert.equal(received.sha256, sent.sha256)
  })

  it('keeps small writes in order (1-byte ping-pong)', async () => {
    const socket = await connectTo(pair.source.ports.ECHO)
    for (let i = 0; i < 200; i++) {
      const arrived = new Promise<Buffer>(resolve => socket.once('data', resolve))
      socket.write(Buffer.from([i & 0xff]))
      assert.deepEqual([...await arrived], [i & 0xff])
    }
    socket.end()
  })
})
