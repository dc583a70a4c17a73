// `tunnel forward` and `tunnel proxy` reach the tunneling endpoint of the
// region iotctl.json names (its `iot.region`, else its `region`), as every other
// command does; --region wins over the file. The endpoint each one chose is read
// from the CONNECT request it sends to an HTTP proxy on 127.0.0.1 (HTTPS_PROXY),
// which refuses it: nothing leaves the machine.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {startIotctl} from '../support/tunnel-service.ts'

let aws: LocalAws
let cwd: string
let proxy: Server
let proxyUrl: string
const connects: string[] = []
const waiting = new Set<() => void>()

before(async () => {
  aws = await startLocalAws()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-source-region-'))
  proxy = createServer((_request, response) => response.writeHead(405).end())
  proxy.on('connect', (request, socket) => {
    // The client goes away when the test stops it: a reset is expected.
    socket.on('error', () => {})
    connects.push(request.url ?? '')
    for (const wake of waiting) wake()
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\n\r\n')
  })
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve))
  const address = proxy.address()
  assert.ok(address && typeof address === 'object')
  proxyUrl = `http://127.0.0.1:${address.port}`
})

after(async () => {
  proxy?.close()
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

/** The host:port of the first CONNECT after `since` requests. */
function nextConnect(since: number, timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const wake = (): void => {
      if (connects.length <= since) return
      clearTimeout(timer)
      waiting.delete(wake)
      resolve(connects[since])
    }
    const timer = setTimeout(() => {
      waiting.delete(wake)
      reject(new Error(`no CONNECT within ${timeoutMs} ms`))
    }, timeoutMs)
    waiting.add(wake)
    wake()
  })
}

/** Runs the command until it asks the proxy for a tunnel endpoint; returns the host:port it asked for. */
async function endpointChosen(config: object, args: string[]): Promise<string> {
  const file = join(cwd, `iotctl-${connects.length}.json`)
  writeFileSync(file, JSON.stringify(config))
  const since = connects.length
  const running = startIotctl([...args, '--config', file], {
    cwd,
    // The profile `iot` says us-east-1; the token comes from the environment, as the C++ localproxy reads it.
    env: aws.childEnv({HTTPS_PROXY: proxyUrl, AWSIOT_TUNNEL_ACCESS_TOKEN: 'AQGAAXi-source-token'}),
  })
  running.child.stdin!.end()
  try {
    return await Promise.race([
      nextConnect(since),
      running.exited.then((result) => { throw new Error(`iotctl ${args.join(' ')} exited ${result.code} before connecting:\n${result.stderr}`) }),
    ])
  } finally {
    running.child.kill('SIGKILL')
    await running.exited
  }
}

describe('the source proxies use the region of iotctl.json', () => {
  test('tunnel forward: the config file\'s region', async () => {
    const endpoint = await endpointChosen({iot: {profile: 'iot'}, region: 'eu-west-1'}, ['tunnel', 'forward', '--source', '0'])
    assert.equal(endpoint, 'data.tunneling.iot.eu-west-1.amazonaws.com:443')
  })

  test('tunnel proxy: the IoT account\'s region of the config file', async () => {
    const endpoint = await endpointChosen({iot: {profile: 'iot', region: 'eu-central-1'}, region: 'eu-west-1'}, ['tunnel', 'proxy'])
    assert.equal(endpoint, 'data.tunneling.iot.eu-central-1.amazonaws.com:443')
  })

  test('tunnel forward: --region wins over the config file', async () => {
    const endpoint = await endpointChosen({iot: {profile: 'iot', region: 'eu-central-1'}}, ['tunnel', 'forward', '--source', '0', '--region', 'ap-southeast-2'])
    assert.equal(endpoint, 'data.tunneling.iot.ap-southeast-2.amazonaws.com:443')
  })

  test('tunnel proxy: the profile\'s region when the config names none', async () => {
    const endpoint = await endpointChosen({iot: {profile: 'iot'}}, ['tunnel', 'proxy'])
    assert.equal(endpoint, `data.tunneling.iot.${aws.region}.amazonaws.com:443`)
  })
})
