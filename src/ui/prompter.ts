// The Prompter of `iotctl init` on inquirer, drawn on stderr so stdout stays
// for the result.
import type {Prompter} from '../lib/init/index.ts'

export function inquirerPrompter(): Prompter {
  const context = {output: process.stderr}
  return {
    async select(message, choices, defaultValue) {
      const {select} = await import('@inquirer/prompts')
      return select({message, choices, default: defaultValue}, context)
    },
    async checkbox(message, choices, options) {
      const {checkbox} = await import('@inquirer/prompts')
      const min = options?.min ?? 0
      return checkbox({message, choices, validate: (chosen) => chosen.length >= min || `choose at least ${min}`}, context)
    },
    async input(message, defaultValue, validate) {
      const {input} = await import('@inquirer/prompts')
      return input({message, default: defaultValue, validate}, context)
    },
    async confirm(message, defaultValue) {
      const {confirm} = await import('@inquirer/prompts')
      return confirm({message, default: defaultValue}, context)
    },
    note(message) {
      process.stderr.write(`${message}\n`)
    },
  }
}
