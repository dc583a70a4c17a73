// Debian's tinyproxy as a real HTTP CONNECT proxy on a free loopback port.
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {connect, createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export const TINYPROXY = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find(path => existsSync(path))

export interface Tinyproxy {
  url: string
  port: number
  /** Its log (LogLevel Connect): one line per CONNECT it served. */
  log(): string
  close(): Promise<void>
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`tinyproxy exited with ${child.exitCode}`)
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
  throw new Error(`tinyproxy did not listen on ${port}`)
}

/**
 * Starts tinyproxy allowing CONNECT to `connectPorts` only, from 127.0.0.1;
 * with `basicAuth`, only for requests with those credentials (407 otherwise).
 */
export async function startTinyproxy(connectPorts: number[], options: {basicAuth?: {user: string; password: string}} = {}): Promise<Tinyproxy> {
  if (!TINYPROXY) throw new Error('tinyproxy is not installed (apt-get install -y tinyproxy)')
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-tinyproxy-'))
  const port = await freePort()
  const logFile = join(dir, 'tinyproxy.log')
  writeFileSync(join(dir, 'tinyproxy.conf'), [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 600',
    `LogFile "${logFile}"`,
    'LogLevel Connect',
    'MaxClients 100',
    'Allow 127.0.0.1',
    ...connectPorts.map(connectPort => `ConnectPort ${connectPort}`),
    ...(options.basicAuth ? [`BasicAuth ${options.basicAuth.user} ${options.basicAuth.password}`] : []),
    '',
  ].join('\n'))
  const child = spawn(TINYPROXY, ['-d', '-c', join(dir, 'tinyproxy.conf')], {stdio: 'ignore'})
  try {
    await waitForPort(port, child)
  } catch (error) {
    child.kill('SIGKILL')
    rmSync(dir, {recursive: true, force: true})
    throw error
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    close: () => new Promise<void>(resolve => {
      const done = () => {
        rmSync(dir, {recursive: true, force: true})
        resolve()
      }
      if (child.exitCode !== null) return done()
      child.once('exit', done)
      child.kill('SIGTERM')
    }),
  }
}
