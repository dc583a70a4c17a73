// The demo as a reader sees it (issue 19): the README's first command, run
// whole (`node scripts/demo.ts`: the walkthrough, a device's message to Kafka,
// ssh over Secure Tunneling, cleanup) in a 100-column log. Its shape is the
// golden part — exit 0, no line wider than the reader has unless it is one
// id, no step said twice by one command, a bound on the lines — and on a
// failure the transcript is shown with its ids masked, so runs compare.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {join} from 'node:path'
import {test} from 'node:test'
import {repoRoot} from '../support/cli.ts'

const width = 100
// 2026-12: 527 lines (each step once; commands and long details wrapped). A
// return of the doubled step lists would take it well past this.
const maxLines = 620

/** The transcript with what changes from run to run replaced by its kind. */
function masked(text: string): string {
  return text
    .replace(/\b(vpc|subnet|sg|sgr|rtb|pcx|igw)-[0-9a-f]{8,17}\b/g, '$1-…')
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<uuid>')
    .replace(/\b[0-9a-f]{64}\b/g, '<certificate-id>')
    .replace(/(127\.0\.0\.1|localhost):\d+/g, '$1:<port>')
    .replace(/AmazonMSK_(\w+)-[A-Za-z0-9]{6}\b/g, 'AmazonMSK_$1-<suffix>')
    .replace(/\d+(\.\d+)? (ms|s)\b/g, '<time>')
}

test('the demo reads well in a 100-column log: each step once, lines that fit, a bounded length', {timeout: 600_000}, async () => {
  const child = spawn(process.execPath, [join(repoRoot, 'scripts', 'demo.ts')], {cwd: repoRoot, env: {...process.env, COLUMNS: String(width)}, stdio: ['ignore', 'pipe', 'pipe']})
  let transcript = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { transcript += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { transcript += d })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', resolve)
  })
  const shown = `\n--- the demo, ids masked ---\n${masked(transcript)}`
  assert.equal(code, 0, `the demo exits 0${shown}`)
  assert.match(transcript, /demo finished: everything iotctl created is gone from both accounts/)

  const lines = transcript.trimEnd().split('\n')
  assert.ok(lines.length <= maxLines, `${lines.length} lines (at most ${maxLines})${shown}`)
  const wide = lines.filter((line) => line.length > width && line.trim().includes(' '))
  assert.deepEqual(wide, [], `lines wider than ${width} columns that could wrap${shown}`)

  // Each command's output (from its `$ iotctl` line to the next) says each step once.
  const blocks = transcript.split(/\n(?=\$ iotctl )/)
  for (const block of blocks) {
    // A step's line in either form a run has printed: `+ title [iot]: created` or `✓ title (0.1 s)`.
    const steps = block.split('\n').filter((line) => /^[+✓·=!✗-] \S/.test(line) && !line.startsWith('· nothing to delete'))
      .map((line) => line.slice(2).replace(/ \[(iot|msk)\]: .*$/, '').replace(/ \(\d+(\.\d+)? s\)$/, ''))
    const twice = steps.filter((step, i) => steps.indexOf(step) !== i)
    assert.deepEqual(twice, [], `a step said twice by:\n${masked(block.split('\n').slice(0, 2).join('\n'))}${shown}`)
  }
})
