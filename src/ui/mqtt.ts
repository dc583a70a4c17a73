// What the mqtt commands print: numbers, message lines, the publish and load
// summaries and the topic-rule check. Pure: each function returns text, the
// command writes it.
import type {LatencySummary, LoadProgress, LoadResult, PublishAck, PublishResult, ReceivedMessage} from '../lib/mqtt/index.ts'
import type {RuleCheck} from '../lib/mqtt/cli/rules.ts'

export function ms(value: number): string {
  return value < 10 ? `${value.toFixed(2)} ms` : value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}

/** A payload as text when it is valid UTF-8, else undefined. */
export function utf8Text(payload: Buffer): string | undefined {
  const text = payload.toString('utf8')
  return Buffer.from(text, 'utf8').equals(payload) ? text : undefined
}

/** `[#######.............]` for a fraction in [0, 1]. */
export function bar(fraction: number, width = 24): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

/** Lines for stderr: which rules the topic reaches, or a warning that it reaches none. */
export function describeRuleCheck(topic: string, check: RuleCheck): string[] {
  if (check.rules.length === 0) return []
  const matching = check.rules.filter((r) => r.matches)
  if (matching.length === 0) {
    const filters = [...new Set(check.rules.map((r) => r.filter))].join(', ')
    return [`warning: topic ${topic} matches none of the account's topic rules (${filters}): no rule will see these messages; is the topic mistyped?`]
  }
  return matching.map((r) => `topic ${topic} matches rule ${r.name} (FROM '${r.filter}')${r.disabled ? ', but the rule is disabled' : ''}`)
}

/** `mqtt publish`: one line per message (when `perMessage`), then the summary line. */
export function publishLines(published: PublishResult, latency: LatencySummary | undefined, options: {topic: string; qos: number; perMessage: boolean}): string[] {
  const {topic, qos} = options
  const lines: string[] = []
  if (options.perMessage) {
    const bySeq = new Map<number, PublishAck>((published.acks ?? []).map((a) => [a.seq, a]))
    for (let seq = 1; seq <= published.sent; seq++) {
      const ack = bySeq.get(seq)
      lines.push(`#${seq} ${topic} ${qos === 1 ? (ack ? `acknowledged (packet ${ack.packetId}, ${ms(ack.latencyMs)})` : 'not acknowledged') : 'sent (QoS 0: no acknowledgement)'}`)
    }
  }
  const acked = published.acked === undefined ? '' : `, ${published.acked} acknowledged${latency ? ` (latency p50 ${ms(latency.p50)}, p99 ${ms(latency.p99)})` : ''}`
  lines.push(`published ${plural(published.sent, 'message')} to ${topic} at QoS ${qos} via ${published.url} as ${published.clientId}${acked}; ${Math.round(published.messagesPerSecond)} msg/s`)
  return lines
}

/** The payload template, cut at 200 characters. */
export function payloadNote(payload: string): string {
  return `payload: ${payload.length > 200 ? `${payload.slice(0, 200)}…` : payload}`
}

/** `mqtt load`'s progress line (without the bar). */
export function loadProgressLine(p: LoadProgress, options: {durationSeconds: number; devices: number}): string {
  return `${p.elapsedSeconds.toFixed(0).padStart(4)}/${options.durationSeconds} s  devices ${p.connectedDevices}/${options.devices}  sent ${p.sent}  acked ${p.acked}  failed ${p.failed}  ${Math.round(p.ratePerSecond)} msg/s`
}

/** `mqtt load`'s summary. */
export function loadSummaryLines(loaded: LoadResult): string[] {
  const f = loaded.failures
  const lines = [
    `devices    ${loaded.connectedDevices}/${loaded.devices} connected, ${loaded.reconnects} reconnects, ${loaded.connectionErrors} connection errors`,
    `sent       ${loaded.sent} of ${loaded.due} due`,
  ]
  if (loaded.acked !== undefined) lines.push(`acked      ${loaded.acked}`)
  lines.push(
    `failed     ${loaded.failed} (offline ${f.offline}, connection lost ${f.connectionLost}, unacknowledged ${f.unacked}, not sent ${f.notSent})`,
    `rate       ${loaded.achievedRate.toFixed(1)} msg/s achieved (target ${loaded.targetRate})`,
  )
  if (loaded.latencyMs) lines.push(`latency    p50 ${ms(loaded.latencyMs.p50)}  p95 ${ms(loaded.latencyMs.p95)}  p99 ${ms(loaded.latencyMs.p99)}  max ${ms(loaded.latencyMs.max)}`)
  return lines
}

/** `mqtt subscribe`: "<topic> <payload>", a payload that is not UTF-8 as base64:…. */
export function messageText(message: ReceivedMessage): string {
  return `${message.topic} ${utf8Text(message.payload) ?? `base64:${message.payload.toString('base64')}`}`
}
