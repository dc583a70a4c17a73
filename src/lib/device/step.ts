// The `devices` step: the test things, certificates and policies of
// `device create`. `up` does not make devices; cleanup finds the stack's own —
// things by their `iotctl_stack` attribute, policies by their tag, certificates
// by the `iotctl_certs` mark on the stack's things (or a ledger record confirmed
// by ARN and attachment) — and deletes certificates, then policies, then things.
// Any other certificate hanging on the stack's things or policies is left in
// place: deleting the thing and the policy only detaches it.
import {recordBase} from '../plan/context.ts'
import {deleteEach} from '../plan/delete.ts'
import type {FoundStep, LeftInPlace, ResourceRecord, StepContext} from '../plan/types.ts'
import {
  certificateArn, certificateIdOf, deleteCertificate, deletePolicy, deleteThing,
  policyTargets, stackPolicies, stackThings, thingPrincipals,
} from './api.ts'
import {certificateMarks, partitionOfArn} from './policy.ts'

export const DEVICES_STEP = 'devices'
export const THING_KIND = 'iot:thing'
export const CERTIFICATE_KIND = 'iot:certificate'
export const POLICY_KIND = 'iot:policy'

type Base = Omit<ResourceRecord, 'step' | 'kind' | 'id'>

export function thingRecord(base: Base, thingName: string): ResourceRecord {
  return {step: DEVICES_STEP, kind: THING_KIND, id: thingName, ...base}
}

export function policyRecord(base: Base, policyName: string, policyArn: string): ResourceRecord {
  return {step: DEVICES_STEP, kind: POLICY_KIND, id: policyName, ...base, attrs: {arn: policyArn}}
}

export function certificateRecord(base: Base, certificateId: string, certificateArn: string, thingName?: string): ResourceRecord {
  return {step: DEVICES_STEP, kind: CERTIFICATE_KIND, id: certificateId, ...base, attrs: {arn: certificateArn, ...(thingName ? {thing: thingName} : {})}}
}

interface FoundCertificate {
  arn: string
  /** The stack's things and policies it is attached to. */
  things: string[]
  policies: string[]
}

export const devicesStep: FoundStep = {
  id: DEVICES_STEP,
  title: 'Test devices (things, certificates, policies)',
  account: 'iot',
  async read(ctx) {
    const iot = await ctx.accounts.iot.iot()
    const base = recordBase(ctx, 'iot')
    ctx.progress('listing the stack\'s things and device policies')
    const [things, policies] = await Promise.all([stackThings(iot, ctx.stack), stackPolicies(iot, ctx.stack)])
    // Every certificate hanging on the stack's things and policies; only those the stack made are deleted.
    const found = new Map<string, FoundCertificate>()
    const hanging = (arn: string): FoundCertificate | undefined => {
      const id = certificateIdOf(arn)
      if (!id) return undefined
      const entry = found.get(id) ?? {arn, things: [], policies: []}
      found.set(id, entry)
      return entry
    }
    for (const policy of policies) for (const target of await policyTargets(iot, policy.policyName)) hanging(target)?.policies.push(policy.policyName)
    for (const thing of things) for (const principal of await thingPrincipals(iot, thing.thingName)) hanging(principal)?.things.push(thing.thingName)

    // Made by the stack: marked on one of its things by `device create` (survives a lost
    // ledger), or recorded in the ledger with the same ARN and hanging on the stack's
    // thing or policy. A ledger entry alone proves nothing (certificates take no tags).
    const marked = new Map<string, string>()
    for (const thing of things) for (const id of certificateMarks(thing.attributes)) marked.set(id, thing.thingName)
    const recorded = new Map(ctx.ledger.forStep(DEVICES_STEP).filter((r) => r.kind === CERTIFICATE_KIND).map((r) => [r.id, r]))
    const certificates: ResourceRecord[] = []
    const leftInPlace: LeftInPlace[] = []
    for (const [id, certificate] of found) {
      const ledgerArn = recorded.get(id)?.attrs?.arn
      if (marked.has(id) || (ledgerArn !== undefined && ledgerArn === certificate.arn)) {
        certificates.push(certificateRecord(base, id, certificate.arn, certificate.things[0] ?? marked.get(id)))
      } else {
        leftInPlace.push({kind: CERTIFICATE_KIND, id, account: 'iot', reason: `not created by stack '${ctx.stack}': only detached from ${attachments(certificate)}, never deactivated or deleted`})
      }
    }
    // Marked but attached to nothing of the stack's (a run interrupted between the mark and the attachments).
    for (const [id, thingName] of marked) {
      if (found.has(id)) continue
      const arn = await certificateArn(iot, id)
      if (arn) certificates.push(certificateRecord(base, id, arn, thingName))
    }
    for (const [id, record] of recorded) {
      if (found.has(id) || marked.has(id) || !(await certificateArn(iot, id))) continue
      leftInPlace.push({kind: CERTIFICATE_KIND, id, account: 'iot', reason: `named by the ledger but neither marked on nor attached to the stack's things or policies${record.attrs?.thing ? ` (the ledger says thing ${record.attrs.thing})` : ''}, so nothing confirms stack '${ctx.stack}' made it: not deleted`})
    }
    return {
      resources: [
        ...certificates,
        ...policies.map((p) => policyRecord(base, p.policyName, p.policyArn)),
        ...things.map((t) => thingRecord(base, t.thingName)),
      ],
      missing: [],
      ...(leftInPlace.length > 0 ? {leftInPlace} : {}),
    }
  },
  async delete(ctx, resources) {
    const iot = await ctx.accounts.iot.iot()
    const options = {checkpoint: () => ctx.checkpoint()}
    const ofKind = (kind: string) => resources.filter((r) => r.kind === kind)
    await deleteEach(ctx, ofKind(CERTIFICATE_KIND), {what: (r) => `deleting certificate ${r.id}`}, async (record) => {
      ctx.progress(`deactivating, detaching and deleting certificate ${record.id}`)
      await deleteCertificate(iot, record.id, record.attrs?.arn ?? certificateArnOf(ctx, record), options)
    })
    await deleteEach(ctx, ofKind(POLICY_KIND), {what: (r) => `deleting policy ${r.id}`}, async (record) => {
      ctx.progress(`detaching and deleting policy ${record.id}`)
      await deletePolicy(iot, record.id, options)
    })
    await deleteEach(ctx, ofKind(THING_KIND), {what: (r) => `deleting thing ${r.id}`}, async (record) => {
      ctx.progress(`deleting thing ${record.id}`)
      await deleteThing(iot, record.id, options)
    })
  },
}

function attachments(certificate: FoundCertificate): string {
  const things = certificate.things.map((t) => `thing ${t}`)
  const policies = certificate.policies.map((p) => `policy ${p}`)
  return [...things, ...policies].join(' and ')
}

function certificateArnOf(ctx: StepContext, record: ResourceRecord): string {
  return `arn:${partitionOfArn(ctx.identities.iot.arn)}:iot:${record.region}:${record.accountId}:cert/${record.id}`
}
