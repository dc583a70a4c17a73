// The agent's limits: what one device gives to tunnels it did not ask for. Each
// notification starts a destination proxy (a WebSocket, timers, buffers) and each
// StreamStart/ConnectionStart a local TCP connection, so without bounds a
// flood of either takes the device's memory and its services' connection slots.
// Pure constants and a check, shared by the command's flags (help text) and the lib.
import {InputError} from '../../errors.ts'

export interface AgentLimit {
  flag: string
  default: number
  min: number
  max: number
}

/** Tunnels served at once; a notification beyond it is refused (a repeat of one served does not count). */
export const MAX_TUNNELS: AgentLimit = {flag: '--max-tunnels', default: 8, min: 1, max: 256}
/** Local TCP connections one tunnel holds at once (all its streams); a start beyond it is reset. */
export const MAX_CONNECTIONS: AgentLimit = {flag: '--max-connections', default: 64, min: 1, max: 4096}
/** Reconnect attempts of a tunnel's proxy without reaching the service, with backoff, before it gives up. */
export const MAX_RECONNECTS: AgentLimit = {flag: '--max-reconnects', default: 20, min: 0, max: 1000}

/** A limit flag's value, or InputError (exit 2) naming the flag. */
export function checkAgentLimit(value: number, flag: string, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new InputError(`${flag} ${value}: give a whole number from ${min} to ${max}`)
  return value
}

/** `checkAgentLimit` for one of the limits above, its default when not given. */
export function agentLimit(limit: AgentLimit, value: number | undefined): number {
  return value === undefined ? limit.default : checkAgentLimit(value, limit.flag, limit.min, limit.max)
}
