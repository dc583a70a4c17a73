// Debian's microsocks as a real SOCKS5 proxy on a free loopback port, with a
// user name and password (RFC 1929) when given.
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {freePort, waitForPort} from './ports.ts'

export const MICROSOCKS = ['/usr/bin/microsocks', '/usr/local/bin/microsocks'].find(path => existsSync(path))

export interface Microsocks {
  port: number
  /** socks5h://user:password@127.0.0.1:port (or without credentials). */
  url(scheme?: 'socks5' | 'socks5h', credentials?: {user: string; password: string}): string
  close(): Promise<void>
}

export async function startMicrosocks(auth?: {user: string; password: string}): Promise<Microsocks> {
  if (!MICROSOCKS) throw new Error('microsocks is not installed (apt-get install -y microsocks)')
  const port = await freePort()
  const child = spawn(MICROSOCKS, ['-i', '127.0.0.1', '-p', String(port), ...(auth ? ['-u', auth.user, '-P', auth.password] : [])], {stdio: 'ignore'})
  try {
    await waitForPort(port, child, 'microsocks')
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return {
    port,
    url: (scheme = 'socks5h', credentials = auth) => `${scheme}://${credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@` : ''}127.0.0.1:${port}`,
    close: () => new Promise<void>(resolve => {
      if (child.exitCode !== null) return resolve()
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    }),
  }
}
