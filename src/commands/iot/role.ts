import {BaseCommand} from '../../base-command.ts'
import {ruleSettings} from '../../settings-flags.ts'
import {changeFlags, ruleFlags, twoAccountFlags} from '../../flags/index.ts'
import type {IotSetupResult} from '../../lib/iot/index.ts'

export default class IotRole extends BaseCommand<IotSetupResult> {
  static override summary = 'Create the IAM role AWS IoT assumes for the VPC destination and get_secret, and make it a user of the stack key.'
  static override description = `In the IoT account (B): a role trusted by iot.amazonaws.com only for B's own rules and destinations (aws:SourceAccount and aws:SourceArn arn:aws:iot:<region>:<account>:*, the IoT guide's confused-deputy protection), with the inline policy the IoT guide documents for Kafka VPC destinations — the EC2 network-interface calls, ec2:CreateNetworkInterfacePermission on interfaces tagged VPCDestinationENI=true and ec2:CreateTags of that tag when IoT creates an interface — and secretsmanager:GetSecretValue/DescribeSecret on the stack's AmazonMSK_ secret (its exact ARN). A statement whose Sid names the stack is added to the policy of B's stack KMS key, letting the role decrypt through Secrets Manager only (kms:ViaService). With --error-topic (rule.errorTopic) the role may also publish there, for the rule's error action.

Needs the secret and key of \`iotctl secret mirror\`. Idempotent; a role whose trust or policy an older iotctl wrote (or someone narrowed) is updated in place, saying what changed. Tagged with the stack; \`iotctl cleanup\` removes it.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --iot-profile iot --msk-profile msk',
    '<%= config.bin %> <%= command.id %> --dry-run --json',
    '<%= config.bin %> <%= command.id %> --error-topic iotctl/errors',
  ]

  static override flags = {
    ...twoAccountFlags,
    'error-topic': ruleFlags['error-topic'],
    's3-bucket': ruleFlags['s3-bucket'],
    ...changeFlags,
  }

  async run(): Promise<IotSetupResult> {
    const {flags} = await this.parse(IotRole)
    const loaded = this.loadStack(flags, ruleSettings)
    const {iotSliceChecks, setupIot} = await import('../../lib/iot/index.ts')
    const ctx = await this.stepContext(loaded, {dryRun: flags['dry-run'], steps: iotSliceChecks('role')})
    const result = await setupIot('role', ctx, {dryRun: flags['dry-run'], runTask: await this.taskRunner({dryRun: flags['dry-run']})})
    await this.finishSteps(result, {rerun: 'iotctl iot role', done: () => result.changed ? `role ${result.roleArn} is ready` : `nothing to change: role ${result.roleArn} and its key-policy statement are in place`})
    return result
  }
}
