// 100 tunnel sessions in a row leave no file descriptors, sockets or timers behind.
import assert from 'node:assert/strict'
import {readdirSync} from 'node:fs'
import {after, before, describe, it} from 'node:test'
import {startRelayAndEcho, startTunnelPair, type RelayAndEcho} from '../support/tunnel-relay/harness.ts'
import {connectTo, echoRoundTrip} from '../support/tunnel-relay/tcp.ts'

function openFds(): number {
  return readdirSync('/proc/self/fd').length
}

function resources(): Record<string, number> {
  const counts: Record<string, number> = {}
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1
  return counts
}

async function settle(): Promise<void> {
  // Closed handles are released on the next turns of the event loop.
  for (let i = 0; i < 5; i++) await new Promise(resolve => setTimeout(resolve, 10))
}

describe('resources', () => {
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

  async function session(i: number, leaveOpen: boolean): Promise<void> {
    const pair = await startTunnelPair({shared, targets: {SSH: `127.0.0.1:${echo.port}`}})
    const socket = await connectTo(pair.source.ports.SSH)
    if (leaveOpen) {
      // Closing the proxies with a connection still open must release it too.
      socket.write(`session ${i}`)
      await new Promise(resolve => socket.once('data', resolve))
    } else {
      const {sent, received} = await echoRoundTrip(socket, 1000)
      assert.equal(received.sha256, sent.sha256)
    }
    await pair.close()
    socket.destroy()
  }

  it('leaves no file descriptors, sockets or timers after 100 sessions', async () => {
    for (let i = 0; i < 3; i++) await session(i, i % 2 === 1)
    await settle()
    const fdsBefore = openFds()
    const resourcesBefore = resources()
    for (let i = 0; i < 100; i++) await session(i, i % 2 === 1)
    await settle()
    assert.equal(openFds(), fdsBefore, 'open file descriptors')
    assert.deepEqual(resources(), resourcesBefore, 'active handles and timers')
    assert.deepEqual(shared.relay.violations, [])
  })
})
