// Installs the redaction of ./index.ts into the `debug` package, which every
// third-party namespace prints through: `%o`/`%O` see sanitized copies, the
// other arguments too, and each whole line is redacted before it is written.
// bin/run.js calls it first thing when DEBUG is set, before any library has
// printed (a namespace reads DEBUG when `debug` loads: enable() applies it again).
import {createRequire} from 'node:module'
import {formatWithOptions, type InspectOptions} from 'node:util'
import type {Debug, Debugger} from 'debug'
import {redactText, registerEnvironmentSecrets, sanitize} from './index.ts'

/**
 * Namespaces that print whole payloads or credentials: off under DEBUG unless
 * named on their own (DEBUG=mqtt-packet:*), and redacted even then.
 */
export const PAYLOAD_NAMESPACES = ['mqtt-packet', 'https-proxy-agent', 'socks-proxy-agent']

/** DEBUG with the payload namespaces switched off, unless it names them. */
export function debugNamespaces(debug: string): string {
  const named = debug.split(/[\s,]+/).filter(Boolean)
  const off = PAYLOAD_NAMESPACES.filter((ns) => !named.some((n) => n.startsWith(ns)))
  // A child iotctl (ssh's ProxyCommand) inherits the result: no second copy of the exclusions.
  return [...new Set([...named, ...off.flatMap((ns) => [`-${ns}`, `-${ns}:*`])])].join(',')
}

const installed = new WeakSet<Debug>()

/** Wraps one copy of the `debug` package; a second call for the same copy does nothing. */
export function redactDebug(createDebug: Debug): void {
  if (installed.has(createDebug)) return
  installed.add(createDebug)
  for (const letter of ['o', 'O']) {
    const format = createDebug.formatters[letter]
    if (format) createDebug.formatters[letter] = function (this: Debugger, value: unknown) {
      return guarded(() => format.call(this, sanitize(value)))
    }
  }
  const log = createDebug.log
  createDebug.log = function (this: Debugger, ...args: unknown[]) {
    const [first, ...rest] = args
    const text = guarded(() => redactText(formatWithOptions(inspectOptions(createDebug), first, ...rest.map((arg) => sanitize(arg)))))
    return log.call(this, '%s', text) as unknown
  }
}

/** A debug line must never throw into the library that prints it, nor show what could not be redacted. */
function guarded(render: () => string): string {
  try {
    return render()
  } catch (error) {
    return `<not shown: ${error instanceof Error ? error.name : 'error'} while redacting>`
  }
}

/** debug's own options (DEBUG_COLORS, DEBUG_DEPTH, DEBUG_SHOW_HIDDEN) as util.inspect takes them. */
function inspectOptions(createDebug: Debug): InspectOptions {
  const options = createDebug.inspectOpts ?? {}
  return {
    ...(options.colors === undefined || options.colors === null ? {} : {colors: Boolean(options.colors)}),
    ...(typeof options.depth === 'number' || options.depth === null ? {depth: options.depth} : {}),
    ...(options.showHidden === undefined || options.showHidden === null ? {} : {showHidden: Boolean(options.showHidden)}),
  }
}

/** Every copy of `debug` the printing libraries load (one today; more after an update nests one). */
const libraries = ['mqtt', 'mqtt-packet', 'https-proxy-agent', 'socks-proxy-agent', '@platformatic/kafka', '@oclif/core']

/**
 * Applies DEBUG without the payload namespaces, registers the environment's
 * secrets and wraps `debug`. Returns the namespaces now enabled.
 */
export function installDebugRedaction(env: NodeJS.ProcessEnv = process.env): string {
  registerEnvironmentSecrets(env)
  const namespaces = debugNamespaces(env.DEBUG ?? '')
  env.DEBUG = namespaces
  const copies = new Set<Debug>()
  for (const library of libraries) {
    try {
      copies.add(createRequire(import.meta.resolve(library))('debug') as Debug)
    } catch {
      // Not installed (a trimmed install): it prints nothing then.
    }
  }
  for (const createDebug of copies) {
    redactDebug(createDebug)
    createDebug.enable(namespaces)
  }
  return namespaces
}
