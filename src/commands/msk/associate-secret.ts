import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {clusterSettings, secretSettings} from '../../settings-flags.ts'
import {changeFlags, mskAccountFlags, ruleFlags} from '../../flags/index.ts'
import type {MskAssociateResult} from '../../lib/msk/index.ts'

export default class MskAssociateSecret extends BaseCommand<MskAssociateResult> {
  static override summary = 'Associate the MSK account\'s AmazonMSK_ secret with the cluster (SASL/SCRAM users).'
  static override description = `Calls BatchAssociateScramSecret for the stack's secret in the MSK account (made by \`iotctl secret mirror\`) and the cluster (--cluster-arn, msk.clusterArn, or the stack's own). Waits for the cluster to be ACTIVE first: MSK associates secrets with active clusters only. Idempotent: ListScramSecrets is read first.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --msk-profile msk',
    '<%= config.bin %> <%= command.id %> --cluster-arn arn:aws:kafka:eu-west-1:111122223333:cluster/demo/… --name AmazonMSK_iot',
  ]

  static override flags = {
    ...mskAccountFlags,
    'cluster-arn': ruleFlags['cluster-arn'],
    name: Flags.string({summary: 'Secret name (default AmazonMSK_<stack>).', helpValue: '<AmazonMSK_…>'}),
    ...changeFlags,
  }

  async run(): Promise<MskAssociateResult> {
    const {flags} = await this.parse(MskAssociateSecret)
    const loaded = this.loadStack(flags, [...clusterSettings, ...secretSettings])
    const {checkClusterArn} = await import('../../lib/msk/cluster-spec.ts')
    const {checkSecretName, secretNameOf} = await import('../../lib/secrets/names.ts')
    const {associateSecret} = await import('../../lib/msk/index.ts')
    if (loaded.settings.msk?.clusterArn) checkClusterArn(loaded.settings.msk.clusterArn)
    checkSecretName(secretNameOf(loaded.settings))
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], mskOnly: true})
    const result = await associateSecret(ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    await this.finishSteps({...result, dryRun: flags['dry-run']}, {
      rerun: 'iotctl msk associate-secret',
      done: () => `${result.changed ? '' : 'nothing to change: '}${result.secretArn} is associated with ${result.clusterArn}`,
    })
    return result
  }
}
