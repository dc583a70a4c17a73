// Runs the TLS tunnel relay fixture in its own process for the benchmark. Prints
// one JSON line {url, caFile, tunnel, cli} on stdout; exits when stdin closes.
import {createTunnelRegistry, startTunnelRelay} from '../../test/support/tunnel-relay/index.ts'

const services = (process.argv[2] ?? 'BULK,ECHO').split(',')
const registry = createTunnelRegistry()
const relay = await startTunnelRelay({authorize: token => registry.authorize(token)})
const tunnel = registry.openTunnel({services})
// Tunnels for the CLI processes whose idle RSS is measured (tokens are good for one client each).
const cli = Array.from({length: Number(process.argv[3] ?? 0)}, () => registry.openTunnel({services: ['BULK']}))
// A tunnel for the built CLI's `tunnel agent` (the agent phase), if asked for.
const agent = process.argv[4] === '1' ? registry.openTunnel({services: ['BULK']}) : undefined
process.stdout.write(`${JSON.stringify({url: relay.url, caFile: relay.caFile, tunnel, cli, agent})}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void relay.close().then(() => process.exit(0))
})
