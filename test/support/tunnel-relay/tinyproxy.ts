// Debian's tinyproxy as a real HTTP CONNECT proxy on a free loopback port.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {freePort, waitForPort} from './ports.ts'

export const TINYPROXY = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy'].find(path => existsSync(path))

export interface Tinyproxy {
  url: string
  port: number
  /** Its log (LogLevel Connect): one line per CONNECT it served. */
  log(): string
  close(): Promise<void>
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
    await waitForPort(port, child, 'tinyproxy')
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
