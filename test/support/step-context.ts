// A StepContext for unit and request-level tests: fake account handles that
// hand out the given (usually aws-sdk-client-mock'ed) client instances.
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {AwsAccount} from '../../src/lib/aws/account.ts'
import {Interrupted} from '../../src/lib/errors.ts'
import {Facts} from '../../src/lib/plan/facts.ts'
import {Ledger} from '../../src/lib/plan/ledger.ts'
import type {StackSettings, StepContext} from '../../src/lib/plan/types.ts'

export interface FakeAccount {
  accountId: string
  region?: string
  profile?: string
  clients?: Record<string, unknown>
}

export function fakeAccount(account: FakeAccount): AwsAccount {
  const client = (name: string) => async () => {
    const c = account.clients?.[name]
    if (!c) throw new Error(`test did not provide a ${name} client`)
    return c
  }
  return {
    profile: account.profile,
    region: account.region ?? 'us-east-1',
    label: `profile ${account.profile ?? 'default'}`,
    ec2: client('ec2'), iam: client('iam'), iot: client('iot'), kafka: client('kafka'), kms: client('kms'),
    secrets: client('secrets'), sts: client('sts'), tunneling: client('tunneling'),
    identity: async () => ({accountId: account.accountId, arn: `arn:aws:sts::${account.accountId}:assumed-role/admin/test`}),
    credentials: async () => async () => ({accessKeyId: 'AKIDTEST', secretAccessKey: 'secret'}),
  } as unknown as AwsAccount
}

export function testContext(options: {settings: Partial<StackSettings>; iot: FakeAccount; msk: FakeAccount; abort?: AbortSignal; stateDirectory?: string}): StepContext {
  const settings = {stack: 'test', ...options.settings} as StackSettings
  const stateDirectory = options.stateDirectory ?? join(mkdtempSync(join(tmpdir(), 'iotctl-ctx-')), '.iotctl')
  return {
    stack: settings.stack,
    settings,
    accounts: {iot: fakeAccount(options.iot), msk: fakeAccount(options.msk)},
    identities: {
      iot: {accountId: options.iot.accountId, arn: `arn:aws:sts::${options.iot.accountId}:assumed-role/admin/test`},
      msk: {accountId: options.msk.accountId, arn: `arn:aws:sts::${options.msk.accountId}:assumed-role/admin/test`},
    },
    ledger: Ledger.open(stateDirectory, settings.stack),
    facts: new Facts(),
    outputs: new Map(),
    progress: () => {},
    checkpoint() {
      if (options.abort?.aborted) throw new Interrupted('interrupted')
    },
    options: {},
  }
}
