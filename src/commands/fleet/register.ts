import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {oneAccountFlags, twoAccountFlags} from '../../flags/index.ts'
import type {RegisterResult} from '../../lib/fleet/index.ts'

export default class FleetRegister extends BaseCommand<RegisterResult> {
  static override summary = 'Enrol this device: the fleet provisioning MQTT flow with the claim certificate; write the permanent certificate and key (0600).'
  static override description = `Connects with the claim certificate (mutual TLS), asks AWS IoT for a certificate — CreateKeysAndCertificate, or with --csr CreateCertificateFromCsr for a key made here, which never leaves the device — then RegisterThing with the template, the certificate ownership token and SerialNumber=--serial. The template (and its pre-provisioning hook) decide: accepted, it writes <serial>.cert.pem, <serial>.private.key and <serial>.endpoint into --out (mode 0600); refused, exit 1 with the reason the service gave.

Needs no AWS credentials: the endpoint comes from --endpoint, else claim.endpoint beside the claim certificate, else DescribeEndpoint with the profile. Then: iotctl mqtt publish --cert <serial>.cert.pem --key <serial>.private.key --topic device/<serial>/data …`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --claim-cert claim/claim.cert.pem --claim-key claim/claim.private.key --template sensors --serial SN-0001 --out ./device',
    '<%= config.bin %> <%= command.id %> --claim-cert claim.cert.pem --claim-key claim.private.key --template sensors --serial SN-0002 --csr --out ./device',
  ]

  static override flags = {
    ...oneAccountFlags,
    'iot-profile': twoAccountFlags['iot-profile'],
    'claim-cert': Flags.string({summary: 'The claim certificate (PEM), from `iotctl fleet claim-cert`.', required: true, helpValue: '<file>'}),
    'claim-key': Flags.string({summary: 'The claim certificate\'s private key (PEM).', required: true, helpValue: '<file>'}),
    template: Flags.string({summary: 'The provisioning template to register with.', required: true, helpValue: '<name>'}),
    serial: Flags.string({summary: 'This device\'s serial number (the thing\'s name): letters, digits, :, _ or -.', required: true, helpValue: '<serial>'}),
    out: Flags.string({summary: 'Directory for <serial>.cert.pem, <serial>.private.key and <serial>.endpoint.', default: '.', helpValue: '<dir>'}),
    csr: Flags.boolean({summary: 'Make the key pair here and send a CSR (CreateCertificateFromCsr) instead of receiving a key.'}),
    force: Flags.boolean({summary: 'Replace existing <serial> files.'}),
    endpoint: Flags.string({summary: 'The IoT data endpoint: host or host:port (default: claim.endpoint beside --claim-cert, else DescribeEndpoint).', helpValue: '<host[:port]>'}),
    ca: Flags.string({summary: 'CA bundle to trust instead of Node\'s roots (which include Amazon Root CA 1).', helpValue: '<file>'}),
  }

  async run(): Promise<RegisterResult> {
    const {flags} = await this.parse(FleetRegister)
    const {checkRegisterRequest, registerDevice} = await import('../../lib/fleet/index.ts')
    const request = {template: flags.template, serial: flags.serial, outDirectory: flags.out, csr: flags.csr, force: flags.force}
    checkRegisterRequest(request)
    const fs = await import('node:fs')
    const path = await import('node:path')
    let endpoint = flags.endpoint
    if (endpoint === undefined) {
      try {
        endpoint = fs.readFileSync(path.join(path.dirname(flags['claim-cert']), 'claim.endpoint'), 'utf8').trim() || undefined
      } catch {
        // No claim.endpoint: DescribeEndpoint with the profile.
      }
    }
    const {resolveConnection} = await import('../../lib/mqtt/cli/connection.ts')
    const loaded = this.loadStack(flags)
    const resolved = await resolveConnection(loaded, {endpoint, cert: flags['claim-cert'], key: flags['claim-key'], ca: flags.ca, 'client-id': flags.serial}, () => this.account(loaded, 'iot'))
    for (const warning of resolved.connection.warnings) process.stderr.write(`warning: ${warning}\n`)
    const {endpointWithPort} = await import('../../lib/mqtt/local-endpoint.ts')
    const {describeIotDataEndpoint} = await import('../../lib/mqtt/index.ts')
    const where = endpoint ?? endpointWithPort(await describeIotDataEndpoint(await resolved.account!.iot()))
    const result = await registerDevice(resolved.connection, where, request)
    if (!this.jsonEnabled()) {
      this.log(`registered thing ${result.thingName} with template ${result.template} (certificate ${result.certificateId}${result.keys === 'csr' ? ', key made on this device' : ''})`)
      this.log(`wrote ${result.files.cert}, ${result.files.key} and ${result.files.endpoint} (mode 0600)`)
    }
    return result
  }
}
