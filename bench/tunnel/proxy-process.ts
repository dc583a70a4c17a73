// Runs one local proxy (source or destination) in its own process for the
// benchmark, as the C++ reference runs its two proxies. argv: mode, JSON options
// ({endpoint, caFile, token, services}). Prints {"ports": ...} once ready; exits
// when stdin closes.
import {readFileSync} from 'node:fs'
import {setFlagsFromString} from 'node:v8'
import {startDestinationProxy, startSourceProxy} from '../../src/lib/tunnel/protocol/index.ts'

// BENCH_V8_FLAGS: experiment with V8 flags set at run time (e.g. --max-semi-space-size=1).
if (process.env.BENCH_V8_FLAGS) setFlagsFromString(process.env.BENCH_V8_FLAGS)
const mode = process.argv[2]
const config = JSON.parse(process.argv[3] ?? '{}') as {endpoint: string; caFile: string; token: string; services: Record<string, number | string>}
const common = {
  endpoint: config.endpoint, ca: readFileSync(config.caFile, 'utf8'), token: config.token,
  // BENCH_HWM: experiment with the flow-control mark (bytes).
  ...(process.env.BENCH_HWM ? {highWaterMark: Number(process.env.BENCH_HWM)} : {}),
}
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
    // With --expose-gc (BENCH_V8_FLAGS): what is live, not what awaits collection.
    const gc = (globalThis as {gc?: () => void}).gc
    if (process.env.BENCH_MEMORY === 'gc' && gc) gc()
    const m = process.memoryUsage()
    const mib = (n: number) => (n / 1024 ** 2).toFixed(1)
    process.stderr.write(`${mode} rss=${mib(m.rss)} heap=${mib(m.heapUsed)}/${mib(m.heapTotal)} external=${mib(m.external)} arrayBuffers=${mib(m.arrayBuffers)} stats=${JSON.stringify(proxy.stats())}\n`)
  }, Number(process.env.BENCH_MEMORY_MS ?? 500)).unref()
}
if (process.env.BENCH_GC_LOG) {
  // Diagnostics: garbage collections (count, longest pause) while the proxy runs, printed every second.
  const {PerformanceObserver} = await import('node:perf_hooks')
  let count = 0
  let longest = 0
  let total = 0
  let kinds: Record<string, number> = {}
  new PerformanceObserver(list => {
    for (const entry of list.getEntries()) {
      // detail.kind: 1 minor (scavenge), 2 major, 4 incremental marking, 8 weak callbacks.
      const detail: unknown = Reflect.get(entry, 'detail')
      const kind = String(typeof detail === 'object' && detail !== null ? Reflect.get(detail, 'kind') : undefined)
      kinds[kind] = (kinds[kind] ?? 0) + 1
      count++
      total += entry.duration
      longest = Math.max(longest, entry.duration)
    }
  }).observe({entryTypes: ['gc']})
  setInterval(() => {
    if (count > 0) process.stderr.write(`${mode} gc: ${count} collections ${JSON.stringify(kinds)}, ${total.toFixed(1)} ms in all, longest ${longest.toFixed(2)} ms\n`)
    kinds = {}
    count = 0
    total = 0
    longest = 0
  }, 1000).unref()
}
