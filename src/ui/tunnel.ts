// What the tunnel commands print: the proxies' and the agent's log lines, the
// tunnel table of `tunnel list`, and the lines of `tunnel open` and `tunnel close`.
// Pure but for the table's lazy import: each function returns text, the command writes it.
import type {TunnelCloseResult, TunnelListResult, TunnelOpenResult} from '../lib/tunnel/api/index.ts'
import type {LogLevel, TunnelLogger} from '../lib/tunnel/protocol/index.ts'
import {renderTable, shortenedNote} from './table.ts'

/**
 * Controls a line may not carry to the terminal: C0 (newline included: one event
 * is one line), DEL, C1 (CSI is \u009b), line/paragraph separators and bidi
 * overrides. Messages quote what the tunnel and notifications say (service ids,
 * close reasons), so the line is cleaned as a whole.
 */
// eslint-disable-next-line no-control-regex -- these are exactly what must not reach a terminal
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/**
 * A TunnelLogger writing one line per event through `write` (the command passes
 * stderr); debug lines only when `debug` is set, and nothing at all when `quiet`.
 */
export function lineLogger(write: (line: string) => void, options: {debug?: boolean; quiet?: boolean; prefix?: string} = {}): TunnelLogger {
  return (level: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (options.quiet || (level === 'debug' && !options.debug)) return
    const details = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
    const label = level === 'info' ? '' : `${level}: `
    write(`${`${options.prefix ?? 'iotctl'}: ${label}${message}${details}`.replace(UNPRINTABLE, '?')}\n`)
  }
}

/**
 * The logger of `tunnel forward`, `proxy` (silent but with DEBUG: their own lines
 * are the command's notes) and `agent` (its log), for the oclif commands and the lean runner alike.
 */
export function tunnelLogger(command: 'forward' | 'proxy' | 'agent'): TunnelLogger {
  const debug = Boolean(process.env.DEBUG)
  const write = (line: string): void => {
    process.stderr.write(line)
  }
  return command === 'agent' ? lineLogger(write, {debug, prefix: 'iotctl agent'}) : lineLogger(write, {debug, quiet: !debug})
}

/** `tunnel list`: a table, or one line saying there is none. */
export async function renderTunnelList(result: TunnelListResult): Promise<string> {
  if (result.tunnels.length === 0) {
    return result.all ? `no tunnels in ${result.region}` : `no tunnels of stack '${result.stack}' in ${result.region} (--all shows every tunnel)`
  }
  const head = ['tunnel id', ...(result.all ? ['stack'] : []), 'thing', 'services', 'status', 'connected', 'ends']
  const now = Date.now()
  const rows = result.tunnels.map((tunnel) => [
    tunnel.tunnelId,
    ...(result.all ? [tunnel.stack ?? '-'] : []),
    tunnel.thingName ?? '-',
    tunnel.services.join(', ') || '-',
    tunnel.status,
    connectedEnds(tunnel.sourceConnection, tunnel.destinationConnection),
    tunnel.status === 'OPEN' && tunnel.expiresAt ? timeLeft(Date.parse(tunnel.expiresAt) - now) : '-',
  ])
  // Only names and ids give way; states and times are short already and must stay readable.
  const table = await renderTable(head, rows, {fixed: head.slice(-4)})
  return table.shortened ? `${table.text}\n${shortenedNote(table.width)}` : table.text
}

/** Which ends of a tunnel are connected, in one word (--json has both states). */
function connectedEnds(source: string, destination: string): string {
  const ends = [source === 'CONNECTED' ? 'source' : '', destination === 'CONNECTED' ? 'destination' : ''].filter(Boolean)
  return ends.length === 2 ? 'both' : (ends[0] ?? 'none')
}

/** `in 11h 59m`: what a person wants from an expiry time (--json has the timestamp). */
export function timeLeft(ms: number): string {
  if (!Number.isFinite(ms)) return '-'
  if (ms <= 0) return 'now'
  const minutes = Math.ceil(ms / 60_000)
  const [days, hours, mins] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60]
  if (days > 0) return `in ${days}d ${hours}h`
  return hours > 0 ? `in ${hours}h ${mins}m` : `in ${mins}m`
}

/** `tunnel open`: the lines for stdout (`log`) and for stderr (`notes`). */
export function tunnelOpenLines(result: TunnelOpenResult, options: {showTokens: boolean}): {log: string[]; notes: string[]} {
  if (result.dryRun) {
    return {log: [`dry run: would open a tunnel to ${result.thingName} for ${result.services.join(', ')} (${result.timeoutMinutes} minutes, stack '${result.stack}'); nothing was changed`], notes: []}
  }
  const log = [`${result.tunnelId}`]
  if (options.showTokens) log.push(`source-access-token ${result.sourceAccessToken}`, `destination-access-token ${result.destinationAccessToken}`)
  return {
    log,
    notes: [
      `opened tunnel ${result.tunnelId} to ${result.thingName} for ${result.services.join(', ')}; it closes by itself at ${result.expiresAt}`,
      `tokens: ${result.tokenFile} (mode 0600)`,
    ],
  }
}

/** `tunnel close`: one line. */
export function tunnelCloseLine(result: TunnelCloseResult, options: {delete: boolean}): string {
  if (result.dryRun) return result.found ? `dry run: would close tunnel ${result.tunnelId} (${result.previousStatus})${options.delete ? ' and delete it' : ''}; nothing was changed` : `dry run: AWS does not know tunnel ${result.tunnelId}; nothing to close`
  if (!result.found) return `tunnel ${result.tunnelId} does not exist (any more); nothing to close`
  if (result.previousStatus === 'CLOSED') return `tunnel ${result.tunnelId} was already closed${result.deleted ? '; deleted' : ''}`
  return `closed tunnel ${result.tunnelId}${result.deleted ? ' and deleted it' : ''}`
}
