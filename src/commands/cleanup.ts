import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.ts'
import {changeFlags, parallelFlag, twoAccountFlags} from '../flags/index.ts'
import type {CleanupResult} from '../lib/cleanup/index.ts'
import {InputError} from '../lib/errors.ts'
import type {StepReport} from '../lib/plan/runner.ts'

export default class Cleanup extends BaseCommand<CleanupResult> {
  static override summary = 'Delete everything the stack created, in both accounts, in reverse dependency order.'
  static override description = `Finds the stack's resources by their tags and construction marks in both accounts (the ledger in .iotctl/ is only a hint, so cleanup also works on a fresh machine), shows the plan, asks for confirmation (or --yes), and deletes in reverse dependency order: a resource goes once everything that needs it has gone, independent deletions side by side (up to --parallel per account). Resources without the stack's marks are never touched: a ledger entry is confirmed against tags or marks first, a ledger of another stack is refused (exit 2), a certificate iotctl did not make is only detached from the stack's thing and policy, and a route is read again just before its deletion and kept unless it still goes through the stack's peering; each is a "left in place" line (leftInPlace in --json). "Not found" counts as done, so cleanup can run twice.`
  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %> --yes',
    '<%= config.bin %> <%= command.id %> --stack ci-$CI_JOB_ID --iot-profile iot --msk-profile msk --yes --json',
  ]

  static override flags = {
    ...twoAccountFlags,
    ...changeFlags,
    'include-cluster': Flags.boolean({summary: 'Also delete the MSK cluster the stack created (kept by default).'}),
    'keep-topic': Flags.boolean({summary: 'Keep the Kafka topic the stack created (and its messages); a topic the stack found is always kept.'}),
    'kms-pending-days': Flags.integer({summary: 'Waiting period before KMS deletes the stack\'s keys, 7–30 days (default 7); until then `iotctl secret mirror` brings them back.', min: 7, max: 30, helpValue: '<days>'}),
    'force-delete-secrets': Flags.boolean({summary: 'Delete the secrets at once, without the 7-day recovery window (also purges secrets already in it).'}),
    parallel: parallelFlag,
  }

  async run(): Promise<CleanupResult> {
    const {flags} = await this.parse(Cleanup)
    const loaded = this.loadStack(flags)
    const {fillProfilesFromLedger} = await import('../lib/cleanup/profiles.ts')
    fillProfilesFromLedger(loaded)
    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY)
    if (!flags.yes && !flags['dry-run'] && !interactive) {
      throw new InputError('cleanup deletes resources: pass --yes to confirm when there is no terminal to ask on (or --dry-run to see the plan)')
    }
    const {secretOptionEntries} = await import('../lib/secrets/options.ts')
    // Every step's module loads while STS answers who the profiles are.
    const modules = Promise.all([import('../lib/cleanup/index.ts'), import('../lib/msk/topic-step.ts'), import('../ui/report.ts')])
    const ctx = await this.stepContext(loaded, {
      dryRun: flags['dry-run'],
      options: secretOptionEntries({kmsPendingDays: flags['kms-pending-days'], forceDeleteSecrets: flags['force-delete-secrets']}),
    })
    const [{cleanupStack}, {kafkaTopicStepId}, {renderSteps}] = await modules
    const confirm = flags.yes ? undefined : async (plan: StepReport[]) => {
      process.stderr.write(`${renderSteps(plan)}\n`)
      const {confirm: ask} = await import('@inquirer/prompts')
      return ask({message: `Delete these resources of stack '${ctx.stack}'?`, default: false}, {output: process.stderr})
    }
    const result = await cleanupStack(ctx, {
      dryRun: flags['dry-run'],
      runTask: await this.taskRunner({dryRun: flags['dry-run']}),
      parallel: flags.parallel,
      confirm,
      includeOptional: flags['include-cluster'] ? ['msk-cluster', 'msk-configuration'] : [],
      exclude: flags['keep-topic'] ? [kafkaTopicStepId] : [],
    })
    await this.finishSteps({...result, dryRun: flags['dry-run']}, {
      rerun: 'iotctl cleanup',
      dryRun: () => `dry run: ${result.deleted} resource(s) would be deleted; nothing was changed`,
      done: () => {
        const left = result.steps.reduce((n, s) => n + (s.leftInPlace?.length ?? 0), 0)
        const kept = left > 0 ? `; ${left} left in place (not the stack's, see above)` : ''
        if (result.deleted === 0 && !result.steps.some((s) => s.outcome === 'would-delete')) return `nothing to delete for stack '${ctx.stack}'${kept}`
        return result.confirmed ? `deleted ${result.deleted} resource(s) of stack '${ctx.stack}'${kept}` : 'cancelled: nothing was deleted'
      },
    })
    return result
  }
}
