// What `msk consume` and `msk acl` print. Pure: returns text, the command writes it.
import type {KafkaMessage} from '../lib/msk/consume.ts'
import {grantLabel, type AclGrantState} from '../lib/msk/acl.ts'
import type {LockDownResult} from '../lib/msk/configuration.ts'

/** `msk consume`: "<partition>:<offset> <timestamp> [key=<key>] <value>". */
export function kafkaMessageText(message: KafkaMessage): string {
  return `${message.partition}:${message.offset} ${message.timestamp}${message.key === null ? '' : ` key=${message.key}`} ${message.value ?? '(null)'}`
}

/** `msk acl`: one line per ACL the stack wants, with what happened to it, then the sum. */
export function aclLines(result: {dryRun: boolean; changed: boolean; topic: string; brokers: string; grants: AclGrantState[]}): string[] {
  const word = {present: 'already there', added: 'granted', missing: result.dryRun ? 'would grant' : 'missing', denied: 'DENIED'} as const
  const lines = result.grants.map((g) => `${word[g.state].padEnd(13)} ${grantLabel(g)} (${g.role})`)
  const added = result.grants.filter((g) => g.state === 'added').length
  const missing = result.grants.filter((g) => g.state === 'missing').length
  const denied = result.grants.filter((g) => g.state === 'denied').length
  if (denied > 0) lines.push(`${denied} grant${denied === 1 ? ' is' : 's are'} overridden by a DENY ACL (Kafka: DENY wins over ALLOW): remove it with kafka-acls.sh --remove --deny-principal …`)
  lines.push(result.dryRun
    ? (missing === 0 ? `nothing to change on ${result.brokers}: every ACL is in place` : `--dry-run: ${missing} ACL${missing === 1 ? '' : 's'} would be granted on ${result.brokers}; nothing changed`)
    : (added === 0 ? `nothing to change on ${result.brokers}: every ACL is in place` : `granted ${added} ACL${added === 1 ? '' : 's'} on ${result.brokers}`))
  return lines
}

/** `msk acl --lock-down`: what happened to the cluster once the grants were in place. */
export function lockDownLines(result: {dryRun: boolean; grants: AclGrantState[]; lockDown?: LockDownResult}): string[] {
  const lock = result.lockDown
  if (!lock) return ['not locked down: a DENY ACL overrides a grant above; remove it, then run `iotctl msk acl --lock-down` again']
  const where = `cluster ${lock.cluster.name}`
  if (lock.state === 'locked') return [`${where} is already locked down (configuration ${lock.configuration.name} revision ${lock.configuration.revision}): nothing to change`]
  if (lock.state === 'planned') return [...lock.actions.map((a) => `would ${a}`), '--dry-run: the ACLs first, then the lock; nothing changed']
  return [...lock.actions.map((a) => `done: ${a}`), `${where} is locked down: allow.everyone.if.no.acl.found=false (configuration ${lock.configuration.name} revision ${lock.configuration.revision})`]
}
