// The local two-account AWS for integration tests and the demo: moto in server
// mode behind a stand-in that supplies the operations moto lacks. See README.md.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import {startMoto, type MotoServer} from './moto.ts'
import {createNetworkSide, type Network, type NetworkOptions} from './network.ts'
import {ACCOUNTS, ADMIN_ROLE, childEnvironment, writeProfiles} from './profiles.ts'
import type {Fault, LogEntry} from './request-log.ts'
import {StandIn, type StandInSettings} from './standin.ts'
import type {TunnelRegistry} from './tunnels.ts'
import {startKafka, type KafkaOptions, type LocalKafka} from '../kafka/index.ts'

export {ACCOUNTS, ADMIN_ROLE, BASE_KEYS, roleArn} from './profiles.ts'
export type {Fault, LogEntry} from './request-log.ts'
export type {Network, NetworkOptions, NetworkSide, NetworkSideOptions} from './network.ts'
export type {StandInSettings} from './standin.ts'
export type {LocalKafka, KafkaOptions} from '../kafka/index.ts'
export {TunnelRegistry, type TunnelAccess, type TunnelMode, type ConnectionStatus, type TunnelRecord} from './tunnels.ts'

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')

export type ProfileName = 'base' | 'msk' | 'iot'

export interface LocalAwsOptions extends Partial<StandInSettings> {
  /** The virtualenv with moto[server] (default <repo>/.venv, made by scripts/setup-test-deps.sh). */
  venv?: string
  region?: string
  /** Where to write the AWS config and credentials files (default: a new temporary folder, removed by stop()). */
  dir?: string
  /** Create role iotctl-admin (trusting the base account) in both accounts, as an organisation would have. Default true. */
  seedAdminRoles?: boolean
  /** Start the real Kafka broker behind every MSK cluster (a JVM: opt-in). See msk-kafka.ts. */
  kafka?: boolean | KafkaOptions
}

export interface ClientConfig {
  region: string
  endpoint: string
  credentials: AwsCredentialIdentityProvider
}

export interface LocalAws {
  /** The stand-in: the single AWS_ENDPOINT_URL. */
  endpoint: string
  motoUrl: string
  /** moto's process id (leader of its own process group). */
  motoPid: number
  region: string
  /** The emulated IoT data endpoint (MQTT over mTLS and over WebSocket on one TLS port); caFile is the local CA. */
  iotData: {host: string; port: number; caFile: string}
  accounts: typeof ACCOUNTS
  profiles: {base: 'base'; msk: 'msk'; iot: 'iot'}
  dir: string
  configFile: string
  credentialsFile: string
  /** Only the AWS_* variables a child needs. */
  env: Record<string, string>
  /** A whole environment for a child process: the parent's without any AWS_* variable, plus `env`, plus `extra`. */
  childEnv(extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv
  /** SDK client configuration for a profile, resolved through the same files (role_arn included). */
  clientConfig(profile: ProfileName): ClientConfig
  log(): LogEntry[]
  resetLog(): void
  mutatingRequests(): LogEntry[]
  /** Resolves with the n-th mutating request since the last resetLog(), once its answer is sent. */
  waitForMutating(n: number, timeoutMs?: number): Promise<LogEntry>
  /** Requests arriving after the n-th mutating one wait unanswered until release() (or resetLog()). */
  holdAfterMutating(n: number): void
  release(): void
  injectFault(fault: Fault): void
  clearFaults(): void
  tunnels: TunnelRegistry
  /** Live settings: change them at any time. */
  settings: StandInSettings
  standIn: StandIn
  createNetwork(options?: NetworkOptions): Promise<Network>
  /** The broker behind every MSK cluster, with startLocalAws({kafka: true}). */
  kafka?: LocalKafka
  /** An MSK broker name (b-1.<cluster>….amazonaws.com:9096) → the local broker's localhost:<port>; anything else unchanged. */
  resolveBroker(hostPort: string): string
  /**
   * Settles when moto has built its EC2, IoT, Kafka, KMS and Secrets Manager
   * backends for both accounts (started in the background by startLocalAws and
   * reset: the first EC2 call otherwise takes one to two seconds). Never rejects.
   */
  readonly warmedUp: Promise<void>
  /** Empties moto and the stand-in (log, faults, destinations, SCRAM, tunnels) and seeds the admin roles again. */
  reset(): Promise<void>
  stop(): Promise<void>
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const region = options.region ?? 'us-east-1'
  const venv = options.venv ?? join(REPO_ROOT, '.venv')
  const ownDir = options.dir === undefined
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'iotctl-local-aws-'))
  const files = writeProfiles(dir, region)

  let moto: MotoServer | undefined
  let standIn: StandIn | undefined
  let kafka: LocalKafka | undefined
  // A parent that dies without stop() still removes the folder (moto.ts kills moto).
  const removeDir = (): void => {
    if (ownDir) rmSync(dir, {recursive: true, force: true})
  }
  process.once('exit', removeDir)
  const cleanup = async (): Promise<void> => {
    await standIn?.close()
    await Promise.all([moto?.stop(), kafka?.stop()])
    removeDir()
    process.removeListener('exit', removeDir)
  }
  try {
    // The JVM takes seconds to start: in parallel with moto.
    const kafkaStarting = options.kafka ? startKafka(options.kafka === true ? {} : options.kafka) : undefined
    kafkaStarting?.catch(() => undefined)
    try {
      moto = await startMoto({venv})
    } finally {
      kafka = await kafkaStarting
    }
    const seed = async (): Promise<void> => {
      if (options.seedAdminRoles === false) return
      await Promise.all([seedAdminRole(standIn!, ACCOUNTS.msk, region), seedAdminRole(standIn!, ACCOUNTS.iot, region)])
    }
    const resetAll = async (): Promise<void> => {
      await standIn!.msk.kafka.clear()
      await standIn!.moto.call({service: 'moto-api', account: ACCOUNTS.base, region, method: 'POST', path: '/moto-api/reset'})
      await seed()
    }
    standIn = new StandIn({
      // LOCAL_AWS_STRICT_POLICIES=false runs a whole suite without policy strictness (policy/ in README.md).
      strictPolicies: process.env.LOCAL_AWS_STRICT_POLICIES !== 'false',
      ...options,
      motoUrl: moto.url,
      venv,
      region,
      iotDataDir: join(dir, 'iot-data'),
      onReset: resetAll,
    })
    standIn.msk.kafka.attach(kafka)
    const endpoint = await standIn.start()
    await seed()
    let warmedUp = warmUp(standIn, region)

    const env: Record<string, string> = {
      AWS_CONFIG_FILE: files.configFile,
      AWS_SHARED_CREDENTIALS_FILE: files.credentialsFile,
      AWS_ENDPOINT_URL: endpoint,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...standIn.iotData.env,
    }
    const configs = new Map<ProfileName, ClientConfig>()
    const clientConfig = (profile: ProfileName): ClientConfig => {
      let config = configs.get(profile)
      if (!config) {
        config = {region, endpoint, credentials: lazyIni(profile, files.credentialsFile, files.configFile, region, endpoint)}
        configs.set(profile, config)
      }
      return config
    }
    const si = standIn
    let stopped: Promise<void> | undefined
    return {
      endpoint,
      motoUrl: moto.url,
      motoPid: moto.pid,
      region,
      iotData: {host: si.iotData.host, port: si.iotData.port, caFile: si.iotData.caFile},
      accounts: ACCOUNTS,
      profiles: {base: 'base', msk: 'msk', iot: 'iot'},
      dir,
      configFile: files.configFile,
      credentialsFile: files.credentialsFile,
      env,
      childEnv: (extra) => childEnvironment(env, process.env, extra),
      clientConfig,
      log: () => si.log.entries(),
      resetLog: () => si.log.reset(),
      mutatingRequests: () => si.log.mutating(),
      waitForMutating: (n, timeoutMs) => si.log.waitForMutating(n, timeoutMs),
      holdAfterMutating: (n) => si.log.holdAfterMutating(n),
      release: () => si.log.release(),
      injectFault: (fault) => si.faults.add(fault),
      clearFaults: () => si.faults.clear(),
      tunnels: si.tunnels,
      settings: si.settings,
      standIn: si,
      createNetwork: (networkOptions) => createNetwork(clientConfig, region, networkOptions),
      kafka,
      resolveBroker: (hostPort) => si.msk.kafka.resolveBroker(hostPort),
      get warmedUp() {
        return warmedUp
      },
      reset: async () => {
        si.reset()
        await resetAll()
        warmedUp = warmUp(si, region)
      },
      stop: () => (stopped ??= cleanup()),
    }
  } catch (error) {
    await cleanup()
    throw error
  }
}

/**
 * fromIni, imported on first use so that importing this module loads no SDK.
 * fromIni's own role assumer builds its STS client from the region alone (it
 * ignores clientConfig.endpoint), so in-process the AssumeRole call is made
 * here against the stand-in; a child process gets the same through AWS_ENDPOINT_URL.
 */
function lazyIni(profile: string, filepath: string, configFilepath: string, region: string, endpoint: string): AwsCredentialIdentityProvider {
  let provider: Promise<AwsCredentialIdentityProvider> | undefined
  return async (props) => {
    provider ??= Promise.all([import('@aws-sdk/credential-providers'), import('@aws-sdk/client-sts')]).then(([{fromIni}, {STSClient, AssumeRoleCommand}]) =>
      fromIni({
        profile,
        filepath,
        configFilepath,
        clientConfig: {region},
        roleAssumer: async (sourceCredentials, params) => {
          const sts = new STSClient({region, endpoint, credentials: sourceCredentials})
          try {
            const {Credentials: c, AssumedRoleUser: user} = await sts.send(new AssumeRoleCommand(params))
            if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole ${params.RoleArn} returned no credentials`)
            return {
              accessKeyId: c.AccessKeyId,
              secretAccessKey: c.SecretAccessKey,
              sessionToken: c.SessionToken,
              expiration: c.Expiration,
              accountId: user?.Arn?.split(':')[4],
            }
          } finally {
            sts.destroy()
          }
        },
      }),
    )
    return (await provider)(props)
  }
}

/** Builds moto's per-account backends ahead of the first test's call. */
function warmUp(standIn: StandIn, region: string): Promise<void> {
  const calls = [ACCOUNTS.msk, ACCOUNTS.iot].flatMap((account) => [
    standIn.moto.query('ec2', account, region, {Action: 'DescribeVpcs', Version: '2016-11-15'}),
    standIn.moto.rest('iot', 'GET', '/rules', account, region),
    standIn.moto.rest('kafka', 'GET', '/v1/clusters', account, region),
    standIn.moto.json('kms', 'TrentService.ListKeys', account, region, {}),
    standIn.moto.json('secretsmanager', 'secretsmanager.ListSecrets', account, region, {}),
    // The IoT account's lease table (iotctl's first change in a run).
    standIn.moto.json('dynamodb', 'DynamoDB_20120810.ListTables', account, region, {}),
  ])
  return Promise.allSettled(calls).then(() => undefined)
}

async function seedAdminRole(standIn: StandIn, account: string, region: string): Promise<void> {
  const trust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {AWS: `arn:aws:iam::${ACCOUNTS.base}:root`}, Action: 'sts:AssumeRole'}],
  })
  const created = await standIn.moto.query('iam', account, region, {
    Action: 'CreateRole',
    Version: '2010-05-08',
    RoleName: ADMIN_ROLE,
    AssumeRolePolicyDocument: trust,
  })
  if (created.status !== 200 && !created.body.toString().includes('EntityAlreadyExists')) {
    throw new Error(`seeding ${ADMIN_ROLE} in ${account} failed: ${created.status} ${created.body.toString().slice(0, 300)}`)
  }
  await standIn.moto.query('iam', account, region, {
    Action: 'AttachRolePolicy',
    Version: '2010-05-08',
    RoleName: ADMIN_ROLE,
    PolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess',
  })
}

async function createNetwork(clientConfig: (profile: ProfileName) => ClientConfig, region: string, options: NetworkOptions = {}): Promise<Network> {
  const {EC2Client} = await import('@aws-sdk/client-ec2')
  const name = options.name ?? 'iotctl-test'
  const mskEc2 = new EC2Client(clientConfig('msk'))
  const iotEc2 = new EC2Client(clientConfig('iot'))
  try {
    const [msk, iot] = await Promise.all([
      createNetworkSide(mskEc2, ACCOUNTS.msk, `${name}-msk`, {cidr: '10.10.0.0/16', securityGroupName: 'msk-brokers', ...options.msk}, region),
      createNetworkSide(iotEc2, ACCOUNTS.iot, `${name}-iot`, {cidr: '10.20.0.0/16', securityGroupName: 'iot-destination', ...options.iot}, region),
    ])
    return {msk, iot}
  } finally {
    mskEc2.destroy()
    iotEc2.destroy()
  }
}
