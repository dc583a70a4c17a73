// IAM is eventually consistent: for some seconds after CreateRole, AWS IoT
// cannot assume the new role ("AWS IoT (iot.amazonaws.com) is unable to assume
// role (sts:AssumeRole) on resource: … If the role was just created or updated,
// please try again in a few seconds.", InvalidRequestException) and KMS refuses
// a key policy naming it ("invalid principals", MalformedPolicyDocumentException).
// Those specific refusals are retried with backoff for a bounded time.
import {waitFor} from '../aws/wait.ts'
import {awsErrorCode} from '../errors.ts'

/** IoT's refusal of a role it cannot assume yet (CreateTopicRule, CreateTopicRuleDestination, ReplaceTopicRule). */
export function isRoleNotUsableYet(error: unknown): boolean {
  return awsErrorCode(error) === 'InvalidRequestException' && /unable to assume role|cannot assume|assume role|try again in a few seconds/i.test((error as Error).message ?? '')
}

/** KMS's refusal of a key policy whose principal IAM has not propagated yet. */
export function isPrincipalNotKnownYet(error: unknown): boolean {
  return awsErrorCode(error) === 'MalformedPolicyDocumentException' && /principal/i.test((error as Error).message ?? '')
}

export interface PropagationOptions {
  /** Which refusals mean "not yet". */
  transient: (error: unknown) => boolean
  /** For the progress line: "IAM to let AWS IoT assume iotctl-demo-iot-to-msk". */
  what: string
  timeoutSeconds?: number
  progress?: (message: string) => void
  checkpoint?: () => void
}

/** Calls `call` until it stops failing with a transient refusal, or the time is up (then the last refusal is thrown). */
export async function retryWhileIamPropagates<T>(call: () => Promise<T>, options: PropagationOptions): Promise<T> {
  let last: {error: unknown} | undefined
  try {
    const answer = await waitFor(async () => {
      try {
        return {value: await call()}
      } catch (error) {
        if (!options.transient(error)) throw error
        last = {error}
        return undefined
      }
    }, {what: options.what, timeoutSeconds: options.timeoutSeconds ?? 120, intervalMs: 2000, maxIntervalMs: 10_000, progress: options.progress, checkpoint: options.checkpoint})
    return answer.value
  } catch (error) {
    // A timeout says what AWS kept answering, not only that time ran out.
    if (last !== undefined && (error as Error).name === 'CheckFailed') throw last.error
    throw error
  }
}
