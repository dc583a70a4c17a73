// The IoT API calls behind test devices: create (thing, policy, keys and
// certificate, attachments), find the stack's own (by the thing attribute, the
// policy tag, and what hangs on them), and delete in the order AWS demands:
// a certificate must be INACTIVE and detached from policies and things before
// DeleteCertificate; a policy detached from every target (and without
// non-default versions) before DeletePolicy; a thing without principals before DeleteThing.
import type {IoTClient} from '@aws-sdk/client-iot'
import * as iotapi from '../aws/iot.ts'
import {awsErrorCode, isNotFound, toAwsError} from '../errors.ts'
import {hasStackTag, stackTags, type Tag} from '../plan/tags.ts'
import {certificatesAttribute, devicePolicyPrefix, stackAttribute} from './policy.ts'

export interface ExistingThing {
  thingName: string
  thingArn?: string
  attributes: Record<string, string>
}

export async function describeThing(iot: IoTClient, thingName: string): Promise<ExistingThing | undefined> {
  try {
    const answer = await iotapi.describeThing(iot, {thingName})
    return {thingName, thingArn: answer.thingArn, attributes: answer.attributes ?? {}}
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading thing ${thingName}`, error)
  }
}

export async function createThing(iot: IoTClient, thingName: string, stack: string): Promise<string> {
  const answer = await iotapi.createThing(iot, {thingName, attributePayload: {attributes: {[stackAttribute]: stack}}}, `creating thing ${thingName}`)
  return answer.thingArn!
}

export interface ExistingPolicy {
  policyName: string
  policyArn: string
  document: string
  tags: Tag[]
}

export async function getPolicy(iot: IoTClient, policyName: string): Promise<ExistingPolicy | undefined> {
  try {
    const answer = await iotapi.getPolicy(iot, {policyName})
    const policyArn = answer.policyArn!
    return {policyName, policyArn, document: answer.policyDocument ?? '', tags: await policyTags(iot, policyArn)}
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading policy ${policyName}`, error)
  }
}

async function policyTags(iot: IoTClient, resourceArn: string): Promise<Tag[]> {
  return iotapi.listAllTagsForResource(iot, resourceArn, `listing the tags of ${resourceArn}`)
}

export async function createPolicy(iot: IoTClient, policyName: string, document: object, stack: string): Promise<string> {
  const answer = await iotapi.createPolicy(iot, {policyName, policyDocument: JSON.stringify(document), tags: stackTags(stack)}, `creating policy ${policyName}`)
  return answer.policyArn!
}

export interface NewCertificate {
  certificateId: string
  certificateArn: string
  certificatePem: string
  /** Returned once by AWS; written to the key file and nowhere else. */
  privateKey: string
}

export async function createKeysAndCertificate(iot: IoTClient): Promise<NewCertificate> {
  const answer = await iotapi.createKeysAndCertificate(iot, {setAsActive: true}, 'creating keys and certificate')
  return {
    certificateId: answer.certificateId!,
    certificateArn: answer.certificateArn!,
    certificatePem: answer.certificatePem!,
    privateKey: answer.keyPair!.PrivateKey!,
  }
}

export async function attachPolicy(iot: IoTClient, policyName: string, target: string): Promise<void> {
  await iotapi.attachPolicy(iot, {policyName, target}, `attaching policy ${policyName} to ${target}`)
}

export async function attachThingPrincipal(iot: IoTClient, thingName: string, principal: string): Promise<void> {
  await iotapi.attachThingPrincipal(iot, {thingName, principal}, `attaching ${principal} to thing ${thingName}`)
}

// ---- discovery (cleanup) ----

/** Things carrying the stack's attribute, with their attributes (the certificate marks among them). */
export async function stackThings(iot: IoTClient, stack: string): Promise<{thingName: string; attributes: Record<string, string>}[]> {
  const things = await iotapi.listAllThingsWithAttribute(iot, stackAttribute, stack, 'listing the stack\'s things')
  // ListThings filters on the attribute; checked again so that only an exact match counts.
  return things.filter((t) => t.thingName && t.attributes?.[stackAttribute] === stack).map((t) => ({thingName: t.thingName!, attributes: t.attributes ?? {}}))
}

/** Records a certificate iotctl made on the thing it is for (the construction mark cleanup checks). */
export async function markCertificate(iot: IoTClient, thingName: string, marks: string[]): Promise<void> {
  await iotapi.updateThing(iot, {thingName, attributePayload: {attributes: {[certificatesAttribute]: marks.join(',')}, merge: true}}, `marking the certificate on thing ${thingName}`)
}

/** Device policies carrying the stack's tag (names with the stack's prefix, then the tag checked). */
export async function stackPolicies(iot: IoTClient, stack: string): Promise<{policyName: string; policyArn: string}[]> {
  const prefix = devicePolicyPrefix(stack)
  const candidates: {policyName: string; policyArn: string}[] = []
  for (const p of await iotapi.listAllPolicies(iot, 'listing policies')) {
    if (p.policyName?.startsWith(prefix)) candidates.push({policyName: p.policyName, policyArn: p.policyArn!})
  }
  const owned: {policyName: string; policyArn: string}[] = []
  for (const candidate of candidates) {
    try {
      if (hasStackTag(await policyTags(iot, candidate.policyArn), stack)) owned.push(candidate)
    } catch (error) {
      // Deleted between the listing and the tag read.
      if (!isNotFound(error)) throw error
    }
  }
  return owned
}

export async function policyTargets(iot: IoTClient, policyName: string): Promise<string[]> {
  return iotapi.listAllTargetsForPolicy(iot, policyName, `listing the targets of policy ${policyName}`)
}

export async function thingPrincipals(iot: IoTClient, thingName: string): Promise<string[]> {
  return iotapi.listAllThingPrincipals(iot, thingName, `listing the principals of thing ${thingName}`)
}

/** The certificate's ARN, or undefined when it does not exist. */
export async function certificateArn(iot: IoTClient, certificateId: string): Promise<string | undefined> {
  try {
    return (await iotapi.describeCertificate(iot, {certificateId})).certificateDescription?.certificateArn
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw toAwsError(`reading certificate ${certificateId}`, error)
  }
}

/** `arn:aws:iot:…:cert/<id>` → `<id>`; undefined for other principals. */
export function certificateIdOf(arn: string): string | undefined {
  return /:cert\/([0-9a-f]{64})$/.exec(arn)?.[1]
}

// ---- deletion ----

export interface DeleteOptions {
  /** Called between retries; throws Interrupted on Ctrl-C. */
  checkpoint?: () => void
  /** Waits between retries of detach-then-delete (default 1 s). */
  retryDelayMs?: number
}

/**
 * Detaching is eventually consistent on AWS ("DetachThingPrincipal … is an
 * asynchronous operation"): a delete right after it may still see the attachment
 * (DeleteConflictException, InvalidRequestException "still attached"). Retry for a while.
 */
async function retryWhileAttached<T>(call: () => Promise<T>, options: DeleteOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const code = awsErrorCode(error)
      const attached = code === 'DeleteConflictException' || (code === 'InvalidRequestException' && /attached/i.test((error as Error).message))
      if (!attached || attempt >= 15) throw error
      await new Promise((resolve) => setTimeout(resolve, options.retryDelayMs ?? 1000))
      options.checkpoint?.()
    }
  }
}

/** INACTIVE, detached from its policies and things, deleted. NotFound propagates (deleteEach counts it as done). */
export async function deleteCertificate(iot: IoTClient, certificateId: string, certificateArn: string, options: DeleteOptions = {}): Promise<void> {
  await iotapi.updateCertificate(iot, {certificateId, newStatus: 'INACTIVE'})
  for (const policy of await iotapi.listAllAttachedPolicies(iot, certificateArn)) {
    await ignoreNotFound(() => iotapi.detachPolicy(iot, {policyName: policy.policyName, target: certificateArn}))
  }
  for (const thingName of await iotapi.listAllPrincipalThings(iot, certificateArn)) {
    await ignoreNotFound(() => iotapi.detachThingPrincipal(iot, {thingName, principal: certificateArn}))
  }
  await retryWhileAttached(() => iotapi.deleteCertificate(iot, {certificateId}), options)
}

/** Detached from every target, non-default versions deleted, then deleted. */
export async function deletePolicy(iot: IoTClient, policyName: string, options: DeleteOptions = {}): Promise<void> {
  for (const target of await policyTargets(iot, policyName)) {
    await ignoreNotFound(() => iotapi.detachPolicy(iot, {policyName, target}))
  }
  const versions = await iotapi.listPolicyVersions(iot, {policyName})
  for (const version of versions.policyVersions ?? []) {
    if (!version.isDefaultVersion) await ignoreNotFound(() => iotapi.deletePolicyVersion(iot, {policyName, policyVersionId: version.versionId}))
  }
  await retryWhileAttached(() => iotapi.deletePolicy(iot, {policyName}), options)
}

/** Detached from its principals, then deleted. */
export async function deleteThing(iot: IoTClient, thingName: string, options: DeleteOptions = {}): Promise<void> {
  for (const principal of await iotapi.listAllThingPrincipals(iot, thingName)) {
    await ignoreNotFound(() => iotapi.detachThingPrincipal(iot, {thingName, principal}))
  }
  await retryWhileAttached(() => iotapi.deleteThing(iot, {thingName}), options)
}

async function ignoreNotFound(call: () => Promise<unknown>): Promise<void> {
  try {
    await call()
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
}
