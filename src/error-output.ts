// How a failed command ends, for the oclif commands (BaseCommand.catch) and the
// lean runner (src/lean) alike: one line on stderr (or the JSON error document
// on stdout with --json), the exit code of DESIGN.md, and with DEBUG the stack,
// redacted. No @oclif/core here.
import {awsErrorCode} from './lib/errors.ts'
import {redactText} from './lib/redact/index.ts'
import {invalidInputCode} from './usage.ts'

/** The JSON document printed for a failure with --json. */
export interface ErrorDocument {
  error: {exitCode: number; code: string; message: string; step?: string}
}

export type CommandError = Error & {exitCode?: number; step?: string; code?: string}

/** Writes `error` as the command's failure with `exitCode` (a typed error's own, else 1) and sets process.exitCode. */
export function reportError(error: CommandError, options: {json: boolean; exitCode?: number; message?: string}): void {
  const exitCode = options.exitCode ?? error.exitCode ?? 1
  const message = options.message ?? error.message
  process.exitCode = exitCode
  if (options.json) {
    // One vocabulary: every exit-2 error is InvalidInput, whichever layer found it.
    const code = exitCode === 2 ? invalidInputCode : (error.code ?? awsErrorCode(error) ?? error.name)
    const document: ErrorDocument = {error: {exitCode, code, message, ...(error.step ? {step: error.step} : {})}}
    process.stdout.write(JSON.stringify(document, null, 2) + '\n')
  } else {
    process.stderr.write(`iotctl: ${message.split('\n')[0]}\n`)
  }
  if (process.env.DEBUG && error.stack) process.stderr.write(`${redactText(error.stack)}\n`)
}
