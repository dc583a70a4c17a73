// What the service might send that breaks the rules: the affected stream is
// reset, nothing else is disturbed, the process survives.
import assert from 'node:assert/strict'
import {after, before, beforeEach, describe, it} from 'node:test'
import {encodeFrame} from '../../src/lib/tunnel/protocol/framing.ts'
import {MessageType, type TunnelMessage} from '../../src/lib/tunnel/protocol/message.ts'
import {nextEvent, startTunnelPair, type TunnelPair} from '../support/tunnel-relay/harness.ts'
import type {RelayMode} from '../support/tunnel-relay/relay.ts'
import {connectTo, echoRoundTrip, startEchoServer, type TestServer} from '../support/tunnel-relay/tcp.ts'

describe('malformed frames from the service', () => {
  let echo: TestServer
  let pair: TunnelPair
  let said: {mode: RelayMode; message: TunnelMessage}[]

  before(async () => {
    echo = await startEchoServer()
    pair = await startTunnelPair({
      targets: {SSH: `127.0.0.1:${echo.port}`},
      relay: {onMessage: ({mode, message}) => said.push({mode, message})},
    })
  })
  beforeEach(() => {
    said = []
  })
  after(async () => {
    assert.deepEqual(pair.relay.violations, [])
    await pair.close()
    await echo.close()
  })

  /** An open connection through the tunnel and its ids. */
  async function openConnection() {
    const opened = nextEvent<{streamId: number; connectionId: number}>(pair.source, 'connection-open')
    const socket = await connectTo(pair.source.ports.SSH)
    const ids = await opened
    const closed = new Promise<void>(resolve => socket.once('close', () => resolve()))
    return {socket, ids, closed}
  }

  async function stillWorks(): Promise<void> {
    const socket = await connectTo(pair.source.ports.SSH)
    const {sent, received} = await echoRoundTrip(socket, 200_000)
    assert.equal(received.sha256, sent.sha256)
  }

  it('resets the connection that gets a payload over 63 KiB', async () => {
    const {ids, closed} = await openConnection()
    const other = await openConnection()
    const reset = nextEvent<{reason: string; connectionId?: number}>(pair.source, 'stream-reset')
    pair.relay.send(pair.tunnel.tunnelId, 'source', {
      type: MessageType.DATA, streamId: ids.streamId, serviceId: 'SSH', connectionId: ids.connectionId, payload: new Uint8Array(65000),
    })
    const event = await reset
    assert.match(event.reason, /65000 bytes exceeds the 64512-byte limit/)
    assert.equal(event.connectionId, ids.connectionId)
    await closed
    const {sent, received} = await echoRoundTrip(other.socket, 10_000)
    assert.equal(received.sha256, sent.sha256, 'the other connection of the stream carries on')
    await stillWorks()
    assert.ok(said.some(({mode, message}) => mode === 'source' && message.type === MessageType.CONNECTION_RESET && message.connectionId === ids.connectionId))
  })

  it('resets the active streams after a frame that is not a protobuf Message', async () => {
    const {ids, closed} = await openConnection()
    const reset = nextEvent<{streamId: number; reason: string}>(pair.source, 'stream-reset')
    pair.relay.inject(pair.tunnel.tunnelId, 'source', Buffer.from([0x00, 0x03, 0x22, 0x05, 0x01]))
    const event = await reset
    assert.equal(event.streamId, ids.streamId)
    assert.match(event.reason, /malformed frame/)
    await closed
    await stillWorks()
    assert.ok(said.some(({message}) => message.type === MessageType.STREAM_RESET && message.streamId === ids.streamId))
  })

  it('answers data for an unknown stream with one reset and leaves the active stream alone', async () => {
    const {socket, ids} = await openConnection()
    for (let i = 0; i < 5; i++) {
      pair.relay.send(pair.tunnel.tunnelId, 'source', {type: MessageType.DATA, streamId: 424242, serviceId: 'SSH', connectionId: 1, payload: Buffer.from('stale')})
    }
    const {sent, received} = await echoRoundTrip(socket, 50_000)
    assert.equal(received.sha256, sent.sha256)
    const resets = said.filter(({message}) => message.type === MessageType.STREAM_RESET && message.streamId === 424242)
    assert.equal(resets.length, 1)
    assert.ok(!said.some(({message}) => message.streamId === ids.streamId && message.type === MessageType.STREAM_RESET))
  })

  it('delivers a DATA frame that arrives split over several WebSocket messages', async () => {
    const {socket, ids} = await openConnection()
    const frame = encodeFrame({type: MessageType.DATA, streamId: ids.streamId, serviceId: 'SSH', connectionId: ids.connectionId, payload: Buffer.from('split frame')})
    const arrived = new Promise<string>(resolve => socket.once('data', chunk => resolve(chunk.toString())))
    for (const part of [frame.subarray(0, 1), frame.subarray(1, 5), frame.subarray(5)]) pair.relay.inject(pair.tunnel.tunnelId, 'source', part)
    assert.equal(await arrived, 'split frame')
    socket.destroy()
  })

  it('resets a STREAM_START for a service the destination does not serve', async () => {
    const reset = nextEvent<{reason: string; serviceId: string}>(pair.destination, 'stream-reset', info => info.serviceId === 'NOPE')
    pair.relay.send(pair.tunnel.tunnelId, 'destination', {type: MessageType.STREAM_START, streamId: 77, serviceId: 'NOPE', connectionId: 1})
    const event = await reset
    assert.deepEqual([event.serviceId, event.reason], ['NOPE', 'unknown service'])
    await stillWorks()
    assert.ok(said.some(({mode, message}) => mode === 'destination' && message.type === MessageType.STREAM_RESET && message.streamId === 77))
    assert.deepEqual(pair.relay.state(pair.tunnel.tunnelId), {source: 'CONNECTED', destination: 'CONNECTED'})
  })

  it('ignores an unknown message type marked ignorable, and resets the stream named by one that is not', async () => {
    const {ids, closed} = await openConnection()
    pair.relay.send(pair.tunnel.tunnelId, 'source', {type: 12, streamId: ids.streamId, serviceId: 'SSH', connectionId: ids.connectionId, ignorable: true})
    const reset = nextEvent<{reason: string}>(pair.source, 'stream-reset')
    pair.relay.send(pair.tunnel.tunnelId, 'source', {type: 12, streamId: ids.streamId, serviceId: 'SSH', connectionId: ids.connectionId})
    assert.match((await reset).reason, /unknown type 12/)
    await closed
    await stillWorks()
  })

  it('keeps open connections when SERVICE_IDS comes again', async () => {
    const {socket} = await openConnection()
    pair.relay.send(pair.tunnel.tunnelId, 'source', {type: MessageType.SERVICE_IDS, availableServiceIds: ['SSH']})
    pair.relay.send(pair.tunnel.tunnelId, 'destination', {type: MessageType.SERVICE_IDS, availableServiceIds: ['SSH']})
    const {sent, received} = await echoRoundTrip(socket, 100_000)
    assert.equal(received.sha256, sent.sha256)
  })

  it('closes connections on SESSION_RESET and serves new ones', async () => {
    const {closed} = await openConnection()
    pair.relay.send(pair.tunnel.tunnelId, 'source', {type: MessageType.SESSION_RESET})
    await closed
    await stillWorks()
  })
})
