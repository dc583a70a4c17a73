// Runs the TLS tunnel relay fixture in its own process for the benchmark. Prints
// one JSON line {url, caFile, tunnel} on stdout; exits when stdin closes.
import {createTunnelRegistry, startTunnelRelay} from '../../test/support/tunnel-relay/index.ts'

const services = (process.argv[2] ?? 'BULK,ECHO').split(',')
const registry = createTunnelRegistry()
const relay = await startTunnelRelay({authorize: token => registry.authorize(token)})
const tunnel = registry.openTunnel({services})
process.stdout.write(`${JSON.stringify({url: relay.url, caFile: relay.caFile, tunnel})}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void relay.close().then(() => process.exit(0))
})
