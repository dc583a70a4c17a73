// Common flags of DESIGN.md, defined once and spread into the commands that take them.
import {Flags} from '@oclif/core'

/** Where the stack's settings and ledger come from: on every command. */
export const stackFlags = {
  config: Flags.string({char: 'c', summary: 'Config file (default ./iotctl.json).', helpValue: '<file>'}),
  stack: Flags.string({summary: 'Stack name: tags, ledger and names derive from it (default: the config\'s "stack", else "iotctl").', helpValue: '<name>'}),
}

/** Commands that work across the two accounts. */
export const twoAccountFlags = {
  'iot-profile': Flags.string({summary: 'AWS profile of the IoT account (B).', helpValue: '<profile>', helpGroup: 'AWS'}),
  'msk-profile': Flags.string({summary: 'AWS profile of the MSK account (A).', helpValue: '<profile>', helpGroup: 'AWS'}),
  profile: Flags.string({summary: 'One AWS profile for both accounts (same-account setups).', helpValue: '<profile>', helpGroup: 'AWS'}),
  region: Flags.string({summary: 'AWS region (default: the profile\'s region or AWS_REGION).', helpValue: '<region>', helpGroup: 'AWS'}),
}

/** Commands that work in one account. */
export const oneAccountFlags = {
  profile: Flags.string({summary: 'AWS profile (default: the config\'s IoT profile, else the SDK default chain).', helpValue: '<profile>', helpGroup: 'AWS'}),
  region: Flags.string({summary: 'AWS region (default: the profile\'s region or AWS_REGION).', helpValue: '<region>', helpGroup: 'AWS'}),
}

/** Commands that change something. */
export const changeFlags = {
  'dry-run': Flags.boolean({summary: 'Show what would change, change nothing.'}),
  yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation.'}),
}
