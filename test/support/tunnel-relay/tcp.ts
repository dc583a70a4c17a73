// Loopback TCP ends for tunnel tests: echo and sink servers, clients that send
// random data and hash both directions.
import {createHash, randomFillSync} from 'node:crypto'
import {createServer, connect, type Server, type Socket} from 'node:net'

export interface TestServer {
  port: number
  server: Server
  /** Sockets accepted so far that are still open. */
  sockets: Set<Socket>
  close(): Promise<void>
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({host: '127.0.0.1', port: 0}, () => resolve())
  })
  return (server.address() as {port: number}).port
}

function track(server: Server): Set<Socket> {
  const sockets = new Set<Socket>()
  server.on('connection', socket => {
    sockets.add(socket)
    socket.setNoDelay(true)
    socket.on('error', () => {})
    socket.once('close', () => sockets.delete(socket))
  })
  return sockets
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () => new Promise<void>(resolve => {
    for (const socket of sockets) socket.destroy()
    server.close(() => resolve())
  })
}

/** Writes back what it reads, respecting backpressure. */
export async function startEchoServer(): Promise<TestServer> {
  const server = createServer(socket => socket.pipe(socket))
  const sockets = track(server)
  return {port: await listen(server), server, sockets, close: closer(server, sockets)}
}

export interface SinkResult {
  bytes: number
  sha256: string
}

export interface SinkServer extends TestServer {
  /** Per accepted connection, in order: what it sent, at its end. */
  results: Promise<SinkResult>[]
  /** The result of the n-th connection (0-based), waiting for that connection to arrive. */
  result(index: number): Promise<SinkResult>
}

/** Hashes everything a connection sends. */
export async function startSinkServer(options: {paused?: boolean} = {}): Promise<SinkServer> {
  const results: Promise<SinkResult>[] = []
  const arrivals: (() => void)[] = []
  const server = createServer(socket => {
    const hash = createHash('sha256')
    let bytes = 0
    if (options.paused) socket.pause()
    setImmediate(() => {
      for (const arrived of arrivals.splice(0)) arrived()
    })
    results.push(new Promise(resolve => {
      socket.on('data', chunk => {
        bytes += chunk.length
        hash.update(chunk)
      })
      socket.on('end', () => {
        socket.end()
        resolve({bytes, sha256: hash.digest('hex')})
      })
    }))
    if (options.paused) socket.pause()
  })
  const sockets = track(server)
  const result = async (index: number): Promise<SinkResult> => {
    while (results.length <= index) await new Promise<void>(resolve => arrivals.push(resolve))
    return results[index]
  }
  return {port: await listen(server), server, sockets, results, result, close: closer(server, sockets)}
}

/** A loopback client; once connected, a late reset (a proxy shutting down) is not an uncaught error. */
export function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({host: '127.0.0.1', port, noDelay: true}, () => {
      socket.off('error', reject)
      socket.on('error', () => {})
      resolve(socket)
    })
    socket.once('error', reject)
  })
}

const POOL_SIZE = 8 * 1024 * 1024
let pool: Buffer | undefined

/** Random bytes: slices of an 8 MiB random pool at shifting offsets (no per-byte cost). */
function randomSlice(size: number, offset: number): Buffer {
  pool ??= randomFillSync(Buffer.allocUnsafe(POOL_SIZE + 1024 * 1024))
  return pool.subarray(offset % POOL_SIZE, (offset % POOL_SIZE) + size)
}

function drained(socket: Socket): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error)
    const onClose = () => reject(new Error('socket closed while writing'))
    socket.once('error', onError)
    socket.once('close', onClose)
    socket.once('drain', () => {
      socket.off('error', onError)
      socket.off('close', onClose)
      resolve()
    })
  })
}

/**
 * Writes `total` random bytes in pieces of at most `chunkSize` (max 1 MiB),
 * waiting for drain, and ends the socket unless `end` is false. Resolves with the
 * sha256 of what was written.
 */
export async function sendRandom(socket: Socket, total: number, options: {chunkSize?: number; end?: boolean; seed?: number} = {}): Promise<SinkResult> {
  const chunkSize = Math.min(options.chunkSize ?? 256 * 1024, 1024 * 1024)
  const hash = createHash('sha256')
  let sent = 0
  let offset = options.seed ?? 0
  while (sent < total) {
    const size = Math.min(chunkSize, total - sent)
    const chunk = randomSlice(size, offset)
    offset += size + 4099
    hash.update(chunk)
    sent += size
    if (!socket.write(chunk)) await drained(socket)
  }
  if (options.end !== false) socket.end()
  return {bytes: sent, sha256: hash.digest('hex')}
}

/** Reads a socket until `bytes` arrived (or to its end when undefined) and hashes it. */
export function readAll(socket: Socket, bytes?: number): Promise<SinkResult> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256')
    let received = 0
    const done = () => {
      socket.off('data', onData)
      resolve({bytes: received, sha256: hash.digest('hex')})
    }
    const onData = (chunk: Buffer) => {
      received += chunk.length
      hash.update(chunk)
      if (bytes !== undefined && received >= bytes) done()
    }
    socket.on('data', onData)
    socket.once('end', () => {
      if (bytes === undefined || received < bytes) done()
    })
    socket.once('error', reject)
  })
}

/**
 * Sends `total` random bytes to an echo peer while reading the echo, then closes.
 * The tunnel protocol has no half-close (a FIN becomes a reset), so the socket is
 * ended only once everything came back.
 */
export async function echoRoundTrip(socket: Socket, total: number, options: {chunkSize?: number; seed?: number} = {}): Promise<{sent: SinkResult; received: SinkResult}> {
  const received = readAll(socket, total)
  const sent = await sendRandom(socket, total, {...options, end: false})
  const result = {sent, received: await received}
  socket.end()
  return result
}
