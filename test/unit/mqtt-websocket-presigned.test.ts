// The WebSocket an MQTT client opens carries the SigV4 signature and session
// token, while the URL mqtt.js itself sees (and prints under DEBUG=mqttjs*)
// carries neither.
import assert from 'node:assert/strict'
import {createServer, type IncomingMessage} from 'node:http'
import type {AddressInfo} from 'node:net'
import {test} from 'node:test'
import {connectClient, prepareConnection} from '../../src/lib/mqtt/connection.ts'

test('the presigned URL is the one opened, and never the one mqtt.js logs', async () => {
  const upgrades: string[] = []
  const server = createServer()
  server.on('upgrade', (request: IncomingMessage, socket) => {
    upgrades.push(request.url ?? '')
    socket.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as AddressInfo
  const credentials = async () => ({accessKeyId: 'AKIDPRESIGN', secretAccessKey: 'secret/key', sessionToken: 'session+token/value='})
  const connection = await prepareConnection({kind: 'websocket', endpoint: '127.0.0.1', port, scheme: 'ws', region: 'eu-west-1', credentials, clientId: 'presign-check'})
  const seen: string[] = []
  const options = await connection.clientOptions({})
  const unsigned = options.transformWsUrl?.(`ws://127.0.0.1:${port}/mqtt`, options, {on: () => {}} as never)
  seen.push(String(unsigned))
  await assert.rejects(connectClient(connection, {connectTimeoutMs: 2000, reconnectPeriodMs: 0}))
  server.close()
  assert.equal(upgrades.length >= 1, true, 'the client opened a WebSocket')
  const opened = new URL(upgrades[0], `ws://127.0.0.1:${port}`)
  assert.equal(opened.pathname, '/mqtt')
  assert.match(opened.searchParams.get('X-Amz-Credential') ?? '', /^AKIDPRESIGN\/\d{8}\/eu-west-1\/iotdevicegateway\/aws4_request$/)
  assert.match(opened.searchParams.get('X-Amz-Signature') ?? '', /^[0-9a-f]{64}$/)
  assert.equal(opened.searchParams.get('X-Amz-Security-Token'), 'session+token/value=')
  for (const url of seen) assert.doesNotMatch(url, /X-Amz-(Signature|Security-Token|Credential)/)
})
