// The tunnel commands' inputs: service lists, port maps, destinations, timeouts,
// ids and endpoints, as tables of what parses and what is refused (exit 2).
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {
  checkForwardFlags, checkThingName, checkTimeoutMinutes, checkTunnelId, parseDestinations, parseEndpoint, parseServiceList, parseSourcePorts,
} from '../../src/lib/tunnel/api/inputs.ts'

function refused(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => error instanceof InputError && message.test(error.message))
}

describe('--services', () => {
  for (const [input, expected] of [
    ['SSH', ['SSH']],
    ['SSH,HTTP', ['SSH', 'HTTP']],
    [' SSH , HTTP ,RDP ', ['SSH', 'HTTP', 'RDP']],
    ['a:b_c-d', ['a:b_c-d']],
  ] as const) {
    test(`${JSON.stringify(input)} -> ${expected.join(', ')}`, () => assert.deepEqual(parseServiceList(input), expected))
  }
  for (const [input, message] of [
    ['', /name at least one service/],
    [',', /name at least one service/],
    ['A,B,C,D', /at most 3 services, got 4 \(A, B, C, D\)/],
    ['SSH,SSH', /service SSH is named twice/],
    ['my service', /service name "my service" must be 1-128/],
    ['SSH=22', /service name "SSH=22"/],
    ['x'.repeat(129), /must be 1-128/],
  ] as const) {
    test(`${JSON.stringify(input.slice(0, 20))} is refused`, () => refused(() => parseServiceList(input), message))
  }
})

describe('--source', () => {
  for (const [input, expected] of [
    ['SSH=5555', {SSH: 5555}],
    ['SSH=5555,HTTP=8080', {SSH: 5555, HTTP: 8080}],
    ['SSH=0,HTTP=0', {SSH: 0, HTTP: 0}],
    ['5555', {'': 5555}],
    ['SSH = 22', {SSH: 22}],
  ] as const) {
    test(`${JSON.stringify(input)}`, () => assert.deepEqual(parseSourcePorts(input), expected))
  }
  for (const [input, message] of [
    ['SSH:5555', /"SSH:5555" is not SERVICE=PORT/],
    ['SSH=', /"SSH=" is not SERVICE=PORT/],
    ['SSH=70000', /"SSH=70000" is not SERVICE=PORT/],
    ['SSH=-1', /is not SERVICE=PORT/],
    ['SSH=22,SSH=23', /service SSH is given twice/],
    ['SSH=22,HTTP=22', /port 22 is given to two services/],
    ['22,HTTP=80', /a port without a service name stands for the tunnel's only service/],
    ['A=1,B=2,C=3,D=4', /at most 3 services, got 4/],
    ['bad name=22', /service name "bad name"/],
    ['', /name at least one service/],
  ] as const) {
    test(`${JSON.stringify(input)} is refused`, () => refused(() => parseSourcePorts(input), message))
  }
})

describe('--destination', () => {
  test('host:port, a bare port, [v6]:port', () => {
    assert.deepEqual(parseDestinations('SSH=localhost:22,HTTP=8080,RDP=[::1]:3389'), {
      SSH: {host: 'localhost', port: 22},
      HTTP: {host: 'localhost', port: 8080},
      RDP: {host: '::1', port: 3389},
    })
  })
  for (const [input, message] of [
    ['localhost:22', /"localhost:22" is not SERVICE=HOST:PORT/],
    ['SSH=localhost:ssh', /destination of service SSH must be host:port or a port/],
    ['SSH=localhost:0', /destination of service SSH: port 0 is out of range 1-65535/],
    ['SSH=22,SSH=23', /service SSH is given twice/],
    ['A=1,B=2,C=3,D=4', /at most 3 services/],
  ] as const) {
    test(`${JSON.stringify(input)} is refused`, () => refused(() => parseDestinations(input), message))
  }
})

describe('timeouts, names, ids, endpoints', () => {
  test('the timeout is 1-720 minutes', () => {
    assert.equal(checkTimeoutMinutes(undefined), undefined)
    assert.equal(checkTimeoutMinutes(1), 1)
    assert.equal(checkTimeoutMinutes(720), 720)
    for (const minutes of [0, -5, 721, 1.5]) refused(() => checkTimeoutMinutes(minutes), /a tunnel lives 1 to 720 minutes/)
  })
  test('thing names and tunnel ids', () => {
    assert.equal(checkThingName('dev-1:a_b'), 'dev-1:a_b')
    refused(() => checkThingName('dev 1'), /a thing name is 1-128/)
    refused(() => checkThingName(''), /a thing name is 1-128/)
    assert.equal(checkTunnelId('b3f1c2d4-0000-4000-8000-1234567890ab'), 'b3f1c2d4-0000-4000-8000-1234567890ab')
    for (const id of ['../x', 'a/b', '', 'a b', 'x'.repeat(129)]) refused(() => checkTunnelId(id), /is not a tunnel id/)
  })
  test('the MQTT endpoint is host or host:port (8883 by default)', () => {
    assert.deepEqual(parseEndpoint('abc-ats.iot.eu-west-1.amazonaws.com'), {host: 'abc-ats.iot.eu-west-1.amazonaws.com', port: 8883})
    assert.deepEqual(parseEndpoint('127.0.0.1:18883'), {host: '127.0.0.1', port: 18883})
    assert.deepEqual(parseEndpoint('[::1]:443'), {host: '::1', port: 443})
    for (const endpoint of ['mqtts://host:8883', 'host:port', 'host:70000', ':8883']) refused(() => parseEndpoint(endpoint), /give the IoT data endpoint as host or host:port/)
  })
})

describe('tunnel forward: --source or --destination, and -y', () => {
  test('source mode, with a destination client type in any case', () => {
    assert.deepEqual(checkForwardFlags({source: 'SSH=5555', destinationClientType: 'v2'}), {mode: 'source', ports: {SSH: 5555}, destinationClientType: 'V2'})
    assert.deepEqual(checkForwardFlags({source: '5555'}), {mode: 'source', ports: {'': 5555}})
  })
  test('destination mode', () => {
    assert.deepEqual(checkForwardFlags({destination: 'SSH=localhost:22,HTTP=8080'}), {mode: 'destination', destinations: {SSH: {host: 'localhost', port: 22}, HTTP: {host: 'localhost', port: 8080}}})
  })
  const cases: [string, Parameters<typeof checkForwardFlags>[0], RegExp][] = [
    ['both', {source: 'SSH=1', destination: 'SSH=22'}, /^--source and --destination cannot be used together/],
    ['neither', {}, /^give --source SERVICE=PORT .* or --destination SERVICE=HOST:PORT/],
    ['-y with --destination', {destination: 'SSH=22', destinationClientType: 'V1'}, /--destination-client-type .* goes with --source/],
    ['-y V4', {source: 'SSH=1', destinationClientType: 'V4'}, /^--destination-client-type "V4": give V1, V2 or V3/],
    ['a destination port of 0', {destination: 'SSH=h:0'}, /^--destination: destination of service SSH: port 0 is out of range 1-65535/],
    ['a destination without a host', {destination: 'SSH=:22'}, /^--destination: destination of service SSH has no host/],
  ]
  for (const [name, flags, message] of cases) test(`refuses ${name}`, () => refused(() => checkForwardFlags(flags), message))
})
