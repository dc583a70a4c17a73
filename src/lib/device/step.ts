// The `devices` step: the test things, certificates and policies of
// `device create`. `up` does not make devices; cleanup finds the stack's own —
// things by their `iotctl_stack` attribute, policies by their tag, certificates
// attached to either (or recorded in the ledger) — and deletes certificates,
// then policies, then things.
import {recordBase} from '../plan/context.ts'
import {deleteEach} from '../plan/delete.ts'
import type {ResourceRecord, FoundStep, StepContext} from '../plan/types.ts'
import {
  certificateExists, certificateIdOf, deleteCertificate, deletePolicy, deleteThing,
  policyTargets, stackPolicies, stackThings, thingPrincipals,
} from './api.ts'
import {partitionOfArn} from './policy.ts'

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

export const devicesStep: FoundStep = {
  id: DEVICES_STEP,
  title: 'Test devices (things, certificates, policies)',
  account: 'iot',
  async read(ctx) {
    const iot = await ctx.accounts.iot.iot()
    const base = recordBase(ctx, 'iot')
    ctx.progress('listing the stack\'s things and device policies')
    const [things, policies] = await Promise.all([stackThings(iot, ctx.stack), stackPolicies(iot, ctx.stack)])
    const certificates = new Map<string, ResourceRecord>()
    const addCertificate = (arn: string, thing?: string) => {
      const id = certificateIdOf(arn)
      if (id && !certificates.has(id)) certificates.set(id, certificateRecord(base, id, arn, thing))
    }
    for (const policy of policies) for (const target of await policyTargets(iot, policy.policyName)) addCertificate(target)
    for (const thing of things) for (const principal of await thingPrincipals(iot, thing)) addCertificate(principal, thing)
    // A certificate made by an interrupted run before anything was attached to it: the ledger knows it.
    for (const record of ctx.ledger.forStep(DEVICES_STEP)) {
      if (record.kind === CERTIFICATE_KIND && !certificates.has(record.id) && (await certificateExists(iot, record.id))) certificates.set(record.id, {...record, ...base})
    }
    return {
      resources: [
        ...certificates.values(),
        ...policies.map((p) => policyRecord(base, p.policyName, p.policyArn)),
        ...things.map((name) => thingRecord(base, name)),
      ],
      missing: [],
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

function certificateArnOf(ctx: StepContext, record: ResourceRecord): string {
  return `arn:${partitionOfArn(ctx.identities.iot.arn)}:iot:${record.region}:${record.accountId}:cert/${record.id}`
}
