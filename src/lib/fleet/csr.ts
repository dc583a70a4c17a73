// A PKCS#10 certificate signing request (RFC 2986) for a new key, made on the device:
// `fleet register --csr` keeps its private key local and sends only the CSR
// (CreateCertificateFromCsr). An EC P-256 key signed with ECDSA-SHA256: "The CSR must
// include a public key that is either an RSA key with a length of at least 2048 bits or
// an ECC key from NIST P-256, NIST P-384, or NIST P-521 curves"
// (https://docs.aws.amazon.com/iot/latest/apireference/API_CreateCertificateFromCsr.html).
// @peculiar/x509 builds the request; tsyringe, which it uses, needs a Reflect polyfill
// loaded first, here rather than in the CLI's entry so only `--csr` pays for it.
import 'reflect-metadata'
import {webcrypto} from 'node:crypto'
import {PemConverter, Pkcs10CertificateRequestGenerator} from '@peculiar/x509'

const algorithm = {name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256'}

export interface KeyAndCsr {
  /** PKCS#8 PEM. */
  privateKey: string
  csr: string
}

export async function newKeyAndCsr(commonName: string): Promise<KeyAndCsr> {
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])
  // A JSON name, not the string form: no escaping of RFC 4514's special characters.
  const request = await Pkcs10CertificateRequestGenerator.create({name: [{CN: [commonName]}], keys, signingAlgorithm: algorithm}, webcrypto)
  return {
    privateKey: `${PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY')}\n`,
    csr: `${request.toString('pem')}\n`,
  }
}
