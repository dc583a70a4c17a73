// Drops, 5xx and 4xx: reconnect with the client token and backoff; never retry a 4xx.
import assert from 'node:assert/strict'
import {createServer} from 'node:net'
import {after, before, describe, it} from 'node:test'
import {InputError, Interrupted} from '../../src/lib/errors.ts'
import {TunnelRejectedError, TunnelUnreachableError, startDestinationProxy, startSourceProxy} from '../../src/lib/tunnel/protocol/index.ts'
import {nextEvent, startRelayAndEcho, startTunnelPair, type RelayAndEcho} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip} from '../support/tunnel-relay/tcp.ts'

const fast = {retry: {initialDelayMs: 20, maxDelayMs: 200}}

describe('reconnecting', () => {
  let fixture: RelayAndEcho
  let shared: RelayAndEcho['shared']
  let echo: RelayAndEcho['echo']

  before(async () => {
    fixture = await startRelayAndEcho()
    ;({shared, echo} = fixture)
  })
  after(async () => {
    await fixture.close()
  })

  it('reports connected, ready and peer events', async () => {
    const tunnel = shared.registry.openTunnel({services: ['SSH']})
    const events: string[] = []
    const destination = startDestinationProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.destinationAccessToken, services: {SSH: echo.port}})
    for (const name of ['connected', 'ready', 'peer'] as const) destination.on(name, () => events.push(`destination ${name}`))
    await destination.ready
    const source = await startSourceProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.sourceAccessToken, services: {SSH: 0}})
    for (const name of ['connected', 'ready', 'peer'] as const) source.on(name, () => events.push(`source ${name}`))
    await source.ready
    const socket = await connectTo(source.ports.SSH)
    await echoRoundTrip(socket, 10)
    await Promise.all([source.close(), destination.close()])
    assert.deepEqual(events, ['destination connected', 'destination ready', 'source connected', 'source ready', 'destination peer', 'source peer'])
  })

  it('comes back with its client token after the relay drops the WebSocket, and new connections work', async () => {
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: fast, destination: fast})
    try {
      const before = await connectTo(pair.source.ports.SSH)
      const first = await echoRoundTrip(before, 100_000)
      assert.equal(first.received.sha256, first.sent.sha256)

      const open = await connectTo(pair.source.ports.SSH)
      const openClosed = new Promise<void>(resolve => open.once('close', () => resolve()))
      await echoRoundTrip(open, 10).catch(() => {})
      const reconnecting = nextEvent<{delayMs: number; attempt: number}>(pair.source, 'reconnecting')
      const readyAgain = nextEvent(pair.source, 'ready')
      pair.relay.drop(pair.tunnel.tunnelId, 'source')
      const {delayMs, attempt} = await reconnecting
      assert.equal(attempt, 1)
      assert.ok(delayMs >= 16 && delayMs <= 24, `first retry after ~20 ms, got ${delayMs}`)
      await readyAgain
      await openClosed

      const reconnect = pair.relay.handshakes.filter(h => h.mode === 'source' && h.tunnelId === pair.tunnel.tunnelId)
      assert.equal(reconnect.length, 2)
      assert.equal(reconnect[1].status, 101)
      assert.equal(reconnect[1].clientToken, pair.source.clientToken)

      const after = await connectTo(pair.source.ports.SSH)
      const second = await echoRoundTrip(after, 100_000)
      assert.equal(second.received.sha256, second.sent.sha256)
    } finally {
      await pair.close()
    }
  })

  it('reconnects the destination too, and the source starts new streams afterwards', async () => {
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: fast, destination: fast})
    try {
      const readyAgain = nextEvent(pair.destination, 'ready')
      pair.relay.drop(pair.tunnel.tunnelId, 'destination')
      await readyAgain
      const socket = await connectTo(pair.source.ports.SSH)
      const {sent, received} = await echoRoundTrip(socket, 50_000)
      assert.equal(received.sha256, sent.sha256)
    } finally {
      await pair.close()
    }
  })

  it('retries 5xx handshakes with exponential backoff', async () => {
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: fast, destination: fast})
    try {
      const delays: number[] = []
      pair.source.on('reconnecting', info => delays.push(info.delayMs))
      const readyAgain = nextEvent(pair.source, 'ready')
      pair.relay.failNextHandshakes(3, 503)
      pair.relay.drop(pair.tunnel.tunnelId, 'source')
      await readyAgain
      assert.equal(delays.length, 4, 'one retry after the drop and one after each 503')
      const bases = [20, 40, 80, 160]
      delays.forEach((delay, i) => assert.ok(delay >= bases[i] * 0.8 && delay <= bases[i] * 1.2, `retry ${i + 1}: ${delay} ms`))
      const statuses = pair.relay.handshakes.slice(-4).map(h => h.status)
      assert.deepEqual(statuses, [503, 503, 503, 101])
    } finally {
      await pair.close()
    }
  })

  it('does not retry a 4xx (bad token) and rejects with a typed error carrying the status', async () => {
    const before = shared.relay.handshakes.length
    const proxy = startDestinationProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: 'not-a-token', services: {SSH: echo.port}, ...fast})
    let reconnects = 0
    proxy.on('reconnecting', () => reconnects++)
    const error = await proxy.ready.then(() => undefined, (e: unknown) => e)
    assert.ok(error instanceof TunnelRejectedError, String(error))
    assert.equal(error.status, 401)
    assert.equal(error.exitCode, 1)
    assert.equal(error.code, 'Http401')
    assert.deepEqual(await proxy.closed, {error})
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.equal(reconnects, 0)
    assert.equal(shared.relay.handshakes.length - before, 1)
  })

  it('gives up after maxAttempts when nothing answers', async () => {
    const closedPort = await new Promise<number>(resolve => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const {port} = server.address() as {port: number}
        server.close(() => resolve(port))
      })
    })
    const proxy = startDestinationProxy({endpoint: `wss://127.0.0.1:${closedPort}`, token: 't', services: {SSH: echo.port}, retry: {initialDelayMs: 5, maxAttempts: 2}})
    let retries = 0
    proxy.on('reconnecting', () => retries++)
    const error = await proxy.ready.catch((e: unknown) => e)
    assert.ok(error instanceof TunnelUnreachableError, String(error))
    assert.match(error.message, /after 3 attempts: .*ECONNREFUSED/)
    assert.equal(retries, 2)
  })

  it('rejects a token of the other mode, and a used token without the client token', async () => {
    const tunnel = shared.registry.openTunnel({services: ['SSH']})
    const wrongMode = startDestinationProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.sourceAccessToken, services: {SSH: echo.port}})
    assert.equal(((await wrongMode.ready.catch((e: unknown) => e)) as TunnelRejectedError).status, 400)

    const first = startDestinationProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.destinationAccessToken, services: {SSH: echo.port}})
    await first.ready
    await first.close()
    const stranger = startDestinationProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.destinationAccessToken, services: {SSH: echo.port}})
    assert.equal(((await stranger.ready.catch((e: unknown) => e)) as TunnelRejectedError).status, 401)
  })

  it('stops reconnecting once the tunnel is closed', async () => {
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}, source: fast, destination: fast})
    try {
      pair.registry.closeTunnel(pair.tunnel.tunnelId)
      pair.relay.closeTunnel(pair.tunnel.tunnelId)
      const [source, destination] = await Promise.all([pair.source.closed, pair.destination.closed])
      assert.ok(source.error instanceof TunnelRejectedError)
      assert.ok(destination.error instanceof TunnelRejectedError)
    } finally {
      await pair.close()
    }
  })

  it('closes on its AbortSignal, before and after it is ready', async () => {
    const tunnel = shared.registry.openTunnel({services: ['SSH']})
    const early = new AbortController()
    const unreachable = startDestinationProxy({endpoint: 'wss://127.0.0.1:9', token: 't', services: {SSH: echo.port}, signal: early.signal, ...fast})
    early.abort()
    assert.ok(await unreachable.ready.catch((e: unknown) => e) instanceof Interrupted)
    assert.deepEqual(await unreachable.closed, {})

    const late = new AbortController()
    const proxy = await startSourceProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.sourceAccessToken, services: {SSH: 0}, signal: late.signal})
    await proxy.ready
    late.abort()
    assert.deepEqual(await proxy.closed, {})
    await assert.rejects(connectTo(proxy.ports.SSH), {code: 'ECONNREFUSED'})
  })

  it('reports a port in use as an InputError naming it, before connecting', async () => {
    const before = shared.relay.handshakes.length
    const tunnel = shared.registry.openTunnel({services: ['SSH']})
    await assert.rejects(
      startSourceProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.sourceAccessToken, services: {SSH: echo.port}}),
      (error: unknown) => error instanceof InputError && error.message.includes(`port ${echo.port}`) && error.message.includes('in use'),
    )
    assert.equal(shared.relay.handshakes.length, before)
  })

  it('fails with an InputError when a configured service is not one of the tunnel', async () => {
    const tunnel = shared.registry.openTunnel({services: ['SSH']})
    const proxy = await startSourceProxy({endpoint: shared.relay.url, ca: shared.relay.ca, token: tunnel.sourceAccessToken, services: {RDP: 0}})
    const error = await proxy.ready.catch((e: unknown) => e)
    assert.ok(error instanceof InputError)
    assert.match(error.message, /RDP is not one of the tunnel's services \(SSH\)/)
    await proxy.close()
  })
})
