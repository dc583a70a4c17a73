// moto in server mode, as a child process in its own process group, on a free
// loopback port. The group is killed on stop(), on the parent's exit and on
// SIGINT/SIGTERM; and moto gets PR_SET_PDEATHSIG, so even a SIGKILLed parent
// leaves no moto behind.
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync} from 'node:fs'
import {request} from 'node:http'
import {createServer} from 'node:net'
import {join} from 'node:path'

export interface MotoServer {
  url: string
  port: number
  pid: number
  stop(): Promise<void>
}

export interface MotoOptions {
  /** The virtualenv holding moto[server] (default: <repo>/.venv). */
  venv: string
  host?: string
  startTimeoutMs?: number
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, host, () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

function ping(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/moto-api/`, {method: 'GET', timeout: 1000}, (res) => {
      res.resume()
      resolve(res.statusCode === 200)
    })
    req.on('error', () => resolve(false))
    req.on('timeout', () => {
      req.destroy()
      resolve(false)
    })
    req.end()
  })
}

// Set the parent-death signal (prctl survives execv), then become `command`.
const prologue = [
  'import ctypes, os, signal, sys',
  'try:',
  '    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)',
  'except Exception:',
  '    pass',
  'if os.getppid() != int(sys.argv[1]):',
  '    sys.exit(3)',
]
const execLauncher = [...prologue, 'os.execv(sys.argv[2], sys.argv[2:])'].join('\n')

// moto runs its server main in the launcher's process instead: IoT certificate
// ids are the SHA-256 of the DER, as AWS's (moto's default hashes the PEM text;
// its `iot.use_valid_cert` setting has no environment variable).
const motoLauncher = [
  ...prologue,
  'from moto.core.config import default_user_config',
  "default_user_config['iot']['use_valid_cert'] = True",
  'from moto.server import main',
  'sys.exit(main(sys.argv[3:]))',
].join('\n')

const live = new Set<ChildProcess>()
let hooksInstalled = false

export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    // already gone
  }
}

function installExitHooks(): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => {
    for (const child of live) killGroup(child, 'SIGKILL')
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const child of live) killGroup(child, 'SIGKILL')
      live.clear()
      // Keep the signal's default meaning when nobody else handles it.
      process.removeListener(signal, onSignal)
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

/**
 * Spawns `command` (an absolute path) as the leader of its own process group,
 * with a parent-death signal, through the venv's or the system's python; the
 * group is killed with the parent (exit, SIGINT/SIGTERM/SIGHUP, SIGKILL).
 * stdout and stderr are pipes.
 */
export function spawnOwned(command: string, args: string[], options: {env?: NodeJS.ProcessEnv; cwd?: string; python?: string; launcher?: string} = {}): ChildProcess {
  installExitHooks()
  const child = spawn(options.python ?? 'python3', ['-c', options.launcher ?? execLauncher, String(process.pid), command, ...args], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: options.env ?? process.env,
    cwd: options.cwd,
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

export async function startMoto(options: MotoOptions): Promise<MotoServer> {
  const host = options.host ?? '127.0.0.1'
  const motoServer = join(options.venv, 'bin', 'moto_server')
  const python = join(options.venv, 'bin', 'python')
  if (!existsSync(motoServer)) {
    throw new Error(`${motoServer} is missing: run scripts/setup-test-deps.sh to install moto[server] into .venv`)
  }
  let lastError: Error | undefined
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort(host)
    const url = `http://${host}:${port}`
    const child = spawnOwned(motoServer, ['-H', host, '-p', String(port)], {
      python,
      launcher: motoLauncher,
      env: {...process.env, PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1'},
    })
    let output = ''
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000)
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    // The streams stay referenced only while we need them.
    child.unref()
    ;(child.stdout as unknown as {unref?: () => void}).unref?.()
    ;(child.stderr as unknown as {unref?: () => void}).unref?.()

    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000)
    let up = false
    while (Date.now() < deadline && child.exitCode === null && child.signalCode === null) {
      if (await ping(url)) {
        up = true
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    if (up) {
      let stopping: Promise<void> | undefined
      return {
        url,
        port,
        pid: child.pid!,
        stop: () => {
          stopping ??= (async () => {
            // Keep the event loop alive until moto is really gone.
            child.ref()
            killGroup(child, 'SIGTERM')
            let timer: NodeJS.Timeout | undefined
            // moto keeps nothing worth flushing, and its SIGTERM handler takes a
            // second or more to exit: a short grace, then SIGKILL.
            const timeout = new Promise<'timeout'>((resolve) => {
              timer = setTimeout(() => resolve('timeout'), 200)
            })
            const how = await Promise.race([exited, timeout])
            clearTimeout(timer)
            if (how === 'timeout') {
              killGroup(child, 'SIGKILL')
              await exited
            }
            live.delete(child)
          })()
          return stopping
        },
      }
    }
    killGroup(child, 'SIGKILL')
    await exited
    lastError = new Error(`moto_server did not start on ${url}:\n${output.trim()}`)
    if (!/Address already in use/i.test(output)) break
  }
  throw lastError ?? new Error('moto_server did not start')
}
