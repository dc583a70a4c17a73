// Every step iotctl manages, in the walkthrough's order (DESIGN.md steps 1–7).
// `up` runs them forward, `cleanup` backward; single-capability commands run
// their slice. No command hand-codes this order a second time.
//
// Step ids and what their ResourceRecords carry (later steps read earlier
// steps' records through ctx.outputs.get(id); cleanup finds them by tags):
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
//   devices            iot  iot:thing / iot:certificate / iot:policy   (partOfUp: false)
//   tunnels            iot  iotsecuretunneling:tunnel  id = tunnel id      (partOfUp: false)
import {devicesStep} from '../device/step.ts'
import {iotSteps} from '../iot/steps.ts'
import {mskClusterStep, scramAssociationStep} from '../msk/steps.ts'
import {kafkaTopicStep} from '../msk/topic-step.ts'
import {peeringSteps} from '../peering/steps.ts'
import type {Step} from '../plan/types.ts'
import {mirrorSteps} from '../secrets/steps.ts'
import {tunnelsStep} from '../tunnel/api/step.ts'

export function stackSteps(): Step[] {
  return [
    mskClusterStep,
    ...peeringSteps,
    ...mirrorSteps,
    scramAssociationStep,
    kafkaTopicStep,
    ...iotSteps,
    devicesStep,
    tunnelsStep,
  ]
}

/** The steps `up` creates, in order. */
export function upSteps(options: {createCluster?: boolean} = {}): Step[] {
  return stackSteps().filter((step) => step.partOfUp !== false && (step.id !== 'msk-cluster' || options.createCluster))
}
