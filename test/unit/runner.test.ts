import assert from 'node:assert/strict'
import {test} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {factKey} from '../../src/lib/plan/facts.ts'
import {applySteps, destroySteps} from '../../src/lib/plan/runner.ts'
import type {ResourceRecord, Step, StepContext} from '../../src/lib/plan/types.ts'
import {testContext} from '../support/step-context.ts'

const made = (id: string) => factKey<string>(`test.${id}`)

/** A step over an in-memory "cloud", recording the calls made; `needs` names the steps it needs. */
function memoryStep(id: string, cloud: Set<string>, calls: string[], options: {invalid?: boolean; optional?: boolean; needs?: string[]} = {}): Step {
  const record = (ctx: StepContext): ResourceRecord => ({step: id, kind: 'test:thing', id, account: 'iot', accountId: ctx.identities.iot.accountId, region: 'us-east-1'})
  return {
    id,
    needs: (options.needs ?? []).map(made),
    provides: [made(id)],
    title: `thing ${id}`,
    account: 'iot',
    cleanupByDefault: options.optional ? false : undefined,
    async validate() {
      calls.push(`validate ${id}`)
      if (options.invalid) throw new InputError(`--${id} is wrong`)
    },
    async read(ctx) {
      calls.push(`read ${id}`)
      return cloud.has(id) ? {resources: [record(ctx)], missing: []} : {resources: [], missing: [`create ${id}`]}
    },
    async create(ctx) {
      calls.push(`create ${id}`)
      cloud.add(id)
      ctx.checkpoint()
      return [record(ctx)]
    },
    async delete(_ctx, resources) {
      calls.push(`delete ${resources.map((r) => r.id).join(',')}`)
      cloud.delete(id)
    },
  }
}

const accounts = {iot: {accountId: '222222222222'}, msk: {accountId: '111111111111'}}

/** Steps each needing the one before: the list the runner used to be. */
function chain(ids: string[], cloud: Set<string>, calls: string[]): Step[] {
  return ids.map((id, index) => memoryStep(id, cloud, calls, {needs: index > 0 ? [ids[index - 1]] : []}))
}

test('up validates every step before changing anything', async () => {
  const cloud = new Set<string>()
  const calls: string[] = []
  const steps = [memoryStep('a', cloud, calls), memoryStep('b', cloud, calls, {invalid: true})]
  await assert.rejects(applySteps(steps, testContext({settings: {}, ...accounts}), {dryRun: false}), /--b is wrong/)
  assert.deepEqual(calls, ['validate a', 'validate b'])
  assert.equal(cloud.size, 0)
})

test('up creates in the order the steps need each other, records in the ledger, and a second run changes nothing', async () => {
  const cloud = new Set<string>()
  const calls: string[] = []
  const steps = chain(['a', 'b', 'c'], cloud, calls)
  const ctx = testContext({settings: {}, ...accounts})
  const first = await applySteps(steps, ctx, {dryRun: false})
  assert.deepEqual(first.reports.map((r) => r.outcome), ['created', 'created', 'created'])
  assert.deepEqual(calls.filter((c) => c.startsWith('create')), ['create a', 'create b', 'create c'])
  assert.deepEqual(ctx.ledger.resources.map((r) => r.id), ['a', 'b', 'c'])
  calls.length = 0
  const second = await applySteps(steps, ctx, {dryRun: false})
  assert.deepEqual(second.reports.map((r) => r.outcome), ['unchanged', 'unchanged', 'unchanged'])
  assert.equal(calls.filter((c) => c.startsWith('create')).length, 0)
})

test('dry run reports what is missing and calls no create', async () => {
  const cloud = new Set(['a'])
  const calls: string[] = []
  const result = await applySteps(['a', 'b'].map((id) => memoryStep(id, cloud, calls)), testContext({settings: {}, ...accounts}), {dryRun: true})
  assert.deepEqual(result.reports.map((r) => [r.id, r.outcome, r.changes]), [['a', 'unchanged', []], ['b', 'would-create', ['create b']]])
  assert.equal(calls.some((c) => c.startsWith('create')), false)
})

test('Ctrl-C stops after the call in flight and lists what remains', async () => {
  const cloud = new Set<string>()
  const calls: string[] = []
  const abort = new AbortController()
  const steps = chain(['a', 'b', 'c'], cloud, calls)
  const ctx = testContext({settings: {}, ...accounts, abort: abort.signal})
  const original = steps[0].create.bind(steps[0])
  steps[0].create = async (c, o) => {
    abort.abort()
    return original(c, o)
  }
  const result = await applySteps(steps, ctx, {dryRun: false})
  assert.equal(result.interrupted, true)
  assert.deepEqual(result.reports.map((r) => r.outcome), ['interrupted', 'skipped', 'skipped'])
  assert.deepEqual([...cloud], ['a'], 'the call in flight completed')
  assert.deepEqual(ctx.ledger.resources.map((r) => r.id), [], 'step a was interrupted before recording; its read adopts it next run')
})

test('Ctrl-C during a step\'s read: its create does not start, and it is reported as not reached', async () => {
  const cloud = new Set<string>()
  const calls: string[] = []
  const abort = new AbortController()
  const steps = chain(['a', 'b'], cloud, calls)
  const read = steps[1].read.bind(steps[1])
  steps[1].read = async (c) => {
    abort.abort()
    return read(c)
  }
  const result = await applySteps(steps, testContext({settings: {}, ...accounts, abort: abort.signal}), {dryRun: false})
  assert.equal(result.interrupted, true)
  assert.deepEqual(calls.filter((c) => !c.startsWith('validate')), ['read a', 'create a', 'read b'])
  assert.deepEqual(result.reports.map((r) => [r.id, r.outcome]), [['a', 'created'], ['b', 'skipped']])
})

test('cleanup reads forward, deletes backward, keeps optional steps, and can run twice', async () => {
  const cloud = new Set(['a', 'b', 'c'])
  const calls: string[] = []
  const steps = [memoryStep('a', cloud, calls, {optional: true}), memoryStep('b', cloud, calls, {needs: ['a']}), memoryStep('c', cloud, calls, {needs: ['b']})]
  const ctx = testContext({settings: {}, ...accounts})
  const result = await destroySteps(steps, ctx, {dryRun: false})
  assert.deepEqual(calls, ['read a', 'read b', 'read c', 'delete c', 'delete b'])
  assert.deepEqual(result.reports.map((r) => [r.id, r.outcome]), [['c', 'deleted'], ['b', 'deleted'], ['a', 'kept']])
  assert.deepEqual([...cloud], ['a'])
  const again = await destroySteps(steps, ctx, {dryRun: false})
  assert.deepEqual(again.reports.map((r) => r.outcome), ['absent', 'absent', 'kept'])
})

test('cleanup declined at the prompt deletes nothing', async () => {
  const cloud = new Set(['a'])
  const calls: string[] = []
  let shown: string[] = []
  const result = await destroySteps([memoryStep('a', cloud, calls)], testContext({settings: {}, ...accounts}), {
    dryRun: false,
    confirm: async (plan) => { shown = plan.flatMap((r) => r.changes); return false },
  })
  assert.equal(result.confirmed, false)
  assert.deepEqual(shown, ['delete test:thing a (iot account 222222222222)'])
  assert.deepEqual([...cloud], ['a'])
})

test('cleanup: what a step\'s delete leaves in place is reported (and what its read found), and not counted as deleted', async () => {
  const records = (ctx: StepContext): ResourceRecord[] => ['r1', 'r2'].map((id) => ({step: 'routes', kind: 'ec2:route', id, account: 'iot', accountId: ctx.identities.iot.accountId, region: 'us-east-1'}))
  const step: Step = {
    id: 'routes', title: 'routes', account: 'iot',
    async read(ctx) {
      return {resources: records(ctx), missing: [], leftInPlace: [{kind: 'iot:certificate', id: 'c1', account: 'iot', reason: 'not the stack\'s'}]}
    },
    async create() { return [] },
    async delete(_ctx, resources) {
      return {leftInPlace: resources.filter((r) => r.id === 'r2').map((r) => ({kind: r.kind, id: r.id, account: r.account, reason: 'now targets igw-1'}))}
    },
  }
  const ctx = testContext({settings: {}, ...accounts})
  const plan = await destroySteps([step], ctx, {dryRun: true})
  assert.deepEqual(plan.reports[0].leftInPlace?.map((l) => l.id), ['c1'])
  assert.equal(plan.reports[0].changes.length, 2)
  const result = await destroySteps([step], ctx, {dryRun: false})
  const [report] = result.reports
  assert.equal(report.outcome, 'deleted')
  assert.deepEqual(report.resources.map((r) => r.id), ['r1'])
  assert.deepEqual(report.changes, ['delete ec2:route r1 (iot account 222222222222)'])
  assert.deepEqual(report.leftInPlace?.map((l) => `${l.id}: ${l.reason}`), ['c1: not the stack\'s', 'r2: now targets igw-1'])
})
