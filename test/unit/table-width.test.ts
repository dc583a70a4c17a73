// Tables fit the reader's width by shortening long ids in the middle (issue 19):
// the start (kind, prefix) and the end (the unique part) stay; --json keeps them whole.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {renderLinks} from '../../src/ui/report.ts'
import {renderTunnelList, timeLeft} from '../../src/ui/tunnel.ts'
import {shortenId} from '../../src/ui/table.ts'

const widthOf = (text: string) => Math.max(...text.split('\n').map((line) => [...line].length))

function withColumns<T>(columns: string | undefined, run: () => Promise<T>): Promise<T> {
  const saved = process.env.COLUMNS
  if (columns === undefined) delete process.env.COLUMNS
  else process.env.COLUMNS = columns
  return run().finally(() => {
    if (saved === undefined) delete process.env.COLUMNS
    else process.env.COLUMNS = saved
  })
}

test('an id is shortened in the middle, keeping its start and its end', () => {
  assert.equal(shortenId('pcx-0123456789abcdef0', 30), 'pcx-0123456789abcdef0')
  const short = shortenId('arn:aws:kafka:us-east-1:111111111111:cluster/iotctl-demo/a8efcf82-1920-437a-a8aa-4f9b76b15ef6-2', 32)
  assert.equal([...short].length, 32)
  assert.ok(short.startsWith('arn:aws:kafka:'), short)
  assert.ok(short.endsWith('4f9b76b15ef6-2'), short)
  assert.ok(short.includes('…'))
})

const tunnels = {
  stack: 'demo', region: 'us-east-1', all: true,
  tunnels: Array.from({length: 2}, (_, i) => ({
    tunnelId: `0a1b2c3d4e5f60718293a4b5c6d7e8f${i}`, stack: 'a-rather-long-stack-name-for-a-team', thingName: `sensor-gateway-building-7-floor-3-${i}`,
    services: ['SSH', 'HTTP'], status: 'OPEN', sourceConnection: 'CONNECTED', destinationConnection: 'DISCONNECTED', expiresAt: new Date(Date.now() + 3 * 3600_000).toISOString(),
  })),
}

test('tunnel list fits 100 columns by shortening ids, and says so', async () => {
  const text = await withColumns('100', () => renderTunnelList(tunnels as never))
  assert.ok(widthOf(text) <= 100, `${widthOf(text)} columns:\n${text}`)
  assert.match(text, /0a1b2c\w*…\w*8f0 /, 'the start and the end of a shortened id')
  assert.match(text, /shortened to fit 100 columns; --json shows them whole/)
  assert.match(text, /OPEN\s+│ source\s+│ in \d+[hmd]/, 'states and times stay whole')
})

test('with room (or on a pipe) ids stay whole and nothing is said', async () => {
  const text = await withColumns(undefined, () => renderTunnelList(tunnels as never))
  assert.match(text, /0a1b2c3d4e5f60718293a4b5c6d7e8f0/)
  assert.doesNotMatch(text, /…|shortened/)
})

test('peer status: a link\'s ids shorten instead of wrapping the row', async () => {
  const links = [
    'peering pcx-0123456789abcdef0: vpc-479a2d3911bd35d0f → vpc-bfc9de5ccdd180257 (222222222222)',
    'ingress tcp/9096 from 10.10.0.0/16 into sg-0123456789abcdef0 (sgr-0fedcba9876543210)',
    'route 10.10.0.0/16 → pcx-0123456789abcdef0 in rtb-0123456789abcdef0',
  ]
  const text = await withColumns('100', () => renderLinks(links.map((link) => ({step: 'peering', account: 'iot', state: 'ok', link}))))
  assert.ok(widthOf(text) <= 100, text)
  const lines = text.split('\n')
  assert.ok(lines.some((line) => line.includes('peering pcx-') && line.includes('(222222222222)')), `the peering row is one line:\n${text}`)
  assert.ok(lines.some((line) => line.includes('ingress tcp/9096') && line.includes('(sgr-')), `the ingress row is one line:\n${text}`)
  assert.ok(lines.some((line) => line.includes('route 10.10.0.0/16 → pcx-0123456789abcdef0 in rtb-0123456789abcdef0')), `a row that fits keeps its ids whole:\n${text}`)
  const wide = await withColumns('160', () => renderLinks(links.map((link) => ({step: 'peering', account: 'iot', state: 'ok', link}))))
  assert.doesNotMatch(wide, /…/, 'with room nothing is shortened')
})

test('time left reads as a person would say it', () => {
  assert.equal(timeLeft(42 * 60_000), 'in 42m')
  assert.equal(timeLeft(12 * 3600_000 - 30_000), 'in 12h 0m')
  assert.equal(timeLeft(50 * 3600_000), 'in 2d 2h')
  assert.equal(timeLeft(-1), 'now')
})
