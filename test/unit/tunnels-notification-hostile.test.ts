// Notifications an attacker (or a broken publisher) could send on the notify
// topic: service names that are Object.prototype keys, regions that are not
// regions, too many services, oversize payloads, control characters. Each is
// refused with a one-line reason, or served only for what the agent maps.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {checkAgentLimit, mapServices, MAX_NOTIFICATION_BYTES, parseNotification, TunnelAgent} from '../../src/lib/tunnel/agent/index.ts'
import {InputError} from '../../src/lib/errors.ts'
import {resolveDestinationServices, startSourceProxy, tunnelUrl, type LogLevel} from '../../src/lib/tunnel/protocol/index.ts'
import {MessageType} from '../../src/lib/tunnel/protocol/message.ts'
import {nextEvent, startRelayAndEcho, startTunnelPair, type RelayAndEcho} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip} from '../support/tunnel-relay/tcp.ts'

const notification = (fields: Record<string, unknown>): string => JSON.stringify({clientAccessToken: 'tok', clientMode: 'destination', region: 'us-east-1', services: ['SSH'], ...fields})
const ssh = new Map([['SSH', {host: 'localhost', port: 22}]])

describe('service names that are Object.prototype keys', () => {
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
    test(`a tunnel for ${name} is not mapped to anything the agent did not configure`, () => {
      const parsed = parseNotification(notification({services: [name]}))
      assert.deepEqual(parsed.services, [name])
      assert.deepEqual(mapServices(parsed, ssh), {ok: false, reason: `no --destination for ${name} (this agent maps SSH)`})
      const mixed = mapServices(parseNotification(notification({services: ['SSH', name]})), ssh)
      assert.ok(mixed.ok)
      assert.deepEqual([...mixed.services], [['SSH', 'localhost:22']])
      assert.deepEqual(mixed.unmapped, [name])
    })
    test(`a destination named ${name} serves that service`, () => {
      const mapped = mapServices(parseNotification(notification({services: [name]})), new Map([[name, {host: '127.0.0.1', port: 2222}]]))
      assert.ok(mapped.ok)
      assert.deepEqual([...mapped.services], [[name, '127.0.0.1:2222']])
    })
    test(`the destination proxy does not find a target for ${name} on the prototype`, () => {
      const {targets, unmapped} = resolveDestinationServices({SSH: {host: 'localhost', port: 22}}, ['SSH', name])
      assert.equal(targets.get(name), undefined)
      assert.deepEqual(unmapped, [name])
    })
  }
})

describe('what a notification may say', () => {
  for (const [what, fields, message] of [
    ['four services', {services: ['A', 'B', 'C', 'D']}, /at most 3 services, got 4/],
    ['a service with a space', {services: ['my service']}, /service "my service" is not a service id/],
    ['an empty service name', {services: ['']}, /service "" is not a service id/],
    ['a service named twice', {services: ['SSH', 'SSH']}, /service SSH is named twice/],
    ['a region with a host in it', {region: 'x@127.0.0.1:35013/'}, /region "x@127\.0\.0\.1:35013\/" is not an AWS region/],
    ['a region with a path', {region: 'us-east-1.evil.test/'}, /is not an AWS region/],
    ['an upper-case region', {region: 'US-EAST-1'}, /is not an AWS region/],
    ['an empty region', {region: ''}, /is not an AWS region/],
    ['a clientMode that is not a string', {clientMode: 7}, /no clientMode/],
  ] as const) {
    test(`refused: ${what}`, () => assert.throws(() => parseNotification(notification(fields)), message))
  }
  for (const region of ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1', 'cn-north-1', 'eu-central-2']) {
    test(`region ${region} is accepted`, () => assert.equal(parseNotification(notification({region})).region, region))
  }
  test('a notification over the size bound is refused before it is parsed', () => {
    assert.equal(MAX_NOTIFICATION_BYTES, 8192)
    const big = notification({padding: 'x'.repeat(MAX_NOTIFICATION_BYTES)})
    assert.throws(() => parseNotification(Buffer.from(big)), /the notification is \d+ bytes; at most 8192 are accepted/)
    assert.throws(() => parseNotification(big), /at most 8192 are accepted/)
  })
  test('control characters never reach a reason', () => {
    for (const fields of [
      {services: ['SSH\u001b[2J\nforged: line']},
      {region: 'us-east-1\r\nforged: line'},
      {clientMode: 'source\u001b[31m\u0085\u2028forged'},
    ]) {
      let reason = ''
      try {
        mapOrThrow(notification(fields))
      } catch (error) {
        reason = (error as Error).message
      }
      assert.notEqual(reason, '')
      // eslint-disable-next-line no-control-regex -- the point: none of these may be left
      assert.doesNotMatch(reason, /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/, JSON.stringify(reason))
    }
  })
})

function mapOrThrow(payload: string): void {
  const mapped = mapServices(parseNotification(payload), ssh)
  if (!mapped.ok) throw new Error(mapped.reason)
}

describe('the endpoint a token is sent to', () => {
  test('a region only ever names the regional tunneling endpoint', () => {
    assert.equal(tunnelUrl('destination', undefined, 'eu-west-1').host, 'data.tunneling.iot.eu-west-1.amazonaws.com')
    for (const region of ['x@127.0.0.1:35013/', 'eu-west-1.evil.test', 'a/b', 'eu-west-1#', '']) {
      assert.throws(() => tunnelUrl('destination', undefined, region), InputError, region)
    }
  })
})

describe('agent limits', () => {
  test('checkAgentLimit names the flag', () => {
    assert.equal(checkAgentLimit(8, '--max-tunnels', 1, 256), 8)
    assert.throws(() => checkAgentLimit(0, '--max-tunnels', 1, 256), /--max-tunnels 0: give a whole number from 1 to 256$/)
    assert.throws(() => checkAgentLimit(1.5, '--max-connections', 1, 1024), /--max-connections 1.5: give a whole number from 1 to 1024/)
  })
})

describe('the agent and its proxies', () => {
  let fixture: RelayAndEcho
  before(async () => {
    fixture = await startRelayAndEcho()
  })
  after(async () => {
    await fixture.close()
  })

  test('a tunnel with SSH and constructor: the agent serves SSH and resets a stream for constructor', async () => {
    const {relay, registry} = fixture.shared
    const lines: string[] = []
    const agent = new TunnelAgent({
      thing: 'dev1',
      destinations: new Map([['SSH', {host: '127.0.0.1', port: fixture.echo.port}]]),
      proxyEndpoint: relay.url,
      logger: (level: LogLevel, message: string) => { if (level !== 'debug') lines.push(`${level}: ${message}`) },
      proxyOptions: {ca: relay.ca, retry: {initialDelayMs: 20, maxDelayMs: 100}},
    })
    try {
      const tunnel = registry.openTunnel({services: ['SSH', 'constructor']})
      assert.equal(agent.handle(notification({clientAccessToken: tunnel.destinationAccessToken, services: ['SSH', 'constructor']})), 'started')
      await relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')
      const proxy = agent.tunnels[0].proxy
      const reset = nextEvent<{serviceId: string; by: string}>(proxy, 'stream-reset', (info) => info.serviceId === 'constructor')
      relay.send(tunnel.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId: 5, serviceId: 'constructor', connectionId: 1})
      assert.equal((await reset).by, 'proxy')
      const source = await startSourceProxy({endpoint: relay.url, ca: relay.ca, token: tunnel.sourceAccessToken, services: {SSH: 0}})
      try {
        await source.ready
        const round = await echoRoundTrip(await connectTo(source.ports.SSH), 10_000)
        assert.equal(round.received.sha256, round.sent.sha256)
      } finally {
        await source.close()
      }
      assert.ok(lines.some((line) => line.includes('no --destination for constructor')), lines.join('\n'))
    } finally {
      await agent.close()
    }
  })

  test('at --max-tunnels the next tunnel is refused; a repeated notification does not count', async () => {
    const {relay, registry} = fixture.shared
    const lines: string[] = []
    const agent = new TunnelAgent({
      thing: 'dev1',
      destinations: new Map([['SSH', {host: '127.0.0.1', port: fixture.echo.port}]]),
      proxyEndpoint: relay.url,
      maxTunnels: 2,
      logger: (level: LogLevel, message: string) => { if (level !== 'debug') lines.push(`${level}: ${message}`) },
      proxyOptions: {ca: relay.ca, retry: {initialDelayMs: 20, maxDelayMs: 100}},
    })
    try {
      const tunnels = [1, 2, 3].map(() => registry.openTunnel({services: ['SSH']}))
      const notify = (index: number) => agent.handle(notification({clientAccessToken: tunnels[index].destinationAccessToken}))
      assert.equal(notify(0), 'started')
      assert.equal(notify(0), 'duplicate')
      assert.equal(notify(1), 'started')
      assert.equal(notify(1), 'duplicate')
      assert.equal(notify(2), 'refused')
      assert.ok(lines.includes('warn: refused a tunnel notification: SSH: the agent serves 2 tunnels already (--max-tunnels 2)'), lines.join('\n'))
      registry.closeTunnel(tunnels[0].tunnelId)
      relay.closeTunnel(tunnels[0].tunnelId)
      await agent.tunnels.find((tunnel) => tunnel.number === 1)!.proxy.closed
      assert.equal(notify(2), 'started')
    } finally {
      await agent.close()
    }
  })

  test('a destination proxy opens at most maxConnections local connections and resets the rest', async () => {
    const pair = await startTunnelPair({shared: fixture.shared, targets: {SSH: `127.0.0.1:${fixture.echo.port}`}, destination: {maxConnections: 3}})
    try {
      const resets: number[] = []
      pair.destination.on('stream-reset', (info) => { if (info.by === 'proxy' && info.connectionId !== undefined) resets.push(info.connectionId) })
      const accepted = fixture.echo.sockets.size
      const streamId = 77
      pair.relay.send(pair.tunnel.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId, serviceId: 'SSH', connectionId: 1})
      for (let connectionId = 2; connectionId <= 50; connectionId++) {
        pair.relay.send(pair.tunnel.tunnelId, 'destination', {type: MessageType.CONNECTION_START, streamId, serviceId: 'SSH', connectionId})
      }
      // A STREAM_START for a service the tunnel does not have comes after the flood: its reset says the flood was read.
      const sentinel = nextEvent<{serviceId: string}>(pair.destination, 'stream-reset', (info) => info.serviceId === 'NOPE')
      pair.relay.send(pair.tunnel.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId: 78, serviceId: 'NOPE', connectionId: 1})
      await sentinel
      assert.equal(pair.destination.stats().connections, 3)
      assert.equal(resets.length, 47)
      assert.ok(fixture.echo.sockets.size - accepted <= 3)
    } finally {
      await pair.close()
    }
  })
})

describe('a rotated destination token at --max-tunnels', () => {
  let fixture: RelayAndEcho
  before(async () => {
    fixture = await startRelayAndEcho()
  })
  after(async () => {
    await fixture.close()
  })

  test('a newer notification while a tunnel of the same services is cut off is served; once, not for every newcomer', async () => {
    const {relay, registry} = fixture.shared
    const lines: string[] = []
    const agent = new TunnelAgent({
      thing: 'dev1',
      destinations: new Map([['SSH', {host: '127.0.0.1', port: fixture.echo.port}]]),
      proxyEndpoint: relay.url,
      maxTunnels: 1,
      logger: (level: LogLevel, message: string) => { if (level !== 'debug') lines.push(`${level}: ${message}`) },
      // The cut-off proxy keeps retrying (slowly) while the newer notification arrives.
      proxyOptions: {ca: relay.ca, retry: {initialDelayMs: 60_000, maxDelayMs: 60_000}},
    })
    try {
      const old = registry.openTunnel({services: ['SSH']})
      assert.equal(agent.handle(notification({clientAccessToken: old.destinationAccessToken})), 'started')
      await relay.waitForState(old.tunnelId, 'destination', 'CONNECTED')
      const [newer, other] = [registry.openTunnel({services: ['SSH']}), registry.openTunnel({services: ['SSH']})]
      // Connected: a second tunnel is over the limit.
      assert.equal(agent.handle(notification({clientAccessToken: newer.destinationAccessToken})), 'refused')
      const cut = nextEvent(agent.tunnels[0].proxy, 'disconnected')
      relay.drop(old.tunnelId, 'destination')
      await cut
      assert.equal(agent.handle(notification({clientAccessToken: newer.destinationAccessToken})), 'started')
      assert.equal(agent.handle(notification({clientAccessToken: other.destinationAccessToken})), 'refused')
      assert.ok(lines.some((line) => line.includes('tunnel 2: over --max-tunnels 1 while tunnel 1 (same services) is disconnected')), lines.join('\n'))
      await relay.waitForState(newer.tunnelId, 'destination', 'CONNECTED')
    } finally {
      await agent.close()
    }
  })
})

describe('log lines', () => {
  test('a tunnel log line carries no control characters, whatever the message quotes', async () => {
    const {lineLogger} = await import('../../src/ui/tunnel.ts')
    const written: string[] = []
    const log = lineLogger((line) => written.push(line), {prefix: 'iotctl agent'})
    log('warn', 'STREAM_START for unknown service "a\u009b2Jb\u001b[31m\nforged"', {reason: 'x\u0085\u202ey'})
    assert.deepEqual(written, ['iotctl agent: warn: STREAM_START for unknown service "a?2Jb?[31m?forged" {"reason":"x??y"}\n'])
  })
})

describe('service maps given by the user', () => {
  test('--source and --destination keep constructor and __proto__ as own keys', async () => {
    const {parseDestinations, parseSourcePorts} = await import('../../src/lib/tunnel/api/inputs.ts')
    const ports = parseSourcePorts('__proto__=5555,constructor=5556')
    assert.deepEqual(Object.keys(ports), ['__proto__', 'constructor'])
    assert.equal(Object.getPrototypeOf(ports), Object.prototype)
    assert.deepEqual(Object.entries(parseDestinations('constructor=22')), [['constructor', {host: 'localhost', port: 22}]])
  })
})
