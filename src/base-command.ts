// The base of every iotctl command (STYLE.md §2): `run()` returns a typed
// result, which *is* the --json document; errors become one line on stderr
// (or a JSON error object on stdout with --json) and the exit codes of DESIGN.md.
import {format} from 'node:util'
import {Command, type Interfaces} from '@oclif/core'
import {stackFlags} from './flags/index.ts'
import type {AccountRole, AwsAccount} from './lib/aws/account.ts'
import {loadSettings, type LoadedSettings} from './lib/config/settings.ts'
import {reportError} from './error-output.ts'
import {sigintHandler} from './interruption.ts'
import type {StepReport, TaskRunner} from './lib/plan/runner.ts'
import type {StepGraph} from './lib/plan/graph.ts'
import type {StepContext} from './lib/plan/types.ts'
import type {StackLease} from './lib/lease/index.ts'
import {overridesOf, stackSettings, type FlagSetting, type SettingFlagValues} from './settings-flags.ts'
import {fitToWidth, noteLine, outputWidth} from './ui/text.ts'
import {usageMessage} from './usage.ts'

export type BaseFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>

export type {ErrorDocument} from './error-output.ts'

export abstract class BaseCommand<T> extends Command {
  static override enableJsonFlag = true
  static override baseFlags = {...stackFlags}

  /** --wait-lock, kept by loadStack for stepContext. */
  #waitLock?: number
  /** The stack's lease of a run that changes the stack, released in finally(). */
  #lease?: StackLease

  /** Aborted on the first Ctrl-C: steps stop after the request in flight. */
  protected readonly interruption = new AbortController()
  #onSigint = sigintHandler(this.interruption)

  abstract override run(): Promise<T>

  protected override async init(): Promise<void> {
    await super.init()
    process.on('SIGINT', this.#onSigint)
  }

  protected override async finally(error: Error | undefined): Promise<void> {
    // Every exit path lets the stack's lease go: success, failure, Ctrl-C.
    await this.#lease?.release().catch((failure: unknown) => {
      process.stderr.write(`note: ${failure instanceof Error ? failure.message : String(failure)}; it expires by itself\n`)
    })
    process.off('SIGINT', this.#onSigint)
    await super.finally(error)
  }

  /** Results for a person, fitted to the terminal's width (src/ui/text.ts); --json prints nothing here. */
  override log(message = '', ...args: unknown[]): void {
    super.log(fitToWidth(format(message, ...args), outputWidth()))
  }

  /** Progress lines and notes: always stderr, so stdout carries only results. */
  protected note(message: string): void {
    if (!this.jsonEnabled() || process.env.DEBUG) process.stderr.write(noteLine(message))
  }

  /**
   * The stack's settings: --config's file (default ./iotctl.json) with the flags
   * applied: --stack, --region and the profiles for every command that has them,
   * then the command's own rows of the table (src/settings-flags.ts).
   */
  protected loadStack(flags: Partial<SettingFlagValues> & {config?: string; 'wait-lock'?: number}, table: readonly FlagSetting[] = []): LoadedSettings {
    this.#waitLock = flags['wait-lock']
    return loadSettings(flags.config, overridesOf(flags, [...stackSettings, ...table]))
  }

  /**
   * Opens both accounts (or, with `mskOnly`, the MSK account alone, for the
   * `msk …` commands), resolves who they are and opens the ledger — after the
   * checks of `steps` on the settings alone, so bad input is exit 2 before any
   * AWS call (even before the profiles are resolved). Without `dryRun` the
   * context carries the stack's lease (`ctx.lease`, src/lib/lease), which the
   * runner takes before the first change and finally() releases.
   */
  protected async stepContext(loaded: LoadedSettings, options: {dryRun: boolean; options?: Record<string, unknown>; mskOnly?: boolean; iotOnly?: boolean; steps?: Pick<StepGraph, 'check' | 'steps'>}): Promise<StepContext> {
    const {createStepContext} = await import('./lib/plan/context.ts')
    const {leaseSettings, StackLease} = await import('./lib/lease/index.ts')
    // A run that changes the stack holds its lease (checked here, before any AWS request; taken before the first change).
    const lease = options.dryRun ? undefined : leaseSettings(this.#waitLock)
    const settings = options.mskOnly ? (await import('./lib/msk/index.ts')).mskAccountOnly(loaded.settings)
      // The IoT account alone (fleet): the MSK side points at the same handle.
      : options.iotOnly ? {...loaded.settings, msk: {...loaded.settings.msk, profile: loaded.settings.iot?.profile, region: loaded.settings.iot?.region}} : loaded.settings
    const ctx = await createStepContext({
      settings,
      stateDirectory: loaded.stateDirectory,
      dryRun: options.dryRun,
      signal: this.interruption.signal,
      options: options.options,
      steps: options.steps,
      progress: (message) => this.debug(message),
    })
    if (lease) {
      // In the IoT account (the MSK account for the msk commands, which reach only that one).
      const account = options.mskOnly ? ctx.accounts.msk : ctx.accounts.iot
      this.#lease = ctx.lease = new StackLease(await account.dynamodb(), {
        ...lease,
        stack: ctx.stack,
        command: (this.id ?? 'iotctl').replaceAll(':', ' '),
        signal: this.interruption.signal,
        // Waiting lines go to stderr even with --json: a CI log must say why the job is waiting.
        progress: (message) => process.stderr.write(`${message}\n`),
      })
    }
    // The MSK commands point both sides at one handle: nothing to note then.
    if (!options.mskOnly && !options.iotOnly && ctx.identities.iot.accountId === ctx.identities.msk.accountId) {
      this.note(`note: both profiles resolve to account ${ctx.identities.iot.accountId}; continuing (same-account setups are valid)`)
    }
    return ctx
  }

  /**
   * The account a command works in, with the profile and region of the settings
   * (lib/config/accounts.ts): the same rule for every command.
   */
  protected async account(loaded: LoadedSettings, role: AccountRole): Promise<AwsAccount> {
    const {openAccount} = await import('./lib/config/accounts.ts')
    return openAccount(loaded.settings, role)
  }

  /** --verbose (changeFlags), read where no command's flags are at hand: it takes no value. */
  protected get verbose(): boolean {
    return this.argv.includes('--verbose')
  }

  /** The live list on a terminal showed each step's result: the step list is not printed again there. */
  #stepsShown = false

  /**
   * Progress of a run: a live list on a terminal, plain lines in logs. A dry
   * run only reads, quickly, and its plan follows on stdout: no progress then.
   */
  protected async taskRunner(options: {dryRun?: boolean} = {}): Promise<TaskRunner> {
    const {taskRunnerFor} = await import('./ui/progress.ts')
    const progress = await taskRunnerFor({silent: options.dryRun === true})
    this.#stepsShown = progress.showsResults
    return progress.runner
  }

  /**
   * The end of every command that runs steps: the steps on stdout, then what
   * remains after Ctrl-C (stderr, exit 130), the dry-run line, or `done()`;
   * `summary()` follows unless interrupted. Nothing of this under --json.
   */
  protected async finishSteps(result: {steps: StepReport[]; interrupted: boolean; dryRun: boolean}, words: {rerun: string; done: () => string; dryRun?: () => string; summary?: () => string}): Promise<void> {
    if (!this.jsonEnabled()) {
      const {renderInterruption} = await import('./ui/report.ts')
      await this.logSteps(result.steps, result.dryRun)
      if (result.interrupted) this.logToStderr(renderInterruption(result.steps, words.rerun))
      else this.log(result.dryRun ? (words.dryRun?.() ?? 'dry run: nothing was changed') : words.done())
      if (!result.interrupted && words.summary) this.log(words.summary())
    }
    if (result.interrupted) this.failWith(130)
  }

  /** The step list on stdout, unless the live list on this terminal already ended showing each step's result. */
  protected async logSteps(steps: StepReport[], dryRun: boolean): Promise<void> {
    if (this.#stepsShown && process.stdout.isTTY) return
    const {renderSteps} = await import('./ui/report.ts')
    this.log(renderSteps(steps, {dryRun, verbose: this.verbose}))
  }

  /** Sets the exit code for a run that finished but found something wrong (status, doctor). */
  protected failWith(code: 1 | 2 | 130): void {
    process.exitCode = code
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}; step?: string; code?: string}): Promise<void> {
    const parseError = error.oclif?.exit !== undefined && error.exitCode === undefined
    // oclif's own exits (help, version) are not errors.
    if (error.name === 'ExitError' || (error.oclif?.exit === 0)) throw error
    // The rendering is src/error-output.ts's, which the lean runner (src/lean) uses too.
    reportError(error, {json: this.jsonEnabled(), exitCode: error.exitCode ?? (parseError ? 2 : 1), ...(parseError ? {message: this.usageMessageOf(error)} : {})})
  }

  /** A parser error in iotctl's words (src/usage.ts), or oclif's own lines joined into one. */
  private usageMessageOf(error: Error): string {
    const ctor = this.ctor
    const examples = (ctor.examples ?? []).map((example) => typeof example === 'string' ? example : example.command)
    const worded = usageMessage(error, {id: this.id ?? ctor.id, bin: this.config.bin, flags: {...ctor.baseFlags, ...ctor.flags}, args: ctor.args ?? {}, examples})
    return worded ?? error.message.split('\n').filter((l) => !l.includes('See more help')).map((l) => l.trim()).filter(Boolean).join(': ')
  }
}
