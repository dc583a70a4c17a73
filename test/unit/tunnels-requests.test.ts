// Request-level: what the tunnel commands send to the Secure Tunneling API
// (tags, destination config, timeout), the bounded retry of OpenTunnel's
// throttling, listing by the stack's tag, and the cleanup step.
import assert from 'node:assert/strict'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, test} from 'node:test'
import {
  CloseTunnelCommand, DescribeTunnelCommand, IoTSecureTunnelingClient, ListTunnelsCommand, OpenTunnelCommand,
  ResourceNotFoundException, RotateTunnelAccessTokenCommand, type Tunnel,
} from '@aws-sdk/client-iotsecuretunneling'
import {mockClient} from 'aws-sdk-client-mock'
import {AwsError} from '../../src/lib/errors.ts'
import {destroySteps} from '../../src/lib/plan/runner.ts'
import {upGraph} from '../../src/lib/stack/steps.ts'
import {listTunnels, openTunnel} from '../../src/lib/tunnel/api/api.ts'
import {closeStackTunnel, openStackTunnel, type TunnelScope} from '../../src/lib/tunnel/api/index.ts'
import {sshSession} from '../../src/lib/tunnel/api/ssh.ts'
import {tunnelsStep} from '../../src/lib/tunnel/api/step.ts'
import {readTokenFile} from '../../src/lib/tunnel/api/token-file.ts'
import {fakeAccount, testContext} from '../support/step-context.ts'

const account = '222222222222'
const arn = (id: string) => `arn:aws:iot:us-east-1:${account}:tunnel/${id}`
const opened = {tunnelId: 't-1', tunnelArn: arn('t-1'), sourceAccessToken: 'SOURCE-TOKEN', destinationAccessToken: 'DESTINATION-TOKEN'}

// client-iotsecuretunneling stays on its last published line (3.693, DESIGN.md's registry note), whose
// @smithy/types is a major behind aws-sdk-client-mock's: the stub is typed loosely here, once.
interface TunnelingStub {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  on(command: unknown, input?: object): any
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  commandCalls(command: unknown): {args: [{input: any}]}[]
  reset(): void
}
const mockTunneling = (client: IoTSecureTunnelingClient): TunnelingStub => mockClient(client as never)

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), {name, $metadata: {httpStatusCode: 400}})
}

function notFound(id: string): Error {
  return new ResourceNotFoundException({message: `Tunnel ${id} not found`, $metadata: {httpStatusCode: 404}})
}

function tunnel(id: string, stack: string | undefined, status: 'OPEN' | 'CLOSED' = 'OPEN', extra: Partial<Tunnel> = {}): Tunnel {
  return {
    tunnelId: id, tunnelArn: arn(id), status,
    destinationConfig: {thingName: 'dev1', services: ['SSH']},
    sourceConnectionState: {status: 'DISCONNECTED'}, destinationConnectionState: {status: 'DISCONNECTED'},
    timeoutConfig: {maxLifetimeTimeoutMinutes: 60}, createdAt: new Date('2026-01-01T00:00:00Z'),
    tags: stack ? [{key: 'iotctl:stack', value: stack}, {key: 'iotctl:managed', value: 'true'}] : [],
    ...extra,
  }
}

function scopeWith(client: IoTSecureTunnelingClient): TunnelScope {
  const ctx = testContext({settings: {stack: 'demo'}, iot: {accountId: account, profile: 'iot', clients: {tunneling: client}}, msk: {accountId: '111111111111'}})
  return {stack: 'demo', account: ctx.accounts.iot, stateDirectory: dirname(ctx.ledger.path)}
}

describe('OpenTunnel', () => {
  test('carries the thing, its services, the timeout and the stack\'s tags', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(OpenTunnelCommand).resolves(opened)
    await openTunnel(client, {stack: 'demo', thingName: 'dev1', services: ['SSH', 'HTTP'], timeoutMinutes: 30})
    assert.deepEqual(mock.commandCalls(OpenTunnelCommand)[0].args[0].input, {
      description: 'iotctl stack demo: SSH, HTTP on dev1',
      tags: [{key: 'iotctl:stack', value: 'demo'}, {key: 'iotctl:managed', value: 'true'}],
      destinationConfig: {thingName: 'dev1', services: ['SSH', 'HTTP']},
      timeoutConfig: {maxLifetimeTimeoutMinutes: 30},
    })
  })

  test('throttling is retried with growing delays, a bounded number of times', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(OpenTunnelCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(awsError('LimitExceededException', 'Rate exceeded'))
      .resolves(opened)
    const waits: number[] = []
    const result = await openTunnel(client, {stack: 'demo', thingName: 'dev1', services: ['SSH']}, {sleep: async (ms) => { waits.push(ms) }})
    assert.equal(result.tunnelId, 't-1')
    assert.equal(waits.length, 2)
    assert.ok(waits[0] >= 800 && waits[0] <= 1200 && waits[1] >= 1600 && waits[1] <= 2400, `delays ${waits.join(', ')}`)

    mock.reset()
    mock.on(OpenTunnelCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'))
    await assert.rejects(openTunnel(client, {stack: 'demo', thingName: 'dev1', services: ['SSH']}, {attempts: 3, sleep: async () => {}}),
      (error: unknown) => error instanceof AwsError && error.code === 'ThrottlingException')
    assert.equal(mock.commandCalls(OpenTunnelCommand).length, 3)
  })

  test('the open-tunnel quota and validation errors are not retried', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(OpenTunnelCommand).rejects(awsError('LimitExceededException', 'The maximum number of open tunnels (10) has been reached'))
    await assert.rejects(openTunnel(client, {stack: 'demo', thingName: 'dev1', services: ['SSH']}, {sleep: async () => assert.fail('no wait')}),
      (error: unknown) => error instanceof AwsError && error.message.includes('LimitExceededException: The maximum number of open tunnels'))
    assert.equal(mock.commandCalls(OpenTunnelCommand).length, 1)
  })

  test('openStackTunnel writes the tokens to a 0600 file and the tunnel id (only) to the ledger', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    mockTunneling(client).on(OpenTunnelCommand).resolves(opened)
    const scope = scopeWith(client)
    const result = await openStackTunnel(scope, {thing: 'dev1', services: 'SSH'})
    assert.equal(result.tokenFile, join(scope.stateDirectory, 'tunnels', 't-1.json'))
    assert.equal(statSync(result.tokenFile).mode & 0o777, 0o600)
    assert.equal(statSync(dirname(result.tokenFile)).mode & 0o777, 0o700)
    const file = readTokenFile(scope.stateDirectory, 't-1')
    assert.equal(file.sourceAccessToken, 'SOURCE-TOKEN')
    assert.equal(file.accountId, account)
    assert.equal(file.profile, 'iot')
    const ledger = readFileSync(join(scope.stateDirectory, 'demo.json'), 'utf8')
    assert.deepEqual(JSON.parse(ledger).resources, [{step: 'tunnels', kind: 'iotsecuretunneling:tunnel', id: 't-1', account: 'iot', accountId: account, region: 'us-east-1', profile: 'iot', attrs: {thingName: 'dev1'}}])
    assert.equal(ledger.includes('TOKEN'), false)
  })
})

describe('listing and closing', () => {
  test('every page is read; the stack\'s tunnels are kept by tag; a tunnel deleted meanwhile is skipped', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    const first = {tunnelSummaries: [{tunnelId: 'a', status: 'OPEN' as const}, {tunnelId: 'b', status: 'OPEN' as const}], nextToken: 'next'}
    const last = {tunnelSummaries: [{tunnelId: 'c', status: 'CLOSED' as const}, {tunnelId: 'gone', status: 'OPEN' as const}]}
    mock.on(ListTunnelsCommand).resolvesOnce(first).resolvesOnce(last).resolvesOnce(first).resolves(last)
    mock.on(DescribeTunnelCommand, {tunnelId: 'a'}).resolves({tunnel: tunnel('a', 'demo')})
    mock.on(DescribeTunnelCommand, {tunnelId: 'b'}).resolves({tunnel: tunnel('b', 'other')})
    mock.on(DescribeTunnelCommand, {tunnelId: 'c'}).resolves({tunnel: tunnel('c', 'demo', 'CLOSED')})
    mock.on(DescribeTunnelCommand, {tunnelId: 'gone'}).rejects(notFound('gone'))
    const mine = await listTunnels(client, {stack: 'demo'})
    assert.deepEqual(mine.map((t) => [t.tunnelId, t.status]), [['a', 'OPEN'], ['c', 'CLOSED']])
    assert.equal(mine[0].expiresAt, '2026-01-01T01:00:00.000Z')
    assert.deepEqual(mock.commandCalls(ListTunnelsCommand).map((call) => call.args[0].input.nextToken), [undefined, 'next'])
    const open = await listTunnels(client, {stack: 'demo', openOnly: true})
    assert.deepEqual(open.map((t) => t.tunnelId), ['a'])
  })

  test('closing a tunnel AWS does not know is done, not an error', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(DescribeTunnelCommand).rejects(notFound('t-9'))
    mock.on(CloseTunnelCommand).rejects(notFound('t-9'))
    const result = await closeStackTunnel(scopeWith(client), 't-9', {delete: true})
    assert.deepEqual(result, {tunnelId: 't-9', dryRun: false, found: false, deleted: false, tokenFileRemoved: false})
  })
})

describe('the tunnels step', () => {
  test('cleanup closes the stack\'s open tunnels, treats not-found as done, and removes token files and ledger records', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(OpenTunnelCommand).resolvesOnce(opened).resolves({...opened, tunnelId: 't-2', tunnelArn: arn('t-2')})
    const ctx = testContext({settings: {stack: 'demo'}, iot: {accountId: account, clients: {tunneling: client}}, msk: {accountId: '111111111111'}})
    const scope: TunnelScope = {stack: 'demo', account: ctx.accounts.iot, stateDirectory: dirname(ctx.ledger.path)}
    await openStackTunnel(scope, {thing: 'dev1', services: 'SSH'})
    await openStackTunnel(scope, {thing: 'dev1', services: 'SSH'})
    mock.on(ListTunnelsCommand).resolves({tunnelSummaries: [{tunnelId: 't-1', status: 'OPEN'}, {tunnelId: 't-2', status: 'OPEN'}, {tunnelId: 'x', status: 'OPEN'}]})
    mock.on(DescribeTunnelCommand, {tunnelId: 't-1'}).resolves({tunnel: tunnel('t-1', 'demo')})
    mock.on(DescribeTunnelCommand, {tunnelId: 't-2'}).resolves({tunnel: tunnel('t-2', 'demo')})
    mock.on(DescribeTunnelCommand, {tunnelId: 'x'}).resolves({tunnel: tunnel('x', undefined)})
    mock.on(CloseTunnelCommand, {tunnelId: 't-1'}).resolves({})
    mock.on(CloseTunnelCommand, {tunnelId: 't-2'}).rejects(notFound('t-2'))
    const fresh = testContext({settings: {stack: 'demo'}, iot: {accountId: account, clients: {tunneling: client}}, msk: {accountId: '111111111111'}, stateDirectory: scope.stateDirectory})
    const result = await destroySteps([tunnelsStep], fresh, {dryRun: false})
    assert.equal(result.reports[0].outcome, 'deleted')
    assert.deepEqual(mock.commandCalls(CloseTunnelCommand).map((call) => call.args[0].input), [{tunnelId: 't-1'}, {tunnelId: 't-2'}])
    assert.equal(existsSync(join(scope.stateDirectory, 'tunnels', 't-1.json')), false)
    assert.equal(existsSync(join(scope.stateDirectory, 'tunnels', 't-2.json')), false)
    assert.deepEqual(JSON.parse(readFileSync(join(scope.stateDirectory, 'demo.json'), 'utf8')).resources, [])
  })

  test('up does not open tunnels', () => {
    assert.equal(tunnelsStep.create, undefined)
    assert.equal(upGraph({createCluster: true}).get('tunnels'), undefined)
  })
})

describe('tunnel ssh --reuse', () => {
  test('an open tunnel of the stack without a local token file gets a new source token (rotation), then ssh runs and the tunnel closes', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(ListTunnelsCommand).resolves({tunnelSummaries: [{tunnelId: 'r-1', status: 'OPEN'}]})
    mock.on(DescribeTunnelCommand).resolvesOnce({tunnel: tunnel('r-1', 'demo')}).resolvesOnce({tunnel: tunnel('r-1', 'demo')})
      .resolves({tunnel: tunnel('r-1', 'demo', 'OPEN', {destinationConnectionState: {status: 'CONNECTED'}})})
    mock.on(RotateTunnelAccessTokenCommand).resolves({tunnelArn: arn('r-1'), sourceAccessToken: 'ROTATED'})
    mock.on(CloseTunnelCommand).resolves({})
    const scope = scopeWith(client)
    const runs: {program: string; args: string[]; token: string}[] = []
    const progress: string[] = []
    const result = await sshSession(scope, {
      thing: 'dev1', user: 'pi', reuse: true, sshArgs: ['uptime'], self: ['/node', '/iotctl/bin/run.js'], proxyFlags: [],
      ssh: '/usr/bin/ssh', progress: (message) => progress.push(message),
      run: async (program, args) => {
        runs.push({program, args, token: readTokenFile(scope.stateDirectory, 'r-1').sourceAccessToken})
        return 7
      },
    })
    assert.deepEqual(result, {stack: 'demo', thingName: 'dev1', tunnelId: 'r-1', reused: true, exitCode: 7, closed: true})
    assert.deepEqual(mock.commandCalls(RotateTunnelAccessTokenCommand)[0].args[0].input, {tunnelId: 'r-1', clientMode: 'SOURCE'})
    assert.equal(mock.commandCalls(OpenTunnelCommand).length, 0)
    assert.deepEqual(runs, [{
      program: '/usr/bin/ssh',
      args: ['-o', 'ProxyCommand=/node /iotctl/bin/run.js tunnel proxy --tunnel-id r-1 --service SSH', 'pi@dev1', 'uptime'],
      token: 'ROTATED',
    }])
    assert.ok(progress.some((line) => line.includes('waiting for dev1 to connect to the tunnel')))
    assert.deepEqual(mock.commandCalls(CloseTunnelCommand).map((call) => call.args[0].input), [{tunnelId: 'r-1'}])
    assert.equal(existsSync(join(scope.stateDirectory, 'tunnels', 'r-1.json')), false)
  })

  test('a device that never connects: CheckFailed after --wait, and the tunnel it opened is closed', async () => {
    const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
    const mock = mockTunneling(client)
    mock.on(OpenTunnelCommand).resolves(opened)
    mock.on(DescribeTunnelCommand).resolves({tunnel: tunnel('t-1', 'demo')})
    mock.on(CloseTunnelCommand).resolves({})
    await assert.rejects(sshSession(scopeWith(client), {
      thing: 'dev1', sshArgs: [], self: ['/node', '/bin'], proxyFlags: [], ssh: '/usr/bin/ssh', waitMs: 300,
      run: async () => assert.fail('ssh must not run'),
    }), /the device side did not connect to tunnel t-1 within 0 s: is `iotctl tunnel agent`/)
    assert.deepEqual(mock.commandCalls(CloseTunnelCommand).map((call) => call.args[0].input), [{tunnelId: 't-1'}])
  })
})

test('fakeAccount hands out the tunneling client', async () => {
  const client = new IoTSecureTunnelingClient({region: 'us-east-1'})
  assert.equal(await fakeAccount({accountId: account, clients: {tunneling: client}}).tunneling(), client)
})
