// How the local IoT data plane checks a SigV4-presigned MQTT WebSocket URL
// (test/support/local-aws/iot-data/sigv4.ts), against URLs signed by iotctl's own signer.
import assert from 'node:assert/strict'
import {describe, test} from 'node:test'
import {presignMqttWebSocketUrl} from '../../src/lib/mqtt/sigv4.ts'
import {checkPresigned, type KnownCredentials} from '../support/local-aws/iot-data/sigv4.ts'

const known: KnownCredentials = {
  accessKeyId: 'ASIAEXAMPLEKEY000001',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'token/with+special=chars',
  principalArn: 'arn:aws:sts::222222222222:assumed-role/iotctl-admin/s',
  account: '222222222222',
}
const signingDate = new Date('2026-01-02T03:04:05Z')
const at = signingDate.getTime()

async function signed(options: {secret?: string; token?: string; region?: string} = {}): Promise<URL> {
  const credentials = async () => ({accessKeyId: known.accessKeyId, secretAccessKey: options.secret ?? known.secretAccessKey, sessionToken: options.token ?? known.sessionToken})
  return new URL(await presignMqttWebSocketUrl({endpoint: 'localhost', port: 8443, region: options.region ?? 'us-east-1', credentials, signingDate}))
}

const check = (url: URL, now = at + 1000, lookup = (key: string) => (key === known.accessKeyId ? known : undefined)) =>
  checkPresigned({method: 'GET', path: url.pathname, query: url.searchParams, host: url.host}, lookup, now)

describe('presigned MQTT WebSocket URLs', () => {
  test('a URL signed with the secret key is accepted, naming key and region', async () => {
    const result = check(await signed({region: 'eu-west-1'}))
    assert.deepEqual(result.ok && {accessKeyId: result.accessKeyId, region: result.region, verified: result.verified}, {accessKeyId: known.accessKeyId, region: 'eu-west-1', verified: true})
  })

  const refusals: [string, () => Promise<ReturnType<typeof check>>, RegExp][] = [
    ['another secret key', async () => check(await signed({secret: 'not-the-secret'})), /signature we calculated does not match/],
    ['another session token', async () => check(await signed({token: 'stolen'})), /security token included in the request is invalid/],
    ['a URL past X-Amz-Expires (900 s)', async () => check(await signed(), at + 901_000), /Signature expired/],
    ['a URL signed in the future', async () => check(await signed(), at - 3_600_000), /not yet current/],
    [
      'a URL signed for another service',
      async () => {
        const url = await signed()
        url.searchParams.set('X-Amz-Credential', url.searchParams.get('X-Amz-Credential')!.replace('iotdevicegateway', 'iot'))
        return check(url)
      },
      /scoped to correct service/,
    ],
    [
      'a URL with a changed host',
      async () => {
        const url = await signed()
        url.port = '8444'
        return check(url)
      },
      /signature we calculated does not match/,
    ],
  ]
  for (const [name, make, message] of refusals) {
    test(`refused: ${name}`, async () => {
      const result = await make()
      assert.equal(result.ok, false)
      assert.match(!result.ok ? result.message : '', message)
    })
  }

  test('a key the stand-in never saw a secret for is accepted unverified (scope and expiry still checked)', async () => {
    const result = check(await signed(), at + 1000, () => undefined)
    assert.equal(result.ok && result.verified, false)
    assert.equal(check(await signed(), at + 901_000, () => undefined).ok, false)
  })
})
