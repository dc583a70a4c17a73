// Usage errors in iotctl's words (src/usage.ts): the typo suggestions and the
// one-line messages that replace oclif's parser wording.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {suggestion, usageMessage, type CommandUsage} from '../../src/usage.ts'

const publish: CommandUsage = {
  id: 'mqtt:publish',
  bin: 'iotctl',
  flags: {topic: {}, message: {}, qos: {}, 'iot-profile': {}, secret: {hidden: true}},
  args: {},
  examples: ['<%= config.bin %> <%= command.id %> --topic device/1/data --message \'{}\''],
}

/** An error shaped as the parser's: its class name is what usageMessage reads. */
function parserError(name: string, message: string, extra: Record<string, unknown> = {}): Error {
  const error = Object.assign(new Error(message), extra)
  Object.defineProperty(error, 'constructor', {value: {name}})
  return error
}

test('a typo gets the nearest name; a word far from every name gets none', () => {
  assert.equal(suggestion('peer stup', ['peer setup', 'peer status', 'up']), 'peer setup')
  assert.equal(suggestion('--iot-profle', ['--iot-profile', '--msk-profile']), '--iot-profile')
  assert.equal(suggestion('--verison', ['--version', '--help']), '--version')
  assert.equal(suggestion('zzz', ['peer setup', 'up', 'cleanup']), undefined)
  assert.equal(suggestion('', ['up']), undefined)
})

test('every missing required flag is named at once, as typed, with an example', () => {
  const error = parserError('FailedFlagValidationError', 'The following errors occurred:\n  \u001B[2mMissing required flag topic\nMissing required flag message\u001B[22m\nSee more help with --help')
  assert.equal(usageMessage(error, publish), 'missing --topic and --message (e.g. iotctl mqtt publish --topic device/1/data --message \'{}\')')
})

test('an unknown flag names the nearest flag the command has, never a hidden one', () => {
  assert.equal(usageMessage(parserError('NonExistentFlagsError', 'Nonexistent flag: --topc', {flags: ['--topc']}), publish),
    'unknown flag --topc (did you mean --topic?); iotctl mqtt publish --help lists the flags')
  assert.equal(usageMessage(parserError('NonExistentFlagsError', 'x', {flags: ['--secre=1']}), publish),
    'unknown flag --secre; iotctl mqtt publish --help lists the flags')
})

test('a missing argument is named with what it is for', () => {
  const ssh: CommandUsage = {...publish, id: 'tunnel:ssh', args: {thing: {description: 'The thing to reach.'}}, examples: ['<%= config.bin %> <%= command.id %> dev1']}
  assert.equal(usageMessage(parserError('RequiredArgsError', 'Missing 1 required arg', {args: [{name: 'thing', description: 'The thing to reach.'}]}), ssh),
    'missing <thing>, the thing to reach (e.g. iotctl tunnel ssh dev1)')
})

test('an error the parser did not raise keeps its own message', () => {
  assert.equal(usageMessage(new Error('--port: boom'), publish), undefined)
})
