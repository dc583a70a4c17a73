// Doctor's ACL check, where the brokers are reachable (with --probe): may the
// rule's SCRAM user Write (and Describe) the rule's topic? Asked of the brokers
// as that user (topicAuthorization, KIP-430), so it holds for open clusters (no
// ACL on the topic: everyone may) and locked-down ones (allow.everyone.if.no.acl.found=false:
// only what an ACL allows) alike, and needs no ACL administration right.
import {defaultKafkaTopic} from '../iot/names.ts'
import {kafkaConnectionOf} from '../msk/consume.ts'
import {topicAuthorization} from '../msk/kafka-client.ts'
import {isTemplatedTopic, topicSettingsOf} from '../msk/topic.ts'
import type {StepContext} from '../plan/types.ts'
import {fail, pass, warn, type Verdict} from './check.ts'
import type {ProbeOptions} from './probe.ts'

export const kafkaAclTitle = 'the rule\'s SCRAM user may write the rule\'s Kafka topic (Kafka ACLs, where the brokers are reachable)'

export async function checkKafkaAcls(ctx: StepContext, options: ProbeOptions): Promise<Verdict> {
  const {name} = topicSettingsOf(ctx.settings, defaultKafkaTopic)
  if (isTemplatedTopic(name)) return warn(`cannot tell: the rule's Kafka topic '${name}' is a substitution template`, 'check each topic it expands to with `iotctl msk acl --topic <topic> --dry-run`')
  let connection
  let answer
  try {
    connection = await kafkaConnectionOf(ctx, {...(options.brokers ? {brokers: options.brokers} : {}), ...(options.kafkaCa ? {ca: options.kafkaCa} : {})})
    // The cluster's own brokers answer only inside its VPC (or a peered one): do not wait long for them.
    answer = await topicAuthorization({...connection, connectTimeoutSeconds: options.brokers ? 15 : 5}, name)
  } catch (error) {
    return warn(`cannot tell: the brokers are not reachable from here (${(error as Error).message.split('\n')[0]})`, 'run doctor --probe where the brokers are reachable, or with --bootstrap-server')
  }
  const user = connection.credentials.username
  if (answer.state === 'missing') return warn(`cannot tell: topic '${name}' does not exist on the brokers`, 'run `iotctl up` (it creates the topic)')
  const allowed = answer.state === 'denied' ? [] : answer.operations
  const lacking = ['Write', 'Describe'].filter((op) => !allowed.includes(op))
  if (lacking.length > 0) {
    return fail(`the brokers refuse User:${user}, the rule's SCRAM user, ${lacking.join(' and ')} on topic '${name}': the cluster denies what no ACL allows (allow.everyone.if.no.acl.found=false), so every message the rule sends is refused`,
      'run `iotctl msk acl` (where the brokers are reachable) to grant the stack\'s users Write and Describe on the topic')
  }
  return pass(`User:${user} may ${allowed.join(', ')} on topic '${name}'`)
}
