// Start-up time of the CLI next to `node -e 0` (and the AWS CLI where it is
// installed), measured side by side in one run: medians of N runs, as ratios.
//   node bench/startup/run.ts [runs]      (after npm run build)
import {spawn, spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const runs = Number(process.argv[2] ?? 15)
const bin = join(root, 'bin', 'run.js')

interface Subject {
  name: string
  command: string
  args: string[]
  /** Timed until the process opens a TCP connection to the bench's listener (its tunnel connection), then stopped. */
  untilConnected?: boolean
}

// `tunnel proxy` runs once per ssh (ProxyCommand) and `tunnel forward` once per
// session: timed from spawn to their first TCP connection to the tunneling
// endpoint (a listener here that accepts and holds it), with the token in
// AWSIOT_TUNNEL_ACCESS_TOKEN, as a user of a token does. Run in an empty
// directory (no iotctl.json there).
const endpoint = createServer()
const held: Socket[] = []
await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
const endpointAddress = endpoint.address()
const endpointUrl = `wss://127.0.0.1:${typeof endpointAddress === 'object' && endpointAddress ? endpointAddress.port : 0}`
const cwd = mkdtempSync(join(tmpdir(), 'iotctl-startup-'))

const subjects: Subject[] = [
  {name: 'node -e 0', command: process.execPath, args: ['-e', '0']},
  {name: 'iotctl --version', command: process.execPath, args: [bin, '--version']},
  {name: 'iotctl --help', command: process.execPath, args: [bin, '--help']},
  {name: 'iotctl peer setup --help', command: process.execPath, args: [bin, 'peer', 'setup', '--help']},
  {name: 'iotctl tunnel proxy → connecting', command: process.execPath, args: [bin, 'tunnel', 'proxy', '--proxy-endpoint', endpointUrl], untilConnected: true},
  {name: 'iotctl tunnel forward → connecting', command: process.execPath, args: [bin, 'tunnel', 'forward', '--source', '0', '--proxy-endpoint', endpointUrl], untilConnected: true},
]
for (const aws of ['/usr/bin/aws', '/usr/local/bin/aws']) {
  if (existsSync(aws)) {
    subjects.push({name: `aws --version (${aws})`, command: aws, args: ['--version']})
    break
  }
}

async function timeUntilConnected(subject: Subject): Promise<number> {
  const started = process.hrtime.bigint()
  const child = spawn(subject.command, subject.args, {cwd, stdio: ['pipe', 'ignore', 'ignore'], env: {...process.env, AWSIOT_TUNNEL_ACCESS_TOKEN: 'startup-bench-token', DEBUG: ''}})
  let connected = false
  const exited = new Promise((resolve) => child.once('exit', resolve))
  const elapsed = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => {
      if (!connected) reject(new Error(`${subject.name} exited ${code} before connecting`))
    })
    endpoint.once('connection', (socket) => {
      connected = true
      held.push(socket)
      resolve(Number(process.hrtime.bigint() - started) / 1e6)
    })
  })
  child.kill('SIGKILL')
  await exited
  for (const socket of held.splice(0)) socket.destroy()
  return elapsed
}

async function timeOnce(subject: Subject): Promise<number> {
  if (subject.untilConnected) return timeUntilConnected(subject)
  const started = process.hrtime.bigint()
  const result = spawnSync(subject.command, subject.args, {stdio: 'ignore'})
  if (result.status !== 0) throw new Error(`${subject.name} exited ${result.status}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const samples = new Map(subjects.map((s) => [s.name, [] as number[]]))
// Warm-up fills the compile cache, as any second run on a user's machine would.
for (const subject of subjects) await timeOnce(subject)
// Interleaved, so drift on the machine affects every subject alike.
for (let i = 0; i < runs; i++) for (const subject of subjects) samples.get(subject.name)?.push(await timeOnce(subject))

const baseline = median(samples.get('node -e 0')!)
console.log(`start-up, median of ${runs} runs (node ${process.version})`)
for (const subject of subjects) {
  const m = median(samples.get(subject.name)!)
  console.log(`${subject.name.padEnd(36)} ${m.toFixed(1).padStart(8)} ms   ${(m / baseline).toFixed(2)}× node -e 0`)
}
endpoint.close()
rmSync(cwd, {recursive: true, force: true})
