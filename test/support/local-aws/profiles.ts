// The two accounts reached the way organisations reach them: a base profile
// with static keys (moto's default account) and role_arn profiles that assume
// an admin role in the MSK account and in the IoT account.
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export const ACCOUNTS = {base: '123456789012', msk: '111111111111', iot: '222222222222'} as const
export const ADMIN_ROLE = 'iotctl-admin'
export const BASE_KEYS = {accessKeyId: 'AKIAIOTCTLLOCALTEST1', secretAccessKey: 'iotctl-local-test-secret-key-not-a-secret'}

export interface ProfileFiles {
  dir: string
  configFile: string
  credentialsFile: string
  profiles: {base: string; msk: string; iot: string}
}

export function roleArn(account: string): string {
  return `arn:aws:iam::${account}:role/${ADMIN_ROLE}`
}

export function writeProfiles(dir: string, region: string): ProfileFiles {
  mkdirSync(dir, {recursive: true, mode: 0o700})
  const configFile = join(dir, 'config')
  const credentialsFile = join(dir, 'credentials')
  const roleProfile = (name: 'msk' | 'iot'): string =>
    [`[profile ${name}]`, `role_arn = ${roleArn(ACCOUNTS[name])}`, 'source_profile = base', `role_session_name = iotctl-test-${name}`, `region = ${region}`, ''].join('\n')
  writeFileSync(configFile, [`[profile base]`, `region = ${region}`, '', roleProfile('msk'), roleProfile('iot')].join('\n'), {mode: 0o600})
  writeFileSync(
    credentialsFile,
    ['[base]', `aws_access_key_id = ${BASE_KEYS.accessKeyId}`, `aws_secret_access_key = ${BASE_KEYS.secretAccessKey}`, ''].join('\n'),
    {mode: 0o600},
  )
  return {dir, configFile, credentialsFile, profiles: {base: 'base', msk: 'msk', iot: 'iot'}}
}

/**
 * The environment a child process (the CLI, as a user would run it) gets: the
 * parent's environment without any AWS_* variable, plus the profile files and
 * the stand-in endpoint.
 */
export function childEnvironment(aws: Record<string, string>, base: NodeJS.ProcessEnv = process.env, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(base)) {
    if (!key.toUpperCase().startsWith('AWS_')) env[key] = value
  }
  return {...env, ...aws, ...extra}
}
