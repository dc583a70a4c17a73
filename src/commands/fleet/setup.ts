import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {changeFlags, oneAccountFlags, twoAccountFlags} from '../../flags/index.ts'
import type {FleetSetupResult} from '../../lib/fleet/index.ts'
import {fleetSettings} from '../../settings-flags.ts'

export default class FleetSetup extends BaseCommand<FleetSetupResult> {
  static override summary = 'Set up fleet provisioning by claim: the provisioning role, the device policy, the template and its pre-provisioning hook.'
  static override description = `In the IoT account: an IAM role AWS IoT assumes to provision devices (trusted by iot.amazonaws.com for this account, with the managed policy AWSIoTThingsRegistration); the IoT policy iotctl-<stack>-fleet-device every provisioned device gets (connect only as its own thing, publish, receive and subscribe under device/<client id>/…, and publish to $aws/rules/<rule>/device/<client id>/… with --basic-ingest-rule); and the provisioning template --template that names the thing after the SerialNumber parameter (attribute iotctl_fleet=<stack>), activates the new certificate and attaches that policy.

The pre-provisioning hook: --hook-arn names your Lambda function (iotctl adds a permission for iot.amazonaws.com to invoke it for this template, which cleanup removes), or --serial-prefix deploys a small function iotctl ships that allows only serial numbers starting with the prefix (--dry-run prints its code). Without either the template has no hook.

The settings can live in iotctl.json's "fleet" section (template, serialPrefix, hookArn, rule); \`iotctl up\` then sets up fleet provisioning too. Next: \`iotctl fleet claim-cert\`, then \`iotctl fleet register\` on the device.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --template sensors --serial-prefix SN- --iot-profile iot',
    '<%= config.bin %> <%= command.id %> --template sensors --hook-arn arn:aws:lambda:eu-west-1:222222222222:function:check-serial',
    '<%= config.bin %> <%= command.id %> --template sensors --serial-prefix SN- --dry-run',
  ]

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    template: Flags.string({summary: 'Provisioning template name: 1-36 letters, digits, _ or -.', helpValue: '<name>'}),
    'serial-prefix': Flags.string({summary: 'Deploy iotctl\'s hook that allows only serial numbers with this prefix.', helpValue: '<prefix>', exclusive: ['hook-arn']}),
    'hook-arn': Flags.string({summary: 'Your Lambda function as the pre-provisioning hook (same account and region).', helpValue: '<lambda arn>', exclusive: ['serial-prefix']}),
    'basic-ingest-rule': Flags.string({summary: 'Let devices publish to this rule\'s Basic Ingest topics ($aws/rules/<rule>/device/<client id>/…).', helpValue: '<rule>'}),
    ...changeFlags,
  }

  async run(): Promise<FleetSetupResult> {
    const {flags} = await this.parse(FleetSetup)
    const loaded = this.loadStack(flags, fleetSettings)
    const {InputError} = await import('../../lib/errors.ts')
    if (loaded.settings.fleet?.template === undefined) throw new InputError('--template is required (or fleet.template in iotctl.json)')
    const {fleetChecks, setupFleet} = await import('../../lib/fleet/index.ts')
    // The IoT account only: the MSK account's profile is not needed here.
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], iotOnly: true, steps: fleetChecks()})
    const result = await setupFleet(ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    const hook = result.hook.kind === 'user' ? `hook ${result.hook.arn}` : result.hook.kind === 'deployed' ? `hook allowing serial numbers starting with ${result.hook.serialPrefix}` : 'no hook'
    await this.finishSteps(result, {
      rerun: 'iotctl fleet setup',
      done: () => `${result.changed ? '' : 'nothing to change: '}provisioning template ${result.template} is ready (${hook}); next: iotctl fleet claim-cert --out <dir>`,
      dryRun: () => result.hook.kind === 'deployed' ? `dry run: nothing was changed; the hook iotctl would deploy (index.mjs):\n${result.hook.code}` : 'dry run: nothing was changed',
    })
    return result
  }
}
