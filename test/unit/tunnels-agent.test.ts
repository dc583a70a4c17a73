// The device side without MQTT: notifications parsed and mapped to local
// services, and the agent serving several tunnels of the relay fixture at once,
// refusing what it cannot serve, ignoring repeats, forgetting closed tunnels.
import assert from 'node:assert/strict'
import {after, before, describe, test} from 'node:test'
import {mapServices, parseNotification, TunnelAgent} from '../../src/lib/tunnel/agent/index.ts'
import {startSourceProxy, type LogLevel} from '../../src/lib/tunnel/protocol/index.ts'
import {startRelayAndEcho, type RelayAndEcho} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip} from '../support/tunnel-relay/tcp.ts'

describe('notifications', () => {
  test('the documented message parses', () => {
    assert.deepEqual(parseNotification(Buffer.from('{"clientAccessToken":"tok","clientMode":"destination","region":"eu-west-1","services":["SSH","HTTP"]}')), {
      clientAccessToken: 'tok', clientMode: 'destination', region: 'eu-west-1', services: ['SSH', 'HTTP'],
    })
    assert.deepEqual(parseNotification('{"clientAccessToken":"tok","clientMode":"destination"}'), {clientAccessToken: 'tok', clientMode: 'destination', services: []})
  })
  for (const [payload, message] of [
    ['not json', /not JSON/],
    ['[1]', /not a JSON object/],
    ['{"clientMode":"destination"}', /no clientAccessToken/],
    ['{"clientAccessToken":"t"}', /no clientMode/],
    ['{"clientAccessToken":"t","clientMode":"destination","services":"SSH"}', /services are not a list/],
    ['{"clientAccessToken":"t","clientMode":"destination","region":5}', /region is not a string/],
  ] as const) {
    test(`refused: ${payload}`, () => assert.throws(() => parseNotification(payload), message))
  }

  const ssh = new Map([['SSH', {host: 'localhost', port: 22}]])
  test('services map to destinations; unmapped ones are listed; none mapped is a refusal', () => {
    assert.deepEqual(mapServices({clientAccessToken: 't', clientMode: 'destination', services: ['SSH', 'HTTP']}, ssh), {ok: true, services: new Map([['SSH', 'localhost:22']]), unmapped: ['HTTP']})
    assert.deepEqual(mapServices({clientAccessToken: 't', clientMode: 'destination', services: ['HTTP']}, ssh), {ok: false, reason: 'no --destination for HTTP (this agent maps SSH)'})
    assert.deepEqual(mapServices({clientAccessToken: 't', clientMode: 'source', services: ['SSH']}, ssh), {ok: false, reason: 'clientMode is "source", not "destination"'})
    assert.deepEqual(mapServices({clientAccessToken: 't', clientMode: 'destination', services: []}, ssh), {ok: true, services: new Map([['SSH', 'localhost:22']]), unmapped: []})
    assert.equal(mapServices({clientAccessToken: 't', clientMode: 'destination', services: []}, new Map([...ssh, ['HTTP', {host: '::1', port: 80}]])).ok, false)
    assert.deepEqual(mapServices({clientAccessToken: 't', clientMode: 'destination', services: ['HTTP']}, new Map([['HTTP', {host: '::1', port: 80}]])), {ok: true, services: new Map([['HTTP', '[::1]:80']]), unmapped: []})
  })
})

describe('the agent', () => {
  let fixture: RelayAndEcho
  before(async () => {
    fixture = await startRelayAndEcho()
  })
  after(async () => {
    await fixture.close()
  })

  test('serves two tunnels at once, refuses an unmapped one and bad JSON, ignores a repeat, forgets a closed tunnel', async () => {
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
      const tunnels = [registry.openTunnel({services: ['SSH']}), registry.openTunnel({services: ['SSH']})]
      const notify = (token: string, services: string[]) => agent.handle(JSON.stringify({clientAccessToken: token, clientMode: 'destination', region: 'us-east-1', services}))
      assert.equal(notify(tunnels[0].destinationAccessToken, ['SSH']), 'started')
      assert.equal(notify(tunnels[1].destinationAccessToken, ['SSH']), 'started')
      assert.equal(notify(tunnels[0].destinationAccessToken, ['SSH']), 'duplicate')
      assert.equal(notify('unmapped-token', ['HTTP']), 'refused')
      assert.equal(agent.handle('{'), 'refused')
      await Promise.all(tunnels.map((tunnel) => relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')))

      const sources = await Promise.all(tunnels.map((tunnel) => startSourceProxy({endpoint: relay.url, ca: relay.ca, token: tunnel.sourceAccessToken, services: {SSH: 0}})))
      try {
        await Promise.all(sources.map((source) => source.ready))
        const rounds = await Promise.all(sources.map(async (source) => echoRoundTrip(await connectTo(source.ports.SSH), 50_000)))
        for (const round of rounds) assert.equal(round.received.sha256, round.sent.sha256)
      } finally {
        await Promise.all(sources.map((source) => source.close()))
      }
      assert.deepEqual(agent.stats(), {notifications: 5, started: 2, refused: 2, active: 2})

      // CloseTunnel: the relay disconnects both sides and refuses the token from now on.
      registry.closeTunnel(tunnels[0].tunnelId)
      relay.closeTunnel(tunnels[0].tunnelId)
      await agent.tunnels.find((t) => t.number === 1)!.proxy.closed
      assert.equal(agent.stats().active, 1)
      assert.ok(lines.some((line) => line.startsWith('info: tunnel 1: ended (')), lines.join('\n'))
      assert.ok(lines.includes('warn: refused a tunnel notification: HTTP: no --destination for HTTP (this agent maps SSH)'), lines.join('\n'))
      assert.ok(lines.includes('warn: refused a tunnel notification: the notification is not JSON'), lines.join('\n'))
      assert.ok(lines.some((line) => /^info: tunnel 2: SSH connection \d+ opened to 127\.0\.0\.1:\d+$/.test(line)), lines.join('\n'))
    } finally {
      await agent.close()
    }
    assert.equal(agent.stats().active, 0)
  })

  test('--ca is trusted for the tunnels\' TLS; a refused certificate is retried with backoff, then given up after --max-reconnects', async () => {
    const {relay, registry} = fixture.shared
    const run = async (ca: string | undefined) => {
      const lines: string[] = []
      const agent = new TunnelAgent({
        thing: 'dev1',
        destinations: new Map([['SSH', {host: '127.0.0.1', port: fixture.echo.port}]]),
        proxyEndpoint: relay.url,
        maxReconnects: 2,
        logger: (level: LogLevel, message: string) => { if (level !== 'debug') lines.push(`${level}: ${message}`) },
        ...(ca ? {ca} : {}),
        // No proxyOptions.ca: what the command passes (its --ca) is all the agent trusts besides Node's roots.
        proxyOptions: {retry: {initialDelayMs: 10, maxDelayMs: 20}},
      })
      const tunnel = registry.openTunnel({services: ['SSH']})
      assert.equal(agent.handle(JSON.stringify({clientAccessToken: tunnel.destinationAccessToken, clientMode: 'destination', region: 'us-east-1', services: ['SSH']})), 'started')
      const [served] = agent.tunnels
      return {agent, lines, served, tunnel}
    }

    const untrusted = await run(undefined)
    await untrusted.served.proxy.closed
    await untrusted.agent.close()
    const retries = untrusted.lines.filter((line) => /^info: tunnel 1: reconnecting in \d+ ms \(attempt \d of 2; .*certificate/.test(line))
    assert.equal(retries.length, 2, untrusted.lines.join('\n'))
    assert.ok(untrusted.lines.some((line) => /^warn: tunnel 1: gave up: .*could not connect to 127\.0\.0\.1:\d+ after 3 attempts: .*certificate/.test(line)), untrusted.lines.join('\n'))

    const trusted = await run(relay.ca)
    try {
      await trusted.served.proxy.ready
      const source = await startSourceProxy({endpoint: relay.url, ca: relay.ca, token: trusted.tunnel.sourceAccessToken, services: {SSH: 0}})
      try {
        await source.ready
        const {sent, received} = await echoRoundTrip(await connectTo(source.ports.SSH), 10_000)
        assert.equal(received.sha256, sent.sha256)
      } finally {
        await source.close()
      }
    } finally {
      await trusted.agent.close()
    }
  })
})
