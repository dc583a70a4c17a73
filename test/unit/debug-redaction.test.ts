// DEBUG output never shows a secret: the redactor that bin/run.js installs into
// the `debug` package (src/lib/redact/). The lines below are the ones the
// libraries print (mqtt.js, mqtt-packet, https-proxy-agent), with their format
// strings; the last tests run the real libraries in a child process.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'
import {describe, test} from 'node:test'
import createDebug from 'debug'
import {debugNamespaces, redactDebug} from '../../src/lib/redact/debug.ts'
import {REDACTED, redactText, registerEnvironmentSecrets, registerSecret, sanitize} from '../../src/lib/redact/index.ts'

const token = 'AQGAAXiZexampleDestinationToken0123456789abcdefABCDEF+/='
const notification = Buffer.from(JSON.stringify({clientAccessToken: token, clientMode: 'destination', region: 'us-east-1', services: ['SSH']}))
/** How util.inspect shows the first bytes of the token inside the payload: `7b 22 63 …`. */
const hexOf = (text: string) => [...Buffer.from(text)].map((b) => b.toString(16).padStart(2, '0')).join(' ')

describe('redactText', () => {
  test('a registered secret, as it is, JSON-escaped, URL-encoded and in base64', () => {
    const secret = 'pa$$"word/with+chars'
    registerSecret(secret)
    for (const form of [secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret), Buffer.from(secret).toString('base64')]) {
      assert.equal(redactText(`before ${form} after`), `before ${REDACTED} after`)
    }
  })

  test('shapes that are secret whatever the value', () => {
    assert.equal(redactText('Creating new HttpsProxyAgent instance: \'http://alice:s3cr%40t@127.0.0.1:3128/\''), `Creating new HttpsProxyAgent instance: 'http://alice:${REDACTED}@127.0.0.1:3128/'`)
    assert.equal(redactText('Proxy-Authorization: Basic YWxpY2U6czNjcmV0'), `Proxy-Authorization: Basic ${REDACTED}`)
    assert.equal(redactText('key -----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY----- done'), `key -----${REDACTED} PRIVATE KEY----- done`)
    assert.equal(redactText('cut -----BEGIN PRIVATE KEY-----\nMIIE'), `cut -----${REDACTED} PRIVATE KEY-----`)
    assert.equal(redactText('wss://h/mqtt?X-Amz-Credential=AKID%2F20260101&X-Amz-Signature=abc123&X-Amz-Security-Token=tok'), `wss://h/mqtt?X-Amz-Credential=${REDACTED}&X-Amz-Signature=${REDACTED}&X-Amz-Security-Token=${REDACTED}`)
    assert.equal(redactText('{"clientAccessToken":"abc.def","region":"us-east-1","password": "x\\"y"}'), `{"clientAccessToken":"${REDACTED}","region":"us-east-1","password": "${REDACTED}"}`)
    assert.equal(redactText('{\\"sourceAccessToken\\":\\"abc\\"}'), `{\\"sourceAccessToken\\":\\"${REDACTED}\\"}`)
    assert.equal(redactText('connecting to wss://data.tunneling.iot.us-east-1.amazonaws.com:443/tunnel?local-proxy-mode=source'), 'connecting to wss://data.tunneling.iot.us-east-1.amazonaws.com:443/tunnel?local-proxy-mode=source')
  })

  test('the environment: credentials, the tunnel token, a proxy password and its Basic form', () => {
    registerEnvironmentSecrets({HTTPS_PROXY: 'http://bob:pr0xy-Pass@127.0.0.1:3128', AWSIOT_TUNNEL_ACCESS_TOKEN: 'env-tunnel-token-123', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG'})
    const text = redactText(`pr0xy-Pass ${Buffer.from('bob:pr0xy-Pass').toString('base64')} env-tunnel-token-123 wJalrXUtnFEMI/K7MDENG`)
    assert.equal(text, [REDACTED, REDACTED, REDACTED, REDACTED].join(' '))
  })
})

describe('sanitize', () => {
  test('buffers become their length; secret-named fields are replaced; the rest stays', () => {
    const packet = {cmd: 'publish', topic: '$aws/things/dev1/tunnels/notify', payload: notification, qos: 1, properties: {password: Buffer.from('pw'), sessionToken: 'st', keepalive: 60, key: 'k'}}
    const clean = sanitize(packet) as Record<string, unknown>
    const text = JSON.stringify(clean, (_key, value: unknown) => (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0 ? String(value) : value))
    assert.match(text, new RegExp(`"payload":"<${notification.length} bytes>"`))
    assert.match(text, /"topic":"\$aws\/things\/dev1\/tunnels\/notify"/)
    assert.match(text, /"keepalive":60/)
    assert.doesNotMatch(text, /"pw"|"st"|"k"/)
  })

  test('a cycle and a deep object do not loop or throw', () => {
    const cyclic: Record<string, unknown> = {name: 'a'}
    cyclic.self = cyclic
    assert.doesNotThrow(() => sanitize(cyclic))
    let deep: Record<string, unknown> = {leaf: Buffer.from('secret bytes')}
    for (let i = 0; i < 20; i++) deep = {next: deep}
    assert.doesNotThrow(() => sanitize(deep))
  })
})

describe('the debug package, redacted', () => {
  const lines: string[] = []
  createDebug.log = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '))
  }
  redactDebug(createDebug)
  createDebug.enable('test:*')
  const log = createDebug('test:lib')

  test('mqtt.js and mqtt-packet packet lines show no payload byte', () => {
    lines.length = 0
    log('handlePublish: packet %o', {cmd: 'publish', topic: 't', payload: notification})
    log('_parsePublish: payload from buffer list: %o', notification)
    log('_parsePayload: payload %O', [notification])
    log('_parseConnect: packet.password: %s', Buffer.from(token))
    log('publish :: message `%s` to topic `%s`', notification.toString(), 't')
    log(notification)
    assert.equal(lines.length, 6)
    for (const line of lines) {
      assert.ok(!line.includes(token), line)
      assert.ok(!line.includes(hexOf(token.slice(0, 8))), line)
      assert.ok(!line.includes(hexOf('{"clientAccessToken"')), line)
    }
    assert.match(lines[0], new RegExp(`payload: <${notification.length} bytes>`))
  })

  test('a proxy URL shows no password', () => {
    lines.length = 0
    log('Creating new HttpsProxyAgent instance: %o', 'http://carol:Hunter2-proxy@127.0.0.1:3128/')
    log('Creating `net.Socket`: %o', {host: '127.0.0.1', port: 3128, headers: {'Proxy-Authorization': `Basic ${Buffer.from('carol:Hunter2-proxy').toString('base64')}`}})
    assert.ok(lines.every((line) => !line.includes('Hunter2-proxy') && !line.includes(Buffer.from('carol:Hunter2-proxy').toString('base64'))), lines.join('\n'))
  })
})

describe('DEBUG namespaces', () => {
  test('DEBUG=* leaves out the payload namespaces; naming one keeps it (redacted)', () => {
    assert.equal(debugNamespaces('*'), '*,-mqtt-packet,-mqtt-packet:*,-https-proxy-agent,-https-proxy-agent:*,-socks-proxy-agent,-socks-proxy-agent:*')
    assert.equal(debugNamespaces('mqttjs*,mqtt-packet:parser'), 'mqttjs*,mqtt-packet:parser,-https-proxy-agent,-https-proxy-agent:*,-socks-proxy-agent,-socks-proxy-agent:*')
    assert.equal(debugNamespaces(debugNamespaces('*')), debugNamespaces('*'), 'applied twice (a child process) it stays the same')
  })

  test('the real libraries under DEBUG=*: the installed redactor reaches their copy of debug', () => {
    const redact = fileURLToPath(new URL('../../src/lib/redact/debug.ts', import.meta.url))
    // mqtt-packet named on its own (its parser prints every packet), https-proxy-agent too.
    const script = `
      const {installDebugRedaction} = await import(${JSON.stringify(redact)})
      installDebugRedaction()
      const mqttPacket = (await import('mqtt-packet')).default
      const parser = mqttPacket.parser({protocolVersion: 4})
      parser.on('packet', () => {})
      parser.parse(mqttPacket.generate({cmd: 'publish', topic: '$aws/things/dev1/tunnels/notify', payload: Buffer.from(process.env.PAYLOAD), qos: 0, retain: false, dup: false}))
      const {HttpsProxyAgent} = await import('https-proxy-agent')
      new HttpsProxyAgent(process.env.PROXY_URL)`
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: {...process.env, DEBUG: '*,mqtt-packet:*,https-proxy-agent', DEBUG_COLORS: '0', PAYLOAD: notification.toString(), PROXY_URL: 'http://dave:Pr0xyPassw0rd@127.0.0.1:3128'},
      encoding: 'utf8',
    })
    assert.equal(result.status, 0, result.stderr)
    assert.match(result.stderr, /mqtt-packet:parser/, 'mqtt-packet printed')
    assert.match(result.stderr, /https-proxy-agent Creating new HttpsProxyAgent instance/, 'https-proxy-agent printed')
    assert.ok(!result.stderr.includes(token), 'no token')
    assert.ok(!result.stderr.includes(hexOf(token.slice(0, 8))), 'no token bytes')
    assert.ok(!result.stderr.includes('Pr0xyPassw0rd'), 'no proxy password')
  })
})

test('an object that cannot be inspected gives a placeholder, never an exception in the library', () => {
  const lines: string[] = []
  const previous = createDebug.log
  createDebug.log = (...args: unknown[]) => {
    lines.push(args.map(String).join(' '))
  }
  try {
    // Object.entries reads the getter, which throws.
    const hostile = {get boom(): string {
      throw new Error('no')
    }}
    assert.doesNotThrow(() => createDebug('test:hostile')('value %o', hostile))
    assert.match(lines.join('\n'), /test:hostile value <not shown: Error while redacting>/)
  } finally {
    createDebug.log = previous
  }
})
