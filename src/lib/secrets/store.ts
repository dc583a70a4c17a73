// Secrets Manager look-ups shared by the secret steps, `secret rotate` and the
// SCRAM association: by name, by ARN, by the stack's tags, and the value.
import type {DescribeSecretResponse, SecretsManagerClient} from '@aws-sdk/client-secrets-manager'
import * as secretsapi from '../aws/secrets.ts'
import {isNotFound, toAwsError} from '../errors.ts'
import {hasStackTag, stackTagKey} from '../plan/tags.ts'
import {ScramCredentials} from './credentials.ts'

export type SecretDescription = DescribeSecretResponse

/** DescribeSecret by name or ARN; undefined when there is none (a secret scheduled for deletion is described, with DeletedDate). */
export async function describeSecret(sm: SecretsManagerClient, secretId: string, step: string): Promise<SecretDescription | undefined> {
  try {
    return await secretsapi.describeSecret(sm, {SecretId: secretId})
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(step, error)
  }
}

export function isStackSecret(secret: SecretDescription | undefined, stack: string): boolean {
  return hasStackTag(secret?.Tags, stack)
}

export function isScheduledForDeletion(secret: SecretDescription | undefined): boolean {
  return secret?.DeletedDate !== undefined
}

/** The stack's secrets found by tag (ListSecrets filters by tag key and value separately; the pair is checked here). */
export async function listStackSecrets(sm: SecretsManagerClient, stack: string, step: string): Promise<SecretDescription[]> {
  const filters = [{Key: 'tag-key' as const, Values: [stackTagKey]}, {Key: 'tag-value' as const, Values: [stack]}]
  return (await secretsapi.listAllSecrets(sm, filters, step)).filter((s) => hasStackTag(s.Tags, stack))
}

export interface SecretValue {
  /** Undefined when the value is not {"username","password"}. */
  credentials?: ScramCredentials
  versionId: string
}

/** The AWSCURRENT SecretString, as stored (for putting it back; never printed). */
export async function readSecretString(sm: SecretsManagerClient, secretId: string, step: string): Promise<{secretString?: string; versionId: string}> {
  const answer = await secretsapi.getSecretValue(sm, {SecretId: secretId, VersionStage: 'AWSCURRENT'}, step)
  return {secretString: answer.SecretString, versionId: answer.VersionId ?? ''}
}

/** The AWSCURRENT value of a secret as credentials. */
export async function readSecretValue(sm: SecretsManagerClient, secretId: string, step: string): Promise<SecretValue> {
  const {secretString, versionId} = await readSecretString(sm, secretId, step)
  return {credentials: ScramCredentials.parse(secretString), versionId}
}

/** The id of the version that carries AWSCURRENT. */
export function currentVersionOf(secret: SecretDescription): string | undefined {
  return Object.entries(secret.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0]
}

/**
 * True when the secret is encrypted with the given key. DescribeSecret reports
 * the KmsKeyId as it was given (an ARN, a key id or an alias); none means the
 * AWS managed aws/secretsmanager key, which MSK refuses.
 */
export function encryptedWith(secret: SecretDescription, key: {id: string; arn?: string; alias?: string}): boolean {
  const kmsKeyId = secret.KmsKeyId
  if (!kmsKeyId) return false
  return kmsKeyId === key.id || kmsKeyId === key.arn || kmsKeyId.endsWith(`:key/${key.id}`) ||
    (key.alias !== undefined && key.alias !== '' && (kmsKeyId === key.alias || kmsKeyId.endsWith(`:${key.alias}`)))
}
