// What a person reads of a run: the dry-run plan says what each change waits
// for, and `up`'s summary lists what the reads found wrong that the run left.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {StepReport} from '../../src/lib/plan/runner.ts'
import {renderSteps} from '../../src/ui/report.ts'
import {renderUpSummary} from '../../src/ui/setup.ts'

const report = (over: Partial<StepReport>): StepReport => ({
  id: 'x', title: 'thing', account: 'iot', outcome: 'unchanged', changes: [], notes: [], findings: [], resources: [], after: [], ...over,
})

test('the dry-run plan says what each change waits for; a change that waits for nothing starts at once', () => {
  const text = renderSteps([
    report({id: 'peering', title: 'VPC peering', outcome: 'would-create', changes: ['request VPC peering']}),
    report({id: 'routes:iot', title: 'routes', outcome: 'would-create', changes: ['route 10.0.0.0/16 → the peering'], after: ['peering']}),
  ])
  assert.deepEqual(text.split('\n'), [
    '+ VPC peering [iot]: would create',
    '    request VPC peering',
    '+ routes [iot]: would create',
    '    after: peering',
    '    route 10.0.0.0/16 → the peering',
  ])
})

test('a finding shows with its kind and fix in the step list and in up\'s summary', () => {
  const blackhole = {kind: 'broken' as const, code: 'route-blackhole', text: 'route rtb-1 → 10.20.0.0/16 is a blackhole', fix: 'iotctl cleanup, then iotctl up'}
  assert.match(renderSteps([report({findings: [blackhole]})]), /^ {4}broken: route rtb-1 → 10\.20\.0\.0\/16 is a blackhole \(iotctl cleanup, then iotctl up\)$/m)
  const summary = renderUpSummary({
    dryRun: false,
    summary: {
      msk: {accountId: '111111111111', adopted: [], steps: {changed: 0, inPlace: 3}, attention: [blackhole]},
      iot: {accountId: '222222222222', adopted: [], steps: {changed: 1, inPlace: 5}, attention: []},
    },
    rule: {name: 'r', topicFilter: 'device/+/data', kafkaTopic: 'device-data'},
    next: ['iotctl doctor'],
  })
  assert.match(summary, /^IoT account \(B\) 222222222222: 1 step changed, 5 in place$/m)
  assert.match(summary, /^MSK account \(A\) 111111111111: 0 steps changed, 3 in place\n {2}broken: route rtb-1 → 10\.20\.0\.0\/16 is a blackhole — iotctl cleanup, then iotctl up$/m)
})

test('a deleted resource\'s notes say they describe it as it was, not that it still is', () => {
  const text = renderSteps([report({title: 'VPC peering', outcome: 'deleted', notes: ['pcx-1 is active']})])
  assert.deepEqual(text.split('\n'), ['- VPC peering [iot]: deleted', '    (before deletion: pcx-1 is active)'])
})

test('a dry run shows nothing as done: a step with nothing to do says so, without ✓', () => {
  const steps = [report({title: 'VPC peering'}), report({title: 'routes', outcome: 'would-create', changes: ['add route']})]
  assert.deepEqual(renderSteps(steps, {dryRun: true}).split('\n'), ['· VPC peering [iot]: in place, nothing to do', '+ routes [iot]: would create', '    add route'])
  assert.match(renderSteps(steps), /^✓ VPC peering \[iot\]: in place$/m)
})

test('what cleanup leaves in place is one line each, with why', () => {
  const text = renderSteps([report({outcome: 'deleted', changes: ['delete ec2:route rtb-1:10.10.0.0/16 (iot account 222222222222)'], leftInPlace: [
    {kind: 'ec2:route', id: 'rtb-2:10.10.0.0/16', account: 'iot', reason: 'now targets igw-1, not the stack\'s peering pcx-1; not deleted'},
  ]})])
  assert.deepEqual(text.split('\n'), [
    '- thing [iot]: deleted',
    '    delete ec2:route rtb-1:10.10.0.0/16 (iot account 222222222222)',
    '    left in place: ec2:route rtb-2:10.10.0.0/16: now targets igw-1, not the stack\'s peering pcx-1; not deleted',
  ])
})
