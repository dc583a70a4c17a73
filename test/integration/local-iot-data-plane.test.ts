// The local AWS's IoT data plane, as a device and a user meet it: certificates
// from CreateKeysAndCertificate connect over mutual TLS to DescribeEndpoint's
// host on AWS_ENDPOINT_URL_IOT_DATA_PLANE's port, trusting AWS_CA_BUNDLE; IoT
// policies decide; SigV4 WebSocket works with the profile's credentials; and
// OpenTunnel tells the destination thing on its notify topic.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {
  AttachPolicyCommand,
  AttachThingPrincipalCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreatePolicyCommand,
  CreateThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot'
import {IoTSecureTunnelingClient, OpenTunnelCommand, RotateTunnelAccessTokenCommand} from '@aws-sdk/client-iotsecuretunneling'
import mqtt, {type IClientOptions, type MqttClient} from 'mqtt'
import WebSocket from 'ws'
import {prepareConnection} from '../../src/lib/mqtt/connection.ts'
import {presignMqttWebSocketUrl} from '../../src/lib/mqtt/sigv4.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import type {PublishEvent} from '../support/local-aws/iot-data/index.ts'

interface Device {
  certificateArn: string
  certificateId: string
  cert: string
  key: string
}

describe('the local IoT data plane', () => {
  let aws: LocalAws
  let iot: IoTClient
  let msk: IoTClient
  let host: string
  let port: number
  let ca: Buffer
  const events: PublishEvent[] = []
  const open: MqttClient[] = []

  // The policy iotctl's devices get: connect as the thing, publish and receive under device/<thing>/.
  const devicePolicy = (account: string) =>
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {Effect: 'Allow', Action: 'iot:Connect', Resource: `arn:aws:iot:us-east-1:${account}:client/\${iot:Connection.Thing.ThingName}`},
        {Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'], Resource: [`arn:aws:iot:us-east-1:${account}:topic/device/\${iot:ClientId}/*`, `arn:aws:iot:us-east-1:${account}:topic/$aws/rules/*`]},
        {Effect: 'Allow', Action: 'iot:Subscribe', Resource: `arn:aws:iot:us-east-1:${account}:topicfilter/device/\${iot:ClientId}/*`},
        {Effect: 'Allow', Action: 'iot:Subscribe', Resource: `arn:aws:iot:us-east-1:${account}:topicfilter/$aws/rules/*`},
        {Effect: 'Allow', Action: 'iot:Subscribe', Resource: `arn:aws:iot:us-east-1:${account}:topicfilter/$aws/things/\${iot:Connection.Thing.ThingName}/tunnels/notify`},
        {Effect: 'Allow', Action: 'iot:Receive', Resource: `arn:aws:iot:us-east-1:${account}:topic/$aws/things/\${iot:Connection.Thing.ThingName}/tunnels/notify`},
        {Effect: 'Deny', Action: 'iot:Publish', Resource: `arn:aws:iot:us-east-1:${account}:topic/device/*/forbidden`},
      ],
    })

  async function createDevice(client: IoTClient, thing: string, options: {active?: boolean; policy?: string} = {}): Promise<Device> {
    const created = await client.send(new CreateKeysAndCertificateCommand({setAsActive: options.active ?? true}))
    await client.send(new CreateThingCommand({thingName: thing})).catch(() => undefined)
    await client.send(new AttachThingPrincipalCommand({thingName: thing, principal: created.certificateArn}))
    if (options.policy) await client.send(new AttachPolicyCommand({policyName: options.policy, target: created.certificateArn}))
    return {certificateArn: created.certificateArn!, certificateId: created.certificateId!, cert: created.certificatePem!, key: created.keyPair!.PrivateKey!}
  }

  /** Connects; resolves with the client on CONNACK, rejects with how it ended otherwise. */
  function connect(device: Pick<Device, 'cert' | 'key'>, clientId: string, extra: IClientOptions = {}): Promise<MqttClient> {
    const client = mqtt.connect({protocol: 'mqtts', host, port, ca, cert: device.cert, key: device.key, clientId, reconnectPeriod: 0, connectTimeout: 5000, ...extra})
    open.push(client)
    return new Promise((resolve, reject) => {
      client.once('connect', () => resolve(client))
      client.once('error', (error) => reject(error))
      client.once('close', () => reject(new Error('connection closed before CONNACK')))
    })
  }

  const closed = (client: MqttClient): Promise<void> => new Promise((resolve) => (client.disconnected ? resolve() : client.once('close', () => resolve())))

  function nextMessage(client: MqttClient, topic: string, timeoutMs = 5000): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs)
      client.on('message', (t, payload) => {
        if (t === topic) {
          clearTimeout(timer)
          resolve(payload)
        }
      })
    })
  }

  before(async () => {
    aws = await startLocalAws({openTunnelsPerSecond: 0})
    iot = new IoTClient(aws.clientConfig('iot'))
    msk = new IoTClient(aws.clientConfig('msk'))
    // What iotctl's rule uses: DescribeEndpoint's host, the data-plane URL's port, AWS_CA_BUNDLE.
    host = (await iot.send(new DescribeEndpointCommand({endpointType: 'iot:Data-ATS'}))).endpointAddress!
    port = Number(new URL(aws.env.AWS_ENDPOINT_URL_IOT_DATA_PLANE).port)
    ca = readFileSync(aws.env.AWS_CA_BUNDLE)
    await iot.send(new CreatePolicyCommand({policyName: 'device', policyDocument: devicePolicy(aws.accounts.iot)}))
    aws.standIn.iotData.onPublish((event) => events.push(event))
  })
  after(async () => {
    for (const client of open) client.end(true)
    iot?.destroy()
    msk?.destroy()
    await aws?.stop()
  })

  test('DescribeEndpoint names localhost for the data endpoint, and the environment says where it listens', async () => {
    assert.equal(host, 'localhost')
    assert.equal((await iot.send(new DescribeEndpointCommand({}))).endpointAddress, 'localhost')
    assert.equal((await iot.send(new DescribeEndpointCommand({endpointType: 'iot:Data'}))).endpointAddress, 'localhost')
    assert.match((await iot.send(new DescribeEndpointCommand({endpointType: 'iot:CredentialProvider'}))).endpointAddress ?? '', /credentials\.iot\./)
    assert.equal(aws.iotData.host, 'localhost')
    assert.equal(aws.iotData.port, port)
    assert.equal(aws.iotData.caFile, aws.env.AWS_CA_BUNDLE)
    assert.equal(aws.childEnv().AWS_CA_BUNDLE, aws.iotData.caFile)
  })

  test('a device with its CreateKeysAndCertificate certificate publishes and subscribes over mutual TLS', async () => {
    const device = await createDevice(iot, 'dev1', {policy: 'device'})
    // AWS's certificateId: the SHA-256 of the certificate's DER.
    const der = Buffer.from(device.cert.replace(/-----[^-]+-----|\s/g, ''), 'base64')
    assert.equal(device.certificateId, (await import('node:crypto')).createHash('sha256').update(der).digest('hex'))
    assert.equal((await iot.send(new DescribeCertificateCommand({certificateId: device.certificateId}))).certificateDescription?.status, 'ACTIVE')
    const client = await connect(device, 'dev1')
    const granted = await client.subscribeAsync('device/dev1/#', {qos: 1})
    assert.deepEqual(granted.map((g) => g.qos), [1])
    const received = nextMessage(client, 'device/dev1/data')
    await client.publishAsync('device/dev1/data', '{"t":21}', {qos: 1})
    assert.equal((await received).toString(), '{"t":21}')
    const event = events.find((e) => e.topic === 'device/dev1/data')
    assert.deepEqual(
      event && {account: event.account, region: event.region, clientId: event.clientId, principal: event.principal, payload: event.payload.toString()},
      {account: aws.accounts.iot, region: 'us-east-1', clientId: 'dev1', principal: device.certificateArn, payload: '{"t":21}'},
    )
    client.end()
  })

  test('as on AWS\'s port 443, ALPN x-amzn-mqtt-ca is accepted for MQTT over mutual TLS', async () => {
    const device = await createDevice(iot, 'dev8', {policy: 'device'})
    const client = await connect(device, 'dev8', {ALPNProtocols: ['x-amzn-mqtt-ca']})
    assert.equal((client.stream as unknown as {alpnProtocol?: string}).alpnProtocol, 'x-amzn-mqtt-ca')
    await client.publishAsync('device/dev8/data', 'over 443-style ALPN', {qos: 1})
    client.end()
  })

  test('a client id that is not the certificate\'s thing is refused with CONNACK "not authorized"', async () => {
    const device = await createDevice(iot, 'dev2', {policy: 'device'})
    await assert.rejects(connect(device, 'someone-else'), /Not authorized/i)
  })

  test('a publish outside the policy closes the connection; a subscribe outside it gets SUBACK 0x80', async () => {
    const device = await createDevice(iot, 'dev3', {policy: 'device'})
    const client = await connect(device, 'dev3')
    await assert.rejects(client.subscribeAsync('device/dev1/#', {qos: 1}), (error: {packet?: {granted?: number[]}}) => {
      assert.deepEqual(error.packet?.granted, [128])
      return true
    })
    assert.equal(client.connected, true, 'a refused subscription leaves the connection up')
    const gone = closed(client)
    client.publish('device/dev1/data', 'not mine', {qos: 1})
    await gone
    assert.ok(!events.some((e) => e.payload.toString() === 'not mine'), 'the refused message went nowhere')

    const denied = await connect(device, 'dev3')
    const goneAgain = closed(denied)
    denied.publish('device/dev3/forbidden', 'explicit deny wins', {qos: 1})
    await goneAgain
  })

  test('basic ingest ($aws/rules/…) reaches the rules engine listener, not subscribers', async () => {
    const device = await createDevice(iot, 'dev4', {policy: 'device'})
    const client = await connect(device, 'dev4')
    await client.subscribeAsync('$aws/rules/ingest/#', {qos: 1})
    let delivered = false
    client.on('message', () => (delivered = true))
    await client.publishAsync('$aws/rules/ingest/device/dev4', 'to the rule', {qos: 1})
    assert.ok(events.some((e) => e.topic === '$aws/rules/ingest/device/dev4' && e.clientId === 'dev4'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(delivered, false, 'AWS delivers basic ingest to no subscriber')
    client.end()
  })

  test('a certificate from another CA, an INACTIVE certificate and a deactivated one are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iot-data-foreign-'))
    try {
      const run = (args: string[]) => execFileSync('openssl', args, {cwd: dir, stdio: 'ignore'})
      const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
      run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=not AWS'])
      run(['req', '-x509', ...ec, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-keyout', 'd.key', '-out', 'd.crt', '-days', '1', '-subj', '/CN=dev1'])
      const foreign = {cert: readFileSync(join(dir, 'd.crt'), 'utf8'), key: readFileSync(join(dir, 'd.key'), 'utf8')}
      await assert.rejects(connect(foreign, 'dev1'), /closed before CONNACK|ECONNRESET|socket hang up/)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }

    const inactive = await createDevice(iot, 'dev5', {active: false, policy: 'device'})
    await assert.rejects(connect(inactive, 'dev5'), /closed before CONNACK|ECONNRESET/)

    await iot.send(new UpdateCertificateCommand({certificateId: inactive.certificateId, newStatus: 'ACTIVE'}))
    const client = await connect(inactive, 'dev5')
    const gone = closed(client)
    await iot.send(new UpdateCertificateCommand({certificateId: inactive.certificateId, newStatus: 'INACTIVE'}))
    await gone
  })

  test("a certificate of the other account gets nothing from this account's policies, and messages never cross accounts", async () => {
    const foreign = await createDevice(msk, 'dev1')
    await assert.rejects(connect(foreign, 'dev1'), /Not authorized/i)

    // In its own account, with a policy there, it works — in that account's topic space only.
    await msk.send(new CreatePolicyCommand({policyName: 'device', policyDocument: devicePolicy(aws.accounts.msk)}))
    await msk.send(new AttachPolicyCommand({policyName: 'device', target: foreign.certificateArn}))
    const iotSide = await connect(await createDevice(iot, 'dev1', {policy: 'device'}), 'dev1')
    await iotSide.subscribeAsync('device/dev1/#', {qos: 1})
    let crossed = false
    iotSide.on('message', () => (crossed = true))
    const mskSide = await connect(foreign, 'dev1')
    await mskSide.subscribeAsync('device/dev1/#', {qos: 1})
    const own = nextMessage(mskSide, 'device/dev1/data')
    await mskSide.publishAsync('device/dev1/data', 'msk account', {qos: 1})
    assert.equal((await own).toString(), 'msk account')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(crossed, false)
    assert.ok(events.some((e) => e.account === aws.accounts.msk && e.payload.toString() === 'msk account'))
    iotSide.end()
    mskSide.end()
  })

  test('CreateCertificateFromCsr issues a certificate for the CSR\'s key that connects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iot-data-csr-'))
    try {
      execFileSync('openssl', ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'k.pem', '-out', 'r.csr', '-subj', '/CN=dev6'], {cwd: dir, stdio: 'ignore'})
      const created = await iot.send(new CreateCertificateFromCsrCommand({certificateSigningRequest: readFileSync(join(dir, 'r.csr'), 'utf8'), setAsActive: true}))
      await iot.send(new CreateThingCommand({thingName: 'dev6'}))
      await iot.send(new AttachThingPrincipalCommand({thingName: 'dev6', principal: created.certificateArn}))
      await iot.send(new AttachPolicyCommand({policyName: 'device', target: created.certificateArn}))
      const client = await connect({cert: created.certificatePem!, key: readFileSync(join(dir, 'k.pem'), 'utf8')}, 'dev6')
      client.end()
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  test('MQTT over a SigV4-presigned WebSocket works with the profile\'s credentials; a bad signature is refused', async () => {
    const {credentials, region} = aws.clientConfig('iot')
    const connection = await prepareConnection({kind: 'websocket', endpoint: host, port, region, credentials, clientId: 'console-1', ca: aws.iotData.caFile})
    const client = mqtt.connect({...(await connection.clientOptions()), reconnectPeriod: 0} as IClientOptions)
    open.push(client)
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve())
      client.once('error', reject)
    })
    await client.subscribeAsync('device/+/data', {qos: 1})
    const device = await connect(await createDevice(iot, 'dev7', {policy: 'device'}), 'dev7')
    const received = nextMessage(client, 'device/dev7/data')
    await device.publishAsync('device/dev7/data', 'seen by the console', {qos: 1})
    assert.equal((await received).toString(), 'seen by the console')
    await client.publishAsync('console/out', 'from the console', {qos: 1})
    const event = events.find((e) => e.topic === 'console/out')
    assert.match(event?.principal ?? '', new RegExp(`^arn:aws:sts::${aws.accounts.iot}:assumed-role/iotctl-admin/`))
    client.end()
    device.end()

    const signed = new URL(await presignMqttWebSocketUrl({endpoint: host, port, region, credentials}))
    const signature = signed.searchParams.get('X-Amz-Signature')!
    const refusals: string[] = []
    const upgrade = (url: URL): Promise<number> =>
      new Promise((resolve, reject) => {
        const socket = new WebSocket(url, 'mqtt', {ca})
        socket.once('open', () => {
          socket.terminate()
          resolve(101)
        })
        socket.once('unexpected-response', (_request, response) => {
          let body = ''
          response.on('data', (chunk: Buffer) => (body += chunk.toString()))
          response.on('end', () => {
            refusals.push(body)
            resolve(response.statusCode ?? 0)
          })
        })
        socket.once('error', reject)
      })
    assert.equal(await upgrade(signed), 101, `the untouched URL is accepted (${refusals.join()})`)
    signed.searchParams.set('X-Amz-Signature', signature.replace(/^./, (c) => (c === '0' ? '1' : '0')))
    assert.equal(await upgrade(signed), 403)
    assert.match(refusals.at(-1) ?? '', /signature we calculated does not match/)
  })

  test('OpenTunnel with a destination thing publishes the destination token on the thing\'s notify topic', async () => {
    const device = await createDevice(iot, 'gateway-1', {policy: 'device'})
    const client = await connect(device, 'gateway-1')
    await client.subscribeAsync('$aws/things/gateway-1/tunnels/notify', {qos: 1})
    const notified = nextMessage(client, '$aws/things/gateway-1/tunnels/notify')
    const tunneling = new IoTSecureTunnelingClient(aws.clientConfig('iot'))
    try {
      const opened = await tunneling.send(new OpenTunnelCommand({destinationConfig: {thingName: 'gateway-1', services: ['SSH']}}))
      assert.deepEqual(JSON.parse((await notified).toString()), {
        clientAccessToken: opened.destinationAccessToken,
        clientMode: 'destination',
        region: 'us-east-1',
        services: ['SSH'],
      })
      // A rotated destination token reaches the device the same way.
      const renotified = nextMessage(client, '$aws/things/gateway-1/tunnels/notify')
      const rotated = await tunneling.send(
        new RotateTunnelAccessTokenCommand({tunnelId: opened.tunnelId, clientMode: 'DESTINATION', destinationConfig: {thingName: 'gateway-1', services: ['SSH']}}),
      )
      assert.equal(JSON.parse((await renotified).toString()).clientAccessToken, rotated.destinationAccessToken)
    } finally {
      tunneling.destroy()
      client.end()
    }
  })
})
