// Node's own floor for the tunnel's topology, for the benchmark: the same three
// processes (source, relay, destination), the same TLS hops and TCP ends, but
// the bytes are piped as they come, with no WebSocket, no protocol and no flow
// control of ours. What the tunnel costs above this is iotctl's to win back;
// what this costs is Node's (TLS, streams, one event loop per process).
//
// argv: mode, JSON options.
//   relay        {certDir, destination: port}     TLS in, TLS out to the destination
//   destination  {certDir, services: {name: port}} TLS in; the first byte names the service
//   source       {certDir, relay: port, services: [name]} a TCP listener per service, TLS out to the relay
// Prints {"port": …} or {"ports": {…}} once listening; exits when stdin closes.
import {readFileSync} from 'node:fs'
import {connect as connectTcp, createServer as createTcpServer, type Server, type Socket} from 'node:net'
import {join} from 'node:path'
import {connect as connectTls, createServer as createTlsServer} from 'node:tls'

const mode = process.argv[2]
const options = JSON.parse(process.argv[3] ?? '{}') as {certDir: string; destination?: number; relay?: number; services: Record<string, number> | string[]}
const ca = readFileSync(join(options.certDir, 'ca.pem'))
const serverCredentials = {key: readFileSync(join(options.certDir, 'server.key')), cert: readFileSync(join(options.certDir, 'server.pem'))}

/** Both directions, each end closing the other; no-delay everywhere, as the proxies set it. */
function bridge(a: Socket, b: Socket): void {
  a.setNoDelay(true)
  b.setNoDelay(true)
  a.pipe(b)
  b.pipe(a)
  a.on('error', () => b.destroy())
  b.on('error', () => a.destroy())
  a.on('close', () => b.destroy())
  b.on('close', () => a.destroy())
}

function tlsTo(port: number): Socket {
  return connectTls({host: '127.0.0.1', port, ca, servername: 'localhost'})
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>(resolve => server.listen({host: '127.0.0.1', port: 0}, () => resolve()))
  return (server.address() as {port: number}).port
}

const servers: Server[] = []
let ready: Record<string, unknown>
if (mode === 'relay') {
  const server = createTlsServer(serverCredentials, socket => bridge(socket, tlsTo(options.destination!)))
  servers.push(server)
  ready = {port: await listen(server)}
} else if (mode === 'destination') {
  const services = Object.values(options.services as Record<string, number>)
  const server = createTlsServer(serverCredentials, socket => {
    socket.once('readable', () => {
      const first = socket.read(1) as Buffer | null
      if (!first) return void socket.destroy()
      bridge(socket, connectTcp({host: '127.0.0.1', port: services[first[0]]}))
    })
  })
  servers.push(server)
  ready = {port: await listen(server)}
} else {
  const ports: Record<string, number> = {}
  for (const [index, name] of (options.services as string[]).entries()) {
    const server = createTcpServer(socket => {
      const upstream = tlsTo(options.relay!)
      upstream.write(Buffer.from([index]))
      bridge(socket, upstream)
    })
    servers.push(server)
    ports[name] = await listen(server)
  }
  ready = {ports}
}
process.stdout.write(`${JSON.stringify(ready)}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  for (const server of servers) server.close()
  process.exit(0)
})
