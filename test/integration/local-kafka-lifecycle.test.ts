// The local Kafka broker never outlives the process that started it: stop()
// ends its JVM and removes its folder, and a parent killed with SIGKILL takes the
// JVM with it (parent-death signal), so no test run leaves a broker behind.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, rmSync} from 'node:fs'
import {createInterface} from 'node:readline'
import {test} from 'node:test'
import {REPO_ROOT} from '../support/local-aws/index.ts'

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return true
}

test('a parent killed with SIGKILL takes the broker with it; stop() leaves no process or folder', async () => {
  // The parent starts a broker, reports it, and then stops it only when told to on stdin.
  const script = `
    const {startKafka} = await import('./test/support/kafka/index.ts')
    const kafka = await startKafka()
    console.log(JSON.stringify({pid: kafka.pid, dir: kafka.dir, bootstrap: kafka.bootstrap}))
    process.stdin.once('data', async () => { await kafka.stop(); console.log('stopped') })
  `
  const first = spawn(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit']})
  const lines = createInterface({input: first.stdout})[Symbol.asyncIterator]()
  const started = JSON.parse((await lines.next()).value!) as {pid: number; dir: string}
  assert.equal(alive(started.pid), true)
  first.stdin.write('stop\n')
  assert.equal((await lines.next()).value, 'stopped')
  assert.equal(await until(() => !alive(started.pid), 5000), true, 'the JVM is gone after stop()')
  assert.equal(existsSync(started.dir), false)
  first.kill()

  const second = spawn(process.execPath, ['--input-type=module', '-e', script], {cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'inherit']})
  const secondLines = createInterface({input: second.stdout})[Symbol.asyncIterator]()
  const orphan = JSON.parse((await secondLines.next()).value!) as {pid: number; dir: string}
  assert.equal(alive(orphan.pid), true)
  second.kill('SIGKILL')
  assert.equal(await until(() => !alive(orphan.pid), 5000), true, 'the JVM died with its parent')
  // A SIGKILLed parent cannot remove its folder.
  rmSync(orphan.dir, {recursive: true, force: true})
})
