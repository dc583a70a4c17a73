// `iotctl fleet register`: the device side of provisioning by claim, over the
// fleet provisioning MQTT API ("Device provisioning MQTT API" in the IoT developer
// guide). Connected with the claim certificate, the device subscribes to the
// replies first (the service answers on the same connection), then asks for a
// certificate — CreateKeysAndCertificate, or CreateCertificateFromCsr with a key
// made here (--csr) — and registers with the template (RegisterThing: the
// certificate ownership token and the SerialNumber parameter). The permanent
// certificate and key are written 0600 only once the thing is registered.
import {lstatSync} from 'node:fs'
import {join, resolve} from 'node:path'
import type {MqttClient} from 'mqtt'
import {AwsError, InputError} from '../errors.ts'
import {checkPrivateDirectory, writePrivateFile} from '../files/private-file.ts'
import {connectClient, type MqttConnection} from '../mqtt/connection.ts'
import {disconnect} from '../mqtt/publish.ts'
import {checkSerial, checkTemplateName} from './names.ts'

export interface RegisterRequest {
  template: string
  serial: string
  outDirectory: string
  csr?: boolean
  force?: boolean
  /** How long to wait for each answer (default 10 s). */
  timeoutMs?: number
}

export interface DeviceFiles {
  cert: string
  key: string
  endpoint: string
}

/** The --json document of `fleet register`; never the private key. */
export interface RegisterResult {
  template: string
  serial: string
  thingName: string
  certificateId: string
  /** CreateKeysAndCertificate, or CreateCertificateFromCsr with a key made on the device. */
  keys: 'service' | 'csr'
  endpoint: string
  files: DeviceFiles
}

export function deviceFilePaths(outDirectory: string, serial: string): DeviceFiles {
  const directory = resolve(outDirectory)
  return {cert: join(directory, `${serial}.cert.pem`), key: join(directory, `${serial}.private.key`), endpoint: join(directory, `${serial}.endpoint`)}
}

/** Bad input before anything goes on the network. */
export function checkRegisterRequest(request: RegisterRequest): DeviceFiles {
  checkTemplateName(request.template)
  checkSerial(request.serial)
  checkPrivateDirectory(request.outDirectory, '--out')
  const files = deviceFilePaths(request.outDirectory, request.serial)
  if (request.force !== true) {
    const existing = [files.cert, files.key].filter((path) => lstatSync(path, {throwIfNoEntry: false}) !== undefined)
    if (existing.length > 0) throw new InputError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace ${existing.length === 1 ? 'it' : 'them'}, or choose another --out`)
  }
  return files
}

interface Rejection {
  statusCode?: number
  errorCode?: string
  errorMessage?: string
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '')

/** One request of the API: publish to `topic`, answer from `topic/accepted` or `topic/rejected`. */
async function call(client: MqttClient, connection: MqttConnection, topic: string, body: object, timeoutMs: number, what: string): Promise<Record<string, unknown>> {
  return new Promise((resolvePromise, reject) => {
    const finish = (error: Error | undefined, value?: Record<string, unknown>) => {
      clearTimeout(timer)
      client.removeListener('message', onMessage)
      client.removeListener('close', onClose)
      if (error) reject(error)
      else resolvePromise(value!)
    }
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== `${topic}/accepted` && received !== `${topic}/rejected`) return
      let value: Record<string, unknown>
      try {
        value = JSON.parse(payload.toString('utf8')) as Record<string, unknown>
      } catch {
        return finish(new AwsError(what, 'MalformedReply', `${received}: the answer is not JSON`))
      }
      if (received.endsWith('/accepted')) return finish(undefined, value)
      const r = value as Rejection
      finish(new AwsError(what, r.errorCode ?? 'Rejected', `${r.errorMessage ?? 'refused'}${r.statusCode ? ` (status ${r.statusCode})` : ''}`))
    }
    // AWS IoT closes the connection on a publish the policy does not allow.
    const onClose = () => finish(new AwsError(what, 'ConnectionClosed', `${connection.url} closed the connection (does the claim policy allow iot:Publish on ${topic}?)`))
    const timer = setTimeout(() => finish(new AwsError(what, 'Timeout', `no answer on ${topic}/accepted or /rejected within ${timeoutMs / 1000} s`)), timeoutMs)
    client.on('message', onMessage)
    client.on('close', onClose)
    client.publish(topic, JSON.stringify(body), {qos: 1}, (error) => {
      if (error) finish(new AwsError(what, 'PublishFailed', `${topic}: ${error.message}`))
    })
  })
}

async function subscribeAll(client: MqttClient, connection: MqttConnection, filters: string[]): Promise<void> {
  await new Promise<void>((resolvePromise, reject) => {
    client.subscribe(filters, {qos: 1}, (error, granted) => {
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic)
      if (error) reject(new AwsError('mqtt subscribe', 'SubscribeFailed', `${connection.url}: ${error.message}`))
      else if (refused.length > 0) reject(new AwsError('mqtt subscribe', 'SubscribeRejected', `${connection.url} refused ${refused.join(', ')} (does the claim policy allow iot:Subscribe on them?)`))
      else resolvePromise()
    })
  })
}

/** Runs the flow on a checked connection (the claim certificate's) and writes the device's files. */
export async function registerDevice(connection: MqttConnection, endpoint: string, request: RegisterRequest): Promise<RegisterResult> {
  const files = checkRegisterRequest(request)
  const timeoutMs = request.timeoutMs ?? 10_000
  // Loaded only for --csr: @peculiar/x509 and its Reflect polyfill are the heaviest part of the fleet code.
  const local = request.csr ? await (await import('./csr.ts')).newKeyAndCsr(request.serial) : undefined
  const create = local ? '$aws/certificates/create-from-csr/json' : '$aws/certificates/create/json'
  const provision = `$aws/provisioning-templates/${request.template}/provision/json`
  const client = await connectClient(connection)
  try {
    // Subscribe before publishing: the answers are not kept for later ("Device provisioning MQTT API").
    await subscribeAll(client, connection, [`${create}/accepted`, `${create}/rejected`, `${provision}/accepted`, `${provision}/rejected`])
    const issued = await call(client, connection, create, local ? {certificateSigningRequest: local.csr} : {}, timeoutMs, local ? 'CreateCertificateFromCsr' : 'CreateKeysAndCertificate')
    const certificatePem = text(issued.certificatePem)
    const privateKey = local?.privateKey ?? text(issued.privateKey)
    const token = text(issued.certificateOwnershipToken)
    if (!certificatePem || !privateKey || !token) throw new AwsError('CreateKeysAndCertificate', 'MalformedReply', 'the answer lacks the certificate, the key or the ownership token')
    const registered = await call(client, connection, provision, {certificateOwnershipToken: token, parameters: {SerialNumber: request.serial}}, timeoutMs, `RegisterThing (template ${request.template})`)
    writePrivateFile(files.key, privateKey, {label: '--out'})
    writePrivateFile(files.cert, certificatePem, {label: '--out'})
    writePrivateFile(files.endpoint, `${endpoint}\n`, {label: '--out'})
    return {
      template: request.template,
      serial: request.serial,
      thingName: text(registered.thingName),
      certificateId: text(issued.certificateId),
      keys: local ? 'csr' : 'service',
      endpoint,
      files,
    }
  } finally {
    if (!(await disconnect(client))) client.end(true)
  }
}
