// The payload of `mqtt publish` / `mqtt load`: --message, --file, or what is piped in.
import {compileTemplate, readPayloadFile} from '../index.ts'
import {InputError} from '../../errors.ts'

export interface PayloadFlagValues {
  message?: string
  file?: string
}

/** The payload template, checked (unknown placeholders, unreadable file: InputError). */
export async function payloadTemplate(flags: PayloadFlagValues, options: {stdin?: NodeJS.ReadStream; fallback?: string} = {}): Promise<string> {
  let source: string
  if (flags.message !== undefined && flags.file !== undefined) throw new InputError('give --message or --file, not both')
  if (flags.message !== undefined) source = flags.message
  else if (flags.file !== undefined) source = await readPayloadFile(flags.file)
  else if (options.fallback !== undefined) source = options.fallback
  else {
    const stdin = options.stdin ?? process.stdin
    if (stdin.isTTY) throw new InputError('no payload: give --message \'{…}\', --file <file>, or pipe it on stdin')
    source = await readAll(stdin)
    // A closed, empty stdin (CI, cron) is a forgotten --message, not an empty payload on purpose.
    if (source === '') throw new InputError('no payload: stdin was empty; give --message \'{…}\' or --file <file> (for an empty payload on purpose: --message \'\')')
  }
  compileTemplate(source)
  return source
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)
  return Buffer.concat(chunks).toString('utf8')
}
