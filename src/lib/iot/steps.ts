// Steps 5–7 of the walkthrough, in the IoT account (B): the role AWS IoT
// assumes, that role as a user of B's stack key, the VPC rule destination and
// the Kafka topic rule. They follow the secrets and KMS steps in the registry
// and consume them only through its records (see ./inputs.ts).
import type {Step} from '../plan/types.ts'
import {iotDestinationStep} from './destination-step.ts'
import {iotKeyUserStep, iotRoleStep} from './role-steps.ts'
import {iotRuleStep} from './rule-step.ts'

export const iotSteps: Step[] = [iotRoleStep, iotKeyUserStep, iotDestinationStep, iotRuleStep]
