// Start-up time of the CLI next to `node -e 0` (and the AWS CLI where it is
// installed), measured side by side in one run: medians of N runs, as ratios.
//   node bench/startup/run.ts [runs]      (after npm run build)
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const runs = Number(process.argv[2] ?? 15)
const bin = join(root, 'bin', 'run.js')

interface Subject {
  name: string
  command: string
  args: string[]
}

const subjects: Subject[] = [
  {name: 'node -e 0', command: process.execPath, args: ['-e', '0']},
  {name: 'iotctl --version', command: process.execPath, args: [bin, '--version']},
  {name: 'iotctl --help', command: process.execPath, args: [bin, '--help']},
  {name: 'iotctl peer setup --help', command: process.execPath, args: [bin, 'peer', 'setup', '--help']},
]
for (const aws of ['/usr/bin/aws', '/usr/local/bin/aws']) {
  if (existsSync(aws)) {
    subjects.push({name: `aws --version (${aws})`, command: aws, args: ['--version']})
    break
  }
}

function timeOnce(subject: Subject): number {
  const started = process.hrtime.bigint()
  const result = spawnSync(subject.command, subject.args, {stdio: 'ignore'})
  if (result.status !== 0) throw new Error(`${subject.name} exited ${result.status}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const samples = new Map(subjects.map((s) => [s.name, [] as number[]]))
// Warm-up fills the compile cache, as any second run on a user's machine would.
for (const subject of subjects) timeOnce(subject)
// Interleaved, so drift on the machine affects every subject alike.
for (let i = 0; i < runs; i++) for (const subject of subjects) samples.get(subject.name)?.push(timeOnce(subject))

const baseline = median(samples.get('node -e 0')!)
console.log(`start-up, median of ${runs} runs (node ${process.version})`)
for (const subject of subjects) {
  const m = median(samples.get(subject.name)!)
  console.log(`${subject.name.padEnd(36)} ${m.toFixed(1).padStart(8)} ms   ${(m / baseline).toFixed(2)}× node -e 0`)
}
