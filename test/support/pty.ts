// Runs the built CLI in a real terminal: a pseudo-terminal driven by Python's
// pty module (the one interpreter the test set-up already has, in .venv), which
// answers each new question the command draws, and returns the transcript
// without terminal escapes. Used by the tests of `init` and of cleanup's prompt.
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {binPath, repoRoot} from './cli.ts'

// argv: question pattern, answer, gate folder ('' for none), then the command.
// Each time the screen shows one more match of the pattern, the driver answers;
// with a gate folder it first writes <gate>/asked and answers once <gate>/answer exists.
const driver = `
import fcntl, os, pty, re, select, struct, subprocess, sys, termios, time
question, answer, gate = re.compile(sys.argv[1], re.M), sys.argv[2].encode(), sys.argv[3]
master, slave = pty.openpty()
# A terminal of 50 rows and 120 columns, as a user's would be (a new pty has none).
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack('HHHH', 50, 120, 0, 0))
child = subprocess.Popen(sys.argv[4:], stdin=slave, stdout=slave, stderr=slave, close_fds=True)
os.close(slave)
plain = lambda data: re.sub(rb'\\x1b\\[[0-9;?]*[A-Za-z]', b'', data).decode(errors='replace')
out, answered, deadline = b'', 0, time.time() + 150
while time.time() < deadline:
    ready, _, _ = select.select([master], [], [], 0.2)
    if ready:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        out += data
        continue
    if child.poll() is not None:
        break
    asked = len(question.findall(plain(out)))
    if asked > answered:
        if gate:
            open(os.path.join(gate, 'asked'), 'w').close()
            if not os.path.exists(os.path.join(gate, 'answer')):
                continue
        answered = asked
        os.write(master, answer)
sys.stdout.write(plain(out))
if time.time() >= deadline:
    child.kill()
    sys.exit(124)
sys.exit(child.wait(timeout=10))
`

export interface PtyOptions {
  cwd: string
  env: NodeJS.ProcessEnv
  /** A question on screen (Python regex, multiline); default: inquirer's `? ` at the start of a line. */
  question?: string
  /** What to type at each question; default Enter (the suggestion). */
  answer?: string
  /** Called when the first question is drawn; the answer waits until it resolves. */
  whileAsked?: () => Promise<void>
}

export async function runInPty(args: string[], options: PtyOptions): Promise<{code: number | null; transcript: string}> {
  const gate = options.whileAsked ? mkdtempSync(join(tmpdir(), 'iotctl-pty-')) : ''
  try {
    const python = join(repoRoot, '.venv', 'bin', 'python')
    // A key given as undefined is removed from the child's environment.
    const env = Object.fromEntries(Object.entries({...options.env, NO_COLOR: '1'}).filter(([, value]) => value !== undefined))
    const child = spawn(python, ['-c', driver, options.question ?? '^\\? ', options.answer ?? '\r', gate, process.execPath, binPath, ...args], {cwd: options.cwd, env})
    let transcript = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { transcript += d })
    const closed = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code) => resolve(code))
    })
    if (gate && options.whileAsked) {
      let exited = false
      void closed.then(() => { exited = true })
      while (!existsSync(join(gate, 'asked')) && !exited) await new Promise((resolve) => setTimeout(resolve, 100))
      if (!exited) await options.whileAsked()
      writeFileSync(join(gate, 'answer'), '')
    }
    return {code: await closed, transcript}
  } finally {
    if (gate) rmSync(gate, {recursive: true, force: true})
  }
}
