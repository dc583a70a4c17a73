#!/usr/bin/env node
// iotctl entry point. `--version` is answered here, before oclif and its
// dependencies are loaded: it is what scripts call most and it should cost
// little more than starting node itself (see bench/startup).
import module from 'node:module'
import {readFileSync} from 'node:fs'

module.enableCompileCache?.()

// `iotctl --help | head`: the reader went away, which is not an error of ours.
// Exit quietly (as cat and ls do) instead of Node's unsettled-await warning.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
}

// DEBUG=* must not print secrets. Third-party namespaces print what they
// carry: mqtt.js and mqtt-packet every packet (a tunnel notification holds the
// destination access token), https-proxy-agent the proxy URL with its
// user:password. Before anything else loads `debug`: the payload namespaces are
// off unless named, and every line passes the redactor (src/lib/redact/).
if (process.env.DEBUG) {
  const {installDebugRedaction} = await import('../dist/lib/redact/debug.js')
  installDebugRedaction()
}

const argv = process.argv.slice(2)
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version')) {
  const {version} = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`iotctl/${version} ${process.platform}-${process.arch} node-${process.version}\n`)
} else if (argv[0] === 'tunnel' && ['forward', 'proxy', 'agent'].includes(argv[1]) && await (await import('../dist/lean/index.js')).runLean(argv)) {
  // Served without oclif, the config schema or the AWS SDK (src/lean): the
  // tunnel's token and region came with argv and the environment. Any other
  // argv (help, a usage error, --json, settings from iotctl.json) is oclif's.
} else {
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
}
