import {Flags} from '@oclif/core'
import {BaseCommand} from '../../base-command.ts'
import {clusterSettings} from '../../settings-flags.ts'
import {changeFlags, mskAccountFlags, ruleFlags} from '../../flags/index.ts'
import type {MskAclResult} from '../../lib/msk/acl-stack.ts'

export default class MskAcl extends BaseCommand<MskAclResult> {
  static override summary = 'Grant the Kafka ACLs the stack needs (the rule\'s users write the topic, a consumer reads it) and, with --lock-down, then lock the cluster to them.'
  static override description = `Connects to the brokers (GetBootstrapBrokers' SASL/SCRAM string, or --bootstrap-server) and grants, where missing, Write and Describe on the topic (--topic, default the rule's) to the SCRAM users of the stack's AmazonMSK_ secrets; with --consumer, Read and Describe on the topic and Read on the consumer group (--group, default the user's name) to that user. It reads the broker's ACLs first and creates only what is missing, saying what it found and what it granted: a second run changes nothing. --dry-run only reads.

Clusters made by \`iotctl up --create-cluster\` and \`msk create\` start open (MSK's default allow.everyone.if.no.acl.found=true: a topic without ACLs is open to every authenticated user). --lock-down closes it, in this order, because the order is the point:
  1. the grants above, plus what the managing user (the stack's, or --admin-secret's) needs to keep managing ACLs and topics once locked: Alter, Describe, Create, AlterConfigs and DescribeConfigs on the cluster (never ClusterAction, the brokers' own);
  2. only then an MSK configuration iotctl-<stack>-acls with allow.everyone.if.no.acl.found=false (made once, reused), applied with UpdateClusterConfiguration; it waits until the cluster is ACTIVE again, with a progress line.
MSK makes only its brokers super users and super.users cannot be set, so a cluster locked before its ACLs exist could not be granted by any SCRAM user. A cluster already on that configuration revision is left alone. \`cleanup --include-cluster\` deletes the configuration after the cluster.

Managing ACLs takes a user allowed to (Alter on the cluster, which every user has while the cluster is open): --admin-secret names an AmazonMSK_ secret of the MSK account holding that user's {"username","password"}; without it the stack's own user is used. No password is printed.

MSK brokers are reachable only inside the cluster's VPC: run this from a host there (or in a peered VPC). The CA is --ca, else AWS_CA_BUNDLE, else Node's trust store.

Exit codes: 0 when every ACL is in place (and, with --lock-down, the cluster is locked; with --dry-run, when everything was read); 1 when the brokers cannot be reached or refuse, MSK refuses the update, or a DENY ACL overrides a grant (Kafka: DENY wins; the line says which, and --lock-down does not lock); 2 for bad input (a topic, group or user name Kafka would not take), before any request.`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --lock-down --dry-run',
    '<%= config.bin %> <%= command.id %> --consumer analytics --group analytics-readers --lock-down',
    '<%= config.bin %> <%= command.id %> --admin-secret AmazonMSK_admin --dry-run',
    '<%= config.bin %> <%= command.id %> --topic device-data --bootstrap-server b-1.demo.abc123.c2.kafka.eu-west-1.amazonaws.com:9096 --json',
  ]

  static override flags = {
    ...mskAccountFlags,
    'cluster-arn': ruleFlags['cluster-arn'],
    topic: Flags.string({char: 't', summary: 'Kafka topic to grant on (default: the rule\'s, rule.kafkaTopic or device-data).', helpValue: '<topic>'}),
    consumer: Flags.string({summary: 'Also let this SCRAM user read the topic (Read, Describe) with its consumer group.', helpValue: '<user>'}),
    group: Flags.string({summary: 'The consumer\'s group (default: the --consumer name).', helpValue: '<group>', dependsOn: ['consumer']}),
    'admin-secret': Flags.string({summary: 'AmazonMSK_ secret (MSK account) of a user allowed to manage ACLs (default: the stack\'s user).', helpValue: '<name|arn>'}),
    'bootstrap-server': Flags.string({summary: 'Brokers as host:port[,host:port…] instead of GetBootstrapBrokers\' SASL/SCRAM string.', helpValue: '<host:port,…>'}),
    ca: Flags.string({summary: 'CA bundle (PEM) for the brokers\' TLS certificates (default: AWS_CA_BUNDLE, else Node\'s trust store).', helpValue: '<file>'}),
    'lock-down': Flags.boolean({summary: 'After granting, switch the cluster to allow.everyone.if.no.acl.found=false (MSK configuration iotctl-<stack>-acls, UpdateClusterConfiguration): only users an ACL allows reach a topic.', default: false}),
    'dry-run': changeFlags['dry-run'],
  }

  async run(): Promise<MskAclResult> {
    const {flags} = await this.parse(MskAcl)
    const {checkAclTopic, checkConsumerGroup, checkKafkaUser} = await import('../../lib/msk/acl.ts')
    const {parseBootstrapServers} = await import('../../lib/msk/consume.ts')
    const {defaultKafkaTopic} = await import('../../lib/iot/names.ts')
    // Every input is checked before any AWS call or connection (exit 2).
    const consumer = flags.consumer === undefined ? undefined : checkKafkaUser(flags.consumer, '--consumer')
    const group = flags.group === undefined ? consumer : checkConsumerGroup(flags.group)
    if (flags.topic !== undefined) checkAclTopic(flags.topic, '--topic')
    const brokers = flags['bootstrap-server'] === undefined ? undefined : parseBootstrapServers(flags['bootstrap-server'])
    const loaded = this.loadStack(flags, clusterSettings)
    const topic = flags.topic ?? checkAclTopic(loaded.settings.rule?.kafkaTopic ?? defaultKafkaTopic, 'rule.kafkaTopic')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], mskOnly: true})
    const {mskAcl} = await import('../../lib/msk/acl-stack.ts')
    const result = await mskAcl(ctx, {
      topic,
      ...(consumer && group ? {consumer: {user: consumer, group}} : {}),
      ...(brokers ? {brokers} : {}),
      ...(flags.ca ? {ca: flags.ca} : {}),
      ...(flags['admin-secret'] ? {adminSecret: flags['admin-secret']} : {}),
      lockDown: flags['lock-down'],
      // The wait for the cluster goes to stderr even with --json: a CI log must say why it waits.
      progress: (message) => process.stderr.write(`${message}\n`),
      dryRun: flags['dry-run'],
    })
    if (!this.jsonEnabled()) {
      const {aclLines, lockDownLines} = await import('../../ui/msk.ts')
      for (const line of aclLines(result)) this.log(line)
      if (flags['lock-down']) for (const line of lockDownLines(result)) this.log(line)
    }
    // A DENY ACL overrides what this command grants: the user still cannot, so not a success.
    if (result.grants.some((g) => g.state === 'denied')) this.failWith(1)
    return result
  }
}
