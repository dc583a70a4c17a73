// The whole Secure Tunneling service on loopback, for tests of the tunnel
// commands: the local AWS (its stand-in answers OpenTunnel & co.), the TLS
// WebSocket relay authorizing tokens against the stand-in's tunnel registry and
// reporting connection states to it, and a mosquitto broker to which an opened
// tunnel's destination token is published on $aws/things/<thing>/tunnels/notify,
// as AWS IoT does. Plus helpers that run the built iotctl as users would.
import {type ChildProcess, spawn} from 'node:child_process'
import {connect as mqttConnect, type MqttClient} from 'mqtt'
import {binPath, repoRoot, type CliResult} from './cli.ts'
import {startLocalAws, type LocalAws, type LocalAwsOptions, type TunnelRecord} from './local-aws/index.ts'
import {startMosquitto, type MosquittoBroker} from './mosquitto/index.ts'
import {startTunnelRelay, type TunnelRelay} from './tunnel-relay/index.ts'

/** The CLI under test: bin/run.js of this checkout, or IOTCTL_BIN (a private build, safe from a concurrent `npm run build`). */
export const iotctlBin = process.env.IOTCTL_BIN ?? binPath

export interface Notification {
  topic: string
  payload: {clientAccessToken: string; clientMode: string; region: string; services: string[]}
}

export interface TunnelService {
  aws: LocalAws
  relay: TunnelRelay
  broker: MosquittoBroker
  /** What was published to notify topics, in order. */
  notifications: Notification[]
  /** An environment for iotctl: the AWS profiles and the relay's CA (NODE_EXTRA_CA_CERTS). */
  env(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  /** Stops everything; safe to call twice. */
  stop(): Promise<void>
}

export async function startTunnelService(options: {aws?: LocalAwsOptions} = {}): Promise<TunnelService> {
  const [aws, broker] = await Promise.all([startLocalAws(options.aws), startMosquitto({websockets: false})])
  let relay: TunnelRelay | undefined
  let publisher: MqttClient | undefined
  try {
    relay = await startTunnelRelay({
      authorize: (token) => aws.tunnels.authorize(token),
      onConnectionState: (change) => aws.tunnels.setConnectionState(change.tunnelId, change.mode, change.state),
    })
    publisher = await connectPublisher(broker)
    const notifications: Notification[] = []
    const started = relay
    const client = publisher
    const notify = (tunnel: TunnelRecord): void => {
      if (!tunnel.thingName) return
      const notification: Notification = {
        topic: `$aws/things/${tunnel.thingName}/tunnels/notify`,
        payload: {clientAccessToken: tunnel.destinationToken, clientMode: 'destination', region: tunnel.region, services: [...tunnel.services]},
      }
      notifications.push(notification)
      client.publish(notification.topic, JSON.stringify(notification.payload), {qos: 1})
    }
    aws.tunnels.on('opened', notify)
    aws.tunnels.on('closed', (tunnel) => started.closeTunnel(tunnel.tunnelId))
    aws.tunnels.on('rotated', (tunnel, modes) => {
      for (const mode of modes) started.drop(tunnel.tunnelId, mode)
      // "When you rotate the destination token, AWS IoT sends it to the device" (MQTT notify).
      if (modes.includes('destination')) notify(tunnel)
    })
    let stopped: Promise<void> | undefined
    return {
      aws,
      relay,
      broker,
      notifications,
      env: (extra) => aws.childEnv({NODE_EXTRA_CA_CERTS: started.caFile, ...extra}),
      stop: () => (stopped ??= (async () => {
        await client.endAsync(true).catch(() => {})
        await started.close()
        await Promise.all([aws.stop(), broker.stop()])
      })()),
    }
  } catch (error) {
    await publisher?.endAsync(true).catch(() => {})
    await relay?.close()
    await Promise.all([aws.stop(), broker.stop()])
    throw error
  }
}

function connectPublisher(broker: MosquittoBroker): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqttConnect({host: broker.host, port: broker.plainPort, protocol: 'mqtt', clientId: 'iotctl-test-tunneling-service', reconnectPeriod: 0})
    client.once('connect', () => {
      client.removeListener('error', reject)
      client.on('error', () => {})
      resolve(client)
    })
    client.once('error', reject)
  })
}

export interface IotctlOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  input?: string
  timeoutMs?: number
}

/** Runs the built iotctl to its end (stdin closed, no TTY: like CI). */
export function runIotctl(args: string[], options: IotctlOptions = {}): Promise<CliResult> {
  const running = startIotctl(args, options)
  running.child.stdin!.end(options.input ?? '')
  const timer = setTimeout(() => running.child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
  return running.exited.then((result) => {
    clearTimeout(timer)
    return result
  })
}

export interface RunningIotctl {
  child: ChildProcess
  stdout(): string
  stderr(): string
  /** Resolves with the first stderr line matching `pattern` (already written or to come). */
  waitForStderr(pattern: RegExp, timeoutMs?: number): Promise<string>
  exited: Promise<CliResult>
  /** Sends SIGINT (Ctrl-C) and waits for the exit. */
  interrupt(): Promise<CliResult>
}

/** Starts a long-running iotctl (agent, forward) with piped stdio. */
export function startIotctl(args: string[], options: IotctlOptions = {}): RunningIotctl {
  const child = spawn(process.execPath, [iotctlBin, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: {...(options.env ?? process.env), NO_COLOR: '1', FORCE_COLOR: '0'},
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  children.add(child)
  let stdout = ''
  let stderr = ''
  const watchers = new Set<() => void>()
  child.stdout.setEncoding('utf8').on('data', (data: string) => { stdout += data })
  child.stderr.setEncoding('utf8').on('data', (data: string) => {
    stderr += data
    for (const watcher of watchers) watcher()
  })
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => {
      children.delete(child)
      for (const watcher of watchers) watcher()
      resolve({code, signal, stdout, stderr})
    })
  })
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForStderr: (pattern, timeoutMs = 30_000) => new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = stderr.split('\n').find((candidate) => pattern.test(candidate))
        if (line !== undefined) {
          finish()
          resolve(line)
          return true
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          finish()
          reject(new Error(`iotctl ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before writing ${pattern}:\n${stderr}`))
          return true
        }
        return false
      }
      const timer = setTimeout(() => {
        finish()
        reject(new Error(`iotctl ${args.join(' ')} wrote nothing matching ${pattern} within ${timeoutMs} ms:\n${stderr}`))
      }, timeoutMs)
      const watcher = (): void => void check()
      const finish = (): void => {
        clearTimeout(timer)
        watchers.delete(watcher)
      }
      if (!check()) watchers.add(watcher)
    }),
    interrupt: () => {
      child.kill('SIGINT')
      return exited
    },
  }
}

// A test that fails half-way must not leave agents or forwarders running.
const children = new Set<ChildProcess>()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
})
