// Policy evaluation and policy-document strictness of the local AWS (issue 13).
// See the "Policies" section of ../README.md.
import type {Handler} from '../context.ts'
import {iotPolicyHandler} from './iot-policy.ts'
import {keyPolicyHandler} from './key-policy.ts'
import {simulatePrincipalPolicyHandler} from './simulate.ts'

export {PolicyEngine, evaluate, deniedMessage, secretsManagerManagedKeyPolicy, type Decision, type EvalDecision, type Evaluation, type MatchedStatement} from './engine.ts'
export {IOT_POLICY_ACTIONS, iotPolicyProblem} from './iot-policy.ts'
export {INVALID_PRINCIPALS, invalidPrincipals} from './key-policy.ts'
export {UNSUPPORTED_DESTINATION_ZONE_IDS, destinationPermissionsOutcome, unsupportedZoneRefusal} from './vpc-destination.ts'

/** The role policy the IoT developer guide gives for VPC destinations ("Virtual private cloud (VPC) destinations"). */
export const documentedVpcDestinationPolicy = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeVpcs',
        'ec2:DeleteNetworkInterface',
        'ec2:DescribeSubnets',
        'ec2:DescribeVpcAttribute',
        'ec2:DescribeSecurityGroups',
      ],
      Resource: '*',
    },
    {
      Effect: 'Allow',
      Action: 'ec2:CreateNetworkInterfacePermission',
      Resource: '*',
      Condition: {StringEquals: {'ec2:ResourceTag/VPCDestinationENI': 'true'}},
    },
    {
      Effect: 'Allow',
      Action: ['ec2:CreateTags'],
      Resource: '*',
      Condition: {StringEquals: {'ec2:CreateAction': 'CreateNetworkInterface', 'aws:RequestTag/VPCDestinationENI': 'true'}},
    },
  ],
}

/**
 * The stand-in handlers of this slice, by `service:Operation`. `existing` is
 * the handler already registered for the operation (IoT's tag keeping, KMS's
 * default policy name): ours checks first, then hands the request on to it.
 */
export function policyHandlers(settings: {strictPolicies: boolean}, existing: (key: string) => Handler | undefined): Record<string, Handler> {
  return {
    'iam:SimulatePrincipalPolicy': simulatePrincipalPolicyHandler(),
    'iot:CreatePolicy': iotPolicyHandler(settings, existing('iot:CreatePolicy')),
    'iot:CreatePolicyVersion': iotPolicyHandler(settings, existing('iot:CreatePolicyVersion')),
    'kms:CreateKey': keyPolicyHandler(settings, existing('kms:CreateKey')),
    'kms:PutKeyPolicy': keyPolicyHandler(settings, existing('kms:PutKeyPolicy')),
  }
}
