// Human output fits the reader's width (src/ui/text.ts): wrapped at spaces,
// continuations indented, ids never broken; no width (a pipe) means no wrapping.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {fitToWidth, outputWidth} from '../../src/ui/text.ts'

test('a long line wraps at spaces under its own indent; a short one is untouched', () => {
  const line = '    request VPC peering vpc-479a2d3911bd35d0f (IoT account 222222222222) → vpc-bfc9de5ccdd180257 (MSK account 111111111111, us-east-1)'
  const wrapped = fitToWidth(line, 60).split('\n')
  assert.ok(wrapped.length > 1)
  for (const part of wrapped) assert.ok(part.length <= 60, part)
  assert.ok(wrapped.slice(1).every((part) => part.startsWith('        ')), 'continuations indented 4 more')
  assert.equal(wrapped.join(' ').replace(/\s+/g, ' ').trim(), line.trim(), 'nothing lost or reordered')
  assert.equal(fitToWidth('short', 60), 'short')
})

test('an id longer than the width stays whole, on its own line', () => {
  const arn = 'arn:aws:kafka:us-east-1:111111111111:cluster/a8efcf82-1920-437a-a8aa-4f9b76b15ef6'
  assert.deepEqual(fitToWidth(`cluster iotctl is ACTIVE: ${arn}`, 40).split('\n'), ['cluster iotctl is ACTIVE:', `    ${arn}`])
})

test('the width: the terminal\'s, else COLUMNS, else none (pipes get whole lines)', () => {
  const saved = process.env.COLUMNS
  try {
    delete process.env.COLUMNS
    assert.equal(outputWidth({isTTY: true, columns: 132}), 132)
    assert.equal(outputWidth({isTTY: false}), undefined)
    assert.equal(fitToWidth('x '.repeat(200), outputWidth({isTTY: false})), 'x '.repeat(200))
    process.env.COLUMNS = '100'
    assert.equal(outputWidth({isTTY: false}), 100)
    process.env.COLUMNS = 'wide'
    assert.equal(outputWidth({isTTY: false}), undefined)
  } finally {
    if (saved === undefined) delete process.env.COLUMNS
    else process.env.COLUMNS = saved
  }
})
