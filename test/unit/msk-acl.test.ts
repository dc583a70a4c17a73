// `msk acl`'s logic over a fake admin client: which ACLs the stack wants, which
// of the broker's existing ACLs already give them (literal, '*', prefixed,
// User:*, All, Read/Write implying Describe), that only the missing ones are
// created, that a dry run creates none, and the name checks behind exit 2.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import type {Acl, AclFilter} from '@platformatic/kafka'
import {InputError} from '../../src/lib/errors.ts'
import {checkAclTopic, checkConsumerGroup, checkKafkaUser, grantAcls, wantedGrants, type AclAdmin, type DescribeAclsResponseResource} from '../../src/lib/msk/acl.ts'
import {aclLines} from '../../src/ui/msk.ts'

/** An in-memory broker's ACL table, with Kafka's MATCH filter for describe. */
function fakeAdmin(existing: Acl[] = []) {
  const acls = [...existing]
  const created: Acl[][] = []
  const admin: AclAdmin = {
    async describeAcls({filter}: {filter: AclFilter}): Promise<DescribeAclsResponseResource[]> {
      const matching = acls.filter((a) => a.resourceType === filter.resourceType && (a.resourceName === filter.resourceName || a.resourceName === '*' || (a.resourcePatternType === 4 && String(filter.resourceName).startsWith(a.resourceName))))
      return matching.map(({resourceType, resourceName, resourcePatternType, ...permission}) => ({resourceType, resourceName, resourcePatternType, acls: [permission]}))
    },
    async createAcls({creations}: {creations: Acl[]}): Promise<void> {
      created.push(creations)
      acls.push(...creations)
    },
  }
  return {admin, created}
}

const allow = (principal: string, resourceType: 2 | 3, resourceName: string, operation: Acl['operation'], resourcePatternType: Acl['resourcePatternType'] = 3): Acl =>
  ({principal, resourceType, resourceName, resourcePatternType, operation, host: '*', permissionType: 3})

const request = {producers: ['rule-user'], topic: 'device-data', consumer: {user: 'reader', group: 'readers'}, brokers: 'localhost:9096'}

test('wanted: Write+Describe on the topic per producer (each once), Read+Describe on the topic and Read on the group for the consumer', () => {
  assert.deepEqual(wantedGrants({producers: ['a', 'b', 'a'], topic: 't'}).map((g) => `${g.user} ${g.operation} ${g.resource} ${g.name}`), ['a Write topic t', 'a Describe topic t', 'b Write topic t', 'b Describe topic t'])
  assert.deepEqual(wantedGrants(request).filter((g) => g.role === 'consumer').map((g) => `${g.operation} ${g.resource} ${g.name}`), ['Read topic device-data', 'Describe topic device-data', 'Read group readers'])
})

test('creates exactly what is missing, as literal ALLOW ACLs from any host; a second run creates nothing', async () => {
  const {admin, created} = fakeAdmin()
  const first = await grantAcls(admin, {...request, dryRun: false})
  assert.equal(first.changed, true)
  assert.deepEqual(first.grants.map((g) => g.state), ['added', 'added', 'added', 'added', 'added'])
  assert.deepEqual(created, [[
    allow('User:rule-user', 2, 'device-data', 4), allow('User:rule-user', 2, 'device-data', 8),
    allow('User:reader', 2, 'device-data', 3), allow('User:reader', 2, 'device-data', 8), allow('User:reader', 3, 'readers', 3),
  ]])
  const second = await grantAcls(admin, {...request, dryRun: false})
  assert.equal(second.changed, false)
  assert.deepEqual(second.grants.map((g) => g.state), ['present', 'present', 'present', 'present', 'present'])
  assert.equal(created.length, 1)
})

test('existing ACLs that already give a grant: All, User:*, a wildcard or prefixed pattern, Write implying Describe; another user\'s do not; a DENY overrides', async () => {
  const {admin, created} = fakeAdmin([
    allow('User:rule-user', 2, 'device-', 4, 4), // prefixed Write: Write and (implied) Describe
    allow('User:*', 3, '*', 3), // anyone may read any group
    allow('User:someone-else', 2, 'device-data', 2), // All, but for another user
    {...allow('User:reader', 2, 'device-data', 3), permissionType: 2}, // a DENY of Read wins over any ALLOW
  ])
  const result = await grantAcls(admin, {...request, dryRun: true})
  assert.deepEqual(result.grants.map((g) => `${g.user} ${g.operation} ${g.resource} ${g.state}`), [
    'rule-user Write topic present', 'rule-user Describe topic present', 'reader Read topic denied', 'reader Describe topic missing', 'reader Read group present',
  ])
  assert.equal(result.changed, false)
  assert.equal(created.length, 0, 'a dry run creates nothing')
  const lines = aclLines(result)
  assert.match(lines.at(-1)!, /^--dry-run: 1 ACL would be granted on localhost:9096; nothing changed$/)
  assert.match(lines[2], /^DENIED +User:reader Read on topic device-data \(consumer\)$/)
  assert.match(lines[3], /^would grant +User:reader Describe on topic device-data \(consumer\)$/)
  assert.match(lines.join('\n'), /1 grant is overridden by a DENY ACL/)
  // Granting creates the missing one, never an ALLOW the DENY would override.
  const granted = await grantAcls(admin, {...request, dryRun: false})
  assert.deepEqual(created.flat().map((a) => `${a.principal} ${a.operation}`), ['User:reader 8'])
  assert.equal(granted.grants.find((g) => g.operation === 'Read' && g.resource === 'topic')?.state, 'denied')
})

test('a refusal to describe is a CheckFailed naming --admin-secret', async () => {
  const admin: AclAdmin = {
    describeAcls: async () => { throw Object.assign(new Error('Received response with error'), {errors: [new Error('Cluster authorization failed.')]}) },
    createAcls: async () => undefined,
  }
  await assert.rejects(grantAcls(admin, {...request, dryRun: false}), (error: Error) => error.name === 'CheckFailed' && /not allowed to administer ACLs.*--admin-secret/.test(error.message))
})

test('names Kafka and an ACL cannot take are exit 2, naming the flag', () => {
  const bad: [() => unknown, RegExp][] = [
    [() => checkKafkaUser('has space', '--consumer'), /^--consumer 'has space'/],
    [() => checkKafkaUser('', '--consumer'), /^--consumer ''/],
    [() => checkKafkaUser('a=b', '--consumer'), /^--consumer 'a=b'/],
    [() => checkKafkaUser('x'.repeat(257), '--consumer'), /^--consumer 'x+'/],
    [() => checkConsumerGroup('g*'), /^--group 'g\*'/],
    [() => checkConsumerGroup('..'), /^--group '\.\.'/],
    [() => checkAclTopic('a/b', '--topic'), /^--topic 'a\/b'/],
    [() => checkAclTopic('t-${topic()}', '--topic'), /substitution template/],
  ]
  for (const [call, message] of bad) assert.throws(call, (error: Error) => error instanceof InputError && message.test(error.message))
  assert.equal(checkKafkaUser('svc.reader@corp', '--consumer'), 'svc.reader@corp')
  assert.equal(checkConsumerGroup('readers-1'), 'readers-1')
})
