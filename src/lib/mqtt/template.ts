// Payload (and topic) templates: text with {{placeholders}} that vary from one
// message to the next. A template is parsed once and rendered by concatenating
// its pieces, so rendering costs little more than the string it produces.
// The syntax is documented in README.md in this folder.
import {randomUUID} from 'node:crypto'
import {InputError} from '../errors.ts'

/** What a placeholder can draw on for one message. */
export interface TemplateContext {
  /** The message's number, from 1 (per device under load). */
  seq: number
  /** The device's name: its MQTT client id. */
  device: string
  /** The device's number, from 1 (1 for a single publisher). */
  index: number
}

export interface Template {
  readonly source: string
  /** True when no placeholder varies: every message is the same. */
  readonly isStatic: boolean
  render(context: TemplateContext): string
}

type Piece = string | ((context: TemplateContext) => string)

/** The placeholders, for messages and documentation. */
export const placeholders = ['seq', 'timestamp', 'iso', 'random:MIN:MAX', 'uuid', 'device', 'index'] as const

/** Parses `source` once; throws InputError naming the bad placeholder and its position. */
export function compileTemplate(source: string): Template {
  const pieces: Piece[] = []
  let text = ''
  let at = 0
  while (at < source.length) {
    const open = source.indexOf('{{', at)
    if (open < 0) break
    const close = source.indexOf('}}', open + 2)
    if (close < 0) throw new InputError(`template: '{{' at offset ${open} is not closed by '}}'`)
    text += source.slice(at, open)
    const placeholder = compilePlaceholder(source.slice(open + 2, close).trim(), open)
    if (typeof placeholder === 'string') {
      text += placeholder
    } else {
      if (text !== '') pieces.push(text)
      text = ''
      pieces.push(placeholder)
    }
    at = close + 2
  }
  text += source.slice(at)
  if (text !== '') pieces.push(text)
  return {
    source,
    isStatic: pieces.every((piece) => typeof piece === 'string'),
    render: renderer(pieces),
  }
}

function renderer(pieces: Piece[]): (context: TemplateContext) => string {
  if (pieces.length === 0) return () => ''
  if (pieces.length === 1) {
    const only = pieces[0]
    return typeof only === 'string' ? () => only : only
  }
  return (context) => {
    let out = ''
    for (const piece of pieces) out += typeof piece === 'string' ? piece : piece(context)
    return out
  }
}

function compilePlaceholder(name: string, offset: number): Piece {
  switch (name) {
    case 'seq':
      return (context) => String(context.seq)
    case 'timestamp':
      return () => String(Date.now())
    case 'iso':
      return () => new Date().toISOString()
    case 'uuid':
      return () => randomUUID()
    case 'device':
      return (context) => context.device
    case 'index':
      return (context) => String(context.index)
  }
  const random = /^random:(-?\d+(?:\.\d+)?):(-?\d+(?:\.\d+)?)$/.exec(name)
  if (random) return randomNumber(random[1], random[2], offset)
  throw new InputError(`template: unknown placeholder {{${name}}} at offset ${offset}; known: ${placeholders.map((p) => `{{${p}}}`).join(', ')}`)
}

/**
 * {{random:MIN:MAX}}: uniform in [MIN, MAX], with as many decimals as the bound
 * written with the most: {{random:20:30}} gives integers 20…30, {{random:20.0:30.0}}
 * one decimal (23.7).
 */
function randomNumber(minText: string, maxText: string, offset: number): Piece {
  const min = Number(minText)
  const max = Number(maxText)
  if (min > max) throw new InputError(`template: {{random:${minText}:${maxText}}} at offset ${offset}: MIN is greater than MAX`)
  const decimals = Math.max(decimalsOf(minText), decimalsOf(maxText))
  if (decimals === 0) {
    const span = max - min + 1
    return () => String(min + Math.floor(Math.random() * span))
  }
  return () => (min + Math.random() * (max - min)).toFixed(decimals)
}

function decimalsOf(text: string): number {
  const dot = text.indexOf('.')
  return dot < 0 ? 0 : text.length - dot - 1
}
