import {Args, Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {changeFlags, oneAccountFlags, twoAccountFlags} from '../../flags/index.ts'
import type {DeviceCreateResult} from '../../lib/device/index.ts'

export default class DeviceCreate extends BaseCommand<DeviceCreateResult> {
  static override summary = 'Create a test thing with a key pair, a certificate and a policy scoped to it; write the files with mode 0600.'
  static override description = `In the IoT account: a thing (attribute iotctl_stack=<stack>), an IoT policy iotctl-<stack>-device-<thing> (tagged with the stack) that allows connecting only with the thing's name as client id and publishing, subscribing and receiving only under device/<thing>/… and $aws/things/<thing>/…, and a new key pair and certificate (CreateKeysAndCertificate, active) with the policy attached to it and it attached to the thing.

Writes <thing>.cert.pem, <thing>.private.key and <thing>.endpoint (the iot:Data-ATS host; host:port when AWS_ENDPOINT_URL_IOT_DATA_PLANE names that host, the local convention of the README) into --out, all mode 0600. Existing certificate or key files are not replaced without --force (exit 2, before any AWS call). Run it again for the same thing to get a new certificate: the stack's thing and policy are reused. The private key is written to the key file only: never printed, never in --json or the ledger.

The certificate's id is marked on the thing (attribute iotctl_certs, at most 12 per thing: certificates take no tags). \`iotctl cleanup\` deactivates and deletes the certificates so marked, detaches and deletes the policies and deletes the things; a certificate iotctl did not make is only detached.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> sensor-1 --iot-profile iot --out ./certs',
    '<%= config.bin %> mqtt publish --cert certs/sensor-1.cert.pem --key certs/sensor-1.private.key --endpoint "$(cat certs/sensor-1.endpoint)" --topic device/sensor-1/data --message \'{"temperature": 21.5}\'',
  ]

  static override args = {
    thing: Args.string({description: 'Thing name: 1-128 letters, digits, ":", "_" or "-".', required: true}),
  }

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    out: Flags.string({summary: 'Directory for the certificate, key and endpoint files (default: the current directory).', default: '.', helpValue: '<dir>'}),
    force: Flags.boolean({summary: 'Replace existing <thing>.cert.pem / <thing>.private.key files.'}),
    'dry-run': changeFlags['dry-run'],
  }

  async run(): Promise<DeviceCreateResult> {
    const {args, flags} = await this.parse(DeviceCreate)
    const {checkDeviceRequest, createDevice, deviceScope} = await import('../../lib/device/index.ts')
    const request = {thing: args.thing, outDirectory: flags.out, force: flags.force}
    checkDeviceRequest(request)
    const loaded = this.loadStack(flags)
    const scope = deviceScope(loaded, await this.account(loaded, 'iot'))
    const result = await createDevice(scope, request, {dryRun: flags['dry-run'], signal: this.interruption.signal, progress: (m) => this.debug(m)})
    if (!this.jsonEnabled()) {
      const {deviceCreateLines} = await import('../../ui/device.ts')
      const lines = deviceCreateLines(result)
      for (const line of lines.log) this.log(line)
      for (const line of lines.notes) this.note(line)
    }
    return result
  }
}
