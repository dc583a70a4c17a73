// `msk acl` and doctor's ACL check on the stack: whose ACLs (the SCRAM users of
// the stack's AmazonMSK_ secrets), on which topic (the rule's), through which
// connection (the brokers as `msk consume` finds them, as the admin user of
// --admin-secret or else the stack's own user).
import {CheckFailed, InputError} from '../errors.ts'
import type {StepContext} from '../plan/types.ts'
import {secretNameOf} from '../secrets/names.ts'
import {readSecretValue} from '../secrets/store.ts'
import type {Cluster} from '@aws-sdk/client-kafka'
import {grantAcls, readGrants, wantedGrants, type AclAdmin, type AclGrantState, type AclPlanRequest, type AclResult} from './acl.ts'
import {associatedSecrets, clusterOf} from './clusters.ts'
import {lockDownCluster, type LockDownResult} from './configuration.ts'
import {kafkaConnectionOf, stackCredentials, type KafkaAccess} from './consume.ts'
import {openAdmin} from './kafka-client.ts'

/**
 * The stack's SCRAM users: the user of its AmazonMSK_ secret, and of every secret
 * associated with the cluster whose name starts with it (AmazonMSK_<stack>…, as
 * alternating users name theirs). Values are read, names kept, passwords dropped.
 */
export async function stackScramUsers(ctx: StepContext): Promise<string[]> {
  const users = [(await stackCredentials(ctx)).username]
  const cluster = await clusterOf(ctx)
  if (cluster?.ClusterArn) {
    const prefix = secretNameOf(ctx.settings)
    const sm = await ctx.accounts.msk.secrets()
    for (const arn of await associatedSecrets(await ctx.accounts.msk.kafka(), cluster.ClusterArn)) {
      // A secret ARN ends in <name>-<6 random characters>.
      const name = /:secret:(.+)-[A-Za-z0-9]{6}$/.exec(arn)?.[1] ?? ''
      if (!name.startsWith(prefix) || name === prefix) continue
      const value = await readSecretValue(sm, arn, `reading the value of ${name} (MSK account)`)
      if (value.credentials) users.push(value.credentials.username)
    }
  }
  return [...new Set(users)]
}

export interface MskAclOptions extends KafkaAccess {
  topic: string
  consumer?: {user: string; group: string}
  /** An AmazonMSK_ secret (name or ARN, MSK account) of a user allowed to administer ACLs; default: the stack's user. */
  adminSecret?: string
  /**
   * Then lock the cluster: grant the managing user what it needs on the cluster too, and
   * only once every grant is in place apply the configuration that denies without an ACL.
   */
  lockDown?: boolean
  /** Lines while waiting for the cluster to apply the configuration. */
  progress?: (message: string) => void
  dryRun: boolean
}

export type MskAclResult = AclResult & {producers: string[]; admin?: string; lockDown?: LockDownResult}

async function adminConnection(ctx: StepContext, options: KafkaAccess & {adminSecret?: string}) {
  const connection = await kafkaConnectionOf(ctx, options)
  if (!options.adminSecret) return connection
  const value = await readSecretValue(await ctx.accounts.msk.secrets(), options.adminSecret, `reading the value of ${options.adminSecret} (MSK account)`)
  if (!value.credentials) throw new InputError(`--admin-secret ${options.adminSecret}: the secret does not hold {"username","password"}`)
  return {...connection, credentials: value.credentials}
}

/**
 * `msk acl`: grants what is missing (nothing with dryRun) and says what it found. With
 * lockDown, the order is the point: every ACL (the managing user's on the cluster
 * included) is in place BEFORE the cluster is switched to allow.everyone.if.no.acl.found=false
 * — MSK has no super user a SCRAM client can be, so a cluster locked first cannot be granted.
 */
export async function mskAcl(ctx: StepContext, options: MskAclOptions): Promise<MskAclResult> {
  const cluster = options.lockDown ? await clusterOf(ctx) : undefined
  if (options.lockDown && !cluster?.ClusterArn) {
    throw new CheckFailed('--lock-down: the stack has no MSK cluster to lock down (`iotctl up --create-cluster`, or --cluster-arn)')
  }
  // Outside the runner: the stack's lease before the first change.
  if (options.lockDown && !options.dryRun) await ctx.lease?.hold()
  const producers = await stackScramUsers(ctx)
  const connection = await adminConnection(ctx, options)
  const opened = await openAdmin(connection)
  try {
    return await grantThenLockDown(ctx, opened.admin, {
      producers, topic: options.topic, ...(options.consumer ? {consumer: options.consumer} : {}),
      ...(cluster ? {admin: connection.credentials.username} : {}), brokers: opened.brokers, dryRun: options.dryRun,
    }, cluster, options.progress)
  } finally {
    await opened.close()
  }
}

/**
 * The two stages over an open admin connection: the grants, and only when every one is in
 * place (none DENIED, none failed: a failure throws before) the lock on `cluster`.
 */
export async function grantThenLockDown(ctx: StepContext, admin: AclAdmin, request: AclPlanRequest & {brokers: string; dryRun: boolean}, cluster?: Cluster, progress?: (message: string) => void): Promise<MskAclResult> {
  const granted = await grantAcls(admin, request)
  const result: MskAclResult = {...granted, producers: request.producers, ...(request.admin === undefined ? {} : {admin: request.admin})}
  // A DENY overriding a grant: locking would cut that user off; the command says which and exits 1.
  if (!cluster || granted.grants.some((g) => g.state === 'denied')) return result
  return {...result, lockDown: await lockDownCluster(ctx, cluster, {dryRun: request.dryRun, ...(progress ? {progress} : {})})}
}

/** doctor: which producer grants the stack's users have on the topic. */
export async function readStackAcls(ctx: StepContext, options: KafkaAccess & {topic: string; adminSecret?: string}): Promise<{brokers: string; grants: AclGrantState[]}> {
  const producers = await stackScramUsers(ctx)
  const connection = await adminConnection(ctx, options)
  const {admin, brokers, close} = await openAdmin(connection)
  try {
    return {brokers, grants: await readGrants(admin, wantedGrants({producers, topic: options.topic}), brokers)}
  } finally {
    await close()
  }
}
