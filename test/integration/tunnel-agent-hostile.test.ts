// `iotctl tunnel agent` (the built CLI) against notifications and tunnel traffic
// it must not trust: published on the thing's notify topic through mosquitto (as
// AWS IoT would publish them) and injected by the relay fixture (as the tunneling
// service would relay them). The agent refuses what it cannot serve with one
// line on stderr, sends no token anywhere but the tunneling endpoint, keeps its
// limits, and keeps serving legit tunnels.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {connect as mqttConnect, type MqttClient} from 'mqtt'
import {startSourceProxy} from '../../src/lib/tunnel/protocol/index.ts'
import {MessageType} from '../../src/lib/tunnel/protocol/message.ts'
import {connectTo, echoRoundTrip, startEchoServer, type TestServer} from '../support/tunnel-relay/tcp.ts'
import {runIotctl, startIotctl, startTunnelService, type RunningIotctl, type TunnelService} from '../support/tunnel-service.ts'

let service: TunnelService
let cwd: string
let env: NodeJS.ProcessEnv
let echo: TestServer
/** Every connection the echo server (the device's "SSH") accepted. */
let accepted = 0
/** Where a hostile region points: nothing may ever connect here. */
let trap: Server
let trapPort: number
const trapped: Socket[] = []
let publisher: MqttClient
/** dev1: through the relay (--proxy-endpoint), with small limits. */
let agent: RunningIotctl
/** dev2: no --proxy-endpoint, so the notification's region picks the endpoint. */
let regional: RunningIotctl

function publish(thing: string, payload: string | Record<string, unknown>): Promise<unknown> {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload)
  return publisher.publishAsync(`$aws/things/${thing}/tunnels/notify`, body, {qos: 1})
}

/** Lines of `running`'s stderr matching `pattern`. */
function linesOf(running: RunningIotctl, pattern: RegExp): string[] {
  return running.stderr().split('\n').filter((line) => pattern.test(line))
}

/** Opens a tunnel to dev1 with `tunnel open` (the stand-in notifies the agent) and returns its id and source token. */
async function openTunnel(services = 'SSH'): Promise<{tunnelId: string; sourceAccessToken: string; destinationAccessToken: string}> {
  const opened = await runIotctl(['tunnel', 'open', '--thing', 'dev1', '--services', services, '--json', '--show-tokens'], {cwd, env})
  assert.equal(opened.code, 0, opened.stderr)
  return JSON.parse(opened.stdout) as {tunnelId: string; sourceAccessToken: string; destinationAccessToken: string}
}

async function closeTunnel(tunnelId: string): Promise<void> {
  const before = linesOf(agent, /: ended/).length
  const closed = await runIotctl(['tunnel', 'close', tunnelId], {cwd, env})
  assert.equal(closed.code, 0, closed.stderr)
  // The agent's proxy is cut, its token refused on reconnect: it ends.
  await waitFor(() => linesOf(agent, /: ended/).length > before)
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms:\n${agent.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** A round trip through a tunnel's SSH service: the agent serves it. */
async function roundTrip(tunnel: {tunnelId: string; sourceAccessToken: string}): Promise<void> {
  await service.relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')
  const source = await startSourceProxy({endpoint: service.relay.url, ca: service.relay.ca, token: tunnel.sourceAccessToken, services: {SSH: 0}})
  try {
    await source.ready
    const round = await echoRoundTrip(await connectTo(source.ports.SSH), 20_000)
    assert.equal(round.received.sha256, round.sent.sha256)
  } finally {
    await source.close()
  }
}

/** Resolves once the echo server has accepted a connection made after everything before it. */
async function acceptBarrier(): Promise<void> {
  const before = accepted
  const socket = await connectTo(echo.port)
  await waitFor(() => accepted > before)
  socket.destroy()
  accepted--
}

function alive(running: RunningIotctl): boolean {
  return running.child.exitCode === null && running.child.signalCode === null
}

before(async () => {
  service = await startTunnelService()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-agent-hostile-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'hostile', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
  env = service.env()
  echo = await startEchoServer()
  echo.server.on('connection', () => accepted++)
  trap = createServer((socket) => {
    trapped.push(socket)
    socket.on('error', () => {})
  })
  await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve))
  trapPort = (trap.address() as {port: number}).port
  publisher = mqttConnect({host: service.broker.host, port: service.broker.plainPort, protocol: 'mqtt', clientId: 'hostile-publisher', reconnectPeriod: 0})
  await new Promise<void>((resolve, reject) => {
    publisher.once('connect', () => resolve())
    publisher.once('error', reject)
  })
  const [dev1, dev2] = await Promise.all([service.broker.device('dev1'), service.broker.device('dev2')])
  const common = ['--ca', service.broker.ca, '--endpoint', `${service.broker.host}:${service.broker.tlsPort}`, '--destination', `SSH=127.0.0.1:${echo.port}`]
  agent = startIotctl(['tunnel', 'agent', '--thing', 'dev1', '--cert', dev1.cert, '--key', dev1.key, ...common,
    '--proxy-endpoint', service.relay.url, '--max-tunnels', '2', '--max-connections', '4', '--max-reconnects', '2'], {cwd, env})
  regional = startIotctl(['tunnel', 'agent', '--thing', 'dev2', '--cert', dev2.cert, '--key', dev2.key, ...common], {cwd, env})
  await Promise.all([agent, regional].map((running) => running.waitForStderr(/subscribed to \$aws\/things\/dev\d\/tunnels\/notify/)))
})

after(async () => {
  const stopped = await Promise.all([agent, regional].filter((running) => running !== undefined).map((running) => running.interrupt()))
  await publisher?.endAsync(true).catch(() => {})
  for (const socket of trapped) socket.destroy()
  trap?.close()
  await echo?.close()
  await service?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
  for (const result of stopped) assert.equal(result.code, 130, `the agent exits 130 on Ctrl-C:\n${result.stderr}`)
})

describe('tunnel agent and hostile notifications', () => {
  test('a region that names another host: refused with one line, no connection there, no token in the output', async () => {
    const token = 'stolen-destination-token-0123456789'
    const hostile = {clientAccessToken: token, clientMode: 'destination', region: `x@127.0.0.1:${trapPort}/`, services: ['SSH']}
    await Promise.all([publish('dev2', hostile), publish('dev1', hostile)])
    const line = await regional.waitForStderr(/refused a tunnel notification/)
    assert.equal(line, `iotctl agent: warn: refused a tunnel notification: region "x@127.0.0.1:${trapPort}/" is not an AWS region`)
    await agent.waitForStderr(/refused a tunnel notification: region "x@127\.0\.0\.1:\d+\/" is not an AWS region/)
    assert.equal(trapped.length, 0, 'nothing connected to the host in the region')
    for (const running of [agent, regional]) {
      assert.ok(alive(running))
      assert.equal(running.stderr().includes(token), false, 'the token is never printed')
      assert.equal(linesOf(running, /notified for/).length, 0, 'no proxy was started')
    }
    // And the agent still serves a tunnel AWS opens.
    const tunnel = await openTunnel()
    await roundTrip(tunnel)
    await closeTunnel(tunnel.tunnelId)
  })

  test('a service named constructor: refused when it is all the tunnel has; a stream for it is reset and SSH still works', async () => {
    const only = await openTunnel('constructor')
    await agent.waitForStderr(/refused a tunnel notification: constructor: no --destination for constructor \(this agent maps SSH\)/)
    await runIotctl(['tunnel', 'close', only.tunnelId], {cwd, env})

    const mixed = await openTunnel('SSH,constructor')
    await service.relay.waitForState(mixed.tunnelId, 'destination', 'CONNECTED')
    await agent.waitForStderr(/no --destination for constructor; connections to it will be refused/)
    service.relay.send(mixed.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId: 9, serviceId: 'constructor', connectionId: 1})
    await agent.waitForStderr(/STREAM_START for unknown service "constructor"; resetting it/)
    assert.ok(alive(agent), agent.stderr())
    await roundTrip(mixed)
    await closeTunnel(mixed.tunnelId)
  })

  test('control characters in a notification never reach the log', async () => {
    await publish('dev1', {clientAccessToken: 'tok-control', clientMode: 'destination', region: 'us-east-1', services: ['SSH\u001b[2J\nforged: line']})
    await publish('dev1', {clientAccessToken: 'tok-mode', clientMode: 'source\u001b[31m\r\nforged: mode\u0085', region: 'us-east-1', services: ['SSH']})
    await agent.waitForStderr(/refused a tunnel notification: service "SSH.*is not a service id/)
    await agent.waitForStderr(/refused a tunnel notification: SSH: clientMode is/)
    // eslint-disable-next-line no-control-regex -- the point: no escape, CR or C1 control in the log
    assert.doesNotMatch(agent.stderr(), /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/)
    assert.deepEqual(linesOf(agent, /^forged/), [])
  })

  test('an oversize notification is refused before it is parsed', async () => {
    await publish('dev1', JSON.stringify({clientAccessToken: 'tok-big', clientMode: 'destination', region: 'us-east-1', services: ['SSH'], padding: 'x'.repeat(9000)}))
    await agent.waitForStderr(/refused a tunnel notification: the notification is \d+ bytes; at most 8192 are accepted/)
    assert.ok(alive(agent))
  })

  test('--max-tunnels 2: a third tunnel is refused, a repeated notification does not count, a closed one frees its place', async () => {
    const first = await openTunnel()
    const second = await openTunnel()
    await Promise.all([first, second].map((tunnel) => service.relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')))
    const third = await openTunnel()
    await agent.waitForStderr(/refused a tunnel notification: SSH: the agent serves 2 tunnels already \(--max-tunnels 2\)/)
    // QoS 1 redelivery of the first: served already, not refused, not started again.
    await publish('dev1', {clientAccessToken: first.destinationAccessToken, clientMode: 'destination', region: 'us-east-1', services: ['SSH']})
    await publish('dev1', 'sentinel: not json')
    await agent.waitForStderr(/refused a tunnel notification: the notification is not JSON/)
    assert.equal(linesOf(agent, /--max-tunnels 2/).length, 1, agent.stderr())
    await roundTrip(first)
    await closeTunnel(first.tunnelId)
    await closeTunnel(second.tunnelId)
    await runIotctl(['tunnel', 'close', third.tunnelId], {cwd, env})
    const fourth = await openTunnel()
    await roundTrip(fourth)
    await closeTunnel(fourth.tunnelId)
  })

  test('--max-connections 4: a flood of connection starts opens at most 4 local connections; the rest are reset', async () => {
    const tunnel = await openTunnel()
    await service.relay.waitForState(tunnel.tunnelId, 'destination', 'CONNECTED')
    await acceptBarrier()
    const before = accepted
    const streamId = 41
    service.relay.send(tunnel.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId, serviceId: 'SSH', connectionId: 1})
    for (let connectionId = 2; connectionId <= 500; connectionId++) {
      service.relay.send(tunnel.tunnelId, 'destination', {type: MessageType.CONNECTION_START, streamId, serviceId: 'SSH', connectionId})
    }
    // After the flood: a start for a service the tunnel does not have, answered with a log line once all before it were read.
    service.relay.send(tunnel.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId: 42, serviceId: 'NOPE', connectionId: 1})
    await agent.waitForStderr(/STREAM_START for unknown service "NOPE"/)
    // The agent's connects leave right after it read the flood: once 4 arrived, a later
    // connection of the test's own is accepted after any 5th the agent could have made.
    await waitFor(() => accepted - before >= 4)
    await acceptBarrier()
    assert.equal(accepted - before, 4, `local connections opened: ${accepted - before}`)
    assert.equal(linesOf(agent, /at the limit of 4 local connections \(--max-connections\); resetting new ones/).length, 1, agent.stderr())
    assert.ok(alive(agent))
    await closeTunnel(tunnel.tunnelId)
  })

  test('--max-reconnects 2: a proxy that cannot reach the service gives up after 3 attempts and says so', async () => {
    service.relay.failNextHandshakes(3, 503)
    const tunnel = await openTunnel()
    await agent.waitForStderr(/^iotctl agent: warn: tunnel \d+: gave up: .*could not connect to 127\.0\.0\.1:\d+ after 3 attempts: HTTP 503$/, 60_000)
    assert.ok(alive(agent))
    await runIotctl(['tunnel', 'close', tunnel.tunnelId], {cwd, env})
    // Its place is free again.
    const next = await openTunnel()
    await roundTrip(next)
    await closeTunnel(next.tunnelId)
  })
})

describe('the limit flags', () => {
  for (const [flag, value, message] of [
    ['--max-tunnels', '0', /^iotctl: --max-tunnels 0: give a whole number from 1 to 256$/],
    ['--max-connections', '100000', /^iotctl: --max-connections 100000: give a whole number from 1 to 4096$/],
    ['--max-reconnects', '-1', /^iotctl: --max-reconnects -1: give a whole number from 0 to 1000$/],
    ['--max-tunnels', 'many', /--max-tunnels/],
  ] as const) {
    test(`${flag} ${value}: exit 2, one line naming the flag`, async () => {
      const result = await runIotctl(['tunnel', 'agent', '--thing', 'dev1', '--cert', 'c.pem', '--key', 'k.pem', '--endpoint', '127.0.0.1:1', '--destination', 'SSH=22', flag, value], {cwd, env})
      assert.equal(result.code, 2, result.stderr)
      const lines = result.stderr.trim().split('\n')
      assert.equal(lines.length, 1, result.stderr)
      assert.match(lines[0], message)
    })
  }
})
