// After congestion, the local readers held back resume a few at a time, within
// the flow-control window: 64 connections resuming at once would each deliver a
// 64 KiB read and put 4 MiB in flight over a 1 MiB window (the proxy's memory).
import assert from 'node:assert/strict'
import {once} from 'node:events'
import {after, before, describe, it} from 'node:test'
import {TunnelConnection} from '../../src/lib/tunnel/protocol/connection.ts'
import {dataFrameHeader, encodeFrame} from '../../src/lib/tunnel/protocol/framing.ts'
import {MessageType} from '../../src/lib/tunnel/protocol/message.ts'
import {startTunnelRelayWithRegistry} from '../support/tunnel-relay/harness.ts'
import type {TunnelRegistry} from '../support/tunnel-relay/registry.ts'
import type {TunnelRelay} from '../support/tunnel-relay/relay.ts'

const WINDOW = 1024 * 1024
const READ = 64 * 1024

describe('flow-control window', () => {
  let relay: TunnelRelay
  let registry: TunnelRegistry
  let connection: TunnelConnection | undefined

  before(async () => {
    ;({relay, registry} = await startTunnelRelayWithRegistry())
  })
  after(async () => {
    await connection?.close()
    await relay.close()
  })

  it('resumes held readers oldest first, at most window / 64 KiB of them per turn', async () => {
    const tunnel = registry.openTunnel({services: ['SSH']})
    connection = new TunnelConnection({mode: 'source', token: tunnel.sourceAccessToken, endpoint: relay.url, ca: relay.ca, highWaterMark: WINDOW})
    connection.start()
    await once(connection, 'open')
    connection.send({head: encodeFrame({type: MessageType.STREAM_START, streamId: 1, serviceId: 'SSH', connectionId: 1})})
    // More than the window at once: congested until the socket drains.
    connection.sendData(dataFrameHeader(1, 'SSH', 1), Buffer.alloc(4 * WINDOW))
    assert.equal(connection.congested, true)

    const batches: number[][] = []
    let batch: number[] | undefined
    const senders = Array.from({length: 64}, (_, i) => ({
      paused: false,
      pause() {
        this.paused = true
      },
      resume() {
        this.paused = false
        if (!batch) {
          batch = []
          batches.push(batch)
          // One synchronous run of resumes is one batch.
          queueMicrotask(() => {
            batch = undefined
          })
        }
        batch.push(i)
      },
    }))
    for (const sender of senders) connection.holdUntilDrained(sender)
    assert.ok(senders.every(sender => sender.paused))

    while (senders.some(sender => sender.paused)) await new Promise(resolve => setImmediate(resolve))
    assert.deepEqual(batches.flat(), senders.map((_, i) => i), 'oldest first, each once')
    assert.ok(batches.length >= 4, `resumed in ${batches.length} batches: ${batches.map(b => b.length).join(', ')}`)
    assert.ok(batches.every(b => b.length <= WINDOW / READ), `batches of ${batches.map(b => b.length).join(', ')}`)
    assert.equal(connection.congested, false)
  })
})
