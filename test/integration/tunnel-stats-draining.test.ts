// A local connection the peer has closed leaves its service's map at once but
// drains its output (and lingers until the local service closes its side). Its
// bytes still count in stats(), and close() ends it at once: `tunnel forward
// --destination` prints these figures when stopped, and a stop during a drain
// used to lose the connection's bytes (300000 of 900000 in one run of four).
import assert from 'node:assert/strict'
import {createServer, type Server, type Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {startTunnelPair, type TunnelPair} from '../support/tunnel-relay/harness.ts'
import {connectTo} from '../support/tunnel-relay/tcp.ts'

describe('a draining connection in stats() and close()', () => {
  let service: Server
  let accepted: Promise<Socket>
  let pair: TunnelPair

  before(async () => {
    // The device's service reads everything but never closes its side: the
    // destination's connection stays in its drain (linger) after the peer's reset.
    accepted = new Promise(resolve => {
      service = createServer(socket => resolve(socket))
    })
    await new Promise<void>(resolve => service.listen(0, '127.0.0.1', resolve))
    const {port} = service.address() as {port: number}
    pair = await startTunnelPair({targets: {SSH: `127.0.0.1:${port}`}})
  })
  after(async () => {
    await pair.close()
    service.close()
  })

  it('counts its bytes while it drains, and close() ends it without waiting for the linger', async () => {
    const total = 900_000
    const client = await connectTo(pair.source.ports.SSH)
    const device = await accepted
    let received = 0
    device.on('data', (chunk: Buffer) => {
      received += chunk.length
    })
    const deviceEnded = new Promise<void>(resolve => device.once('end', resolve))
    client.end(Buffer.alloc(total, 7))
    // The destination ends the service's side once the source's reset arrived
    // and every byte before it was written: the connection is now draining.
    await deviceEnded
    assert.equal(received, total)

    const draining = pair.destination.stats()
    assert.equal(draining.connections, 0, 'the connection has left its service')
    assert.equal(draining.bytesFromPeer, total, 'the draining connection\'s bytes still count')

    const deviceClosed = new Promise<void>(resolve => device.once('close', resolve))
    const started = Date.now()
    await pair.destination.close()
    await deviceClosed
    assert.ok(Date.now() - started < 5000, 'close() ended the draining connection instead of waiting for its 10 s linger')
    assert.equal(pair.destination.stats().bytesFromPeer, total)
    client.destroy()
  })
})
