// A reader that does not read must not make the proxies buffer without bound:
// the tunnel pushes back until the writer's own socket stops draining.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {createServer, type Socket} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {startTunnelPair, type TunnelPair} from '../support/tunnel-relay/harness.ts'
import {connectTo, readAll, startSinkServer, type SinkServer} from '../support/tunnel-relay/tcp.ts'

const TOTAL = 256 * 1024 * 1024
/**
 * What the whole path may hold while the reader is stopped: kernel socket buffers
 * of four TCP links (loopback autotuning can reach several MiB each) and the
 * proxies' and relay's high-water marks (1 MiB each). Without backpressure
 * everything the writer has (256 MiB) would pile up in this process.
 */
const BOUND = 96 * 1024 * 1024

/** Writes until `total` or until writes stop draining for `stallMs`; reports how far it got. */
function writeUntilStalled(socket: Socket, total: number, stallMs = 750): {stalled: Promise<number>; finished: Promise<string>} {
  const hash = createHash('sha256')
  const chunk = Buffer.alloc(256 * 1024)
  let written = 0
  let resolveStalled!: (bytes: number) => void
  const stalled = new Promise<number>(resolve => {
    resolveStalled = resolve
  })
  const finished = (async () => {
    while (written < total) {
      chunk.writeUInt32BE(written / chunk.length, 0)
      hash.update(chunk)
      written += chunk.length
      if (!socket.write(Buffer.from(chunk))) {
        await new Promise<void>(resolve => {
          const timer = setTimeout(() => resolveStalled(written - socket.writableLength), stallMs)
          socket.once('drain', () => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    }
    resolveStalled(written)
    socket.end()
    return hash.digest('hex')
  })()
  return {stalled, finished}
}

describe('flow control', () => {
  let sink: SinkServer
  let pair: TunnelPair
  let firehosePort: number
  let firehoseWritten = 0
  let firehose: ReturnType<typeof createServer>

  before(async () => {
    sink = await startSinkServer({paused: true})
    firehose = createServer(socket => {
      socket.on('error', () => {})
      const {finished} = writeUntilStalled(socket, TOTAL)
      const tick = setInterval(() => {
        firehoseWritten = socket.bytesWritten - socket.writableLength
      }, 20)
      void finished.then(hash => {
        clearInterval(tick)
        firehoseWritten = TOTAL
        socket.emit('sha256', hash)
      })
    })
    firehosePort = await new Promise<number>(resolve => firehose.listen(0, '127.0.0.1', () => resolve((firehose.address() as {port: number}).port)))
    pair = await startTunnelPair({services: ['SINK', 'FIREHOSE'], targets: {SINK: `127.0.0.1:${sink.port}`, FIREHOSE: `127.0.0.1:${firehosePort}`}})
  })
  after(async () => {
    await pair.close()
    await sink.close()
    await new Promise<void>(resolve => firehose.close(() => resolve()))
  })

  it('holds the writer back while the destination side does not read', async () => {
    const rssBefore = process.memoryUsage().rss
    const socket = await connectTo(pair.source.ports.SINK)
    const {stalled, finished} = writeUntilStalled(socket, TOTAL)
    const absorbed = await stalled
    const rssGrowth = process.memoryUsage().rss - rssBefore
    const source = pair.source.stats()
    const destination = pair.destination.stats()
    process.stdout.write(`# absorbed while the reader was stopped: ${(absorbed / 2 ** 20).toFixed(1)} MiB; RSS +${(rssGrowth / 2 ** 20).toFixed(1)} MiB; ` +
      `source buffered ${source.bufferedToTunnel}, destination buffered ${destination.bufferedToLocal}\n`)
    assert.ok(absorbed < BOUND, `the path absorbed ${absorbed} bytes`)
    assert.ok(source.bufferedToTunnel < 8 * 1024 * 1024, `source proxy holds ${source.bufferedToTunnel} bytes`)
    assert.ok(destination.bufferedToLocal < 8 * 1024 * 1024, `destination proxy holds ${destination.bufferedToLocal} bytes`)
    assert.ok(rssGrowth < 192 * 1024 * 1024, `RSS grew by ${rssGrowth} bytes`)

    // The reader wakes up: everything arrives, in order.
    const receiving = sink.result(0)
    for (const accepted of sink.sockets) accepted.resume()
    const expected = await finished
    const received = await receiving
    assert.equal(received.bytes, TOTAL)
    assert.equal(received.sha256, expected)
  })

  it('holds the destination service back while the source side client does not read', async () => {
    firehoseWritten = 0
    const socket = await connectTo(pair.source.ports.FIREHOSE)
    socket.pause()
    let last = -1
    while (firehoseWritten !== last) {
      last = firehoseWritten
      await new Promise(resolve => setTimeout(resolve, 750))
    }
    process.stdout.write(`# the service got ${(firehoseWritten / 2 ** 20).toFixed(1)} MiB out before stalling\n`)
    assert.ok(firehoseWritten < BOUND, `the path absorbed ${firehoseWritten} bytes`)
    assert.ok(pair.source.stats().bufferedToLocal < 8 * 1024 * 1024)
    const received = readAll(socket)
    socket.resume()
    assert.equal((await received).bytes, TOTAL)
  })
})
