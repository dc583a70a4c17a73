// The documents of fleet provisioning by claim. Pure, unit-tested.
import {fleetAttribute} from './names.ts'

export interface IotHome {
  partition: string
  region: string
  accountId: string
}

interface Statement {
  Effect: 'Allow'
  Action: string | string[]
  Resource?: string | string[]
  Principal?: {Service: string}
  Condition?: Record<string, Record<string, string>>
}

export interface Document {
  Version: '2012-10-17'
  Statement: Statement[]
}

const iotArn = (home: IotHome, kind: string, name: string): string => `arn:${home.partition}:iot:${home.region}:${home.accountId}:${kind}/${name}`

/**
 * What every provisioned device may do, written once with policy variables
 * ("Thing policy variables", "Basic policy variables" in the IoT developer guide):
 * connect only as its own thing, publish and receive under device/<client id>/…,
 * subscribe to the matching filters, and — when a rule is named — publish to that
 * rule's Basic Ingest topics ($aws/rules/<rule>/device/<client id>/…), which only
 * the rules engine reads ("Reducing messaging costs with Basic Ingest").
 */
export function devicePolicyDocument(home: IotHome, rule?: string): Document {
  const own = 'device/${iot:ClientId}/*'
  const publish = [iotArn(home, 'topic', own), ...(rule ? [iotArn(home, 'topic', `$aws/rules/${rule}/${own}`)] : [])]
  return {
    Version: '2012-10-17',
    Statement: [
      {Effect: 'Allow', Action: 'iot:Connect', Resource: iotArn(home, 'client', '${iot:Connection.Thing.ThingName}')},
      {Effect: 'Allow', Action: 'iot:Publish', Resource: publish},
      {Effect: 'Allow', Action: 'iot:Receive', Resource: iotArn(home, 'topic', own)},
      {Effect: 'Allow', Action: 'iot:Subscribe', Resource: iotArn(home, 'topicfilter', own)},
    ],
  }
}

/**
 * The claim certificate may only ask for a certificate and register with the
 * template ("Provisioning by claim": the claim policy allows the fleet provisioning
 * MQTT API's topics, here of this template only). Both certificate topics are
 * allowed: CreateKeysAndCertificate, and CreateCertificateFromCsr for `register --csr`.
 */
export function claimPolicyDocument(home: IotHome, template: string): Document {
  const topics = ['$aws/certificates/create/*', '$aws/certificates/create-from-csr/*', `$aws/provisioning-templates/${template}/provision/*`]
  return {
    Version: '2012-10-17',
    Statement: [
      // A device connects with its own client id before it has a thing: any client id.
      {Effect: 'Allow', Action: 'iot:Connect', Resource: iotArn(home, 'client', '*')},
      {Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: topics.map((t) => iotArn(home, 'topic', t))},
      {Effect: 'Allow', Action: 'iot:Subscribe', Resource: topics.map((t) => iotArn(home, 'topicfilter', t))},
    ],
  }
}

/** IoT assumes the provisioning role, for this account only (confused-deputy prevention). */
export function provisioningTrustPolicy(home: IotHome): Document {
  return {
    Version: '2012-10-17',
    Statement: [{Effect: 'Allow', Principal: {Service: 'iot.amazonaws.com'}, Action: 'sts:AssumeRole', Condition: {StringEquals: {'aws:SourceAccount': home.accountId}}}],
  }
}

/** Lambda assumes the deployed hook's role; the role has no permissions (the hook only reads its input). */
export function hookTrustPolicy(): Document {
  return {Version: '2012-10-17', Statement: [{Effect: 'Allow', Principal: {Service: 'lambda.amazonaws.com'}, Action: 'sts:AssumeRole'}]}
}

/**
 * The provisioning template ("Provisioning templates"): the thing is named after
 * the SerialNumber parameter and marked with the stack's attribute, the new
 * certificate is activated, and the device policy is attached to it.
 */
export function templateBody(stack: string, devicePolicy: string): string {
  return JSON.stringify({
    Parameters: {
      SerialNumber: {Type: 'String'},
      'AWS::IoT::Certificate::Id': {Type: 'String'},
    },
    Resources: {
      thing: {
        Type: 'AWS::IoT::Thing',
        Properties: {ThingName: {Ref: 'SerialNumber'}, AttributePayload: {[fleetAttribute]: stack, serial: {Ref: 'SerialNumber'}}},
        OverrideSettings: {AttributePayload: 'MERGE', ThingTypeName: 'REPLACE', ThingGroups: 'DO_NOTHING'},
      },
      certificate: {Type: 'AWS::IoT::Certificate', Properties: {CertificateId: {Ref: 'AWS::IoT::Certificate::Id'}, Status: 'ACTIVE'}},
      policy: {Type: 'AWS::IoT::Policy', Properties: {PolicyName: devicePolicy}},
    },
  })
}

/**
 * The pre-provisioning hook iotctl deploys for --serial-prefix: an ES module for
 * Lambda's Node.js runtime that answers the hook's output object ("Pre-provisioning
 * hooks": provisioning proceeds only on allowProvisioning true) for serials with
 * the prefix. The prefix is written into the code, so what --dry-run prints is
 * what runs.
 */
export function hookSource(stack: string, prefix: string): string {
  return [
    `// iotctl fleet pre-provisioning hook of stack ${stack}: allows only serial numbers starting with ${JSON.stringify(prefix)}.`,
    `const prefix = ${JSON.stringify(prefix)}`,
    '',
    'export const handler = async (event) => {',
    '  const serial = String(event?.parameters?.SerialNumber ?? \'\')',
    '  return {allowProvisioning: serial.length > prefix.length && serial.startsWith(prefix)}',
    '}',
    '',
  ].join('\n')
}

export const hookHandler = 'index.handler'
export const hookFile = 'index.mjs'
export const hookRuntime = 'nodejs22.x'
