// The local IoT data plane convention: the port of AWS_ENDPOINT_URL_IOT_DATA_PLANE
// when its host is the MQTT host, the CA from AWS_CA_BUNDLE when no --ca; with
// neither variable (real AWS) nothing changes.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {caBundleOf, dataPlanePort, endpointWithPort} from '../../src/lib/mqtt/local-endpoint.ts'

const local = {AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'https://localhost:48443', AWS_CA_BUNDLE: '/tmp/local-ca.pem'}

test('the port comes from AWS_ENDPOINT_URL_IOT_DATA_PLANE only for the same host', () => {
  const cases: [string, Record<string, string | undefined>, number | undefined][] = [
    ['localhost', local, 48443],
    ['LOCALHOST', local, 48443],
    ['abc123-ats.iot.us-east-1.amazonaws.com', local, undefined],
    ['localhost', {}, undefined],
    ['localhost', {AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'not a url'}, undefined],
    ['127.0.0.1', {AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'https://127.0.0.1:9443/'}, 9443],
    ['localhost', {AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'https://localhost'}, 443],
    ['::1', {AWS_ENDPOINT_URL_IOT_DATA_PLANE: 'https://[::1]:9443'}, 9443],
  ]
  for (const [host, env, port] of cases) assert.equal(dataPlanePort(host, env), port, `${host} ${JSON.stringify(env)}`)
})

test('the CA: --ca, else AWS_CA_BUNDLE, else none (Node\'s trust store)', () => {
  assert.equal(caBundleOf('/mine.pem', local), '/mine.pem')
  assert.equal(caBundleOf(undefined, local), '/tmp/local-ca.pem')
  assert.equal(caBundleOf(undefined, {}), undefined)
  assert.equal(caBundleOf(undefined, {AWS_CA_BUNDLE: ''}), undefined)
})

test('device create\'s .endpoint file: host:port locally, the bare host on AWS', () => {
  assert.equal(endpointWithPort('localhost', local), 'localhost:48443')
  assert.equal(endpointWithPort('abc123-ats.iot.us-east-1.amazonaws.com', local), 'abc123-ats.iot.us-east-1.amazonaws.com')
  assert.equal(endpointWithPort('abc123-ats.iot.us-east-1.amazonaws.com', {}), 'abc123-ats.iot.us-east-1.amazonaws.com')
})
