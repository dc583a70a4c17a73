// The step graph and the runner that walks it: steps that need nothing of
// each other run side by side, a long wait holds up only its dependants, a
// failure or Ctrl-C stops new starts and the steps in flight at their next
// checkpoint, and cleanup walks the graph backward.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {factKey} from '../../src/lib/plan/facts.ts'
import {StepGraph} from '../../src/lib/plan/graph.ts'
import {applySteps, destroySteps} from '../../src/lib/plan/runner.ts'
import type {AccountRole} from '../../src/lib/aws/account.ts'
import type {ResourceRecord, Step, StepContext} from '../../src/lib/plan/types.ts'
import {stackGraph, upGraph} from '../../src/lib/stack/steps.ts'
import {testContext} from '../support/step-context.ts'

const accounts = {iot: {accountId: '222222222222'}, msk: {accountId: '111111111111'}}
const made = (id: string) => factKey<string>(`test.${id}`)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Timeline {
  events: string[]
  inFlight: number
  maxInFlight: number
}

/** A step whose create and delete take `ms`, checking for Ctrl-C every 10 ms like the real waits do. */
function timedStep(id: string, timeline: Timeline, options: {needs?: string[]; ms?: number; account?: AccountRole; fail?: boolean} = {}): Step {
  const record = (ctx: StepContext): ResourceRecord => ({step: id, kind: 'test:thing', id, account: options.account ?? 'iot', accountId: ctx.identities.iot.accountId, region: 'us-east-1'})
  const work = async (ctx: StepContext, verb: string) => {
    timeline.events.push(`start ${verb} ${id}`)
    timeline.inFlight++
    timeline.maxInFlight = Math.max(timeline.maxInFlight, timeline.inFlight)
    try {
      for (let waited = 0; waited < (options.ms ?? 0); waited += 10) {
        await sleep(10)
        ctx.checkpoint()
      }
      if (options.fail) throw new Error(`${id} failed`)
    } finally {
      timeline.inFlight--
    }
    timeline.events.push(`end ${verb} ${id}`)
  }
  return {
    id,
    title: `thing ${id}`,
    account: options.account ?? 'iot',
    needs: (options.needs ?? []).map(made),
    provides: [made(id)],
    async read(ctx) {
      const exists = ctx.ledger.forStep(id).length > 0
      return exists ? {resources: [record(ctx)], missing: []} : {resources: [], missing: [`create ${id}`]}
    },
    async create(ctx) {
      await work(ctx, 'create')
      ctx.ledger.put(record(ctx))
      return [record(ctx)]
    },
    async delete(ctx, resources) {
      await work(ctx, 'delete')
      for (const r of resources) ctx.ledger.remove(r)
    },
  }
}

const newTimeline = (): Timeline => ({events: [], inFlight: 0, maxInFlight: 0})
const before = (events: string[], a: string, b: string) => events.includes(a) && events.indexOf(a) < events.indexOf(b)

test('steps that need nothing of each other run side by side; --parallel 1 runs them one at a time', async () => {
  const timeline = newTimeline()
  const steps = ['a', 'b', 'c'].map((id) => timedStep(id, timeline, {ms: 40}))
  const result = await applySteps(steps, testContext({settings: {}, ...accounts}), {dryRun: false})
  assert.deepEqual(result.reports.map((r) => r.outcome), ['created', 'created', 'created'])
  assert.equal(timeline.maxInFlight, 3)
  const serial = newTimeline()
  await applySteps(['a', 'b', 'c'].map((id) => timedStep(id, serial, {ms: 20})), testContext({settings: {}, ...accounts}), {dryRun: false, parallel: 1})
  assert.equal(serial.maxInFlight, 1)
  assert.deepEqual(serial.events.filter((e) => e.startsWith('start')), ['start create a', 'start create b', 'start create c'], 'one at a time, in registry order')
})

test('the bound is per account: two per account with --parallel 2 is four in flight', async () => {
  const timeline = newTimeline()
  const steps = [
    ...['a', 'b', 'c'].map((id) => timedStep(id, timeline, {ms: 40, account: 'iot'})),
    ...['d', 'e', 'f'].map((id) => timedStep(id, timeline, {ms: 40, account: 'msk'})),
  ]
  await applySteps(steps, testContext({settings: {}, ...accounts}), {dryRun: false, parallel: 2})
  assert.equal(timeline.maxInFlight, 4)
})

test('a long wait holds up only the steps that need it', async () => {
  const timeline = newTimeline()
  const steps = [
    timedStep('cluster', timeline, {ms: 150, account: 'msk'}),
    timedStep('peering', timeline, {ms: 20}),
    timedStep('routes', timeline, {ms: 20, needs: ['peering']}),
    timedStep('association', timeline, {ms: 10, account: 'msk', needs: ['cluster']}),
  ]
  const result = await applySteps(steps, testContext({settings: {}, ...accounts}), {dryRun: false})
  const {events} = timeline
  assert.ok(before(events, 'end create routes', 'end create cluster'), `routes done while the cluster waits: ${events.join(', ')}`)
  assert.ok(before(events, 'end create cluster', 'start create association'), 'the association starts only after the cluster')
  assert.deepEqual(result.reports.find((r) => r.id === 'association')?.after, ['cluster'])
})

test('a failure: no new step starts, the step in flight stops at its next checkpoint, dependants are not reached, the error is thrown with the reports', async () => {
  const timeline = newTimeline()
  const steps = [
    timedStep('slow', timeline, {ms: 2000}),
    timedStep('broken', timeline, {ms: 20, fail: true}),
    timedStep('after-broken', timeline, {needs: ['broken']}),
  ]
  const ctx = testContext({settings: {}, ...accounts})
  const started = Date.now()
  await assert.rejects(applySteps(steps, ctx, {dryRun: false}), (error: Error & {reports?: {id: string; outcome: string}[]}) => {
    assert.equal(error.message, 'broken failed')
    assert.deepEqual(error.reports?.map((r) => [r.id, r.outcome]), [['slow', 'interrupted'], ['broken', 'failed'], ['after-broken', 'skipped']])
    return true
  })
  assert.ok(Date.now() - started < 1000, 'the slow step did not run to its end')
  assert.equal(timeline.events.includes('start create after-broken'), false)
})

test('Ctrl-C with two steps mid-request: both stop at their next checkpoint, what they made stays in the ledger, the rest is listed as remaining', async () => {
  const timeline = newTimeline()
  const abort = new AbortController()
  const steps = [timedStep('a', timeline, {ms: 1000}), timedStep('b', timeline, {ms: 1000}), timedStep('c', timeline, {needs: ['a']})]
  const ctx = testContext({settings: {}, ...accounts, abort: abort.signal})
  setTimeout(() => abort.abort(), 50)
  const result = await applySteps(steps, ctx, {dryRun: false})
  assert.equal(result.interrupted, true)
  assert.deepEqual(result.reports.map((r) => [r.id, r.outcome]), [['a', 'interrupted'], ['b', 'interrupted'], ['c', 'skipped']])
  assert.equal(timeline.inFlight, 0)
})

test('cleanup walks the graph backward: a step goes once every step needing it has gone; independent deletions side by side', async () => {
  const timeline = newTimeline()
  const ctx = testContext({settings: {}, ...accounts})
  const steps = [
    timedStep('cluster', timeline, {ms: 30, account: 'msk'}),
    timedStep('role', timeline, {ms: 30}),
    timedStep('destination', timeline, {ms: 30, needs: ['role']}),
    timedStep('association', timeline, {ms: 30, account: 'msk', needs: ['cluster']}),
    timedStep('rule', timeline, {ms: 30, needs: ['destination', 'association']}),
  ]
  await applySteps(steps, ctx, {dryRun: false})
  timeline.events.length = 0
  timeline.maxInFlight = 0
  const result = await destroySteps(steps, ctx, {dryRun: false})
  const {events} = timeline
  assert.deepEqual(result.reports.map((r) => r.outcome), ['deleted', 'deleted', 'deleted', 'deleted', 'deleted'])
  assert.ok(before(events, 'end delete rule', 'start delete destination'))
  assert.ok(before(events, 'end delete rule', 'start delete association'))
  assert.ok(before(events, 'end delete destination', 'start delete role'))
  assert.ok(before(events, 'end delete association', 'start delete cluster'))
  assert.equal(timeline.maxInFlight, 2, 'destination and association go side by side')
  assert.deepEqual(ctx.ledger.resources, [])
})

test('the graph is derived from needs and provides; cycles and two providers of one fact are refused', () => {
  const timeline = newTimeline()
  const graph = new StepGraph([timedStep('a', timeline), timedStep('b', timeline, {needs: ['a']}), timedStep('c', timeline, {needs: ['a', 'b']})])
  assert.deepEqual(graph.needsOf(graph.get('c')!).map((s) => s.id), ['a', 'b'])
  assert.deepEqual(graph.neededBy(graph.get('a')!).map((s) => s.id), ['b', 'c'])
  assert.deepEqual(graph.slice('b').steps.map((s) => s.id), ['a', 'b'])
  assert.throws(() => new StepGraph([timedStep('a', timeline, {needs: ['b']}), timedStep('b', timeline, {needs: ['a']})]), /steps need each other: a → b → a/)
  const twice = {...timedStep('x', timeline), provides: [made('a')]}
  assert.throws(() => new StepGraph([timedStep('a', timeline), twice]), /fact test.a is provided by both a and x/)
  const durations: Record<string, number> = {a: 5, b: 1, c: 2}
  assert.deepEqual(graph.criticalPath((s) => durations[s.id]).ms, 8)
  assert.deepEqual(graph.criticalPath((s) => durations[s.id]).path.map((s) => s.id), ['a', 'b', 'c'])
})

test('the registry: the peering, keys and role do not wait for the cluster; the association, the topic and the rule do', () => {
  const graph = upGraph({createCluster: true})
  const needs = (id: string) => graph.needsOf(graph.get(id)!).map((s) => s.id).sort()
  for (const id of ['peering', 'sg-ingress', 'kms-key:msk', 'kms-key:iot', 'secret:msk', 'secret:iot', 'iot-role', 'iot-key-user', 'iot-destination']) {
    assert.equal(needs(id).includes('msk-cluster'), false, `${id} does not wait for the cluster`)
  }
  assert.deepEqual(needs('scram-association'), ['msk-cluster', 'secret:msk'])
  assert.deepEqual(needs('kafka-topic'), ['msk-cluster'])
  assert.deepEqual(needs('routes:iot'), ['peering'])
  assert.ok(needs('iot-rule').includes('iot-destination') && needs('iot-rule').includes('scram-association'))
  // Everything is reachable in one order, and found steps are cleanup's only.
  assert.equal(graph.get('devices'), undefined)
  assert.ok(stackGraph().get('devices'))
  // With the cluster the slow part, the critical path is the cluster, then what needs it.
  const typical: Record<string, number> = {'msk-cluster': 1500, 'iot-destination': 300, 'iot-role': 10, peering: 10}
  const path = graph.criticalPath((s) => typical[s.id] ?? 1).path.map((s) => s.id)
  assert.equal(path[0], 'msk-cluster')
  assert.equal(path.at(-1), 'iot-rule')
  // The locked-down configuration is `msk acl --lock-down`'s: up never makes it, cleanup deletes it after the cluster.
  assert.equal(graph.get('msk-configuration'), undefined)
  assert.deepEqual(needs('msk-cluster'), [])
  const all = stackGraph()
  assert.deepEqual(all.needsOf(all.get('msk-cluster')!).map((s) => s.id), ['msk-configuration'])
})
