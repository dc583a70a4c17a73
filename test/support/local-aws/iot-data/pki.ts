// The local CA of the emulated AWS IoT data plane, made with openssl (node can
// read X.509 but not sign it): the CA (EC P-256) that plays Amazon Root CA 1
// and AWS IoT's device-certificate issuer at once, the data endpoint's server
// certificate (SAN localhost, 127.0.0.1), and device certificates for
// CreateKeysAndCertificate (a fresh RSA 2048 key pair, as AWS returns) and
// CreateCertificateFromCsr.
import {execFile} from 'node:child_process'
import {generateKeyPair, randomBytes, randomUUID, X509Certificate} from 'node:crypto'
import {mkdirSync} from 'node:fs'
import {readFile, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'
import {createTestPki, type TestPki} from '../../mosquitto/pki.ts'

const run = promisify(execFile)
// AWS IoT's certificates carry this subject ("CN=AWS IoT Certificate").
const DEVICE_SUBJECT = '/CN=AWS IoT Certificate'
const DEVICE_EXTENSIONS = ['[device]', 'basicConstraints = critical, CA:FALSE', 'keyUsage = critical, digitalSignature, keyEncipherment', 'extendedKeyUsage = clientAuth', ''].join('\n')

export interface IssuedCertificate {
  certificatePem: string
  /** SHA-256 of the DER, lower-case hex: AWS's certificateId. */
  certificateId: string
}

export interface KeysAndCertificate extends IssuedCertificate {
  keyPair: {PublicKey: string; PrivateKey: string}
}

export class LocalCa {
  readonly dir: string
  readonly caFile: string
  readonly serverCertFile: string
  readonly serverKeyFile: string
  #caPem = ''

  private constructor(dir: string, pki: TestPki) {
    this.dir = dir
    this.caFile = pki.ca
    this.serverCertFile = pki.serverCert
    this.serverKeyFile = pki.serverKey
  }

  /** Makes the CA and the server certificate in `dir` (created, private to the caller). */
  static async create(dir: string): Promise<LocalCa> {
    mkdirSync(dir, {recursive: true, mode: 0o700})
    // The CA and the endpoint's certificate are the tests' usual ones (mosquitto/pki.ts).
    const pki = await createTestPki(dir)
    const ca = new LocalCa(dir, pki)
    await writeFile(join(dir, 'device.ext'), DEVICE_EXTENSIONS)
    ca.#caPem = await readFile(ca.caFile, 'utf8')
    return ca
  }

  get caPem(): string {
    return this.#caPem
  }

  /** CreateKeysAndCertificate: a new RSA 2048 key pair and its certificate. */
  async keysAndCertificate(): Promise<KeysAndCertificate> {
    const {publicKey, privateKey} = await new Promise<{publicKey: string; privateKey: string}>((resolve, reject) =>
      generateKeyPair(
        'rsa',
        {modulusLength: 2048, publicKeyEncoding: {type: 'spki', format: 'pem'}, privateKeyEncoding: {type: 'pkcs1', format: 'pem'}},
        (error, pub, priv) => (error ? reject(error) : resolve({publicKey: pub, privateKey: priv})),
      ),
    )
    const pubFile = join(this.dir, `${randomUUID()}.pub`)
    await writeFile(pubFile, publicKey)
    try {
      const issued = await this.#sign(['-new', '-force_pubkey', pubFile, '-subj', DEVICE_SUBJECT])
      return {...issued, keyPair: {PublicKey: publicKey, PrivateKey: privateKey}}
    } finally {
      await rm(pubFile, {force: true})
    }
  }

  /** CreateCertificateFromCsr: signs the CSR (its signature checked by openssl) with its own subject. */
  async fromCsr(csrPem: string): Promise<IssuedCertificate> {
    const csrFile = join(this.dir, `${randomUUID()}.csr`)
    await writeFile(csrFile, csrPem)
    try {
      return await this.#sign(['-req', '-in', csrFile])
    } finally {
      await rm(csrFile, {force: true})
    }
  }

  async #sign(input: string[]): Promise<IssuedCertificate> {
    const {stdout} = await run('openssl', ['x509', ...input, '-CA', this.caFile, '-CAkey', 'ca.key', '-days', '3600',
      '-set_serial', `0x${randomBytes(16).toString('hex')}`, '-extfile', 'device.ext', '-extensions', 'device'], {cwd: this.dir})
    const certificatePem = stdout.slice(stdout.indexOf('-----BEGIN CERTIFICATE-----'))
    return {certificatePem, certificateId: certificateIdOf(certificatePem)}
  }
}

/** AWS's certificateId: the SHA-256 fingerprint of the DER encoding. */
export function certificateIdOf(pem: string | Buffer): string {
  return new X509Certificate(pem).fingerprint256.replaceAll(':', '').toLowerCase()
}
