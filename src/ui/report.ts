// Human rendering of step reports and link tables (stdout). --json prints the
// returned objects instead, so nothing here is parsed by scripts.
import type {Link} from '../lib/plan/inspect.ts'
import type {StepOutcome, StepReport} from '../lib/plan/runner.ts'
import {renderTable, shortenedNote} from './table.ts'

const marks: Record<StepOutcome, string> = {
  created: '+', unchanged: '✓', 'would-create': '+', deleted: '-', 'would-delete': '-', absent: '·', kept: '=', interrupted: '!', failed: '✗', skipped: '…',
}

const words: Record<StepOutcome, string> = {
  created: 'created', unchanged: 'in place', 'would-create': 'would create', deleted: 'deleted',
  'would-delete': 'would delete', absent: 'nothing to delete', kept: 'kept', interrupted: 'interrupted part-way', failed: 'failed', skipped: 'not reached',
}

/** A step's result in one line, without its mark: `VPC peering [iot]: created`. */
export function stepHeadline(report: StepReport, options: {dryRun?: boolean} = {}): string {
  return `${report.title} [${report.account}]: ${outcomeWords(report, options)[1]}`
}

// A dry run did nothing: no step shows ✓, the ones with nothing to do say so.
const outcomeWords = (report: StepReport, options: {dryRun?: boolean}): [string, string] =>
  options.dryRun && report.outcome === 'unchanged' ? ['·', 'in place, nothing to do'] : [marks[report.outcome], words[report.outcome]]

/** What is shown under a step's line, indented: what it changed, found wrong, left in place or must say. */
export function stepDetails(report: StepReport): string[] {
  const lines: string[] = []
  // The plan is a graph: say what each change waits for (the rest starts at once, side by side).
  if (report.outcome === 'would-create' && report.after.length > 0) lines.push(`    after: ${report.after.join(', ')}`)
  for (const change of report.changes) lines.push(`    ${change}`)
  for (const finding of report.findings) lines.push(`    ${finding.kind}: ${finding.text}${finding.fix ? ` (${finding.fix})` : ''}`)
  for (const left of report.leftInPlace ?? []) lines.push(`    left in place: ${left.kind} ${left.id}: ${left.reason}`)
  // A read's notes describe the resource as it was found: after a deletion, say so.
  const found = report.outcome === 'deleted' || report.outcome === 'would-delete' ? 'before deletion: ' : ''
  for (const note of report.notes) lines.push(`    (${found}${note})`)
  return lines
}

export function renderSteps(reports: StepReport[], options: {dryRun?: boolean; verbose?: boolean} = {}): string {
  // Steps that found nothing to delete are one line together (--verbose: each): the list is about what cleanup does.
  const absent = reports.filter((report) => report.outcome === 'absent')
  const shown = absent.length > 1 && !options.verbose ? reports.filter((report) => report.outcome !== 'absent') : reports
  const lines = shown.flatMap((report) => [`${outcomeWords(report, options)[0]} ${stepHeadline(report, options)}`, ...stepDetails(report)])
  if (shown.length < reports.length) lines.push(`${marks.absent} nothing to delete in ${absent.length}${shown.length > 0 ? ' other' : ''} steps (--json lists them)`)
  return lines.join('\n')
}

/** What an interrupted run did and what it left for the next run. */
export function renderInterruption(reports: StepReport[], rerun: string): string {
  const done = reports.filter((r) => r.outcome !== 'skipped' && r.outcome !== 'interrupted' && r.outcome !== 'failed').map((r) => `  done: ${r.title} (${words[r.outcome]})`)
  const stopped = reports.filter((r) => r.outcome === 'interrupted').map((r) =>
    `  stopped in: ${r.title}${r.resources.length > 0 ? ` (so far: ${r.resources.map((x) => `${x.kind} ${x.id}`).join(', ')})` : ''}`)
  const remaining = reports.filter((r) => r.outcome === 'skipped').map((r) => `  remaining: ${r.title}`)
  return ['interrupted; the ledger is written.', ...done, ...stopped, ...remaining, `run \`${rerun}\` again to continue.`].join('\n')
}

export async function renderLinks(links: Link[]): Promise<string> {
  const rows = links.map((link) => [link.state === 'ok' ? 'ok' : link.state.toUpperCase(), link.account, link.link])
  const table = await renderTable(['state', 'account', 'link'], rows, {wrap: 2})
  return table.shortened ? `${table.text}\n${shortenedNote(table.width)}` : table.text
}
