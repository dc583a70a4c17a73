// The IoT control-plane side of the data plane: DescribeEndpoint names the
// local endpoint; CreateKeysAndCertificate and CreateCertificateFromCsr issue
// certificates from the local CA and register them in moto (so moto's
// DescribeCertificate, AttachPolicy, AttachThingPrincipal, ListPrincipalThings
// … keep working); and what the broker asks moto when a client connects
// (certificate status, attached policies, attached things).
// Shapes after the AWS IoT API reference (REST-JSON).
import {AwsServiceError, jsonReply} from '../aws-errors.ts'
import {relay, type CallContext, type Handler} from '../context.ts'
import {parseJson, type MotoClient} from '../moto-client.ts'
import type {NamedPolicy} from './iot-policy.ts'
import type {LocalCa} from './pki.ts'

export interface CertificateHome {
  account: string
  region: string
}

/** DescribeEndpoint types that name the MQTT data endpoint (omitted = the legacy iot:Data). */
const DATA_ENDPOINT_TYPES = new Set(['iot:Data-ATS', 'iot:Data', ''])

export class CertificateRegistry {
  /** Certificates the local CA issued, by certificateId: which account's registry holds them. */
  readonly #issued = new Map<string, CertificateHome>()
  readonly #ca: () => LocalCa
  readonly #moto: MotoClient
  readonly #onStatusChange: (certificateId: string, home: CertificateHome) => void

  constructor(moto: MotoClient, ca: () => LocalCa, onStatusChange: (certificateId: string, home: CertificateHome) => void) {
    this.#moto = moto
    this.#ca = ca
    this.#onStatusChange = onStatusChange
  }

  reset(): void {
    this.#issued.clear()
  }

  home(certificateId: string): CertificateHome | undefined {
    return this.#issued.get(certificateId)
  }

  handlers(endpointAddress: () => string): Record<string, Handler> {
    return {
      DescribeEndpoint: async (c) => {
        const type = c.url.searchParams.get('endpointType') ?? ''
        if (!DATA_ENDPOINT_TYPES.has(type)) return relay(await c.forward())
        return jsonReply('rest-json', {endpointAddress: endpointAddress()})
      },
      CreateKeysAndCertificate: async (c) => {
        const issued = await this.#ca().keysAndCertificate()
        const registered = await this.#register(c, issued.certificatePem)
        return jsonReply('rest-json', {...registered, certificatePem: issued.certificatePem, keyPair: issued.keyPair})
      },
      CreateCertificateFromCsr: async (c) => {
        const csr = c.input.certificateSigningRequest
        if (typeof csr !== 'string' || !csr.includes('CERTIFICATE REQUEST')) {
          throw new AwsServiceError('InvalidRequestException', 400, 'The certificate signing request is not a valid PEM CSR')
        }
        const issued = await this.#ca()
          .fromCsr(csr)
          .catch(() => {
            throw new AwsServiceError('InvalidRequestException', 400, 'The certificate signing request could not be parsed or its signature is not valid')
          })
        const registered = await this.#register(c, issued.certificatePem)
        return jsonReply('rest-json', {...registered, certificatePem: issued.certificatePem})
      },
      // AWS closes the connections of a certificate that stops being ACTIVE.
      UpdateCertificate: (c) => this.#afterChange(c),
      DeleteCertificate: (c) => this.#afterChange(c),
    }
  }

  async #register(c: CallContext, certificatePem: string): Promise<{certificateArn: string; certificateId: string}> {
    const active = c.url.searchParams.get('setAsActive') === 'true'
    return this.registerIssued(c, certificatePem, active ? 'ACTIVE' : 'INACTIVE')
  }

  /** Registers a certificate the local CA issued in the home's registry (moto) with the status given. */
  async registerIssued(home: CertificateHome, certificatePem: string, status: 'ACTIVE' | 'INACTIVE' | 'PENDING_ACTIVATION'): Promise<{certificateArn: string; certificateId: string}> {
    const answer = await this.#moto.rest('iot', 'POST', '/certificate/register-no-ca', home.account, home.region, {certificatePem, status})
    const {certificateArn, certificateId} = answer.value as {certificateArn?: string; certificateId?: string}
    if (answer.status !== 200 || !certificateArn || !certificateId) {
      throw new AwsServiceError('InternalFailureException', 500, `registering the certificate failed: ${answer.status} ${JSON.stringify(answer.value).slice(0, 300)}`)
    }
    this.#issued.set(certificateId, {account: home.account, region: home.region})
    return {certificateArn, certificateId}
  }

  /** The local CA (CreateKeysAndCertificate and CreateCertificateFromCsr of the fleet-provisioning MQTT API sign with it too). */
  get ca(): LocalCa {
    return this.#ca()
  }

  async #afterChange(c: CallContext) {
    const answer = await c.forward()
    const id = c.facts.uriParams.certificateId
    const home = id ? this.#issued.get(id) : undefined
    if (answer.status === 200 && id && home?.account === c.account && home.region === c.region) this.#onStatusChange(id, home)
    return relay(answer)
  }

  // --- what the broker asks moto --------------------------------------------

  /** DescribeCertificate: status and ARN, or undefined when the account's registry does not hold it. */
  async certificate(home: CertificateHome, certificateId: string): Promise<{status: string; arn: string} | undefined> {
    const answer = await this.#moto.rest('iot', 'GET', `/certificates/${certificateId}`, home.account, home.region)
    const description = answer.value.certificateDescription as {status?: string; certificateArn?: string} | undefined
    if (answer.status !== 200 || !description?.status || !description.certificateArn) return undefined
    return {status: description.status, arn: description.certificateArn}
  }

  /** The IoT policies attached to a principal (ListAttachedPolicies, then GetPolicy for each default version). */
  async policies(home: CertificateHome, principal: string): Promise<NamedPolicy[]> {
    const names: string[] = []
    let marker: string | undefined
    do {
      const query = new URLSearchParams({recursive: 'true', pageSize: '250', ...(marker ? {marker} : {})})
      const answer = await this.#moto.rest('iot', 'POST', `/attached-policies/${encodeURIComponent(principal)}?${query.toString()}`, home.account, home.region)
      if (answer.status !== 200) break
      for (const p of (answer.value.policies as {policyName?: string}[] | undefined) ?? []) if (p.policyName) names.push(p.policyName)
      marker = typeof answer.value.nextMarker === 'string' && answer.value.nextMarker ? answer.value.nextMarker : undefined
    } while (marker)
    const policies = await Promise.all(
      names.map(async (name) => {
        const answer = await this.#moto.rest('iot', 'GET', `/policies/${encodeURIComponent(name)}`, home.account, home.region)
        const document = answer.value.policyDocument
        return answer.status === 200 && typeof document === 'string' ? ({name, document} satisfies NamedPolicy) : undefined
      }),
    )
    return policies.filter((p) => p !== undefined)
  }

  /** Whether the thing is attached to the principal (ListPrincipalThings). */
  async thingAttached(home: CertificateHome, principal: string, thingName: string): Promise<boolean> {
    let token: string | undefined
    do {
      const answer = await this.#moto.call({
        service: 'iot',
        method: 'GET',
        path: `/principals/things?maxResults=250${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
        account: home.account,
        region: home.region,
        headers: {'x-amzn-principal': principal},
      })
      const value = parseJson(answer.body)
      if (answer.status !== 200) return false
      if (((value.things as string[] | undefined) ?? []).includes(thingName)) return true
      token = typeof value.nextToken === 'string' && value.nextToken ? value.nextToken : undefined
    } while (token)
    return false
  }
}
