// The presigned MQTT-over-WebSocket URL, checked against a SigV4 computation written
// out here from the AWS documentation, with fixed credentials and a fixed clock.
import assert from 'node:assert/strict'
import {createHash, createHmac} from 'node:crypto'
import {describe, test} from 'node:test'
import {AwsError} from '../../src/lib/errors.ts'
import {presignMqttWebSocketUrl} from '../../src/lib/mqtt/sigv4.ts'

const endpoint = 'abc123example-ats.iot.eu-west-1.amazonaws.com'
const signingDate = new Date('2024-05-01T12:34:56Z')
const keys = {accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'}
// Session tokens are base64: '+', '/' and '=' must survive URL encoding.
const sessionToken = 'IQoJb3JpZ2luX2VjEJr//////////wEaCWV1LXdlc3QtMSJH+MEUCIQD/abc=='

/** SigV4 query-string signing of GET <path> on <host>, as in the IAM User Guide ("Create a signed AWS API request"). */
function expectedSignature(host: string, path: string, region: string, expires: number): string {
  const hex = (data: string) => createHash('sha256').update(data).digest('hex')
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest()
  const scope = `20240501/${region}/iotdevicegateway/aws4_request`
  const query = [
    ['X-Amz-Algorithm', 'AWS4-HMAC-SHA256'],
    ['X-Amz-Credential', `${keys.accessKeyId}/${scope}`],
    ['X-Amz-Date', '20240501T123456Z'],
    ['X-Amz-Expires', String(expires)],
    ['X-Amz-SignedHeaders', 'host'],
  ]
    .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
    .join('&')
  const canonicalRequest = ['GET', path, query, `host:${host}`, '', 'host', hex('')].join('\n')
  const stringToSign = ['AWS4-HMAC-SHA256', '20240501T123456Z', scope, hex(canonicalRequest)].join('\n')
  let key = hmac(`AWS4${keys.secretAccessKey}`, '20240501')
  for (const part of [region, 'iotdevicegateway', 'aws4_request']) key = hmac(key, part)
  return createHmac('sha256', key).update(stringToSign).digest('hex')
}

function params(url: string): [string, string][] {
  return [...new URL(url).searchParams.entries()]
}

describe('MQTT over WebSocket URL signed with SigV4', () => {
  test('service iotdevicegateway, the region, and the credential scope date/region/service', async () => {
    const url = await presignMqttWebSocketUrl({endpoint, region: 'eu-west-1', credentials: async () => keys, signingDate})
    assert.ok(url.startsWith(`wss://${endpoint}/mqtt?`), url)
    const query = new URL(url).searchParams
    assert.equal(query.get('X-Amz-Algorithm'), 'AWS4-HMAC-SHA256')
    assert.equal(query.get('X-Amz-Credential'), 'AKIDEXAMPLE/20240501/eu-west-1/iotdevicegateway/aws4_request')
    assert.equal(query.get('X-Amz-Date'), '20240501T123456Z')
    assert.equal(query.get('X-Amz-SignedHeaders'), 'host')
    assert.equal(query.get('X-Amz-Expires'), '900')
    assert.equal(query.get('X-Amz-Signature'), expectedSignature(endpoint, '/mqtt', 'eu-west-1', 900))
    assert.equal(query.has('X-Amz-Security-Token'), false)
  })

  test('the session token is appended after signing: last, once, and outside the signature', async () => {
    const withToken = await presignMqttWebSocketUrl({endpoint, region: 'eu-west-1', credentials: async () => ({...keys, sessionToken}), signingDate})
    const withoutToken = await presignMqttWebSocketUrl({endpoint, region: 'eu-west-1', credentials: async () => keys, signingDate})
    const entries = params(withToken)
    assert.deepEqual(entries.at(-1), ['X-Amz-Security-Token', sessionToken])
    assert.equal(entries.filter(([key]) => key === 'X-Amz-Security-Token').length, 1)
    // Same signature as without a token: the token took no part in the canonical request.
    assert.equal(new URL(withToken).searchParams.get('X-Amz-Signature'), new URL(withoutToken).searchParams.get('X-Amz-Signature'))
    assert.equal(new URL(withToken).searchParams.get('X-Amz-Signature'), expectedSignature(endpoint, '/mqtt', 'eu-west-1', 900))
    // Percent-encoded in the URL itself, so '+' is not read as a space.
    assert.ok(withToken.endsWith(`&X-Amz-Security-Token=${encodeURIComponent(sessionToken)}`))
  })

  test('another region signs into another scope', async () => {
    const url = await presignMqttWebSocketUrl({endpoint: 'x-ats.iot.us-east-2.amazonaws.com', region: 'us-east-2', credentials: async () => keys, signingDate, expiresInSeconds: 60})
    const query = new URL(url).searchParams
    assert.equal(query.get('X-Amz-Credential'), 'AKIDEXAMPLE/20240501/us-east-2/iotdevicegateway/aws4_request')
    assert.equal(query.get('X-Amz-Signature'), expectedSignature('x-ats.iot.us-east-2.amazonaws.com', '/mqtt', 'us-east-2', 60))
  })

  test('a test broker: ws scheme, a port in the URL and in the signed Host', async () => {
    const url = await presignMqttWebSocketUrl({endpoint: '127.0.0.1', port: 8080, scheme: 'ws', region: 'eu-west-1', credentials: async () => keys, signingDate})
    assert.ok(url.startsWith('ws://127.0.0.1:8080/mqtt?'), url)
    assert.equal(new URL(url).searchParams.get('X-Amz-Signature'), expectedSignature('127.0.0.1:8080', '/mqtt', 'eu-west-1', 900))
  })

  test('credentials that cannot be read are an AwsError', async () => {
    const credentials = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), {name: 'CredentialsProviderError'})
    }
    await assert.rejects(presignMqttWebSocketUrl({endpoint, region: 'eu-west-1', credentials, signingDate}), (error) => {
      assert.ok(error instanceof AwsError)
      assert.equal(error.code, 'CredentialsProviderError')
      return true
    })
  })
})
