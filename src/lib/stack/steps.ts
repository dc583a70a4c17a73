// Every step iotctl manages (DESIGN.md steps 1–7). The registry is a graph:
// each step says which facts it needs and provides, and StepGraph derives the
// order from that — `up` walks it forward (independent steps side by side),
// `cleanup` backward, a capability command runs its slice. No command
// hand-codes an order. The list below is also a valid order (registry order),
// used wherever steps are shown one after another.
//
// Step ids and what their ResourceRecords carry (cleanup finds them by tags):
//   msk-configuration  msk  kafka:configuration        id = configuration ARN; attrs.name, revision (no tags: found by name and description; made by `msk acl --lock-down`)
//   msk-cluster        msk  kafka:cluster              id = cluster ARN; attrs.name
//   peering            iot  ec2:vpc-peering-connection id = pcx-…
//   routes:iot         iot  ec2:route                  id = <rtb>:<cidr>
//   routes:msk         msk  ec2:route
//   sg-ingress         msk  ec2:security-group-rule    id = sgr-…
//   kms-key:msk        msk  kms:key                    id = key id; attrs.arn, attrs.alias
//   kms-key:iot        iot  kms:key                    (same)
//   secret:msk         msk  secretsmanager:secret      id = secret ARN; attrs.name, attrs.kmsKeyId
//   secret:iot         iot  secretsmanager:secret      (same; same username and password as secret:msk)
//   scram-association  msk  kafka:scram-association    id = <cluster ARN>|<secret ARN>
//   kafka-topic        msk  kafka:topic                id = topic ARN; attrs.clusterArn, topicName, createdBy (ledger only: topics take no tags)
//   iot-role           iot  iam:role                   id = role name; attrs.arn, attrs.policyName
//   iot-key-user       iot  kms:key-policy-statement   id = <key id>/<Sid>
//   iot-destination    iot  iot:topic-rule-destination id = destination ARN
//   iot-rule           iot  iot:topic-rule             id = rule name; attrs.arn
//   devices            iot  iot:thing / iot:certificate / iot:policy   (found: made by `device create`)
//   tunnels            iot  iotsecuretunneling:tunnel  id = tunnel id      (found: made by `tunnel open`)
//   consumer-sg-rules  msk  ec2:security-group-rule    id = sgr-…; attrs.groupId, key, egress (tags iotctl:stack + iotctl:part=consumer-network)
//   consumer-endpoints msk  ec2:vpc-endpoint / ec2:security-group   id = vpce-… / sg-… (same tags)
//   consumer-nat       msk  ec2:route / ec2:nat-gateway / ec2:elastic-ip   id = <rtb>:0.0.0.0/0 / nat-… / eipalloc-… (same tags; a route is the stack's when its target is the stack's NAT gateway)
// The consumer-* steps (`msk consumer-network`) are in `up` only when msk.consumerNetwork is set;
// cleanup, doctor and status always find them by their tags.
import {devicesStep} from '../device/step.ts'
import {iotSteps} from '../iot/steps.ts'
import {mskConfigurationStep} from '../msk/configuration.ts'
import {mskClusterStep, scramAssociationStep} from '../msk/steps.ts'
import {kafkaTopicStep} from '../msk/topic-step.ts'
import {consumerNetworkStepIds, consumerNetworkSteps} from '../msk/consumer-network.ts'
import {peeringSteps} from '../peering/steps.ts'
import {StepGraph} from '../plan/graph.ts'
import {isManaged, type AnyStep, type Step} from '../plan/types.ts'
import {mirrorSteps} from '../secrets/steps.ts'
import {tunnelsStep} from '../tunnel/api/step.ts'

export function stackSteps(): AnyStep[] {
  return [
    mskConfigurationStep,
    mskClusterStep,
    ...peeringSteps,
    ...mirrorSteps,
    scramAssociationStep,
    kafkaTopicStep,
    ...consumerNetworkSteps,
    ...iotSteps,
    devicesStep,
    tunnelsStep,
  ]
}

/** Every step of the stack, managed and found: what cleanup, doctor and status walk. */
export function stackGraph(): StepGraph {
  return new StepGraph(stackSteps())
}

/**
 * The steps `up` creates: the managed ones, the cluster only with --create-cluster,
 * the consumer network only when msk.consumerNetwork is set (`consumerNetwork`).
 */
export function upGraph(options: {createCluster?: boolean; consumerNetwork?: boolean} = {}): StepGraph<Step> {
  return stackGraph().filter((step): step is Step => isManaged(step) && (step.id !== 'msk-cluster' || options.createCluster === true) &&
    (!consumerNetworkStepIds.includes(step.id) || options.consumerNetwork === true))
}
