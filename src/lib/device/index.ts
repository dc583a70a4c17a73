// `iotctl device create`: a test thing with a key pair, a certificate and a
// policy scoped to the thing, written to files with mode 0600 and recorded in
// the ledger so that cleanup removes all of it.
import {InputError, Interrupted} from '../errors.ts'
import {describeIotDataEndpoint} from '../mqtt/endpoint.ts'
import {endpointWithPort} from '../mqtt/local-endpoint.ts'
import {checkPrivateDirectory} from '../files/private-file.ts'
import {Ledger, STATE_DIRECTORY} from '../plan/ledger.ts'
import {hasStackTag} from '../plan/tags.ts'
import type {ResourceRecord} from '../plan/types.ts'
import {
  attachPolicy, attachThingPrincipal, certificateArn, createKeysAndCertificate, createPolicy, createThing, describeThing, getPolicy, markCertificate,
} from './api.ts'
import {checkDeviceFiles, deviceFilePaths, writeDeviceFile, type DeviceFilePaths} from './files.ts'
import {
  certificateMarks, certificatesAttribute, checkThingName, devicePolicyDocument, devicePolicyName, maxCertificateMarks, partitionOfArn, stackAttribute,
} from './policy.ts'
import type {TunnelScope} from '../tunnel/api/index.ts'
import {certificateRecord, policyRecord, thingRecord} from './step.ts'

export {devicesStep, DEVICES_STEP} from './step.ts'
export {checkThingName, devicePolicyDocument, devicePolicyName} from './policy.ts'

export interface DeviceRequest {
  thing: string
  /** Where the files go (default: the current directory). */
  outDirectory: string
  /** Replace existing certificate and key files. */
  force?: boolean
}

/** The IoT account of the settings and the stack's state directory: the same scope as the tunnel commands'. */
export type DeviceScope = TunnelScope
export {tunnelScope as deviceScope} from '../tunnel/api/index.ts'

/** Checks the request (InputError, exit 2) before any AWS call: the thing name, the output directory, files in the way. */
export function checkDeviceRequest(request: DeviceRequest): {thingName: string; files: DeviceFilePaths} {
  const thingName = checkThingName(request.thing)
  const files = deviceFilePaths(request.outDirectory, thingName)
  checkDeviceFiles(request.outDirectory, files, request.force === true)
  return {thingName, files}
}

/** The --json document of `device create`. It never holds the private key. */
export interface DeviceCreateResult {
  stack: string
  dryRun: boolean
  thingName: string
  region: string
  accountId: string
  policyName: string
  /** The policy as created (or as it would be). */
  policyDocument: object
  /** The IoT data endpoint (iot:Data-ATS) to connect to (port 8883), or host:port under the local data-plane convention. */
  endpoint: string
  files: DeviceFilePaths
  /** False when the stack's thing / policy already existed and was reused. */
  created: {thing: boolean; policy: boolean; certificate: boolean}
  thingArn?: string
  policyArn?: string
  certificateId?: string
  certificateArn?: string
}

export interface CreateOptions {
  dryRun?: boolean
  signal?: AbortSignal
  progress?: (message: string) => void
}

/**
 * Makes (or reuses, when the stack already owns them) the thing and its policy,
 * always a new key pair and certificate (AWS returns a private key only once),
 * attaches the policy to the certificate and the certificate to the thing, and
 * writes the certificate, the key and the endpoint. Every resource goes into the
 * ledger as soon as it exists.
 */
export async function createDevice(scope: DeviceScope, request: DeviceRequest, options: CreateOptions = {}): Promise<DeviceCreateResult> {
  const {thingName, files} = checkDeviceRequest(request)
  // The ledger's directory, before any AWS call (a dry run writes nothing).
  if (!options.dryRun) checkPrivateDirectory(scope.stateDirectory, STATE_DIRECTORY)
  const progress = options.progress ?? (() => {})
  const checkpoint = () => {
    if (options.signal?.aborted) throw new Interrupted(`interrupted while creating device ${thingName}; what exists is in the ledger: run \`iotctl device create\` again or \`iotctl cleanup\``)
  }
  // A ledger that is not this stack's is refused before any AWS request.
  const ledger = Ledger.open(scope.stateDirectory, scope.stack, {readOnly: options.dryRun === true})
  const identity = await scope.account.identity()
  const iot = await scope.account.iot()
  const policyName = devicePolicyName(scope.stack, thingName)
  const policyDocument = devicePolicyDocument({partition: partitionOfArn(identity.arn), region: scope.account.region, accountId: identity.accountId, thing: thingName})

  // Read everything first: a thing or policy of the same name that is not the stack's is a conflict, found before any change.
  const [thing, policy, host] = await Promise.all([describeThing(iot, thingName), getPolicy(iot, policyName), describeIotDataEndpoint(iot)])
  // host, or host:port under the local data-plane convention (../mqtt/local-endpoint.ts).
  const endpoint = endpointWithPort(host)
  if (thing && thing.attributes[stackAttribute] !== scope.stack) {
    const owner = thing.attributes[stackAttribute]
    throw new InputError(`thing ${thingName} already exists and is not stack '${scope.stack}'s${owner ? ` (it belongs to stack '${owner}')` : ' (it has no iotctl_stack attribute)'}: choose another thing name`)
  }
  if (policy && !hasStackTag(policy.tags, scope.stack)) {
    throw new InputError(`IoT policy ${policyName} already exists without the tag iotctl:stack=${scope.stack}: delete it or use another --stack`)
  }
  // The thing marks the certificates iotctl made for it (cleanup deletes those only); its attribute holds so many.
  let marks = certificateMarks(thing?.attributes)
  if (marks.length >= maxCertificateMarks) {
    const live: string[] = []
    for (const id of marks) if (await certificateArn(iot, id)) live.push(id)
    marks = live
    if (marks.length >= maxCertificateMarks) {
      throw new InputError(`thing ${thingName} already has ${marks.length} certificates made by iotctl, the most its ${certificatesAttribute} attribute records: run \`iotctl cleanup\` or choose another thing name`)
    }
  }
  const base = {stack: scope.stack, thingName, region: scope.account.region, accountId: identity.accountId, policyName, policyDocument, endpoint, files}
  if (options.dryRun) return {...base, dryRun: true, created: {thing: !thing, policy: !policy, certificate: true}}

  const recordBase = {account: 'iot' as const, accountId: identity.accountId, region: scope.account.region, ...(scope.account.profile ? {profile: scope.account.profile} : {})}
  const record = (r: ResourceRecord) => ledger.put(r)

  checkpoint()
  let thingArn = thing?.thingArn
  if (!thing) {
    progress(`creating thing ${thingName}`)
    thingArn = await createThing(iot, thingName, scope.stack)
  }
  record(thingRecord(recordBase, thingName))
  checkpoint()
  let policyArn = policy?.policyArn
  if (!policy) {
    progress(`creating policy ${policyName}`)
    policyArn = await createPolicy(iot, policyName, policyDocument, scope.stack)
  }
  record(policyRecord(recordBase, policyName, policyArn!))
  checkpoint()
  progress('creating a key pair and certificate')
  const certificate = await createKeysAndCertificate(iot)
  record(certificateRecord(recordBase, certificate.certificateId, certificate.certificateArn, thingName))
  // The private key exists only in this answer: write it before anything else can fail.
  writeDeviceFile(files.key, certificate.privateKey)
  writeDeviceFile(files.cert, certificate.certificatePem)
  writeDeviceFile(files.endpoint, `${endpoint}\n`)
  // Marked on the thing before anything is attached: cleanup deletes only certificates a stack thing marks (or the ledger records).
  await markCertificate(iot, thingName, [...marks, certificate.certificateId])
  progress(`attaching policy ${policyName} to the certificate and the certificate to ${thingName}`)
  await attachPolicy(iot, policyName, certificate.certificateArn)
  await attachThingPrincipal(iot, thingName, certificate.certificateArn)
  return {
    ...base,
    dryRun: false,
    created: {thing: !thing, policy: !policy, certificate: true},
    ...(thingArn ? {thingArn} : {}),
    ...(policyArn ? {policyArn} : {}),
    certificateId: certificate.certificateId,
    certificateArn: certificate.certificateArn,
  }
}
