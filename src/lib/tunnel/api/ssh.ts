// `tunnel ssh <thing>`: open (or reuse) a tunnel with the SSH service, wait for
// the device's agent to connect, run the real `ssh` with a ProxyCommand that is
// this same iotctl (`tunnel proxy`), and close the tunnel when ssh exits.
import {spawn} from 'node:child_process'
import {accessSync, constants} from 'node:fs'
import {constants as osConstants} from 'node:os'
import {delimiter, join} from 'node:path'
import {CheckFailed, InputError, Interrupted} from '../../errors.ts'
import {Ledger} from '../../plan/ledger.ts'
import {abortableSleep, accountOfArn, closeTunnel, describeTunnel, listTunnels, rotateSourceToken, type TunnelInfo} from './api.ts'
import {forgetTunnel, openStackTunnel, type TunnelScope} from './index.ts'
import {checkThingName, checkTimeoutMinutes} from './inputs.ts'
import {checkTokenDirectory, newClientToken, readTokenFile, removeTokenFile, writeTokenFile} from './token-file.ts'
import {checkProxyEnvironment} from '../protocol/proxy-env.ts'

export const SSH_SERVICE = 'SSH'

// ssh(1) options that take an argument, and those that do not (OpenSSH 9).
const optionsWithValue = new Set('BbcDEeFIiJLlmOoPpQRSWw')
const optionsWithoutValue = new Set('46AaCfGgKkMNnqsTtVvXxYy')

/**
 * Splits what follows `--` into ssh options and the remote command:
 * `-i key -o X=y -p 22 uptime -a` -> options [-i key -o X=y -p 22], command [uptime -a].
 * The destination goes between the two, so ssh reads the command as a command.
 */
export function splitSshArgs(args: readonly string[]): {options: string[]; command: string[]} {
  const options: string[] = []
  let index = 0
  while (index < args.length) {
    const arg = args[index]
    if (arg === '--') return {options, command: args.slice(index + 1)}
    if (!arg.startsWith('-') || arg === '-') break
    options.push(arg)
    index++
    for (let at = 1; at < arg.length; at++) {
      const letter = arg[at]
      if (optionsWithValue.has(letter)) {
        if (at === arg.length - 1) {
          if (index >= args.length) throw new InputError(`ssh option -${letter} needs a value`)
          options.push(args[index])
          index++
        }
        break
      }
      if (!optionsWithoutValue.has(letter)) throw new InputError(`-${letter} is not an ssh option (ssh options go after --, before the remote command)`)
    }
  }
  return {options, command: args.slice(index)}
}

/** One word for a POSIX shell. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/**
 * The ProxyCommand value: quoted for the shell ssh runs it with, and with `%`
 * doubled because ssh expands %-tokens in it (ssh_config(5), TOKENS).
 */
export function proxyCommandValue(words: readonly string[]): string {
  return words.map(shellQuote).join(' ').replace(/%/g, '%%')
}

export interface SshInvocationOptions {
  thing: string
  user?: string
  /** The command line of `iotctl tunnel proxy …` (program and arguments). */
  proxyCommand: readonly string[]
  /** What followed `--`. */
  sshArgs: readonly string[]
}

/** The arguments of ssh: our ProxyCommand first (ssh keeps the first value of an option), the user's options, the thing, the command. */
export function sshArguments(options: SshInvocationOptions): string[] {
  const {options: sshOptions, command} = splitSshArgs(options.sshArgs)
  const destination = options.user ? `${options.user}@${options.thing}` : options.thing
  return ['-o', `ProxyCommand=${proxyCommandValue(options.proxyCommand)}`, ...sshOptions, destination, ...command]
}

/** The path of a program on PATH; InputError when there is none. */
export function findProgram(name: string, env: NodeJS.ProcessEnv = process.env): string {
  if (name.includes('/')) return name
  for (const directory of (env.PATH ?? '').split(delimiter)) {
    if (!directory) continue
    const candidate = join(directory, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new InputError(`${name} is not on PATH: install the OpenSSH client (e.g. apt-get install openssh-client)`)
}

export interface WaitOptions {
  timeoutMs: number
  intervalMs?: number
  /** Called about once per poll with the seconds waited so far. */
  progress?: (waitedSeconds: number) => void
  signal?: AbortSignal
}

/**
 * Polls DescribeTunnel until the destination (the device's agent) is CONNECTED.
 * There is no presence message in the protocol: connection states are the only
 * way to know the device answered the notification before any traffic.
 */
export async function waitForDestination(scope: TunnelScope, tunnelId: string, options: WaitOptions): Promise<TunnelInfo> {
  const client = await scope.account.tunneling()
  const started = Date.now()
  for (;;) {
    const tunnel = await describeTunnel(client, tunnelId)
    if (!tunnel) throw new CheckFailed(`tunnel ${tunnelId} no longer exists`)
    if (tunnel.status !== 'OPEN') throw new CheckFailed(`tunnel ${tunnelId} is ${tunnel.status}`)
    if (tunnel.destinationConnection === 'CONNECTED') return tunnel
    const waited = Date.now() - started
    if (waited >= options.timeoutMs) {
      throw new CheckFailed(`the device side did not connect to tunnel ${tunnelId} within ${Math.round(options.timeoutMs / 1000)} s: is \`iotctl tunnel agent\` (or the AWS IoT Device Client) running for ${tunnel.thingName ?? 'the thing'}, subscribed to its $aws/things/…/tunnels/notify topic?`)
    }
    options.progress?.(Math.floor(waited / 1000))
    if (options.signal?.aborted) throw new Interrupted('interrupted while waiting for the device')
    await abortableSleep(Math.min(options.intervalMs ?? 500, Math.max(50, options.timeoutMs - waited)), options.signal)
  }
}

export interface SshSessionOptions {
  thing: string
  user?: string
  reuse?: boolean
  keepOpen?: boolean
  timeoutMinutes?: number
  /** How long to wait for the device's agent (default 60 s). */
  waitMs?: number
  sshArgs: readonly string[]
  /** This iotctl: [node, bin/run.js]; the ProxyCommand runs `<self> tunnel proxy …`. */
  self: readonly string[]
  /** Flags the proxy must see too: -c, --proxy-endpoint. */
  proxyFlags: readonly string[]
  /** The ssh program (default `ssh` on PATH). */
  ssh?: string
  signal?: AbortSignal
  /** One line per phase ("opened tunnel …", "waiting for dev1 … 3 s"). */
  progress?: (message: string) => void
  /** Starts ssh; tests may replace it. Resolves with the exit code (128 + signal number when killed). */
  run?: (program: string, args: string[]) => Promise<number>
}

export interface TunnelSshResult {
  stack: string
  thingName: string
  tunnelId: string
  /** True when an open tunnel of the stack was used instead of a new one. */
  reused: boolean
  /** ssh's exit code, which is the command's. */
  exitCode: number
  /** False with --keep-open. */
  closed: boolean
}

export async function sshSession(scope: TunnelScope, options: SshSessionOptions): Promise<TunnelSshResult> {
  const progress = options.progress ?? (() => {})
  const thingName = checkThingName(options.thing, 'thing')
  checkTimeoutMinutes(options.timeoutMinutes)
  if (options.user !== undefined && !/^[a-zA-Z0-9._][a-zA-Z0-9._-]*$/.test(options.user)) throw new InputError(`--user ${JSON.stringify(options.user)} is not a user name`)
  splitSshArgs(options.sshArgs)
  // ssh's ProxyCommand (`tunnel proxy`) reads the same variables: refuse a bad one before OpenTunnel.
  checkProxyEnvironment()
  checkTokenDirectory(scope.stateDirectory)
  const ssh = findProgram(options.ssh ?? 'ssh')

  const {tunnelId, reused} = await tunnelForSsh(scope, thingName, options, progress)
  const finish = async (): Promise<boolean> => {
    if (options.keepOpen) {
      progress(`tunnel ${tunnelId} stays open (--keep-open); close it with: iotctl tunnel close ${tunnelId}`)
      return false
    }
    await closeAndForget(scope, tunnelId)
    progress(`closed tunnel ${tunnelId}`)
    return true
  }
  let exitCode: number
  try {
    let lastShown = -1
    await waitForDestination(scope, tunnelId, {
      timeoutMs: options.waitMs ?? 60_000,
      signal: options.signal,
      progress: (seconds) => {
        // A line when waiting starts, then every 5 s: visible, not noisy.
        if (lastShown === -1 || seconds - lastShown >= 5) {
          lastShown = seconds
          progress(`waiting for ${thingName} to connect to the tunnel${seconds > 0 ? ` (${seconds} s)` : ''}…`)
        }
      },
    })
    const args = sshArguments({
      thing: thingName,
      user: options.user,
      proxyCommand: [...options.self, 'tunnel', 'proxy', '--tunnel-id', tunnelId, '--service', SSH_SERVICE, ...options.proxyFlags],
      sshArgs: options.sshArgs,
    })
    progress(`${thingName} is connected; running ssh ${options.user ? `${options.user}@` : ''}${thingName}`)
    exitCode = await (options.run ?? runInherited)(ssh, args)
  } catch (error) {
    await finish().catch(() => {})
    throw error
  }
  const closed = await finish()
  return {stack: scope.stack, thingName, tunnelId, reused, exitCode, closed}
}

/** A new tunnel, or with --reuse the newest open one of the stack for this thing that carries SSH. */
async function tunnelForSsh(scope: TunnelScope, thingName: string, options: SshSessionOptions, progress: (message: string) => void): Promise<{tunnelId: string; reused: boolean}> {
  if (options.reuse) {
    const client = await scope.account.tunneling()
    const open = await listTunnels(client, {stack: scope.stack, thingName, openOnly: true})
    const found = open.find((tunnel) => tunnel.services.includes(SSH_SERVICE))
    if (found) {
      ensureSourceToken(scope, found, hasTokenFile(scope, found.tunnelId) ? undefined : await rotateSourceToken(client, found.tunnelId))
      progress(`reusing tunnel ${found.tunnelId} to ${thingName}`)
      return {tunnelId: found.tunnelId, reused: true}
    }
  }
  const opened = await openStackTunnel(scope, {thing: thingName, services: [SSH_SERVICE], timeoutMinutes: options.timeoutMinutes}, {
    signal: options.signal,
    onRetry: ({delayMs}) => progress(`OpenTunnel is throttled (1 call per second per account); retrying in ${(delayMs / 1000).toFixed(1)} s`),
  })
  progress(`opened tunnel ${opened.tunnelId} to ${thingName} (tokens in ${opened.tokenFile})`)
  return {tunnelId: opened.tunnelId!, reused: false}
}

function hasTokenFile(scope: TunnelScope, tunnelId: string): boolean {
  try {
    readTokenFile(scope.stateDirectory, tunnelId)
    return true
  } catch {
    return false
  }
}

/** After a rotation, a token file for the tunnel found by tag (opened on another machine). */
function ensureSourceToken(scope: TunnelScope, tunnel: TunnelInfo, rotatedToken: string | undefined): void {
  if (rotatedToken === undefined) return
  writeTokenFile(scope.stateDirectory, {
    version: 1,
    tunnelId: tunnel.tunnelId,
    tunnelArn: tunnel.tunnelArn,
    stack: scope.stack,
    ...(tunnel.thingName ? {thingName: tunnel.thingName} : {}),
    services: tunnel.services,
    region: scope.account.region,
    accountId: accountOfArn(tunnel.tunnelArn),
    ...(scope.account.profile ? {profile: scope.account.profile} : {}),
    openedAt: tunnel.createdAt ?? new Date().toISOString(),
    ...(tunnel.expiresAt ? {expiresAt: tunnel.expiresAt} : {}),
    sourceAccessToken: rotatedToken,
    sourceClientToken: newClientToken(),
  })
}

async function closeAndForget(scope: TunnelScope, tunnelId: string): Promise<void> {
  const client = await scope.account.tunneling()
  await closeTunnel(client, tunnelId)
  removeTokenFile(scope.stateDirectory, tunnelId)
  forgetTunnel(Ledger.open(scope.stateDirectory, scope.stack), tunnelId)
}

/** Runs a program on this terminal; resolves with its exit code (128 + signal number when killed). */
export function runInherited(program: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {stdio: 'inherit'})
    child.once('error', (error) => reject(new InputError(`cannot run ${program}: ${error.message}`)))
    child.once('exit', (code, signal) => {
      if (code !== null) return resolve(code)
      resolve(128 + (signal ? signals[signal] : 1))
    })
  })
}

const signals = osConstants.signals
