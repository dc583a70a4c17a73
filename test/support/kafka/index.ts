// One real Apache Kafka 4.x broker for the tests and the demo: KRaft, broker and
// controller in one JVM, a SASL_SSL listener (SCRAM-SHA-512, TLS from a test CA)
// on 127.0.0.1 advertised as localhost:<port>, a PLAINTEXT controller listener on
// loopback, MSK's `auto.create.topics.enable=false`. The jars come from
// scripts/setup-test-deps.sh (.cache/kafka/<version>/libs). See README.md of local-aws.
import {randomBytes} from 'node:crypto'
import {accessSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {createTestPki} from '../mosquitto/pki.ts'
import {freePort, killGroup, spawnOwned} from '../local-aws/moto.ts'
import {KafkaAdmin, type TopicDescription, type TopicSettings} from './admin.ts'

export type {TopicDescription, TopicSettings} from './admin.ts'
export {KafkaTopicError} from './admin.ts'

/** Kept in step with scripts/setup-test-deps.sh and pom.xml. */
export const KAFKA_VERSION = '4.1.2'
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

export interface KafkaTlsFiles {
  /** The CA that signed certFile (what clients trust). */
  caFile: string
  /** Server certificate (SAN DNS:localhost, IP:127.0.0.1), PEM. */
  certFile: string
  /** Its unencrypted PKCS#8 private key, PEM. */
  keyFile: string
}

export interface KafkaOptions {
  /** Server certificate and CA; default: a throw-away test CA made in the broker's folder. */
  tls?: KafkaTlsFiles
  /** Where the broker keeps its configuration and logs (default: a new temporary folder, removed by stop()). */
  dir?: string
  /** The folder of jars (default <repo>/.cache/kafka/<KAFKA_VERSION>/libs). */
  libs?: string
  /** JVM heap ceiling (-Xmx). Default 256m. */
  heap?: string
  /** Extra JVM options, after the defaults. */
  jvmOptions?: string[]
  /** Kafka's allow.everyone.if.no.acl.found (StandardAuthorizer). Default true: ACLs are opt-in. */
  allowEveryoneIfNoAclFound?: boolean
  startTimeoutMs?: number
}

export interface LocalKafka {
  /** `localhost:<port>`: the SASL_SSL listener (SCRAM-SHA-512). */
  bootstrap: string
  port: number
  /** The CA (PEM) clients must trust. */
  caFile: string
  /** The super user the stand-in administers the broker with. */
  admin: {username: string; password: string}
  /** The JVM's process id (leader of its own process group). */
  pid: number
  dir: string
  version: string
  /** Milliseconds from startKafka() to a broker that answers authenticated requests. */
  startupMs: number
  /** Creates or changes a SCRAM-SHA-512 user; resolves once the broker accepts the password. */
  upsertScramUser(username: string, password: string): Promise<void>
  /** Removes a SCRAM user (no-op when absent); resolves once the broker refuses it. */
  deleteScramUser(username: string): Promise<void>
  /** Whether a SASL_SSL login with these credentials succeeds now. */
  canAuthenticate(username: string, password: string): Promise<boolean>
  createTopic(name: string, settings?: TopicSettings): Promise<void>
  deleteTopic(name: string): Promise<void>
  /** Topic names, Kafka's internal topics left out. */
  listTopics(): Promise<string[]>
  /** undefined when the topic does not exist. */
  describeTopic(name: string): Promise<TopicDescription | undefined>
  /**
   * allow.everyone.if.no.acl.found on the running broker (the stand-in sets false
   * while a cluster whose MSK configuration says so exists). Kafka reads the setting
   * only at start, so this narrows a broker started with `true` by ACLs of the super
   * user on every resource (admin.ts): the same decisions for every other principal.
   */
  setAllowEveryoneIfNoAclFound(allow: boolean): Promise<void>
  /** Connection options for a @platformatic/kafka client (Producer, Consumer, Admin) as that user. */
  clientOptions(username?: string, password?: string): KafkaClientOptions
  /** The JVM's resident set size, in bytes (0 once stopped). */
  rssBytes(): number
  /** The broker's recent log output (warnings and errors). */
  logTail(): string
  stop(): Promise<void>
}

export interface KafkaClientOptions {
  bootstrapBrokers: string[]
  tls: {ca: string}
  sasl: {mechanism: 'SCRAM-SHA-512'; username: string; password: string}
}

const STARTED = 'Kafka Server started'

export async function startKafka(options: KafkaOptions = {}): Promise<LocalKafka> {
  const started = Date.now()
  const libs = options.libs ?? join(REPO_ROOT, '.cache', 'kafka', KAFKA_VERSION, 'libs')
  if (!existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`)) && options.libs === undefined) {
    throw new Error(`${libs} holds no Kafka ${KAFKA_VERSION} jars: run scripts/setup-test-deps.sh`)
  }
  const java = findJava()
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'iotctl-kafka-'))
  const removeDir = (): void => {
    if (ownDir) rmSync(dir, {recursive: true, force: true})
  }
  process.once('exit', removeDir)

  let admin: KafkaAdmin | undefined
  let child: ReturnType<typeof spawnOwned> | undefined
  let output = ''
  const kill = async (): Promise<void> => {
    await admin?.close()
    if (child?.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()))
      child.ref()
      // Nothing in the broker is worth a clean shutdown: its data lives in a throw-away folder.
      killGroup(child, 'SIGKILL')
      await exited
    }
  }
  try {
    const tls = options.tls ?? (await ownPki(dir))
    const keystore = join(dir, 'keystore.pem')
    // A PEM keystore holds the private key and the certificate chain (KIP-651).
    writeFileSync(keystore, readFileSync(tls.keyFile, 'utf8').trimEnd() + '\n' + readFileSync(tls.certFile, 'utf8'), {mode: 0o600})
    const jvm = [
      `-Xmx${options.heap ?? '256m'}`,
      '-Xms32m',
      '-Xss512k',
      '-XX:+UseSerialGC',
      // C1 only: a much quicker start on a busy machine; plenty for test traffic.
      '-XX:TieredStopAtLevel=1',
      '-XX:+ExitOnOutOfMemoryError',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${writeLog4j(dir)}`,
      ...(options.jvmOptions ?? []),
      '-cp',
      join(libs, '*'),
    ]
    // Formatting costs a JVM start of its own (~2 CPU-seconds): done once per Kafka
    // version into .cache, then copied (the jars of options.libs: every time).
    const storage = options.libs === undefined ? await storageTemplate(java, jvm) : await formatStorage(java, jvm, join(dir, 'storage'))
    const adminUser = storage.admin

    let lastError: Error | undefined
    for (let attempt = 0; attempt < 3; attempt++) {
      const [port, controllerPort] = await twoFreePorts()
      const dataDir = join(dir, `data-${attempt}`)
      const config = join(dir, 'server.properties')
      writeFileSync(
        config,
        serverProperties({port, controllerPort, dataDir, keystore, truststore: tls.caFile, admin: adminUser, allowEveryone: options.allowEveryoneIfNoAclFound ?? true}),
        {mode: 0o600},
      )
      cpSync(storage.dataDir, dataDir, {recursive: true})
      output = ''
      const broker = spawnOwned(java, [...jvm, 'kafka.Kafka', config], {env: javaEnv()})
      child = broker
      const up = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), options.startTimeoutMs ?? 90_000)
        const collect = (chunk: Buffer): void => {
          output = (output + chunk.toString('utf8')).slice(-16_000)
          if (output.includes(STARTED)) {
            clearTimeout(timer)
            resolve(true)
          }
        }
        broker.stdout!.on('data', collect)
        broker.stderr!.on('data', collect)
        broker.once('exit', () => {
          clearTimeout(timer)
          resolve(false)
        })
      })
      // Keep reading (a full pipe would stall the broker), but let the parent exit.
      broker.unref()
      ;(broker.stdout as unknown as {unref?: () => void}).unref?.()
      ;(broker.stderr as unknown as {unref?: () => void}).unref?.()
      if (up) {
        admin = new KafkaAdmin(`localhost:${port}`, readFileSync(tls.caFile, 'utf8'), adminUser)
        await admin.waitUntilReady(30_000)
        const startupMs = Date.now() - started
        let stopping: Promise<void> | undefined
        const pid = broker.pid!
        const localAdmin = admin
        return {
          bootstrap: `localhost:${port}`,
          port,
          caFile: tls.caFile,
          admin: adminUser,
          pid,
          dir,
          version: KAFKA_VERSION,
          startupMs,
          upsertScramUser: (username, password) => localAdmin.upsertScramUser(username, password),
          deleteScramUser: (username) => localAdmin.deleteScramUser(username),
          canAuthenticate: (username, password) => localAdmin.canAuthenticate(username, password),
          createTopic: (name, settings) => localAdmin.createTopic(name, settings),
          deleteTopic: (name) => localAdmin.deleteTopic(name),
          listTopics: () => localAdmin.listTopics(),
          describeTopic: (name) => localAdmin.describeTopic(name),
          setAllowEveryoneIfNoAclFound: async (allow) => {
            if (options.allowEveryoneIfNoAclFound === false) {
              if (allow) throw new Error('this broker was started with allow.everyone.if.no.acl.found=false; it cannot be opened at run time')
              return
            }
            await localAdmin.setAllowEveryoneIfNoAclFound(allow)
          },
          clientOptions: (username = adminUser.username, password = adminUser.password) => ({
            bootstrapBrokers: [`localhost:${port}`],
            tls: {ca: readFileSync(tls.caFile, 'utf8')},
            sasl: {mechanism: 'SCRAM-SHA-512', username, password},
          }),
          rssBytes: () => rss(pid),
          logTail: () => output,
          stop: () =>
            (stopping ??= (async () => {
              await kill()
              removeDir()
              process.removeListener('exit', removeDir)
            })()),
        }
      }
      await kill()
      lastError = new Error(`Kafka did not start on 127.0.0.1:${port}:\n${output.trim().slice(-4000)}`)
      if (!/Address already in use|BindException/i.test(output)) break
    }
    throw lastError ?? new Error('Kafka did not start')
  } catch (error) {
    await kill()
    removeDir()
    process.removeListener('exit', removeDir)
    throw error
  }
}

interface ServerConfig {
  port: number
  controllerPort: number
  dataDir: string
  keystore: string
  truststore: string
  admin: {username: string; password: string}
  allowEveryone: boolean
}

function serverProperties(c: ServerConfig): string {
  const jaas = `org.apache.kafka.common.security.scram.ScramLoginModule required username="${c.admin.username}" password="${c.admin.password}";`
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${c.controllerPort}`,
    `listeners=SASL_SSL://127.0.0.1:${c.port},CONTROLLER://127.0.0.1:${c.controllerPort}`,
    `advertised.listeners=SASL_SSL://localhost:${c.port}`,
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_SSL',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=${jaas}`,
    // KIP-651: PEM files, no keytool. The truststore serves the broker's own inter-broker client.
    'ssl.keystore.type=PEM',
    `ssl.keystore.location=${c.keystore}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${c.truststore}`,
    // The authorizer is on so a test can lock the broker down with ACLs. The
    // controller listener is PLAINTEXT on loopback: the broker reaches it as
    // User:ANONYMOUS, which must stay a super user once ACLs deny by default.
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    `super.users=User:${c.admin.username};User:ANONYMOUS`,
    `allow.everyone.if.no.acl.found=${c.allowEveryone}`,
    // MSK's default configuration (MSK developer guide, "Default Amazon MSK configuration").
    'auto.create.topics.enable=false',
    'num.partitions=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Fewer threads for a broker that serves a test.
    'num.network.threads=2',
    'num.io.threads=2',
    'background.threads=2',
    'num.recovery.threads.per.data.dir=1',
    'log.flush.interval.messages=9223372036854775807',
    `log.dirs=${c.dataDir}`,
    '',
  ].join('\n')
}

function writeLog4j(dir: string): string {
  const file = join(dir, 'log4j2.properties')
  writeFileSync(
    file,
    [
      'status = error',
      'appender.out.type = Console',
      'appender.out.name = OUT',
      'appender.out.layout.type = PatternLayout',
      'appender.out.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = WARN',
      'rootLogger.appenderRef.out.ref = OUT',
      // The one INFO line that says the broker is up.
      'logger.started.name = kafka.server.KafkaRaftServer',
      'logger.started.level = INFO',
      '',
    ].join('\n'),
  )
  return file
}

interface FormattedStorage {
  /** A formatted log directory (meta.properties, bootstrap.checkpoint) to copy. */
  dataDir: string
  admin: {username: string; password: string}
}

/**
 * Formats a log directory with `kafka-storage format`. The admin's SCRAM
 * credential goes into the bootstrap metadata (KIP-900), so the broker's own
 * inter-broker login works from the first second. Ports play no part in it.
 */
async function formatStorage(java: string, jvm: string[], dir: string): Promise<FormattedStorage> {
  const admin = {username: 'iotctl-local-admin', password: randomBytes(18).toString('base64url')}
  const dataDir = join(dir, 'data')
  mkdirSync(dir, {recursive: true})
  const config = join(dir, 'format.properties')
  writeFileSync(config, ['process.roles=broker,controller', 'node.id=1', 'controller.quorum.voters=1@127.0.0.1:9093',
    'controller.listener.names=CONTROLLER', 'listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT', `log.dirs=${dataDir}`, ''].join('\n'))
  await runToEnd(java, [...jvm, 'kafka.tools.StorageTool', 'format', '--config', config, '--cluster-id', clusterId(),
    '--add-scram', `SCRAM-SHA-512=[name=${admin.username},password=${admin.password}]`])
  writeFileSync(join(dir, 'admin.json'), JSON.stringify(admin), {mode: 0o600})
  return {dataDir, admin}
}

/** The formatted storage of .cache/kafka/<version>/storage, made once (first writer wins the rename). */
async function storageTemplate(java: string, jvm: string[]): Promise<FormattedStorage> {
  const home = join(REPO_ROOT, '.cache', 'kafka', KAFKA_VERSION)
  const template = join(home, 'storage')
  const read = (): FormattedStorage | undefined => {
    try {
      return {dataDir: join(template, 'data'), admin: JSON.parse(readFileSync(join(template, 'admin.json'), 'utf8'))}
    } catch {
      return undefined
    }
  }
  const ready = read()
  if (ready) return ready
  const staging = mkdtempSync(join(home, 'storage.tmp-'))
  try {
    await formatStorage(java, jvm, staging)
    try {
      renameSync(staging, template)
    } catch {
      // Another process made it meanwhile: use theirs.
    }
  } finally {
    rmSync(staging, {recursive: true, force: true})
  }
  const made = read()
  if (!made) throw new Error(`could not make the formatted Kafka storage in ${template}`)
  return made
}

async function ownPki(dir: string): Promise<KafkaTlsFiles> {
  const pki = await createTestPki(dir)
  return {caFile: pki.ca, certFile: pki.serverCert, keyFile: pki.serverKey}
}

/** A KRaft cluster id: 16 random bytes, base64url without padding (Kafka's Uuid). */
function clusterId(): string {
  return randomBytes(16).toString('base64url')
}

async function twoFreePorts(): Promise<[number, number]> {
  const a = await freePort()
  let b = await freePort()
  while (b === a) b = await freePort()
  return [a, b]
}

function findJava(): string {
  const candidates = [process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined, ...(process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'java'))]
  for (const candidate of candidates) {
    if (!candidate) continue
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  throw new Error('java is not installed: run scripts/setup-test-deps.sh (Debian openjdk-17-jre-headless)')
}

/** The JVM reads KAFKA_* and JAVA_TOOL_OPTIONS variables: give it none of the parent's. */
function javaEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('KAFKA_') && name !== 'JAVA_TOOL_OPTIONS' && name !== '_JAVA_OPTIONS' && name !== 'JDK_JAVA_OPTIONS') env[name] = value
  }
  return env
}

function runToEnd(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawnOwned(command, args, {env: javaEnv()})
    let output = ''
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000)
    }
    child.stdout!.on('data', collect)
    child.stderr!.on('data', collect)
    child.once('error', reject)
    child.once('exit', (code, signal) => {
      if (code === 0) resolve()
      else reject(new Error(`${args.includes('kafka.tools.StorageTool') ? 'kafka-storage format' : command} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`))
    })
  })
}

function rss(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
    return kb ? Number(kb) * 1024 : 0
  } catch {
    return 0
  }
}
