// The end of `up`: per account what was created or adopted, the rule's topic
// filter, and what to run next.

export interface UpSummary {
  dryRun: boolean
  summary: Record<'iot' | 'msk', {accountId: string; adopted: string[]; steps: {changed: number; inPlace: number}; attention: {kind: string; text: string; fix?: string}[]}>
  rule: {name: string; topicFilter?: string; kafkaTopic: string}
  next: string[]
}

/** The end of `up`: per account what was created or adopted, the rule's topic filter, what to run next. */
export function renderUpSummary(result: UpSummary): string {
  const lines: string[] = []
  for (const [role, label] of [['msk', 'MSK account (A)'], ['iot', 'IoT account (B)']] as const) {
    const s = result.summary[role]
    // Counts of steps, the same in a dry run and the run after it; what changed is in the step list above.
    const changed = `${s.steps.changed} step${s.steps.changed === 1 ? '' : 's'} ${result.dryRun ? 'would change' : 'changed'}`
    lines.push(`${label} ${s.accountId}: ${changed}, ${s.steps.inPlace} in place${s.adopted.length > 0 ? `, ${s.adopted.length} adopted` : ''}`)
    for (const line of s.adopted) lines.push(`  adopted ${line}`)
    for (const f of s.attention) lines.push(`  ${f.kind}: ${f.text}${f.fix ? ` — ${f.fix}` : ''}`)
  }
  lines.push(`rule ${result.rule.name}: messages on '${result.rule.topicFilter ?? '?'}' go to Kafka topic '${result.rule.kafkaTopic}'`)
  lines.push(`next: ${result.next.join('   then: ')}`)
  return lines.join('\n')
}
