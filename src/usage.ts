// Usage errors in iotctl's words (issue 19). oclif's parser reports a typo'd
// flag as "Nonexistent flag: --iot-profle" and a missing one as "The following
// error occurred:: Missing required flag topic"; a user needs one line that
// names the flag as they type it, every missing one at once, the likely fix and
// an example. These are parse errors: they happen before any credential or
// region is resolved, so a user with no AWS set up first hears what is needed.
import {closest, distance} from 'fastest-levenshtein'

/** The code every exit-2 error carries in --json (README: "Exit codes and error codes"). */
export const invalidInputCode = 'InvalidInput'

/** What a command declares, as far as usage messages need it. */
export interface CommandUsage {
  id: string
  bin: string
  flags: Record<string, {char?: string; hidden?: boolean}>
  args: Record<string, {description?: string}>
  examples: string[]
}

/**
 * The candidate closest to `typed`, when it is close enough to be a typo:
 * an edit distance of at most a third of its length (at least 1), e.g.
 * `stup` → `setup`, `--iot-profle` → `--iot-profile`, `--verison` → `--version`.
 */
export function suggestion(typed: string, candidates: readonly string[]): string | undefined {
  if (candidates.length === 0 || typed === '') return undefined
  const best = closest(typed, [...candidates])
  const limit = Math.max(1, Math.floor(best.length / 3))
  return distance(typed, best) <= limit ? best : undefined
}

/** `iotctl <command>` as typed (topic separator is a space). */
export const commandLine = (bin: string, id: string): string => `${bin} ${id.replaceAll(':', ' ')}`

/** The first example of a command with its template filled in, for "e.g." hints. */
function firstExample(command: CommandUsage): string | undefined {
  const example = command.examples[0]
  return example?.replaceAll('<%= config.bin %>', command.bin).replaceAll('<%= command.id %>', command.id.replaceAll(':', ' '))
}

const flagNamesOf = (command: CommandUsage): string[] =>
  Object.entries(command.flags).filter(([, flag]) => !flag.hidden).map(([name]) => `--${name}`)

/** `--a`, `--a and --b`, `--a, --b and --c`. */
function listed(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`
}

interface ParseErrorShape {
  message: string
  constructor: {name: string}
  flags?: unknown
  args?: unknown
}

/**
 * One line for an oclif parse error of `command`, or undefined when the error
 * is not one the parser raised (then the caller keeps the error's own message).
 */
export function usageMessage(error: ParseErrorShape, command: CommandUsage): string | undefined {
  const help = `${commandLine(command.bin, command.id)} --help`
  const example = firstExample(command)
  const eg = example ? ` (e.g. ${example})` : ''
  switch (error.constructor.name) {
    case 'NonExistentFlagsError': {
      const typed = Array.isArray(error.flags) ? error.flags.map(String) : []
      const known = [...flagNamesOf(command), '--json', '--help']
      const hints = typed.map((flag) => {
        const name = flag.split('=')[0]
        const near = suggestion(name, known)
        return near ? `${name} (did you mean ${near}?)` : name
      })
      return `unknown flag${typed.length === 1 ? '' : 's'} ${listed(hints)}; ${help} lists the flags`
    }
    case 'RequiredArgsError': {
      const missing = Array.isArray(error.args) ? error.args.map((arg: {name?: string; description?: string}) => `<${arg.name}>${arg.description ? `, ${arg.description.replace(/\.$/, '').toLowerCase()}` : ''}`) : []
      return `missing ${listed(missing)}${eg}`
    }
    case 'UnexpectedArgsError': {
      const extra = Array.isArray(error.args) ? error.args.map((a) => `'${String(a)}'`) : []
      return `unexpected argument${extra.length === 1 ? '' : 's'} ${listed(extra)}; ${help} shows its usage`
    }
    case 'FailedFlagValidationError':
    case 'ViolatedFlagConstraintError': {
      const reasons = reasonsOf(error.message)
      const missing = reasons.flatMap((reason) => /^Missing required flag (\S+)$/.exec(reason)?.[1] ?? []).map((name) => `--${name}`)
      const others = reasons.filter((reason) => !reason.startsWith('Missing required flag '))
      const parts = [...(missing.length > 0 ? [`missing ${listed(missing)}`] : []), ...others.map(lowerFirst)]
      return `${parts.join('; ')}${eg}`
    }
    case 'FlagInvalidOptionError':
    case 'ArgInvalidOptionError':
      return lowerFirst(reasonsOf(error.message).join('; '))
    default:
      return undefined
  }
}

/** The reasons of a parser message, without oclif's framing lines and colours. */
function reasonsOf(message: string): string[] {
  // eslint-disable-next-line no-control-regex -- oclif dims the reasons with ANSI escapes
  return message.replace(/\u001B\[[0-9;]*m/g, '').split('\n').map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('See more help') && !/^The following errors? occurred:?$/.test(line))
}

const lowerFirst = (text: string): string => text.charAt(0).toLowerCase() + text.slice(1)
