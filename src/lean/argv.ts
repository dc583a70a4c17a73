// Which argv the lean runner serves: `tunnel forward`, `tunnel proxy` and
// `tunnel agent` when nothing in it needs oclif, the config file or AWS. Every
// other argv (help, an unknown or repeated flag, a missing value, --json, a
// setting that comes from iotctl.json or a profile) goes to oclif, which owns
// help, usage errors and their exact wording: when in doubt, undefined.
import {parseArgs} from 'node:util'
import {agentFlagTable, forwardFlagTable, proxyFlagTable, stackFlagTable, type FlagSpec} from '../flags/table.ts'
import type {AgentFlags, ForwardFlags, ProxyFlags} from '../lib/tunnel/api/commands.ts'
import {TOKEN_ENVIRONMENT_VARIABLE} from '../lib/tunnel/api/token-variable.ts'

export type LeanInvocation =
  | {command: 'forward'; flags: ForwardFlags}
  | {command: 'proxy'; flags: ProxyFlags}
  | {command: 'agent'; flags: AgentFlags}

/** What the decision needs to know of the process, for tests. */
export interface LeanEnvironment {
  env: NodeJS.ProcessEnv
  /** True unless ./iotctl.json is known to be absent (the oclif path reads and checks it). */
  configFilePresent: () => boolean
}

// The stack flags are BaseCommand's baseFlags, on every command.
const tables = {
  forward: {...stackFlagTable, ...forwardFlagTable},
  proxy: {...stackFlagTable, ...proxyFlagTable},
  agent: {...stackFlagTable, ...agentFlagTable},
} satisfies Record<LeanInvocation['command'], Record<string, FlagSpec>>

/** Flags whose values feed the settings (iotctl.json, profiles) that only the oclif path loads and checks. */
const SETTINGS_FLAGS = ['config', 'stack', 'profile']

/**
 * The flags of `args` as oclif would parse them with `table`, or undefined when
 * oclif could answer anything but that (an error, help) or the form is unusual.
 */
export function parseFlags(table: Record<string, FlagSpec>, args: string[]): Record<string, string | number> | undefined {
  let parsed
  try {
    const options = Object.fromEntries(Object.keys(table).map((name) => [name, {type: 'string' as const}]))
    parsed = parseArgs({args, options, strict: true, allowPositionals: false, tokens: true})
  } catch {
    return undefined
  }
  const values: Record<string, string | number> = {}
  for (const token of parsed.tokens) {
    // `--` and the short forms (-c) stay with oclif; so does a repeated flag (oclif refuses it).
    if (token.kind !== 'option' || !token.rawName.startsWith('--') || Object.hasOwn(values, token.name)) return undefined
    const value = token.value
    // An empty value or one that looks like a flag: oclif's reading of it decides.
    if (value === undefined || value === '' || value.startsWith('-')) return undefined
    const spec = table[token.name]
    if (spec.kind === 'integer') {
      // Flags.integer's rule; anything else is oclif's error message.
      if (!/^\d+$/.test(value)) return undefined
      values[token.name] = Number.parseInt(value, 10)
    } else {
      values[token.name] = value
    }
  }
  for (const [name, spec] of Object.entries(table)) if (spec.required && !Object.hasOwn(values, name)) return undefined
  return values
}

/** The lean invocation for `argv` (without node and the script), or undefined: oclif's. */
export function leanInvocation(argv: readonly string[], environment: LeanEnvironment): LeanInvocation | undefined {
  const [topic, command, ...args] = argv
  if (topic !== 'tunnel' || (command !== 'forward' && command !== 'proxy' && command !== 'agent')) return undefined
  const values = parseFlags(tables[command], args)
  if (!values || SETTINGS_FLAGS.some((name) => Object.hasOwn(values, name))) return undefined
  const text = (name: string): string | undefined => (typeof values[name] === 'string' ? values[name] : undefined)
  const number = (name: string): number | undefined => (typeof values[name] === 'number' ? values[name] : undefined)
  if (command === 'agent') {
    // Without --endpoint the agent looks it up with the profile's credentials (AWS SDK).
    const [thing, cert, key, destination, endpoint] = [text('thing'), text('cert'), text('key'), text('destination'), text('endpoint')]
    if (!thing || !cert || !key || !destination || !endpoint) return undefined
    return {command, flags: {
      thing, cert, key, destination, endpoint,
      ca: text('ca'), 'client-id': text('client-id'), 'proxy-endpoint': text('proxy-endpoint'), region: text('region'),
      'max-tunnels': number('max-tunnels'), 'max-connections': number('max-connections'), 'max-reconnects': number('max-reconnects'),
    }}
  }
  // forward and proxy load iotctl.json (and check it) before anything else: with one there, oclif's path.
  if (environment.configFilePresent()) return undefined
  // The token and the region without AWS: the token file of --tunnel-id says both;
  // AWSIOT_TUNNEL_ACCESS_TOKEN needs --region or --proxy-endpoint.
  const token = environment.env[TOKEN_ENVIRONMENT_VARIABLE]
  const fromEnvironment = token !== undefined && token.trim() !== '' && (text('region') !== undefined || text('proxy-endpoint') !== undefined)
  if (text('tunnel-id') === undefined && !fromEnvironment) return undefined
  const common = {'tunnel-id': text('tunnel-id'), 'proxy-endpoint': text('proxy-endpoint'), region: text('region')}
  if (command === 'proxy') return {command, flags: {...common, service: text('service')}}
  return {command, flags: {...common, source: text('source'), destination: text('destination'), 'destination-client-type': text('destination-client-type')}}
}
