import assert from 'node:assert/strict'
import {test} from 'node:test'
import {unknownRegionReason} from '../../src/lib/aws/account.ts'

test('a region AWS does not have is recognised from what the call answers, and nothing else is', () => {
  const refused = Object.assign(new Error("Credential should be scoped to a valid region, not 'us-west-7'. "), {name: 'SignatureDoesNotMatch'})
  const unresolved = Object.assign(new Error('getaddrinfo ENOTFOUND sts.us-west-7.amazonaws.com'), {code: 'ENOTFOUND', hostname: 'sts.us-west-7.amazonaws.com'})
  const cases: [unknown, string | undefined][] = [
    [refused, "Credential should be scoped to a valid region, not 'us-west-7'."],
    [unresolved, 'sts.us-west-7.amazonaws.com does not resolve'],
    // Another host that does not resolve (a proxy, a custom endpoint) says nothing about the region.
    [Object.assign(new Error('getaddrinfo ENOTFOUND proxy.corp'), {code: 'ENOTFOUND', hostname: 'proxy.corp'}), undefined],
    [Object.assign(new Error('The security token included in the request is invalid'), {name: 'InvalidClientTokenId'}), undefined],
    [Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), {code: 'ECONNREFUSED'}), undefined],
  ]
  for (const [error, reason] of cases) assert.equal(unknownRegionReason(error, 'us-west-7'), reason, (error as Error).message)
})
