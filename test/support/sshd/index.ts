// A throw-away OpenSSH server for the tunnel tests: Debian's real /usr/sbin/sshd
// on a free loopback port, with a host key and a user key made by ssh-keygen in
// a temporary directory, for the current user only (root in CI:
// PermitRootLogin prohibit-password, i.e. keys only). And the arguments that
// make the real `ssh` client trust exactly that host key and use that user key,
// ignoring ~/.ssh entirely.
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {once} from 'node:events'
import {mkdirSync, statSync} from 'node:fs'
import {chmod, mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {createConnection, createServer} from 'node:net'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)
const sshdBinary = '/usr/sbin/sshd'
const host = '127.0.0.1'

export interface Sshd {
  host: string
  port: number
  /** The user ssh logs in as (the current user). */
  user: string
  /** The user's private key (mode 0600). */
  userKey: string
  /** The host's public key line (`ssh-ed25519 AAAA…`). */
  hostPublicKey: string
  dir: string
  /**
   * A known_hosts file that trusts the host key under these names (plus
   * [127.0.0.1]:port): with ProxyCommand, ssh checks the key under the name it was given.
   */
  knownHosts(names: string[]): Promise<string>
  /**
   * ssh options for the real client: no ~/.ssh/config, this user key only, strict
   * checking against `knownHosts(names)`, no prompts.
   */
  clientOptions(names: string[]): Promise<string[]>
  /** The server's log (sshd -e), for failing tests. */
  logs(): string
  stop(): Promise<void>
}

// A test that crashes must not leave sshd running.
const running = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, host)
  await once(server, 'listening')
  const port = (server.address() as {port: number}).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** Resolves once sshd answers with its identification string. */
async function waitForBanner(port: number, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let stopped = false
  void exited.then(() => { stopped = true })
  for (;;) {
    const banner = await new Promise<boolean>((resolve) => {
      const socket = createConnection({host, port})
      socket.setTimeout(1000)
      socket.once('data', (data) => {
        socket.destroy()
        resolve(data.toString().startsWith('SSH-'))
      })
      socket.once('timeout', () => { socket.destroy(); resolve(false) })
      socket.once('error', () => resolve(false))
    })
    if (banner) return
    if (stopped) throw new Error('sshd exited while starting')
    if (Date.now() > deadline) throw new Error(`sshd did not answer on ${host}:${port} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * sshd as root needs its privilege separation directory, which the Debian package's
 * systemd unit creates at boot (RuntimeDirectory=sshd); containers have no boot.
 */
function ensurePrivilegeSeparationDirectory(): void {
  if (process.getuid?.() !== 0) return
  try {
    statSync('/run/sshd')
  } catch {
    mkdirSync('/run/sshd', {mode: 0o755, recursive: true})
  }
}

export async function startSshd(): Promise<Sshd> {
  const dir = await mkdtemp(join(tmpdir(), 'iotctl-sshd-'))
  let child: ChildProcess | undefined
  let log = ''
  try {
    await chmod(dir, 0o700)
    const user = userInfo().username
    const hostKey = join(dir, 'host_ed25519')
    const userKey = join(dir, 'user_ed25519')
    await Promise.all([
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'iotctl test host', '-f', hostKey]),
      run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'iotctl test user', '-f', userKey]),
    ])
    const authorizedKeys = join(dir, 'authorized_keys')
    await writeFile(authorizedKeys, await readFile(`${userKey}.pub`, 'utf8'), {mode: 0o600})
    const port = await freePort()
    const config = join(dir, 'sshd_config')
    await writeFile(config, [
      `ListenAddress ${host}`,
      `Port ${port}`,
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorizedKeys}`,
      `AllowUsers ${user}`,
      // The key files are in a temporary directory, not in the user's home.
      'StrictModes no',
      'UsePAM no',
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PrintMotd no',
      'PrintLastLog no',
      'LogLevel VERBOSE',
      // The system's sftp-server path differs between distributions; no subsystem needed.
      '',
    ].join('\n'))
    ensurePrivilegeSeparationDirectory()
    // -D: no daemon; -e: log to stderr.
    child = spawn(sshdBinary, ['-D', '-e', '-f', config], {stdio: ['ignore', 'ignore', 'pipe']})
    running.add(child)
    const exited = once(child, 'exit')
    void exited.then(() => running.delete(child!))
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk
      if (log.length > 200_000) log = log.slice(-100_000)
    })
    await waitForBanner(port, exited, 10_000).catch((error: Error) => {
      throw new Error(`${error.message}:\n${log}`)
    })
    const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(' ').slice(0, 2).join(' ')
    const sshd = child
    const knownHosts = async (names: string[]): Promise<string> => {
      const file = join(dir, `known_hosts-${names.join('_') || 'direct'}`)
      await writeFile(file, [...names, `[${host}]:${port}`].map((name) => `${name} ${hostPublicKey}\n`).join(''))
      return file
    }
    return {
      host,
      port,
      user,
      userKey,
      hostPublicKey,
      dir,
      knownHosts,
      clientOptions: async (names) => [
        '-F', '/dev/null',
        '-i', userKey,
        '-o', 'IdentitiesOnly=yes',
        '-o', `UserKnownHostsFile=${await knownHosts(names)}`,
        '-o', 'GlobalKnownHostsFile=/dev/null',
        '-o', 'StrictHostKeyChecking=yes',
        '-o', 'BatchMode=yes',
        '-o', 'LogLevel=ERROR',
      ],
      logs: () => log,
      stop: async () => {
        if (sshd.exitCode === null && sshd.signalCode === null) {
          sshd.kill('SIGTERM')
          await exited
        }
        await rm(dir, {recursive: true, force: true})
      },
    }
  } catch (error) {
    child?.kill('SIGKILL')
    await rm(dir, {recursive: true, force: true})
    throw error
  }
}
