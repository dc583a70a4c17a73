// `iotctl up`: every step of the registry that `up` makes, walking its graph
// (independent steps side by side) through the one runner; resumable because each step reads before it
// creates and records each resource in the ledger as soon as it exists.
import type {AccountRole, CallerIdentity} from '../aws/account.ts'
import {sampleTopic, topicFilterOf} from '../iot/names.ts'
import {ruleSettingsOf} from '../iot/inputs.ts'
import {applySteps, describeRecord, type StepReport, type TaskRunner} from '../plan/runner.ts'
import type {Finding, ResourceRecord, StepContext} from '../plan/types.ts'
import {optionalParts, upGraph} from './steps.ts'

export interface UpOptions {
  dryRun: boolean
  createCluster?: boolean
  runTask?: TaskRunner
  /** Steps in flight at once per account. */
  parallel?: number
}

export interface AccountSummary {
  accountId: string
  /** What this run created or changed (or would, with --dry-run), one line each. */
  created: string[]
  /** What the stack owned already but the ledger did not know (found by tags or marks). */
  adopted: string[]
  /** How many resources were already in place and known. */
  inPlace: number
  /** Steps, so that a dry run and the run after it count the same things: changed (or would change) and already in place. */
  steps: {changed: number; inPlace: number}
  /** What reads found wrong that this run did not repair (a blackhole route, secrets that differ without --force). */
  attention: (Finding & {step: string})[]
}

export interface UpResult {
  stack: string
  dryRun: boolean
  accounts: {iot: CallerIdentity; msk: CallerIdentity}
  /** False when a second run found everything in place. */
  changed: boolean
  interrupted: boolean
  summary: Record<AccountRole, AccountSummary>
  rule: {name: string; topicFilter?: string; kafkaTopic: string}
  /** Commands to try next. */
  next: string[]
  steps: StepReport[]
}

const key = (r: ResourceRecord) => `${r.account}|${r.step}|${r.kind}|${r.id}`

export async function up(ctx: StepContext, options: UpOptions): Promise<UpResult> {
  const known = new Set(ctx.ledger.resources.map(key))
  const result = await applySteps(upGraph({createCluster: options.createCluster, ...optionalParts(ctx.settings)}), ctx, {dryRun: options.dryRun, runTask: options.runTask, parallel: options.parallel})
  const summary: Record<AccountRole, AccountSummary> = {
    iot: {accountId: ctx.identities.iot.accountId, created: [], adopted: [], inPlace: 0, attention: [], steps: {changed: 0, inPlace: 0}},
    msk: {accountId: ctx.identities.msk.accountId, created: [], adopted: [], inPlace: 0, attention: [], steps: {changed: 0, inPlace: 0}},
  }
  for (const report of result.reports) {
    const account = summary[report.account as AccountRole]
    if (report.outcome === 'created' || report.outcome === 'would-create') {
      account.created.push(...report.changes)
      account.steps.changed++
    }
    if (report.outcome === 'unchanged') account.steps.inPlace++
    // A step that created read its findings before repairing them; the others still have them.
    if (report.outcome !== 'created') account.attention.push(...report.findings.map((f) => ({...f, step: report.id})))
    if (report.outcome !== 'unchanged') continue
    for (const record of report.resources) {
      if (known.has(key(record))) account.inPlace++
      else account.adopted.push(describeRecord(record))
    }
  }
  const settings = ruleSettingsOf(ctx.settings)
  const topicFilter = topicFilterOf(settings.sql)
  const next = [
    `iotctl doctor${ctx.stack === 'iotctl' ? '' : ` --stack ${ctx.stack}`}`,
    ...(topicFilter ? [`iotctl mqtt publish --topic ${sampleTopic(topicFilter)} --message '{"temperature": 21.5}'`] : []),
  ]
  return {
    stack: ctx.stack,
    dryRun: options.dryRun,
    accounts: ctx.identities,
    changed: result.reports.some((r) => r.outcome === 'created'),
    interrupted: result.interrupted,
    summary,
    rule: {name: settings.name, topicFilter, kafkaTopic: settings.kafkaTopic},
    next: options.dryRun ? [`iotctl up${options.createCluster ? ' --create-cluster' : ''}`] : next,
    steps: result.reports,
  }
}
