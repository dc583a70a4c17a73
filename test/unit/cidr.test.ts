import assert from 'node:assert/strict'
import {test} from 'node:test'
import {cidrsOverlap, firstOverlap, parseCidr} from '../../src/lib/peering/cidr.ts'

test('peered VPC CIDR blocks: overlap is detected exactly', () => {
  const cases: [string, string, boolean][] = [
    ['10.10.0.0/16', '10.20.0.0/16', false],
    ['10.10.0.0/16', '10.10.5.0/24', true],
    ['10.0.0.0/8', '10.200.0.0/16', true],
    ['172.31.0.0/16', '172.30.0.0/16', false],
    ['192.168.0.0/24', '192.168.0.255/32', true],
    ['192.168.0.0/24', '192.168.1.0/32', false],
    ['0.0.0.0/0', '8.8.8.8/32', true],
    ['10.10.0.0/17', '10.10.128.0/17', false],
  ]
  for (const [a, b, expected] of cases) {
    assert.equal(cidrsOverlap(a, b), expected, `${a} vs ${b}`)
    assert.equal(cidrsOverlap(b, a), expected, `${b} vs ${a}`)
  }
})

test('a CIDR block with host bits set is normalised to its network', () => {
  assert.deepEqual(parseCidr('10.10.7.9/16'), {cidr: '10.10.7.9/16', first: parseCidr('10.10.0.0/16').first, last: parseCidr('10.10.255.255/32').first})
})

test('malformed blocks are refused', () => {
  for (const bad of ['10.10.0.0', '10.10.0.0/33', '300.1.1.1/8', 'vpc-123', '']) assert.throws(() => parseCidr(bad), /not an IPv4 CIDR/)
})

test('firstOverlap names the pair, across secondary blocks', () => {
  assert.deepEqual(firstOverlap(['10.20.0.0/16', '100.64.0.0/16'], ['10.10.0.0/16', '100.64.8.0/24']), ['100.64.0.0/16', '100.64.8.0/24'])
  assert.equal(firstOverlap(['10.20.0.0/16'], ['10.10.0.0/16']), undefined)
})
