// A command line that names no command (a typo, or an argument given to a
// command that takes none: `peer setup now`) is bad input like any other:
// exit 2 and one line on stderr in iotctl's words — or, with --json, the error
// document scripts parse — instead of oclif's own "command peer:setup:now not found".
import type {Hook} from '@oclif/core'
import {suggestion} from '../usage.ts'

const hook: Hook<'command_not_found'> = async function ({id, argv}) {
  const words = id.split(':')
  let message: string | undefined
  // One vocabulary in --json: every exit 2 is InvalidInput (README, "Exit codes").
  const code = 'InvalidInput'
  // The longest run of words that is a command: the words after it are arguments it does not take.
  for (let n = words.length - 1; n > 0 && !message; n--) {
    const command = words.slice(0, n).join(':')
    if (this.config.findCommand(command)) message = `${words.slice(0, n).join(' ')} takes no argument '${words.slice(n).join(' ')}'`
  }
  if (!message) {
    // A typo gets the nearest command (or global flag) as a suggestion, never run on its own.
    const typed = words.join(' ')
    const candidates = typed.startsWith('-') ? ['--version', '--help'] : [...this.config.commandIDs, ...this.config.topics.map((t) => t.name)].map((c) => c.replaceAll(':', ' '))
    const near = suggestion(typed, candidates)
    message = near
      ? `'${typed}' is not an iotctl command; did you mean \`${near}\`? (iotctl --help lists them)`
      : `'${typed}' is not an iotctl command (iotctl --help lists them)`
  }
  process.exitCode = 2
  if (argv?.includes('--json')) {
    process.stdout.write(JSON.stringify({error: {exitCode: 2, code, message}}, null, 2) + '\n')
  } else {
    process.stderr.write(`iotctl: ${message}\n`)
  }
}

export default hook
