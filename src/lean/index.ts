// The lean runner: `tunnel forward`, `tunnel proxy` and `tunnel agent` without
// oclif, the config schema (zod) or the AWS SDK, when argv allows it
// (./argv.ts). `tunnel proxy` runs once per ssh as its ProxyCommand and the
// agent and forwarder stay up for hours: they start faster and idle in less
// memory this way. It calls the same bodies as the oclif commands
// (lib/tunnel/api/commands.ts) and ends as they do: the same lines, Ctrl-C
// (exit 130, twice: at once) and errors (src/error-output.ts).
import {lstatSync} from 'node:fs'
import {reportError} from '../error-output.ts'
import {sigintHandler} from '../interruption.ts'
import {configFileOf, stateDirectoryOf} from '../lib/config/files.ts'
import {leanInvocation} from './argv.ts'

/** Thrown when a run turns out to need the settings after all (a token file without a region): oclif's path then. */
class NeedsSettings extends Error {}

/** Whether ./iotctl.json may be there: only a sure "no such file" counts as absent. */
function configFilePresent(): boolean {
  try {
    lstatSync(configFileOf(undefined))
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ENOENT'
  }
}

/** Runs argv's command when it is one the lean runner serves; false: it is oclif's (nothing was done). */
export async function runLean(argv: readonly string[]): Promise<boolean> {
  const invocation = leanInvocation(argv, {env: process.env, configFilePresent})
  if (!invocation) return false
  const interruption = new AbortController()
  const onSigint = sigintHandler(interruption)
  process.on('SIGINT', onSigint)
  try {
    const [{noteLine}, {tunnelLogger}, commands] = await Promise.all([import('../ui/text.ts'), import('../ui/tunnel.ts'), import('../lib/tunnel/api/commands.ts')])
    const context = {
      // No iotctl.json here (./argv.ts) and no --config: the settings are the defaults, the
      // state directory is ./.iotctl; a region from the account would need the SDK.
      settings: () => ({stateDirectory: stateDirectoryOf(configFileOf(undefined)), accountRegion: () => Promise.reject(new NeedsSettings())}),
      note: (message: string) => {
        process.stderr.write(noteLine(message))
      },
      logger: tunnelLogger(invocation.command),
      signal: interruption.signal,
    }
    let interrupted = true
    if (invocation.command === 'forward') interrupted = (await commands.runForward(invocation.flags, context)).interrupted
    else if (invocation.command === 'proxy') interrupted = (await commands.runStdioProxy(invocation.flags, {stdin: process.stdin, stdout: process.stdout}, context)).interrupted
    // The agent runs until Ctrl-C (--json, which would print its result, is oclif's path).
    else await commands.runAgent(invocation.flags, {...context, describeEndpoint: () => Promise.reject(new NeedsSettings())})
    if (interrupted) process.exitCode = 130
  } catch (error) {
    if (error instanceof NeedsSettings) return false
    reportError(error instanceof Error ? error : new Error(String(error)), {json: false})
  } finally {
    process.off('SIGINT', onSigint)
  }
  return true
}
