// mosquitto_sub / mosquitto_pub on the broker's plain listener: an independent
// observer (and sender) for tests of iotctl's MQTT library. Debian package:
// mosquitto-clients.
import {execFile, spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {promisify} from 'node:util'
import type {MosquittoBroker} from './index.ts'

const run = promisify(execFile)

export interface ReceivedMessage {
  topic: string
  payload: Buffer
}

export interface MosquittoSub {
  /** The client id mosquitto_sub connected with. */
  clientId: string
  /** Resolves once mosquitto has logged the subscription: what is published after it is delivered. */
  ready: Promise<void>
  /** The messages so far. */
  received: ReceivedMessage[]
  /** Resolves with the messages when `count` have arrived (rejects if mosquitto_sub fails or times out first). */
  messages: Promise<ReceivedMessage[]>
  /** Resolves once at least `count` messages have arrived (rejects as `messages` does). */
  waitForCount(count: number): Promise<ReceivedMessage[]>
  /** Ends mosquitto_sub and resolves with what it received. */
  stop(): Promise<ReceivedMessage[]>
}

/**
 * Runs `mosquitto_sub` on `topic` (a filter) until `count` messages (or until stopped),
 * at most `timeoutSeconds` (default 30).
 */
export function mosquittoSub(broker: MosquittoBroker, options: {topic: string; count?: number; qos?: 0 | 1; timeoutSeconds?: number}): MosquittoSub {
  const clientId = `sub-${randomBytes(4).toString('hex')}`
  const args = ['-h', broker.host, '-p', String(broker.plainPort), '-i', clientId, '-t', options.topic, '-q', String(options.qos ?? 1),
    '-W', String(options.timeoutSeconds ?? 30), '-F', '%t %x', ...(options.count === undefined ? [] : ['-C', String(options.count)])]
  const child = spawn('mosquitto_sub', args, {stdio: ['ignore', 'pipe', 'pipe']})
  const received: ReceivedMessage[] = []
  const waiters = new Set<() => void>()
  let pending = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      const space = line.lastIndexOf(' ')
      received.push({topic: line.slice(0, space), payload: Buffer.from(line.slice(space + 1), 'hex')})
    }
    for (const waiter of waiters) waiter()
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  let stopping = false
  const exited = new Promise<[number | null]>((resolve, reject) => {
    child.once('close', (code: number | null) => resolve([code]))
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new Error('mosquitto_sub is not installed: install the Debian package mosquitto-clients') : error),
    )
  }).then(([code]) => {
    if (code !== 0 && !stopping) {
      throw new Error(`mosquitto_sub ${args.join(' ')} exited with ${code}${code === 27 ? ' (timed out)' : ''} after ${received.length} messages: ${stderr}`)
    }
    return received
  })
  // Keep an unobserved failure from failing the run; callers await `messages`.
  exited.catch(() => {})
  const escaped = options.topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const ready = Promise.race([broker.waitForLog(new RegExp(`: ${clientId} \\d ${escaped}$`)).then(() => undefined), exited.then(() => undefined)])
  const waitForCount = (count: number) =>
    Promise.race([
      exited.then(() => {
        if (received.length < count) throw new Error(`mosquitto_sub ended with ${received.length} of ${count} messages`)
        return received
      }),
      new Promise<ReceivedMessage[]>((resolve) => {
        const check = () => {
          if (received.length < count) return
          waiters.delete(check)
          resolve(received)
        }
        waiters.add(check)
        check()
      }),
    ])
  return {
    clientId,
    ready,
    received,
    messages: exited,
    waitForCount,
    stop: () => {
      stopping = true
      child.kill('SIGTERM')
      return exited
    },
  }
}

/** Publishes one message with mosquitto_pub. */
export async function mosquittoPub(broker: MosquittoBroker, options: {topic: string; message: string; qos?: 0 | 1}): Promise<void> {
  try {
    await run('mosquitto_pub', ['-h', broker.host, '-p', String(broker.plainPort), '-t', options.topic, '-q', String(options.qos ?? 1), '-m', options.message])
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('mosquitto_pub is not installed: install the Debian package mosquitto-clients', {cause: error})
    throw error
  }
}
