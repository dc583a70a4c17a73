// Which argv the lean runner (src/lean) serves without oclif: only those oclif
// would run without an error, help or the settings; everything else is oclif's.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {leanInvocation, type LeanEnvironment} from '../../src/lean/argv.ts'

const withToken: LeanEnvironment = {env: {AWSIOT_TUNNEL_ACCESS_TOKEN: 'AQG-token'}, configFilePresent: () => false}
const noToken: LeanEnvironment = {env: {}, configFilePresent: () => false}
const withConfig: LeanEnvironment = {...withToken, configFilePresent: () => true}

const agent = ['tunnel', 'agent', '--thing', 'dev1', '--cert', 'c.pem', '--key', 'k.pem', '--endpoint', 'iot.example:8883', '--destination', 'SSH=22']

describe('served by the lean runner', () => {
  test('forward and proxy with the token in AWSIOT_TUNNEL_ACCESS_TOKEN and --region or --proxy-endpoint', () => {
    assert.deepEqual(leanInvocation(['tunnel', 'forward', '--source', 'SSH=5555', '--region', 'eu-west-1'], withToken), {
      command: 'forward',
      flags: {'tunnel-id': undefined, 'proxy-endpoint': undefined, region: 'eu-west-1', source: 'SSH=5555', destination: undefined, 'destination-client-type': undefined},
    })
    assert.deepEqual(leanInvocation(['tunnel', 'proxy', '--proxy-endpoint=wss://127.0.0.1:4443', '--service', 'SSH'], withToken), {
      command: 'proxy',
      flags: {'tunnel-id': undefined, 'proxy-endpoint': 'wss://127.0.0.1:4443', region: undefined, service: 'SSH'},
    })
  })

  test('--tunnel-id: the token file (./.iotctl/tunnels) says the token and the region', () => {
    assert.equal(leanInvocation(['tunnel', 'proxy', '--tunnel-id', '4f6b1c7e-0000'], noToken)?.command, 'proxy')
    assert.equal(leanInvocation(['tunnel', 'forward', '--tunnel-id', '4f6b1c7e-0000', '--destination', 'SSH=22'], noToken)?.command, 'forward')
  })

  test('agent with --endpoint; its limits as numbers, as Flags.integer gives them', () => {
    const invocation = leanInvocation([...agent, '--max-tunnels', '2', '--max-reconnects', '0'], noToken)
    assert.equal(invocation?.command, 'agent')
    assert.equal(invocation.command === 'agent' && invocation.flags['max-tunnels'], 2)
    assert.equal(invocation.command === 'agent' && invocation.flags['max-reconnects'], 0)
    // The agent reads no iotctl.json when --endpoint is given.
    assert.equal(leanInvocation(agent, withConfig)?.command, 'agent')
  })
})

describe('left to oclif', () => {
  const cases: {name: string; argv: string[]; environment?: LeanEnvironment}[] = [
    {name: 'another command', argv: ['tunnel', 'open', '--thing', 'dev1']},
    {name: 'the command id with a colon', argv: ['tunnel:proxy', '--region', 'eu-west-1']},
    {name: '--help', argv: ['tunnel', 'forward', '--source', '0', '--region', 'eu-west-1', '--help']},
    {name: '-h', argv: ['tunnel', 'proxy', '--region', 'eu-west-1', '-h']},
    {name: 'an unknown flag (oclif suggests the right one)', argv: ['tunnel', 'forward', '--sorce', '0', '--region', 'eu-west-1']},
    {name: '--json (the result document)', argv: ['tunnel', 'forward', '--source', '0', '--region', 'eu-west-1', '--json']},
    {name: 'a positional argument', argv: ['tunnel', 'proxy', 'extra', '--region', 'eu-west-1']},
    {name: '-- and what follows', argv: ['tunnel', 'proxy', '--region', 'eu-west-1', '--', 'x']},
    {name: 'a flag given twice', argv: ['tunnel', 'forward', '--source', '0', '--source', '1', '--region', 'eu-west-1']},
    {name: 'a missing value', argv: ['tunnel', 'proxy', '--region']},
    {name: 'a value that looks like a flag', argv: ['tunnel', 'proxy', '--region', '--service', 'SSH']},
    {name: 'an empty value', argv: ['tunnel', 'proxy', '--region=']},
    {name: 'the short form of --config', argv: ['tunnel', 'proxy', '--region', 'eu-west-1', '-c', 'other.json']},
    {name: '--config', argv: ['tunnel', 'proxy', '--region', 'eu-west-1', '--config', 'other.json']},
    {name: '--stack (checked by the config schema)', argv: ['tunnel', 'proxy', '--region', 'eu-west-1', '--stack', 'bad name']},
    {name: '--profile', argv: ['tunnel', 'proxy', '--region', 'eu-west-1', '--profile', 'iot']},
    {name: 'no --region nor --proxy-endpoint (the account\'s region)', argv: ['tunnel', 'proxy']},
    {name: 'no token at all (oclif says what to give)', argv: ['tunnel', 'proxy', '--region', 'eu-west-1'], environment: noToken},
    {name: 'an empty token', argv: ['tunnel', 'proxy', '--region', 'eu-west-1'], environment: {env: {AWSIOT_TUNNEL_ACCESS_TOKEN: ' '}, configFilePresent: () => false}},
    {name: 'an iotctl.json here (oclif\'s path reads and checks it)', argv: ['tunnel', 'proxy', '--region', 'eu-west-1'], environment: withConfig},
    {name: 'agent without --endpoint (looked up with the profile)', argv: agent.filter((_, i) => i < 8 || i > 9)},
    {name: 'agent without a required flag', argv: agent.filter((_, i) => i !== 2 && i !== 3)},
    {name: 'agent with a limit that is not an integer (Flags.integer\'s message)', argv: [...agent, '--max-tunnels', 'two']},
    {name: 'agent with a negative limit (a value that looks like a flag)', argv: [...agent, '--max-tunnels', '-1']},
  ]
  for (const {name, argv, environment} of cases) {
    test(name, () => assert.equal(leanInvocation(argv, environment ?? withToken), undefined))
  }
})
