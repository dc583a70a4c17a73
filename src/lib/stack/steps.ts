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
//   secret-b:msk       msk  secretsmanager:secret      the alternate user's secret, <name>_b (alternating users; same attrs)
//   secret-b:iot       iot  secretsmanager:secret      (same; same username and password as secret-b:msk)
//   scram-association  msk  kafka:scram-association    id = <cluster ARN>|<secret ARN>
//   scram-association-b msk kafka:scram-association    (the alternate's)
//   kafka-topic        msk  kafka:topic                id = topic ARN; attrs.clusterArn, topicName, createdBy (ledger only: topics take no tags)
//   iot-role           iot  iam:role                   id = role name; attrs.arn, attrs.policyName
//   iot-key-user       iot  kms:key-policy-statement   id = <key id>/<Sid>
//   iot-destination    iot  iot:topic-rule-destination id = destination ARN
//   iot-rule           iot  iot:topic-rule             id = rule name; attrs.arn
//   devices            iot  iot:thing / iot:certificate / iot:policy   (found: made by `device create`)
//   tunnels            iot  iotsecuretunneling:tunnel  id = tunnel id      (found: made by `tunnel open`)
//   fleet-role         iot  iam:role                   id = role name; attrs.arn   (fleet steps: `fleet setup`, or `up` with a `fleet` section naming a template)
//   fleet-device-policy iot iot:policy                 id = policy name; attrs.arn
//   fleet-hook         iot  lambda:permission / lambda:function / iam:role   id = hook ARN (attrs.sid) / function name / role name
//   fleet-template     iot  iot:provisioning-template  id = template name; attrs.arn
//   fleet-claim        iot  iot:certificate / iot:policy   (found: made by `fleet claim-cert`; certificates marked by tags on the claim policy)
//   fleet-devices      iot  iot:certificate / iot:thing    (found: things with attribute iotctl_fleet=<stack>, made by the template)
//   consumer-sg-rules  msk  ec2:security-group-rule    id = sgr-…; attrs.groupId, key, egress (tags iotctl:stack + iotctl:part=consumer-network)
//   consumer-endpoints msk  ec2:vpc-endpoint / ec2:security-group   id = vpce-… / sg-… (same tags)
//   consumer-nat       msk  ec2:route / ec2:nat-gateway / ec2:elastic-ip   id = <rtb>:0.0.0.0/0 / nat-… / eipalloc-… (same tags; a route is the stack's when its target is the stack's NAT gateway)
// The consumer-* steps (`msk consumer-network`) are in `up` only when msk.consumerNetwork is set;
// cleanup, doctor and status always find them by their tags.
import {devicesStep} from '../device/step.ts'

import {fleetConfigured, fleetFoundSteps, fleetStepIds, fleetSteps} from '../fleet/steps.ts'
import {iotSteps} from '../iot/steps.ts'
import {mskConfigurationStep} from '../msk/configuration.ts'
import {mskClusterStep, scramAssociationStep, scramAssociationStepOf} from '../msk/steps.ts'
import {kafkaTopicStep} from '../msk/topic-step.ts'
import {consumerNetworkStepIds, consumerNetworkSteps} from '../msk/consumer-network.ts'
import {peeringSteps} from '../peering/steps.ts'
import {StepGraph} from '../plan/graph.ts'
import {isManaged, type AnyStep, type StackSettings, type Step} from '../plan/types.ts'
import {alternateSecretSteps, mirrorSteps} from '../secrets/steps.ts'
import {tunnelsStep} from '../tunnel/api/step.ts'

export function stackSteps(): AnyStep[] {
  return [
    mskConfigurationStep,
    mskClusterStep,
    ...peeringSteps,
    ...mirrorSteps,
    ...alternateSecretSteps,
    scramAssociationStep,
    scramAssociationStepOf('b'),
    kafkaTopicStep,
    ...consumerNetworkSteps,
    ...iotSteps,
    devicesStep,
    tunnelsStep,
    ...fleetSteps,
    ...fleetFoundSteps,
  ]
}

/** The parts of a stack `up` makes only when its settings name them. */
export interface OptionalParts {
  /** Fleet provisioning: a `fleet` section naming a template. */
  fleet: boolean
  /** The network an MSK consumer needs: msk.consumerNetwork. */
  consumerNetwork: boolean
}

export function optionalParts(settings: StackSettings): OptionalParts {
  return {fleet: fleetConfigured(settings), consumerNetwork: settings.msk?.consumerNetwork !== undefined}
}

/** Every step of the stack, managed and found: what cleanup, doctor and status walk. */
export function stackGraph(): StepGraph {
  return new StepGraph(stackSteps())
}

/**
 * The steps `up` creates: the managed ones, the cluster only with --create-cluster,
 * and the optional parts only when the settings ask for them (optionalParts).
 */
export function upGraph(options: {createCluster?: boolean} & Partial<OptionalParts> = {}): StepGraph<Step> {
  return stackGraph().filter((step): step is Step => isManaged(step) && (step.id !== 'msk-cluster' || options.createCluster === true) &&
    (!fleetStepIds.includes(step.id) || options.fleet === true) &&
    (!consumerNetworkStepIds.includes(step.id) || options.consumerNetwork === true))
}
