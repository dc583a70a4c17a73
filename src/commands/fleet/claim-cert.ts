import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {changeFlags, oneAccountFlags, twoAccountFlags} from '../../flags/index.ts'
import type {ClaimResult} from '../../lib/fleet/index.ts'

export default class FleetClaimCert extends BaseCommand<ClaimResult> {
  static override summary = 'Create the claim certificate devices enrol with; write it and its key with mode 0600.'
  static override description = `A key pair and an active certificate (CreateKeysAndCertificate) with the claim policy iotctl-<stack>-fleet-claim, which allows only the fleet provisioning MQTT API: publish, receive and subscribe on $aws/certificates/create/*, $aws/certificates/create-from-csr/* and $aws/provisioning-templates/<template>/provision/*.

Writes claim.cert.pem, claim.private.key and claim.endpoint into --out (mode 0600); existing files are not replaced without --force (exit 2, before any AWS call). The private key is never printed. The certificate's id is marked on the claim policy (a tag), so \`iotctl cleanup\` deletes it, the policy and every device the template provisioned.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --out ./claim --iot-profile iot',
    '<%= config.bin %> fleet register --claim-cert claim/claim.cert.pem --claim-key claim/claim.private.key --template sensors --serial SN-0001 --out ./device',
  ]

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    out: Flags.string({summary: 'Directory for claim.cert.pem, claim.private.key and claim.endpoint.', default: '.', helpValue: '<dir>'}),
    template: Flags.string({summary: 'The template the claim provisions with (default: fleet.template, else the stack\'s one template).', helpValue: '<name>'}),
    force: Flags.boolean({summary: 'Replace existing claim files.'}),
    'dry-run': changeFlags['dry-run'],
  }

  async run(): Promise<ClaimResult> {
    const {flags} = await this.parse(FleetClaimCert)
    const {checkClaimRequest, createClaimCertificate} = await import('../../lib/fleet/index.ts')
    const loaded = this.loadStack(flags)
    const request = {outDirectory: flags.out, force: flags.force, template: flags.template ?? loaded.settings.fleet?.template}
    checkClaimRequest(request)
    const account = await this.account(loaded, 'iot')
    const result = await createClaimCertificate({stack: loaded.settings.stack, account, stateDirectory: loaded.stateDirectory}, request, {dryRun: flags['dry-run'], signal: this.interruption.signal, progress: (m) => this.debug(m)})
    if (!this.jsonEnabled()) {
      if (result.dryRun) {
        this.log(`dry run: would create a claim certificate with policy ${result.policyName} (template ${result.template}) and write ${result.files.cert}, ${result.files.key}`)
      } else {
        this.log(`claim certificate ${result.certificateId} (policy ${result.policyName}, template ${result.template})`)
        this.log(`wrote ${result.files.cert}, ${result.files.key} and ${result.files.endpoint} (mode 0600)`)
      }
    }
    return result
  }
}
