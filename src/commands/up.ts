import {Flags} from '@oclif/core'
import {BaseCommand} from '../base-command.ts'
import {destinationSettings, networkSettings, ruleSettings, upSettings} from '../settings-flags.ts'
import {changeFlags, destinationFlags, networkFlags, ruleFlags, ruleNameFlag, twoAccountFlags, parallelFlag} from '../flags/index.ts'
import type {UpResult} from '../lib/stack/up.ts'

export default class Up extends BaseCommand<UpResult> {
  static override summary = 'Run the whole walkthrough: peering, KMS keys and mirrored secrets, SCRAM association, IoT role, VPC destination, Kafka rule.'
  static override description = `Brings every part of the stack up to date from iotctl.json plus flags, each step as soon as what it needs is in place (independent steps side by side, up to --parallel per account): VPC peering with routes and broker ingress, a KMS key and an AmazonMSK_ secret with the same credentials in each account, the secret's association with the cluster, the IoT role (a user of B's key), the rule's Kafka topic (MSK's topic API; clusters with Kafka 3.6.0 or later), the VPC topic rule destination and the topic rule with its Apache Kafka action — and first the MSK cluster itself with --create-cluster.

Resumable: each step reads what exists before it creates anything and records what it made in .iotctl/<stack>.json at once, so a run interrupted anywhere and run again continues without duplicates. A second run changes nothing. --dry-run prints the whole plan and changes nothing. Ends with a summary per account and the command to try next.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --dry-run',
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --iot-profile iot --msk-profile msk --cluster-arn arn:aws:kafka:… --kafka-topic device-data --json',
    '<%= config.bin %> <%= command.id %> --create-cluster',
  ]

  static override flags = {
    ...twoAccountFlags,
    ...networkFlags,
    ...destinationFlags,
    'secret-name': Flags.string({summary: 'Name of the mirrored secret (must start with AmazonMSK_).', helpValue: '<AmazonMSK_…>'}),
    'rule-name': ruleNameFlag,
    ...ruleFlags,
    'kafka-topic-partitions': Flags.integer({summary: 'Partitions of the Kafka topic up creates (default 1, as MSK\'s num.partitions).', min: 1, helpValue: '<n>'}),
    'kafka-topic-replication-factor': Flags.integer({summary: 'Replication factor of the Kafka topic up creates, at most the broker count (default: 3, or the broker count when smaller).', min: 1, helpValue: '<n>'}),
    'create-cluster': Flags.boolean({summary: 'Also create the MSK cluster (15–30 minutes on AWS) instead of using msk.clusterArn.'}),
    parallel: parallelFlag,
    ...changeFlags,
  }

  async run(): Promise<UpResult> {
    const {flags} = await this.parse(Up)
    const loaded = this.loadStack(flags, [...networkSettings, ...destinationSettings, ...ruleSettings, ...upSettings])
    const {optionalParts, upGraph} = await import('../lib/stack/steps.ts')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], steps: upGraph({createCluster: flags['create-cluster'], ...optionalParts(loaded.settings)})})
    const {up} = await import('../lib/stack/up.ts')
    const result = await up(ctx, {dryRun: flags['dry-run'], createCluster: flags['create-cluster'], parallel: flags.parallel, runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    const {renderUpSummary} = await import('../ui/setup.ts')
    await this.finishSteps(result, {
      rerun: 'iotctl up',
      done: () => result.changed ? 'the stack is up' : 'nothing to change: every part of the stack is in place',
      summary: () => renderUpSummary(result),
    })
    return result
  }
}
