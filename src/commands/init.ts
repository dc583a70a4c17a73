import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.ts'
import {changeFlags} from '../flags/index.ts'
import type {InitResult} from '../lib/init/index.ts'

export default class Init extends BaseCommand<InitResult> {
  static override summary = 'Write iotctl.json by choosing from what the two accounts have: VPCs, subnets, route tables, security groups, MSK clusters.'
  static override description = `Asks for the IoT account's and the MSK account's profiles, then lists what it finds in each (MSK clusters, VPCs — those overlapping the MSK VPC are not offered — subnets, route tables and security groups), suggests defaults, and writes a validated iotctl.json (-c to choose the file). Needs a terminal; without one it exits 2 and names the config keys and flags to use instead.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --iot-profile iot --msk-profile msk --stack demo',
    '<%= config.bin %> <%= command.id %> --dry-run --json',
  ]

  static override flags = {
    'iot-profile': Flags.string({summary: 'AWS profile of the IoT account (B); asked when not given.', helpValue: '<profile>', helpGroup: 'AWS'}),
    'msk-profile': Flags.string({summary: 'AWS profile of the MSK account (A); asked when not given.', helpValue: '<profile>', helpGroup: 'AWS'}),
    region: Flags.string({summary: 'AWS region (default: each profile\'s region or AWS_REGION).', helpValue: '<region>', helpGroup: 'AWS'}),
    'dry-run': changeFlags['dry-run'],
    yes: changeFlags.yes,
  }

  async run(): Promise<InitResult> {
    const {flags} = await this.parse(Init)
    const path = await import('node:path')
    const {InputError} = await import('../lib/errors.ts')
    const {runInit, withoutTerminal} = await import('../lib/init/index.ts')
    if (!process.stdin.isTTY || !process.stderr.isTTY) throw new InputError(withoutTerminal)
    const {inquirerPrompter} = await import('../ui/prompter.ts')
    const result = await runInit(inquirerPrompter(), {
      configFile: path.resolve(flags.config ?? 'iotctl.json'),
      iotProfile: flags['iot-profile'],
      mskProfile: flags['msk-profile'],
      region: flags.region,
      stack: flags.stack,
      dryRun: flags['dry-run'],
      yes: flags.yes,
    })
    if (!this.jsonEnabled()) {
      if (flags['dry-run']) this.log(JSON.stringify(result.config, null, 2))
      this.log(result.written ? `wrote ${result.configFile}; next: iotctl up --dry-run` : `${result.configFile} was not written`)
    }
    return result
  }
}
