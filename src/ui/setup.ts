// The end of `up`: per account what was created or adopted, the rule's topic
// filter, and what to run next.

export interface UpSummary {
  dryRun: boolean
  summary: Record<'iot' | 'msk', {accountId: string; created: string[]; adopted: string[]; inPlace: number; attention: {kind: string; text: string; fix?: string}[]}>
  rule: {name: string; topicFilter?: string; kafkaTopic: string}
  next: string[]
}

/** The end of `up`: per account what was created or adopted, the rule's topic filter, what to run next. */
export function renderUpSummary(result: UpSummary): string {
  const lines: string[] = []
  for (const [role, label] of [['msk', 'MSK account (A)'], ['iot', 'IoT account (B)']] as const) {
    const s = result.summary[role]
    lines.push(`${label} ${s.accountId}: ${s.created.length} change(s)${result.dryRun ? ' planned' : ''}, ${s.adopted.length} adopted, ${s.inPlace} already in place`)
    // A dry run printed its plan just above: the counts are enough.
    if (!result.dryRun) for (const line of s.created) lines.push(`  ${line}`)
    for (const line of s.adopted) lines.push(`  adopted ${line}`)
    for (const f of s.attention) lines.push(`  ${f.kind}: ${f.text}${f.fix ? ` — ${f.fix}` : ''}`)
  }
  lines.push(`rule ${result.rule.name}: messages on '${result.rule.topicFilter ?? '?'}' go to Kafka topic '${result.rule.kafkaTopic}'`)
  lines.push(`next: ${result.next.join('   then: ')}`)
  return lines.join('\n')
}
