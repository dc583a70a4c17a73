// The Prompter of `iotctl init` on inquirer, drawn on stderr so stdout stays
// for the result.
import type {Prompter} from '../lib/init/index.ts'
import {Interrupted} from '../lib/errors.ts'

/** Ctrl-C at a question: inquirer rejects with ExitPromptError; iotctl's answer to Ctrl-C is exit 130. */
async function answered<T>(question: Promise<T>): Promise<T> {
  try {
    return await question
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new Interrupted('init interrupted at a question; nothing was written')
    throw error
  }
}

export function inquirerPrompter(): Prompter {
  const context = {output: process.stderr}
  return {
    async select(message, choices, defaultValue) {
      const {select} = await import('@inquirer/prompts')
      return answered(select({message, choices, default: defaultValue}, context))
    },
    async checkbox(message, choices, options) {
      const {checkbox} = await import('@inquirer/prompts')
      const min = options?.min ?? 0
      return answered(checkbox({message, choices, validate: (chosen) => chosen.length >= min || `choose at least ${min}`}, context))
    },
    async input(message, defaultValue, validate) {
      const {input} = await import('@inquirer/prompts')
      return answered(input({message, default: defaultValue, validate}, context))
    },
    async confirm(message, defaultValue) {
      const {confirm} = await import('@inquirer/prompts')
      return answered(confirm({message, default: defaultValue}, context))
    },
    note(message) {
      process.stderr.write(`${message}\n`)
    },
  }
}
