// A PKCS#10 certificate signing request (RFC 2986) for a new EC P-256 key, made
// on the device: `fleet register --csr` keeps its private key local and sends
// only the CSR (CreateCertificateFromCsr). Node signs but does not build CSRs,
// so the few DER structures are written here.
import {generateKeyPairSync, sign} from 'node:crypto'

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n])
  const bytes: number[] = []
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content)
  return Buffer.concat([Buffer.from([tag]), length(body.length), body])
}

const sequence = (...content: Buffer[]) => tlv(0x30, ...content)
// 2.5.4.3 (commonName) and 1.2.840.10045.4.3.2 (ecdsa-with-SHA256).
const commonNameOid = Buffer.from([0x06, 0x03, 0x55, 0x04, 0x03])
const ecdsaWithSha256 = Buffer.from([0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02])

export interface KeyAndCsr {
  /** PKCS#8 PEM. */
  privateKey: string
  csr: string
}

export function newKeyAndCsr(commonName: string): KeyAndCsr {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const subject = sequence(tlv(0x31, sequence(commonNameOid, tlv(0x0c, Buffer.from(commonName, 'utf8')))))
  const spki = publicKey.export({type: 'spki', format: 'der'})
  // version 0, subject, subjectPKInfo, attributes [0] (none).
  const info = sequence(Buffer.from([0x02, 0x01, 0x00]), subject, spki, Buffer.from([0xa0, 0x00]))
  const signature = sign('sha256', info, {key: privateKey, dsaEncoding: 'der'})
  const der = sequence(info, sequence(ecdsaWithSha256), tlv(0x03, Buffer.from([0x00]), signature))
  const body = der.toString('base64').match(/.{1,64}/g)!.join('\n')
  return {
    privateKey: privateKey.export({type: 'pkcs8', format: 'pem'}).toString(),
    csr: `-----BEGIN CERTIFICATE REQUEST-----\n${body}\n-----END CERTIFICATE REQUEST-----\n`,
  }
}
