import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {secretSettings} from '../../settings-flags.ts'
import {changeFlags, twoAccountFlags} from '../../flags/index.ts'
import type {SecretMirrorResult} from '../../lib/secrets/index.ts'

export default class SecretMirror extends BaseCommand<SecretMirrorResult> {
  static override summary = 'Create the KMS key and the AmazonMSK_ secret in both accounts, with the same username and password.'
  static override description = `In each account (MSK account A, IoT account B): a symmetric customer-managed KMS key reached through --key-alias (MSK refuses secrets encrypted with the default aws/secretsmanager key), whose policy keeps the account root statement and gets a statement named after the stack; and a Secrets Manager secret --name (prefix AmazonMSK_) holding {"username","password"}, encrypted with that key. IoT rules read secrets of their own account only, so B holds a copy of A's.

The password is generated from a cryptographic random source, or read from stdin with --password-stdin; it is never a command-line argument, never printed, and never written to --json output or the ledger.

Idempotent: a second run changes nothing. When both secrets exist but differ, it says so and exits 1; --force makes B match A. After \`iotctl cleanup\`, a secret scheduled for deletion is restored and a key pending deletion is brought back, and the output says so.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --iot-profile iot --msk-profile msk --name AmazonMSK_iot --key-alias alias/msk-iot-test-key',
    'pass show kafka/iot | <%= config.bin %> <%= command.id %> --username alice --password-stdin',
    '<%= config.bin %> <%= command.id %> --force',
  ]

  static override flags = {
    ...twoAccountFlags,
    name: Flags.string({summary: 'Secret name; MSK requires the AmazonMSK_ prefix (default AmazonMSK_<stack>).', helpValue: '<AmazonMSK_…>'}),
    username: Flags.string({summary: 'SASL/SCRAM username (default iotctl).', helpValue: '<name>'}),
    'password-stdin': Flags.boolean({summary: 'Read the password from stdin instead of generating one.'}),
    'key-alias': Flags.string({summary: 'Alias of the KMS key in each account (default alias/iotctl-<stack>).', helpValue: '<alias/…>'}),
    force: Flags.boolean({summary: 'When the two secrets differ, overwrite the IoT account\'s with the MSK account\'s.'}),
    ...changeFlags,
  }

  async run(): Promise<SecretMirrorResult> {
    const {flags} = await this.parse(SecretMirror)
    const loaded = this.loadStack(flags, secretSettings)
    const {secretCommandOptions} = await import('../../lib/secrets/options.ts')
    const options = await secretCommandOptions(loaded.settings, {passwordStdin: flags['password-stdin'], force: flags.force})
    const {mirrorGraph, mirrorSecrets} = await import('../../lib/secrets/index.ts')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], options, steps: mirrorGraph()})
    const result = await mirrorSecrets(ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    if (!this.jsonEnabled()) {
      const {renderInterruption} = await import('../../ui/report.ts')
      await this.logSteps(result.steps, result.dryRun)
      for (const line of result.restored) this.log(line)
      if (result.interrupted) this.logToStderr(renderInterruption(result.steps, 'iotctl secret mirror'))
      else if (flags['dry-run']) this.log('dry run: nothing was changed')
      else if (!result.inSync) this.logToStderr(`${result.secretName} holds different credentials in the two accounts; run \`iotctl secret mirror --force\` to make the IoT account's match the MSK account's`)
      else this.log(`${result.changed ? '' : 'nothing to change: '}${result.secretName} holds the same credentials in the MSK account (${result.accounts.msk.accountId}, key ${result.keys.msk?.keyId}) and the IoT account (${result.accounts.iot.accountId}, key ${result.keys.iot?.keyId})`)
    }
    if (result.interrupted) this.failWith(130)
    else if (!result.inSync && !flags['dry-run']) this.failWith(1)
    return result
  }
}
