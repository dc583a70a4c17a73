// Names and input checks of fleet provisioning by claim. Pure, unit-tested by table.
// Limits from the AWS IoT API reference: a provisioning template name matches
// ^[0-9A-Za-z_-]+$ (1-36, CreateProvisioningTemplate); a thing name [a-zA-Z0-9:_-]+
// (1-128) — the template names the thing after the SerialNumber parameter, so a
// serial (and its prefix) can hold only those characters.
import {stackPrefix} from '../config/stack-names.ts'
import {InputError} from '../errors.ts'

const templateNamePattern = /^[0-9A-Za-z_-]{1,36}$/
const serialPattern = /^[a-zA-Z0-9:_-]{1,128}$/
// arn:<partition>:lambda:<region>:<account>:function:<name>[:<version or alias>] (Lambda API reference, AddPermission).
const lambdaArnPattern = /^arn:(aws[a-z-]*):lambda:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12}):function:([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]+))?$/
// Topic rule names: letters, digits and underscores (CreateTopicRule).
const ruleNamePattern = /^[a-zA-Z0-9_]{1,128}$/

/**
 * Provisioned things carry this attribute (the template sets it; things take no
 * tags), so cleanup finds the stack's provisioned things, and only those: a thing
 * another template made has no such attribute.
 */
export const fleetAttribute = 'iotctl_fleet'

export function checkTemplateName(name: string, input = '--template'): string {
  if (!templateNamePattern.test(name)) {
    throw new InputError(`${input} ${JSON.stringify(name)}: AWS IoT takes template names of 1-36 letters, digits, '_' or '-'`)
  }
  return name
}

export function checkSerial(serial: string, input = '--serial'): string {
  if (!serialPattern.test(serial)) {
    throw new InputError(`${input} ${JSON.stringify(serial)}: a serial number names the thing, so it can hold only letters, digits, ':', '_' or '-' (1-128 characters)`)
  }
  return serial
}

export function checkSerialPrefix(prefix: string, input = '--serial-prefix'): string {
  if (!/^[a-zA-Z0-9:_-]{1,64}$/.test(prefix)) {
    throw new InputError(`${input} ${JSON.stringify(prefix)}: a serial number names the thing, so a prefix can hold only letters, digits, ':', '_' or '-' (1-64 characters)`)
  }
  return prefix
}

export interface LambdaArn {
  partition: string
  region: string
  accountId: string
  functionName: string
  qualifier?: string
}

export function parseLambdaArn(arn: string, input = '--hook-arn'): LambdaArn {
  const match = lambdaArnPattern.exec(arn)
  if (!match) throw new InputError(`${input} ${JSON.stringify(arn)} is not a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)`)
  const [, partition, region, accountId, functionName, qualifier] = match
  return {partition, region, accountId, functionName, ...(qualifier ? {qualifier} : {})}
}

/** The hook must be a function of the IoT account's region (and account): IoT invokes it there. */
export function checkHookHome(hook: LambdaArn, arn: string, home: {region: string; accountId: string}, input = '--hook-arn'): void {
  if (hook.region !== home.region) throw new InputError(`${input} ${arn} is in ${hook.region}, not in the IoT account's region ${home.region}: AWS IoT invokes a pre-provisioning hook of its own region`)
  if (hook.accountId !== home.accountId) throw new InputError(`${input} ${arn} belongs to account ${hook.accountId}, not to the IoT account ${home.accountId}`)
}

export function checkRuleName(name: string, input = 'fleet.rule'): string {
  if (!ruleNamePattern.test(name)) throw new InputError(`${input} ${JSON.stringify(name)}: topic rule names hold letters, digits and '_' only`)
  return name
}

/** IAM role names allow 64 characters; stack names have at most 40. */
export const provisioningRoleName = (stack: string): string => `${stackPrefix(stack)}-fleet-prov`
export const hookRoleName = (stack: string): string => `${stackPrefix(stack)}-fleet-hook`
export const hookFunctionName = (stack: string): string => `${stackPrefix(stack)}-fleet-hook`
export const devicePolicyName = (stack: string): string => `${stackPrefix(stack)}-fleet-device`
export const claimPolicyName = (stack: string): string => `${stackPrefix(stack)}-fleet-claim`
/** The statement id of the permission iotctl adds to a hook's resource policy (Lambda StatementId: [a-zA-Z0-9-_]+). */
export const hookStatementId = (stack: string): string => `${stackPrefix(stack)}-fleet-iot-invoke`
/** The managed policy AWS provides for provisioning roles ("Provisioning templates", "Fleet provisioning"). */
export const thingsRegistrationPolicyArn = (partition: string): string => `arn:${partition}:iam::aws:policy/service-role/AWSIoTThingsRegistration`
