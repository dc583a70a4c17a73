// A throw-away CA and a server certificate for 127.0.0.1/localhost, made with
// openssl, for the TLS relay. Pass `ca` to the proxies (or NODE_EXTRA_CA_CERTS=caFile).
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

export interface TestCertificates {
  /** The CA certificate (PEM) and its file, for `ca` or NODE_EXTRA_CA_CERTS. */
  ca: string
  caFile: string
  key: string
  cert: string
  dir: string
  remove(): void
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, {cwd, stdio: ['ignore', 'ignore', 'pipe']})
}

export function createTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'iotctl-tunnel-ca-'))
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=iotctl test tunnel CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir)
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost'], dir)
  writeFileSync(join(dir, 'server.ext'), [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ].join('\n'))
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir)
  return {
    ca: readFileSync(join(dir, 'ca.pem'), 'utf8'),
    caFile: join(dir, 'ca.pem'),
    key: readFileSync(join(dir, 'server.key'), 'utf8'),
    cert: readFileSync(join(dir, 'server.pem'), 'utf8'),
    dir,
    remove: () => rmSync(dir, {recursive: true, force: true}),
  }
}
