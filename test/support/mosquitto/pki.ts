// A throw-away PKI made with openssl: a test CA, a server certificate for
// 127.0.0.1/localhost, and device (client) certificates on demand. EC P-256 keys:
// quick to make, and accepted by mosquitto and Node alike.
import {execFile} from 'node:child_process'
import {chmod} from 'node:fs/promises'
import {join} from 'node:path'
import {promisify} from 'node:util'

const run = promisify(execFile)

export interface DeviceFiles {
  name: string
  /** PEM certificate path, signed by the test CA, CN = name. */
  cert: string
  /** PEM private key path, mode 0600. */
  key: string
}

export interface TestPki {
  /** The CA certificate (PEM path). */
  ca: string
  /** server.crt / server.key in the same directory: for 127.0.0.1 and localhost. */
  serverCert: string
  serverKey: string
  /** A device certificate and key signed by the CA (made once per name). */
  device(name: string): Promise<DeviceFiles>
}

/** Makes the CA and the server certificate in `dir` (which should be private to the caller). */
export async function createTestPki(dir: string): Promise<TestPki> {
  await openssl(dir, ['req', '-x509', ...ecKey, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=iotctl test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'])
  await openssl(dir, ['req', '-x509', ...ecKey, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-keyout', 'server.key', '-out', 'server.crt',
    '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-addext', 'extendedKeyUsage=serverAuth'])
  await chmod(join(dir, 'ca.key'), 0o600)
  await chmod(join(dir, 'server.key'), 0o600)
  const devices = new Map<string, Promise<DeviceFiles>>()
  return {
    ca: join(dir, 'ca.crt'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    device(name) {
      let files = devices.get(name)
      if (!files) {
        files = makeDeviceCertificate(dir, name)
        devices.set(name, files)
      }
      return files
    },
  }
}

const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

async function makeDeviceCertificate(dir: string, name: string): Promise<DeviceFiles> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`device name ${JSON.stringify(name)}: use letters, digits, '.', '_' and '-'`)
  const cert = join(dir, `device-${name}.crt`)
  const key = join(dir, `device-${name}.key`)
  await openssl(dir, ['req', '-x509', ...ecKey, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-keyout', key, '-out', cert,
    '-days', '2', '-subj', `/CN=${name}`, '-addext', 'extendedKeyUsage=clientAuth'])
  await chmod(key, 0o600)
  return {name, cert, key}
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run('openssl', args, {cwd})
}
