// The IoT policy of a test device and the names iotctl gives its resources.
// Pure functions, unit-tested with tables of cases.
//
// Limits from the AWS IoT API reference: a thing name matches [a-zA-Z0-9:_-]+
// (1-128), a policy name [\w+=,.@-]+ (1-128), a thing attribute name
// [a-zA-Z0-9_.,@/:#-]+ and its value [a-zA-Z0-9_.,@/:#-]*.
import {createHash} from 'node:crypto'
import {InputError} from '../errors.ts'
import {stackPrefix} from '../config/stack-names.ts'

const thingNamePattern = /^[a-zA-Z0-9:_-]{1,128}$/
const maxPolicyName = 128

/**
 * Things cannot be tagged (CreateThing takes no tags), so the stack's things carry
 * this attribute instead: ListThings filters on it, and cleanup touches only things
 * that have it.
 */
export const stackAttribute = 'iotctl_stack'

/**
 * Certificates cannot be tagged (CreateKeysAndCertificate takes no tags; the AWS IoT
 * developer guide, "Tagging your AWS IoT resources", lists no certificate among the
 * taggable resources), so `device create` marks the ones it makes on the stack's
 * thing: this attribute lists their ids, and cleanup deletes a certificate only when
 * a stack thing marks it (or the ledger records it and it hangs on the stack's
 * thing or policy). Any other certificate is only detached.
 */
export const certificatesAttribute = 'iotctl_certs'

/** 64 hex digits and a comma each: what fits the 800 characters of an attribute value. */
export const maxCertificateMarks = 12

const certificateIdPattern = /^[0-9a-f]{64}$/

/** The certificate ids a thing's attributes mark as made by iotctl. */
export function certificateMarks(attributes: Record<string, string> | undefined): string[] {
  return (attributes?.[certificatesAttribute] ?? '').split(',').filter((id) => certificateIdPattern.test(id))
}

export function checkThingName(name: string): string {
  if (!thingNamePattern.test(name)) {
    throw new InputError(`thing name ${JSON.stringify(name)} must be 1-128 letters, digits, ':', '_' or '-' (e.g. sensor-1)`)
  }
  return name
}

/** The names policies of this stack start with (cleanup lists policies by it, then checks the tag). */
export function devicePolicyPrefix(stack: string): string {
  return `${stackPrefix(stack)}-device-`
}

/**
 * `iotctl-<stack>-device-<thing>`; ':' (allowed in thing names, not in policy names)
 * becomes '.', and a name over 128 characters is cut and ends with a hash of the thing name.
 */
export function devicePolicyName(stack: string, thing: string): string {
  const name = devicePolicyPrefix(stack) + thing.replaceAll(':', '.')
  if (name.length <= maxPolicyName) return name
  const hash = createHash('sha256').update(thing).digest('hex').slice(0, 12)
  return `${name.slice(0, maxPolicyName - hash.length - 1)}.${hash}`
}

export interface PolicyScope {
  partition: string
  region: string
  accountId: string
  thing: string
}

/**
 * A policy for one device ("AWS IoT Core policy examples"): connect only with the
 * thing's name as client id; publish and receive only on `device/<thing>/…` and the
 * thing's own reserved topics `$aws/things/<thing>/…` (shadow, jobs, tunnels notify);
 * subscribe only to filters under the same prefixes. In policy resources `*` matches
 * any characters, '/' included.
 */
export function devicePolicyDocument(scope: PolicyScope): {Version: string; Statement: {Sid: string; Effect: 'Allow'; Action: string[]; Resource: string[]}[]} {
  const arn = (type: string, rest: string) => `arn:${scope.partition}:iot:${scope.region}:${scope.accountId}:${type}/${rest}`
  const topics = (type: string) => [arn(type, `device/${scope.thing}/*`), arn(type, `$aws/things/${scope.thing}/*`)]
  return {
    Version: '2012-10-17',
    Statement: [
      {Sid: 'ConnectAsTheThing', Effect: 'Allow', Action: ['iot:Connect'], Resource: [arn('client', scope.thing)]},
      {Sid: 'PublishAndReceiveOwnTopics', Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: topics('topic')},
      {Sid: 'SubscribeOwnTopics', Effect: 'Allow', Action: ['iot:Subscribe'], Resource: topics('topicfilter')},
    ],
  }
}

/** The partition of an ARN (`arn:aws-cn:…` → aws-cn). */
export function partitionOfArn(arn: string): string {
  return arn.split(':')[1] || 'aws'
}
