// The one place that builds AWS clients (STYLE.md §3). Credentials, regions and
// endpoints come from the SDK's standard chain: shared config files with
// role_arn/source_profile or SSO, environment variables, AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE>. SDK modules are imported lazily so that
// `iotctl --version` and `--help` load none of them.
import type {DynamoDBClient} from '@aws-sdk/client-dynamodb'
import type {EC2Client} from '@aws-sdk/client-ec2'
import type {IAMClient} from '@aws-sdk/client-iam'
import type {IoTClient} from '@aws-sdk/client-iot'
import type {IoTSecureTunnelingClient} from '@aws-sdk/client-iotsecuretunneling'
import type {KafkaClient} from '@aws-sdk/client-kafka'
import type {KMSClient} from '@aws-sdk/client-kms'
import type {LambdaClient} from '@aws-sdk/client-lambda'
import type {SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import type {STSClient} from '@aws-sdk/client-sts'
import type {AwsCredentialIdentityProvider} from '@smithy/types'
import {InputError, toAwsError} from '../errors.ts'
import {resolveRegion} from './profiles.ts'
import * as stsapi from './sts.ts'

/** Which of the walkthrough's two accounts a handle speaks for. */
export type AccountRole = 'iot' | 'msk'

export interface AccountOptions {
  /** A profile of ~/.aws/config; undefined means the SDK's default chain. */
  profile?: string
  /** Overrides the profile's region. */
  region?: string
}

export interface CallerIdentity {
  accountId: string
  arn: string
}

const userAgent: [string, string][] = [['iotctl', '0.1.0']]

/**
 * One AWS account as reached through one profile: lazily built, cached clients
 * sharing one credentials provider (so a role_arn profile assumes its role once).
 */
export class AwsAccount {
  readonly profile: string | undefined
  readonly region: string
  readonly #credentials: Promise<AwsCredentialIdentityProvider>
  readonly #clients = new Map<string, Promise<unknown>>()
  #identity?: Promise<CallerIdentity>

  /** Checks the profile and region (InputError when unknown) and builds the handle. */
  static async open(options: AccountOptions): Promise<AwsAccount> {
    return new AwsAccount(options.profile, await resolveRegion(options.profile, options.region))
  }

  private constructor(profile: string | undefined, region: string) {
    this.profile = profile
    this.region = region
    this.#credentials = import('@aws-sdk/credential-providers').then(({fromNodeProviderChain}) =>
      fromNodeProviderChain({profile: this.profile, clientConfig: {region: this.region}}),
    )
  }

  /** A label for messages: the profile name, or "default credentials". */
  get label(): string {
    return this.profile ? `profile ${this.profile}` : 'default credentials'
  }

  async #client<T>(name: string, build: (config: ClientConfig) => Promise<T>): Promise<T> {
    let client = this.#clients.get(name) as Promise<T> | undefined
    if (!client) {
      client = this.#credentials.then((credentials) =>
        build({region: this.region, credentials, customUserAgent: userAgent}),
      )
      this.#clients.set(name, client)
    }
    return client
  }

  dynamodb(): Promise<DynamoDBClient> {
    return this.#client('dynamodb', async (c) => new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient(c))
  }

  ec2(): Promise<EC2Client> {
    return this.#client('ec2', async (c) => new (await import('@aws-sdk/client-ec2')).EC2Client(c))
  }

  iam(): Promise<IAMClient> {
    return this.#client('iam', async (c) => new (await import('@aws-sdk/client-iam')).IAMClient(c))
  }

  iot(): Promise<IoTClient> {
    return this.#client('iot', async (c) => new (await import('@aws-sdk/client-iot')).IoTClient(c))
  }

  kafka(): Promise<KafkaClient> {
    return this.#client('kafka', async (c) => new (await import('@aws-sdk/client-kafka')).KafkaClient(c))
  }

  kms(): Promise<KMSClient> {
    return this.#client('kms', async (c) => new (await import('@aws-sdk/client-kms')).KMSClient(c))
  }

  lambda(): Promise<LambdaClient> {
    return this.#client('lambda', async (c) => new (await import('@aws-sdk/client-lambda')).LambdaClient(c))
  }

  secrets(): Promise<SecretsManagerClient> {
    return this.#client('secrets', async (c) => new (await import('@aws-sdk/client-secrets-manager')).SecretsManagerClient(c))
  }

  sts(): Promise<STSClient> {
    return this.#client('sts', async (c) => new (await import('@aws-sdk/client-sts')).STSClient(c))
  }

  tunneling(): Promise<IoTSecureTunnelingClient> {
    return this.#client('tunneling', async (c) => new (await import('@aws-sdk/client-iotsecuretunneling')).IoTSecureTunnelingClient(c))
  }

  /** The credentials provider, for code that signs requests itself (MQTT over WebSocket). */
  credentials(): Promise<AwsCredentialIdentityProvider> {
    return this.#credentials
  }

  /**
   * Who these credentials are (STS GetCallerIdentity, once). A profile whose
   * credentials cannot be resolved is bad configuration: exit 2, before any change.
   */
  identity(): Promise<CallerIdentity> {
    this.#identity ??= this.#resolveIdentity()
    return this.#identity
  }

  async #resolveIdentity(): Promise<CallerIdentity> {
    const sts = await this.sts()
    try {
      const answer = await stsapi.getCallerIdentity(sts, {})
      return {accountId: answer.Account ?? '', arn: answer.Arn ?? ''}
    } catch (error) {
      const name = (error as Error).name
      if (name === 'CredentialsProviderError' || name === 'ProviderError') {
        throw new InputError(`${this.label}: no usable AWS credentials (${(error as Error).message.split('\n')[0]})`)
      }
      const unknownRegion = unknownRegionReason(error, this.region)
      if (unknownRegion) throw new InputError(`region '${this.region}' (${this.label}): AWS has no such region (${unknownRegion})`)
      throw toAwsError(`resolving ${this.label} (sts:GetCallerIdentity)`, error)
    }
  }
}

/**
 * Why a failed call says the region does not exist, or undefined. On AWS the
 * regional endpoint of a region that does not exist does not resolve; an
 * endpoint that does answer (a global or custom one) refuses the credential
 * scope with SignatureDoesNotMatch "Credential should be scoped to a valid region".
 */
export function unknownRegionReason(error: unknown, region: string): string | undefined {
  const e = error as {message?: string; code?: string; hostname?: string}
  const refused = /Credential should be scoped to a valid region[^\n]*/i.exec(e.message ?? '')
  if (refused) return refused[0].trim()
  if (e.code === 'ENOTFOUND' && e.hostname?.includes(`.${region}.`)) return `${e.hostname} does not resolve`
  return undefined
}

interface ClientConfig {
  region: string
  credentials: AwsCredentialIdentityProvider
  customUserAgent: [string, string][]
}

/** The two accounts of the walkthrough. */
export interface Accounts {
  iot: AwsAccount
  msk: AwsAccount
}
