// open → list → close → cleanup with the built CLI against the local AWS's
// Secure Tunneling stand-in (1 OpenTunnel per second per account, as AWS).
// Tokens stay in .iotctl/tunnels/<id>.json (0600 in a 0700 folder) and never
// reach stdout without --show-tokens or --json.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'
import {jsonOf} from '../support/cli.ts'
import {startLocalAws, type LocalAws} from '../support/local-aws/index.ts'
import {runIotctl} from '../support/tunnel-service.ts'

let aws: LocalAws
let cwd: string

function cli(args: string[]) {
  return runIotctl(args, {cwd, env: aws.childEnv()})
}

function tokenFile(tunnelId: string): string {
  return join(cwd, '.iotctl', 'tunnels', `${tunnelId}.json`)
}

function mode(path: string): number {
  return statSync(path).mode & 0o777
}

before(async () => {
  aws = await startLocalAws()
  cwd = mkdtempSync(join(tmpdir(), 'iotctl-tunnel-life-'))
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({stack: 'life', iot: {profile: 'iot'}, msk: {profile: 'msk'}}))
})

after(async () => {
  await aws?.stop()
  if (cwd) rmSync(cwd, {recursive: true, force: true})
})

describe('tunnel open', () => {
  test('prints the tunnel id only; the tokens go to a 0600 file in a 0700 folder', async () => {
    const result = await cli(['tunnel', 'open', '--thing', 'dev1', '--services', 'SSH,HTTP', '--timeout-minutes', '30'])
    assert.equal(result.code, 0, result.stderr)
    const tunnelId = result.stdout.trim()
    assert.equal(result.stdout, `${tunnelId}\n`)
    const tunnel = aws.tunnels.get(tunnelId)!
    assert.equal(tunnel.accountId, aws.accounts.iot)
    assert.equal(tunnel.thingName, 'dev1')
    assert.deepEqual(tunnel.services, ['SSH', 'HTTP'])
    assert.equal(tunnel.maxLifetimeTimeoutMinutes, 30)
    assert.deepEqual(tunnel.tags, [{key: 'iotctl:stack', value: 'life'}, {key: 'iotctl:managed', value: 'true'}])
    for (const token of [tunnel.sourceToken, tunnel.destinationToken]) {
      assert.equal(result.stdout.includes(token) || result.stderr.includes(token), false, 'no token in the output')
    }
    const file = tokenFile(tunnelId)
    assert.equal(mode(file), 0o600)
    assert.equal(mode(join(cwd, '.iotctl', 'tunnels')), 0o700)
    const saved = JSON.parse(readFileSync(file, 'utf8'))
    assert.equal(saved.sourceAccessToken, tunnel.sourceToken)
    assert.equal(saved.destinationAccessToken, tunnel.destinationToken)
    assert.equal(saved.region, aws.region)
    assert.match(saved.sourceClientToken, /^[a-zA-Z0-9-]{32,128}$/)
    const ledger = JSON.parse(readFileSync(join(cwd, '.iotctl', 'life.json'), 'utf8'))
    assert.deepEqual(ledger.resources.filter((r: {step: string}) => r.step === 'tunnels').map((r: {id: string}) => r.id), [tunnelId])
    assert.equal(JSON.stringify(ledger).includes(tunnel.sourceToken), false, 'the ledger holds no token')
  })

  test('--show-tokens and --json put the tokens on stdout', async () => {
    const shown = await cli(['tunnel', 'open', '--thing', 'dev2', '--show-tokens'])
    assert.equal(shown.code, 0, shown.stderr)
    const [idLine, sourceLine, destinationLine] = shown.stdout.trim().split('\n')
    const tunnel = aws.tunnels.get(idLine)!
    assert.equal(sourceLine, `source-access-token ${tunnel.sourceToken}`)
    assert.equal(destinationLine, `destination-access-token ${tunnel.destinationToken}`)

    const json = await cli(['tunnel', 'open', '--thing', 'dev2', '--json'])
    assert.equal(json.code, 0, json.stderr)
    const document = jsonOf(json)
    const opened = aws.tunnels.get(document.tunnelId)!
    assert.equal(document.sourceAccessToken, undefined, 'no token in --json without --show-tokens')
    assert.equal(document.destinationAccessToken, undefined)
    assert.ok(!json.stdout.includes(opened.sourceToken) && !json.stdout.includes(opened.destinationToken))
    assert.equal(document.tokenFile, tokenFile(document.tunnelId))
    assert.deepEqual(document.services, ['SSH'])

    const shownJson = jsonOf(await cli(['tunnel', 'open', '--thing', 'dev2', '--json', '--show-tokens']))
    const openedShown = aws.tunnels.get(shownJson.tunnelId)!
    assert.equal(shownJson.sourceAccessToken, openedShown.sourceToken)
    assert.equal(shownJson.destinationAccessToken, openedShown.destinationToken)
  })

  test('OpenTunnel\'s 1 call per second is retried: three opens at once all succeed', async () => {
    aws.resetLog()
    const results = await Promise.all([1, 2, 3].map(() => cli(['tunnel', 'open', '--thing', 'burst'])))
    for (const result of results) assert.equal(result.code, 0, result.stderr)
    assert.equal(new Set(results.map((r) => r.stdout.trim())).size, 3)
    const throttled = aws.log().filter((entry) => entry.operation === 'OpenTunnel' && entry.status === 400)
    assert.ok(throttled.length > 0, 'the stand-in throttled some calls')
  })

  test('--dry-run opens nothing', async () => {
    aws.resetLog()
    const result = await cli(['tunnel', 'open', '--thing', 'dev3', '--dry-run'])
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stdout, /dry run: would open a tunnel to dev3 for SSH/)
    assert.deepEqual(aws.mutatingRequests(), [])
  })
})

describe('tunnel list and tunnel close', () => {
  test('list shows the stack\'s tunnels; --all also other stacks\'', async () => {
    const mine = (await cli(['tunnel', 'open', '--thing', 'listed'])).stdout.trim()
    const other = await cli(['tunnel', 'open', '--thing', 'listed', '--stack', 'other'])
    assert.equal(other.code, 0, other.stderr)
    const theirs = other.stdout.trim()

    const table = await cli(['tunnel', 'list', '--thing', 'listed'])
    assert.equal(table.code, 0, table.stderr)
    assert.match(table.stdout, new RegExp(`${mine}.*listed.*SSH.*OPEN.*none.*in \\d+h \\d+m`))
    assert.equal(table.stdout.includes(theirs), false)

    const all = jsonOf(await cli(['tunnel', 'list', '--all', '--thing', 'listed', '--json']))
    assert.deepEqual(new Set(all.tunnels.map((t: {tunnelId: string}) => t.tunnelId)), new Set([mine, theirs]))
    assert.equal(all.tunnels.find((t: {tunnelId: string}) => t.tunnelId === theirs).stack, 'other')
    const listed = jsonOf(await cli(['tunnel', 'list', '--json']))
    assert.ok(listed.tunnels.every((t: {stack: string}) => t.stack === 'life'))
    await cli(['tunnel', 'close', theirs, '--stack', 'other'])
  })

  test('close is idempotent and removes the token file; --delete removes the tunnel', async () => {
    const tunnelId = (await cli(['tunnel', 'open', '--thing', 'closing'])).stdout.trim()
    assert.ok(existsSync(tokenFile(tunnelId)))
    const closed = await cli(['tunnel', 'close', tunnelId])
    assert.equal(closed.code, 0, closed.stderr)
    assert.equal(closed.stdout, `closed tunnel ${tunnelId}\n`)
    assert.equal(existsSync(tokenFile(tunnelId)), false)
    assert.notEqual(aws.tunnels.get(tunnelId)!.closedAt, undefined)

    const again = await cli(['tunnel', 'close', tunnelId])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /was already closed/)

    const deleted = jsonOf(await cli(['tunnel', 'close', tunnelId, '--delete', '--json']))
    assert.equal(deleted.deleted, true)
    assert.equal(aws.tunnels.get(tunnelId), undefined)

    const gone = await cli(['tunnel', 'close', tunnelId])
    assert.equal(gone.code, 0, gone.stderr)
    assert.match(gone.stdout, /does not exist \(any more\); nothing to close/)
  })
})

describe('cleanup', () => {
  test('closes the stack\'s open tunnels and removes their token files, leaves other stacks\' alone, and runs twice', async () => {
    const theirs = (await cli(['tunnel', 'open', '--thing', 'kept', '--stack', 'bystander'])).stdout.trim()
    const before = aws.tunnels.all().filter((t) => t.closedAt === undefined && t.tags.some((tag) => tag.key === 'iotctl:stack' && tag.value === 'life'))
    assert.ok(before.length >= 2, 'the earlier tests left open tunnels of the stack')

    const result = await cli(['cleanup', '--yes', '--json'])
    assert.equal(result.code, 0, result.stderr)
    const report = jsonOf(result)
    const step = report.steps.find((s: {id: string}) => s.id === 'tunnels')
    assert.equal(step.outcome, 'deleted')
    assert.deepEqual(new Set(step.resources.map((r: {id: string}) => r.id)), new Set(before.map((t) => t.tunnelId)))
    for (const tunnel of before) {
      assert.notEqual(aws.tunnels.get(tunnel.tunnelId)!.closedAt, undefined, `tunnel ${tunnel.tunnelId} is closed`)
      assert.equal(existsSync(tokenFile(tunnel.tunnelId)), false)
    }
    assert.equal(aws.tunnels.get(theirs)!.closedAt, undefined, 'another stack\'s tunnel stays open')
    assert.ok(existsSync(tokenFile(theirs)))

    const again = await cli(['cleanup', '--yes'])
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, /nothing to delete for stack 'life'/)
  })
})
