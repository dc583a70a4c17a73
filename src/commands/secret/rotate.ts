import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {secretSettings} from '../../settings-flags.ts'
import {changeFlags, twoAccountFlags} from '../../flags/index.ts'
import type {SecretRotateResult} from '../../lib/secrets/index.ts'

export default class SecretRotate extends BaseCommand<SecretRotateResult> {
  static override summary = 'Give the AmazonMSK_ secret a new password in both accounts, so that they never stay different.'
  static override description = `Writes a new password (generated, or read with --password-stdin) to the MSK account's secret, then to the IoT account's. If the IoT account's write fails, the MSK account's secret is put back to its previous version, both keep the old password, and the command exits 1 saying what happened. Prints the version ids now current in each account, never the value.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    'pass show kafka/iot-new | <%= config.bin %> <%= command.id %> --password-stdin --json',
  ]

  static override flags = {
    ...twoAccountFlags,
    name: Flags.string({summary: 'Secret name (default AmazonMSK_<stack>).', helpValue: '<AmazonMSK_…>'}),
    username: Flags.string({summary: 'SASL/SCRAM username to write (default: the one the secret holds).', helpValue: '<name>'}),
    'password-stdin': Flags.boolean({summary: 'Read the new password from stdin instead of generating one.'}),
    ...changeFlags,
  }

  async run(): Promise<SecretRotateResult> {
    const {flags} = await this.parse(SecretRotate)
    const loaded = this.loadStack(flags, secretSettings)
    const {secretCommandOptions} = await import('../../lib/secrets/options.ts')
    const options = await secretCommandOptions(loaded.settings, {passwordStdin: flags['password-stdin']})
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], options})
    const {rotateSecrets} = await import('../../lib/secrets/index.ts')
    const result = await rotateSecrets(ctx, {dryRun: flags['dry-run']})
    if (!this.jsonEnabled()) {
      const versions = `MSK account ${result.current.msk.versionId}, IoT account ${result.current.iot.versionId}`
      this.log(flags['dry-run']
        ? `dry run: would write a new password to ${result.secretName} in both accounts (current versions: ${versions})`
        : `rotated ${result.secretName}; current versions: ${versions}`)
    }
    return result
  }
}
