// Free loopback ports and waiting for a spawned test server (tinyproxy, microsocks) to listen.
import type {ChildProcess} from 'node:child_process'
import {connect, createServer} from 'node:net'

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/** Resolves once 127.0.0.1:`port` accepts a connection; rejects when `child` exits first or after ~5 s. */
export async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}`)
    const open = await new Promise<boolean>(resolve => {
      const socket = connect({host: '127.0.0.1', port}, () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    await new Promise(resolve => setTimeout(resolve, 25))
  }
  throw new Error(`${name} did not listen on ${port}`)
}
