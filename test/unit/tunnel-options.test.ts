import assert from 'node:assert/strict'
import {describe, it} from 'node:test'
import {InputError} from '../../src/lib/errors.ts'
import {backoffDelay, tunnelUrl, validateClientToken} from '../../src/lib/tunnel/protocol/connection.ts'
import {parseTarget, resolveDestinationServices} from '../../src/lib/tunnel/protocol/destination.ts'
import {bypassesProxy, checkProxyEnvironment, proxyForUrl} from '../../src/lib/tunnel/protocol/proxy-env.ts'
import {resolveSourceServices} from '../../src/lib/tunnel/protocol/source.ts'

describe('tunnel endpoint URL', () => {
  const cases: [string, 'source' | 'destination', string | undefined, string | undefined, string][] = [
    ['the regional endpoint', 'source', undefined, 'eu-west-1', 'wss://data.tunneling.iot.eu-west-1.amazonaws.com/tunnel?local-proxy-mode=source'],
    ['an explicit endpoint', 'destination', 'wss://127.0.0.1:8443', undefined, 'wss://127.0.0.1:8443/tunnel?local-proxy-mode=destination'],
    ['an https endpoint', 'source', 'https://example.test', 'us-east-1', 'wss://example.test/tunnel?local-proxy-mode=source'],
    ['a bare host', 'source', 'example.test:9443', undefined, 'wss://example.test:9443/tunnel?local-proxy-mode=source'],
    ['an endpoint with a path and query', 'source', 'wss://h.test/x?y=1', undefined, 'wss://h.test/tunnel?local-proxy-mode=source'],
  ]
  for (const [name, mode, endpoint, region, expected] of cases) {
    it(`builds ${name}`, () => assert.equal(tunnelUrl(mode, endpoint, region).href, expected))
  }
  it('needs a region or an endpoint', () => assert.throws(() => tunnelUrl('source', undefined, undefined), InputError))
  it('refuses non-WebSocket endpoints', () => assert.throws(() => tunnelUrl('source', 'ftp://h.test', undefined), InputError))
})

describe('reconnect backoff', () => {
  const cases: [number, number][] = [[1, 500], [2, 1000], [3, 2000], [6, 16000], [7, 30000], [20, 30000]]
  for (const [attempt, expected] of cases) {
    it(`waits ${expected} ms (±20 %) before attempt ${attempt + 1}`, () => {
      assert.equal(backoffDelay(attempt, {}, () => 0.5), expected)
      assert.equal(backoffDelay(attempt, {}, () => 0), Math.round(expected * 0.8))
      assert.equal(backoffDelay(attempt, {}, () => 1), Math.round(expected * 1.2))
    })
  }
  it('honours initial and maximum delays', () => assert.equal(backoffDelay(4, {initialDelayMs: 10, maxDelayMs: 50}, () => 0.5), 50))
})

describe('client token', () => {
  const cases: [string, boolean][] = [
    ['0b9a3f52-6f2c-4a53-9d0e-0e7b1a0f8e11', true],
    ['a'.repeat(32), true],
    ['a'.repeat(128), true],
    ['a'.repeat(31), false],
    ['a'.repeat(129), false],
    ['has spaces in it and is long enough to pass', false],
  ]
  for (const [token, valid] of cases) {
    it(`${valid ? 'accepts' : 'rejects'} ${token.slice(0, 40)}${token.length > 40 ? '…' : ''} (${token.length})`, () => {
      if (valid) validateClientToken(token)
      else assert.throws(() => validateClientToken(token), InputError)
    })
  }
})

describe('HTTPS_PROXY and NO_PROXY', () => {
  const target = new URL('wss://data.tunneling.iot.us-east-1.amazonaws.com/tunnel')
  const cases: [string, Record<string, string>, string | undefined][] = [
    ['no proxy set', {}, undefined],
    ['HTTPS_PROXY', {HTTPS_PROXY: 'http://proxy.corp:3128'}, 'http://proxy.corp:3128/'],
    ['https_proxy', {https_proxy: 'http://lower.corp:8080'}, 'http://lower.corp:8080/'],
    ['a proxy without a scheme', {HTTPS_PROXY: 'proxy.corp:3128'}, 'http://proxy.corp:3128/'],
    ['NO_PROXY with the domain', {HTTPS_PROXY: 'http://p:1', NO_PROXY: 'amazonaws.com'}, undefined],
    ['no_proxy with a leading dot', {HTTPS_PROXY: 'http://p:1', no_proxy: '.amazonaws.com'}, undefined],
    ['NO_PROXY with another domain', {HTTPS_PROXY: 'http://p:1', NO_PROXY: 'example.com,internal'}, 'http://p:1/'],
    ['NO_PROXY *', {HTTPS_PROXY: 'http://p:1', NO_PROXY: '*'}, undefined],
    ['an empty HTTPS_PROXY', {HTTPS_PROXY: ''}, undefined],
    ['ALL_PROXY socks5h with user and password', {ALL_PROXY: 'socks5h://u:p@socks.corp:1080'}, 'socks5h://u:p@socks.corp:1080'],
    ['all_proxy socks5', {all_proxy: 'socks5://socks.corp:1080'}, 'socks5://socks.corp:1080'],
    ['HTTPS_PROXY before ALL_PROXY', {HTTPS_PROXY: 'http://p:1', ALL_PROXY: 'socks5://s:2'}, 'http://p:1/'],
    ['an empty HTTPS_PROXY then ALL_PROXY', {HTTPS_PROXY: ' ', ALL_PROXY: 'socks5h://s:2'}, 'socks5h://s:2'],
    ['NO_PROXY over ALL_PROXY', {ALL_PROXY: 'socks5h://s:2', NO_PROXY: '.amazonaws.com'}, undefined],
  ]
  for (const [name, env, expected] of cases) {
    it(`resolves ${name}`, () => assert.equal(proxyForUrl(target, env)?.href, expected))
  }

  for (const [name, env, message] of [
    ['a socks4 proxy', {ALL_PROXY: 'socks4://s:1080'}, /^ALL_PROXY=socks4:\/\/s:1080: the tunnel goes through http:\/\/, https:\/\/, socks5:\/\/ or socks5h:\/\/ proxies, not socks4:\/\/$/],
    ['an ftp proxy, its password not shown', {https_proxy: 'ftp://me:hunter22@p:2121'}, /^https_proxy=ftp:\/\/me@p:2121: .* not ftp:\/\/$/],
    ['a URL that does not parse', {HTTPS_PROXY: 'http://[nope'}, /^HTTPS_PROXY is not a proxy URL/],
  ] as const) {
    it(`refuses ${name} (exit 2), NO_PROXY or not`, () => {
      assert.throws(() => checkProxyEnvironment({...env, NO_PROXY: '*'}), (error: unknown) => error instanceof InputError && message.test(error.message))
      assert.throws(() => proxyForUrl(target, env), InputError)
    })
  }
  it('accepts the schemes it can use', () => {
    checkProxyEnvironment({HTTPS_PROXY: 'proxy.corp:3128', ALL_PROXY: 'socks5h://u:p@s:1080', https_proxy: 'https://p:443', all_proxy: 'socks5://s:1'})
  })

  const bypass: [string, number, string, boolean][] = [
    ['127.0.0.1', 443, '127.0.0.1', true],
    ['127.0.0.1', 443, 'localhost', false],
    ['10.1.2.3', 443, '10.0.0.0/8', true],
    ['11.1.2.3', 443, '10.0.0.0/8', false],
    ['h.example.com', 443, 'example.com:443', true],
    ['h.example.com', 8443, 'example.com:443', false],
    ['notexample.com', 443, 'example.com', false],
    ['h.example.com', 443, '*.example.com', true],
    ['::1', 443, '[::1]', true],
    ['a.test', 443, ' b.test ,  a.test ', true],
  ]
  for (const [host, port, noProxy, expected] of bypass) {
    it(`${expected ? 'bypasses' : 'proxies'} ${host}:${port} with NO_PROXY=${noProxy}`, () => assert.equal(bypassesProxy(host, port, noProxy), expected))
  }
})

describe('destination targets', () => {
  const cases: [string | number, {host: string; port: number}][] = [
    ['localhost:22', {host: 'localhost', port: 22}],
    ['10.0.0.5:8080', {host: '10.0.0.5', port: 8080}],
    ['[::1]:2222', {host: '::1', port: 2222}],
    ['22', {host: 'localhost', port: 22}],
    [3389, {host: 'localhost', port: 3389}],
  ]
  for (const [value, expected] of cases) {
    it(`parses ${value}`, () => assert.deepEqual(parseTarget(value), expected))
  }
  for (const bad of ['', 'host:', 'host:port', ':22', '70000', 'h:0']) {
    it(`rejects ${JSON.stringify(bad)}`, () => assert.throws(() => parseTarget(bad, 'SSH'), InputError))
  }
})

describe('service ids', () => {
  const sourceCases: [string, string[], string[], Record<string, string> | 'error'][] = [
    ['named services of the tunnel', ['SSH', 'HTTP'], ['SSH', 'HTTP', 'RDP'], {SSH: 'SSH', HTTP: 'HTTP'}],
    ['the unnamed service of a one-service tunnel', [''], ['SSH'], {'': 'SSH'}],
    ['the unnamed service of a tunnel without services', [''], [], {'': ''}],
    ['one named service on a tunnel without services', ['SSH'], [], {SSH: ''}],
    ['a service the tunnel does not have', ['FTP'], ['SSH'], 'error'],
    ['an unnamed service on a tunnel with two', [''], ['SSH', 'HTTP'], 'error'],
    ['two services on a tunnel without services', ['A', 'B'], [], 'error'],
  ]
  for (const [name, configured, available, expected] of sourceCases) {
    it(`source: ${name}`, () => {
      if (expected === 'error') assert.throws(() => resolveSourceServices(configured, available), InputError)
      else assert.deepEqual(Object.fromEntries(resolveSourceServices(configured, available)), expected)
    })
  }

  const target = {host: 'localhost', port: 22}
  const other = {host: 'localhost', port: 80}
  it('destination: maps each of the tunnel services', () => {
    const {targets, unmapped, unused} = resolveDestinationServices({SSH: target, HTTP: other}, ['SSH', 'HTTP'])
    assert.deepEqual(Object.fromEntries(targets), {SSH: target, HTTP: other})
    assert.deepEqual([unmapped, unused], [[], []])
  })
  it('destination: a single mapping serves a one-service tunnel whatever its name', () => {
    assert.deepEqual(Object.fromEntries(resolveDestinationServices({'': target}, ['SSH']).targets), {SSH: target})
    assert.deepEqual(Object.fromEntries(resolveDestinationServices({SSH: target}, []).targets), {'': target})
  })
  it('destination: reports services without a target and targets without a service', () => {
    const {unmapped, unused} = resolveDestinationServices({SSH: target, FTP: other}, ['SSH', 'HTTP'])
    assert.deepEqual([unmapped, unused], [['HTTP'], ['FTP']])
  })
})
