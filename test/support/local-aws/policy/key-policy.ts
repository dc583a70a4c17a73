// KMS key policies (CreateKey's Policy, PutKeyPolicy) naming an IAM role or
// user that does not exist: KMS refuses them with
// MalformedPolicyDocumentException "Policy contains a statement with one or
// more invalid principals." (KMS API reference, PutKeyPolicy). moto accepts
// any principal. Account roots, account ids, `*`, service principals and
// assumed-role sessions are valid; roles and users are looked up in moto's IAM
// of the account the ARN names (both accounts live in the same moto).
import {AwsServiceError} from '../aws-errors.ts'
import {relay, type CallContext, type Handler} from '../context.ts'
import type {MotoClient} from '../moto-client.ts'
import {iamPrincipalExists, parseDocument} from './documents.ts'

export const INVALID_PRINCIPALS = 'Policy contains a statement with one or more invalid principals.'

const list = (value: unknown): unknown[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/** The AWS principals of a policy's statements (Principal.AWS and NotPrincipal.AWS). */
export function awsPrincipals(document: unknown): string[] {
  const statements = list((document as {Statement?: unknown} | undefined)?.Statement)
  return statements.flatMap((statement) => {
    const s = statement as {Principal?: unknown; NotPrincipal?: unknown} | undefined
    return [s?.Principal, s?.NotPrincipal].flatMap((p) => (p && typeof p === 'object' ? list((p as {AWS?: unknown}).AWS) : [])).map(String)
  })
}

/** The principals of the policy that name no existing IAM role or user. */
export async function invalidPrincipals(moto: MotoClient, policyText: string): Promise<string[]> {
  const document = parseDocument(policyText)
  if (!document) return []
  const invalid: string[] = []
  for (const principal of new Set(awsPrincipals(document))) {
    if (principal === '*' || /^\d{12}$/.test(principal)) continue
    if (/^arn:aws[\w-]*:iam::\d{12}:root$/.test(principal)) continue
    if (/^arn:aws[\w-]*:sts::\d{12}:(assumed-role|federated-user)\//.test(principal)) continue
    if (/^arn:aws[\w-]*:iam::\d{12}:(role|user)\//.test(principal)) {
      if (!(await iamPrincipalExists(moto, principal))) invalid.push(principal)
      continue
    }
    invalid.push(principal)
  }
  return invalid
}

/** CreateKey / PutKeyPolicy: refuse a policy naming principals that do not exist, else pass on. */
export function keyPolicyHandler(settings: {strictPolicies: boolean}, next?: Handler): Handler {
  return async (c: CallContext) => {
    if (settings.strictPolicies && typeof c.input.Policy === 'string') {
      const invalid = await invalidPrincipals(c.moto, c.input.Policy)
      if (invalid.length) throw new AwsServiceError('MalformedPolicyDocumentException', 400, INVALID_PRINCIPALS)
    }
    return next ? next(c) : relay(await c.forward())
  }
}
