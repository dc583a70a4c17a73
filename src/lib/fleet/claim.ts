// `iotctl fleet claim-cert`: the claim certificate devices enrol with ("Provisioning
// by claim" in the IoT developer guide): a key pair and certificate (active) whose
// policy allows only the fleet provisioning MQTT API of the stack's template.
// Written as claim.cert.pem, claim.private.key (0600) and claim.endpoint; the
// certificate's id is marked on the claim policy (certificates take no tags), so
// cleanup deletes it even without the ledger.
import {lstatSync} from 'node:fs'
import {join, resolve} from 'node:path'
import type {AwsAccount} from '../aws/account.ts'
import * as iotapi from '../aws/iot.ts'
import {attachPolicy, createKeysAndCertificate, createPolicy, getPolicy} from '../device/api.ts'
import {InputError, Interrupted} from '../errors.ts'
import {checkPrivateDirectory, writePrivateFile} from '../files/private-file.ts'
import {describeIotDataEndpoint} from '../mqtt/endpoint.ts'
import {endpointWithPort} from '../mqtt/local-endpoint.ts'
import {Ledger, STATE_DIRECTORY} from '../plan/ledger.ts'
import {hasStackTag} from '../plan/tags.ts'
import {stackTemplates} from './api.ts'
import {claimPolicyDocument, type IotHome} from './documents.ts'
import {checkTemplateName, claimPolicyName} from './names.ts'
import {claimMarkPrefix} from './steps.ts'

export interface ClaimRequest {
  outDirectory: string
  force?: boolean
  /** The template the claim may provision with (default: fleet.template, else the stack's one template). */
  template?: string
}

export interface ClaimFiles {
  cert: string
  key: string
  endpoint: string
}

/** The --json document of `fleet claim-cert`; never the private key. */
export interface ClaimResult {
  stack: string
  dryRun: boolean
  template: string
  policyName: string
  policyDocument: object
  endpoint: string
  files: ClaimFiles
  certificateId?: string
  certificateArn?: string
}

export function claimFilePaths(outDirectory: string): ClaimFiles {
  const directory = resolve(outDirectory)
  return {cert: join(directory, 'claim.cert.pem'), key: join(directory, 'claim.private.key'), endpoint: join(directory, 'claim.endpoint')}
}

/** Bad input before any AWS call: the template name, the output directory, files in the way without --force. */
export function checkClaimRequest(request: ClaimRequest): ClaimFiles {
  if (request.template !== undefined) checkTemplateName(request.template)
  checkPrivateDirectory(request.outDirectory, '--out')
  const files = claimFilePaths(request.outDirectory)
  if (request.force !== true) {
    const existing = [files.cert, files.key].filter((path) => lstatSync(path, {throwIfNoEntry: false}) !== undefined)
    if (existing.length > 0) throw new InputError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace ${existing.length === 1 ? 'it' : 'them'} (a new claim certificate is created either way), or choose another --out`)
  }
  return files
}

export interface ClaimScope {
  stack: string
  account: AwsAccount
  stateDirectory: string
}

export async function createClaimCertificate(scope: ClaimScope, request: ClaimRequest, options: {dryRun?: boolean; signal?: AbortSignal; progress?: (m: string) => void} = {}): Promise<ClaimResult> {
  const files = checkClaimRequest(request)
  if (!options.dryRun) checkPrivateDirectory(scope.stateDirectory, STATE_DIRECTORY)
  const progress = options.progress ?? (() => {})
  const checkpoint = () => {
    if (options.signal?.aborted) throw new Interrupted('interrupted while creating the claim certificate; what exists is in the ledger: run `iotctl fleet claim-cert` again or `iotctl cleanup`')
  }
  const ledger = Ledger.open(scope.stateDirectory, scope.stack, {readOnly: options.dryRun === true})
  const identity = await scope.account.identity()
  const iot = await scope.account.iot()
  const templates = await stackTemplates(iot, scope.stack)
  const template = request.template ?? (templates.length === 1 ? templates[0].name : undefined)
  if (template === undefined) {
    throw new InputError(templates.length === 0
      ? `stack '${scope.stack}' has no provisioning template yet: run \`iotctl fleet setup --template <name>\` first`
      : `stack '${scope.stack}' has ${templates.length} provisioning templates (${templates.map((t) => t.name).join(', ')}): choose one with --template`)
  }
  if (!templates.some((t) => t.name === template)) throw new InputError(`--template ${template} is not a provisioning template of stack '${scope.stack}': run \`iotctl fleet setup --template ${template}\` first`)
  const home: IotHome = {partition: /^arn:([^:]+):/.exec(identity.arn)?.[1] ?? 'aws', region: scope.account.region, accountId: identity.accountId}
  const policyName = claimPolicyName(scope.stack)
  const policyDocument = claimPolicyDocument(home, template)
  const [policy, host] = await Promise.all([getPolicy(iot, policyName), describeIotDataEndpoint(iot)])
  if (policy && !hasStackTag(policy.tags, scope.stack)) throw new InputError(`IoT policy ${policyName} already exists without the tag iotctl:stack=${scope.stack}: delete it or use another --stack`)
  const endpoint = endpointWithPort(host)
  const base = {stack: scope.stack, template, policyName, policyDocument, endpoint, files}
  if (options.dryRun) return {...base, dryRun: true}

  const recordBase = {account: 'iot' as const, accountId: identity.accountId, region: scope.account.region, ...(scope.account.profile ? {profile: scope.account.profile} : {})}
  checkpoint()
  let policyArn = policy?.policyArn
  if (!policy) {
    progress(`creating claim policy ${policyName}`)
    policyArn = await createPolicy(iot, policyName, policyDocument, scope.stack)
  } else if (JSON.stringify(JSON.parse(policy.document)) !== JSON.stringify(policyDocument)) {
    // Another template than the claim policy named: the claim now provisions with this one.
    const versions = (await iotapi.listPolicyVersions(iot, {policyName}, `listing the versions of ${policyName}`)).policyVersions ?? []
    for (const v of versions.filter((v) => !v.isDefaultVersion)) await iotapi.deletePolicyVersion(iot, {policyName, policyVersionId: v.versionId}, `deleting version ${v.versionId} of ${policyName}`)
    await iotapi.createPolicyVersion(iot, {policyName, policyDocument: JSON.stringify(policyDocument), setAsDefault: true}, `updating policy ${policyName}`)
  }
  ledger.put({step: 'fleet-claim', kind: 'iot:policy', id: policyName, ...recordBase, attrs: {arn: policyArn!}})
  checkpoint()
  progress('creating the claim key pair and certificate')
  const certificate = await createKeysAndCertificate(iot)
  ledger.put({step: 'fleet-claim', kind: 'iot:certificate', id: certificate.certificateId, ...recordBase, attrs: {arn: certificate.certificateArn}})
  // The private key exists only in this answer: written before anything else can fail.
  writePrivateFile(files.key, certificate.privateKey, {label: '--out'})
  writePrivateFile(files.cert, certificate.certificatePem, {label: '--out'})
  writePrivateFile(files.endpoint, `${endpoint}\n`, {label: '--out'})
  // Marked on the claim policy before it is attached: cleanup deletes the certificates so marked.
  await iotapi.tagResource(iot, {resourceArn: policyArn!, tags: [{Key: `${claimMarkPrefix}${certificate.certificateId}`, Value: 'true'}]}, `marking the claim certificate on ${policyName}`)
  await attachPolicy(iot, policyName, certificate.certificateArn)
  return {...base, dryRun: false, certificateId: certificate.certificateId, certificateArn: certificate.certificateArn}
}
