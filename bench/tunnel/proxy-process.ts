// Runs one local proxy (source or destination) in its own process for the
// benchmark, as the C++ reference runs its two proxies. argv: mode, JSON options
// ({endpoint, caFile, token, services}). Prints {"ports": ...} once ready; exits
// when stdin closes.
import {readFileSync} from 'node:fs'
import {startDestinationProxy, startSourceProxy} from '../../src/lib/tunnel/index.ts'

const mode = process.argv[2]
const config = JSON.parse(process.argv[3] ?? '{}') as {endpoint: string; caFile: string; token: string; services: Record<string, number | string>}
const common = {endpoint: config.endpoint, ca: readFileSync(config.caFile, 'utf8'), token: config.token}
const proxy = mode === 'source'
  ? await startSourceProxy({...common, services: config.services as Record<string, number>})
  : startDestinationProxy({...common, services: config.services})
await proxy.ready
const ports = 'ports' in proxy ? proxy.ports : {}
process.stdout.write(`${JSON.stringify({ports})}\n`)
process.stdin.resume()
process.stdin.on('end', () => {
  void proxy.close().then(() => process.exit(0))
})
if (process.env.BENCH_MEMORY) {
  // Diagnostics: where the memory is (heap, buffers outside the heap).
  setInterval(() => {
    const m = process.memoryUsage()
    const mib = (n: number) => (n / 1024 ** 2).toFixed(1)
    process.stderr.write(`${mode} rss=${mib(m.rss)} heap=${mib(m.heapUsed)}/${mib(m.heapTotal)} external=${mib(m.external)} arrayBuffers=${mib(m.arrayBuffers)} stats=${JSON.stringify(proxy.stats())}\n`)
  }, 500).unref()
}
