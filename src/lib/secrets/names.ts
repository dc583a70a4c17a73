// Names and values of step 2 of the walkthrough, checked before any AWS call
// so that bad input is exit 2 with one line naming it (DESIGN.md, "Exit codes").
import {randomInt} from 'node:crypto'
import {InputError} from '../errors.ts'
import type {StackSettings} from '../plan/types.ts'
import {stackPrefix} from '../config/stack-names.ts'

/** MSK only associates secrets whose name starts with this (MSK developer guide, "SASL/SCRAM authentication"). */
export const mskSecretPrefix = 'AmazonMSK_'
export const defaultUsername = 'iotctl'

/** The stack's secret name: `--name` / secret.name, else `AmazonMSK_<stack>`. */
export function secretNameOf(settings: StackSettings): string {
  return settings.secret?.name ?? `${mskSecretPrefix}${settings.stack}`
}

/** The alias of the stack's key in each account: `--key-alias` / secret.keyAlias, else `alias/iotctl-<stack>` (the stack alone when it starts with iotctl). */
export function keyAliasOf(settings: StackSettings): string {
  return settings.secret?.keyAlias ?? `alias/${stackPrefix(settings.stack)}`
}

export function usernameOf(settings: StackSettings): string {
  return settings.secret?.username ?? defaultUsername
}

/**
 * Alternating users (Secrets Manager, "Rotation strategy: alternating users",
 * https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotation-strategy.html):
 * the stack owns two SCRAM users, each with its own AmazonMSK_ secret in both accounts.
 * Slot a is the secret a one-secret stack already has (so upgrading renames nothing),
 * slot b its alternate, `<name>_b` for user `<username>_b`.
 */
export type SecretSlot = 'a' | 'b'
export const secretSlots: readonly SecretSlot[] = ['a', 'b']
export const alternateSuffix = '_b'

export function slotSecretName(settings: StackSettings, slot: SecretSlot): string {
  return slot === 'a' ? secretNameOf(settings) : `${secretNameOf(settings)}${alternateSuffix}`
}

export function slotUsername(settings: StackSettings, slot: SecretSlot): string {
  return slot === 'a' ? usernameOf(settings) : `${usernameOf(settings)}${alternateSuffix}`
}

/** The other user of the pair. */
export function otherSlot(slot: SecretSlot): SecretSlot {
  return slot === 'a' ? 'b' : 'a'
}

// Secrets Manager names: 1–512 of letters, digits and /_+=.@- (CreateSecret, "Name").
const secretNamePattern = /^[A-Za-z0-9/_+=.@-]{1,512}$/

export function checkSecretName(name: string): void {
  if (!name.startsWith(mskSecretPrefix)) {
    throw new InputError(`--name '${name}': MSK only uses secrets whose name starts with ${mskSecretPrefix} (e.g. ${mskSecretPrefix}${name.replace(/[^A-Za-z0-9/_+=.@-]/g, '') || 'iotctl'})`)
  }
  if (name === mskSecretPrefix) throw new InputError(`--name '${name}': add a name after the ${mskSecretPrefix} prefix`)
  if (!secretNamePattern.test(name)) {
    throw new InputError(`--name '${name}': Secrets Manager names allow only letters, digits and / _ + = . @ - (at most 512 characters)`)
  }
}

const defaultSecretsManagerKey = /^(?:alias\/)?aws\/secretsmanager$|:alias\/aws\/secretsmanager$/

// KMS alias names: alias/ followed by letters, digits, / _ - (CreateAlias, "AliasName"); alias/aws/ is reserved.
const aliasPattern = /^alias\/[A-Za-z0-9/_-]{1,250}$/

export function checkKeyAlias(alias: string): void {
  if (defaultSecretsManagerKey.test(alias)) {
    throw new InputError(`--key-alias ${alias}: MSK rejects secrets encrypted with the default aws/secretsmanager key; name an alias for a customer-managed key instead (e.g. alias/iotctl-msk)`)
  }
  if (!alias.startsWith('alias/')) throw new InputError(`--key-alias '${alias}': a KMS alias starts with alias/ (e.g. alias/${alias.replace(/[^A-Za-z0-9/_-]/g, '') || 'iotctl-msk'})`)
  if (alias.startsWith('alias/aws/')) throw new InputError(`--key-alias ${alias}: alias/aws/ is reserved for AWS managed keys; MSK needs a customer-managed key`)
  if (!aliasPattern.test(alias)) throw new InputError(`--key-alias '${alias}': KMS aliases allow only letters, digits and / _ - after alias/ (at most 256 characters)`)
}

// SCRAM usernames travel inside the SASL exchange, where ',' and '=' must be escaped
// (RFC 5802 §5.1); keeping to a plain alphabet avoids clients that get this wrong.
const usernamePattern = /^[A-Za-z0-9._@+-]{1,128}$/

export function checkUsername(username: string): void {
  if (!usernamePattern.test(username)) {
    throw new InputError(`--username '${username}': use 1–128 letters, digits and . _ @ + - (SASL/SCRAM usernames cannot carry , or = unescaped)`)
  }
}

/** Checks a password given on stdin; says what is wrong without ever echoing it. */
export function checkPassword(password: string): void {
  if (password.length === 0) throw new InputError('--password-stdin: the password read from stdin is empty')
  if (password.length > 4096) throw new InputError('--password-stdin: the password read from stdin is longer than 4096 characters')
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\u0000-\u001f\u007f]/.test(password)) throw new InputError('--password-stdin: the password read from stdin contains control characters (only one trailing newline is removed)')
}

/** Every setting of step 2 at once, in the order a user reads the flags. */
export function checkSecretSettings(settings: StackSettings): void {
  checkSecretName(secretNameOf(settings))
  // The alternate's name and user are longer by their suffix: they must fit too.
  if (slotSecretName(settings, 'b').length > 512) throw new InputError(`--name '${secretNameOf(settings)}': at most ${512 - alternateSuffix.length} characters, so that its alternate ${alternateSuffix} fits Secrets Manager's 512`)
  checkKeyAlias(keyAliasOf(settings))
  checkUsername(usernameOf(settings))
  if (slotUsername(settings, 'b').length > 128) throw new InputError(`--username '${usernameOf(settings)}': at most ${128 - alternateSuffix.length} characters, so that the alternate user ${alternateSuffix} fits`)
}

const passwordAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/**
 * A new SCRAM password from the operating system's CSPRNG (crypto.randomInt is
 * unbiased): 32 characters of a 62-letter alphabet, about 190 bits.
 */
export function generatePassword(length = 32): string {
  let password = ''
  for (let i = 0; i < length; i++) password += passwordAlphabet[randomInt(passwordAlphabet.length)]
  return password
}
