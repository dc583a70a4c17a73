// Tables that fit the reader's width (issue 19). Rather than wrapping a row
// across lines or running past the edge, the longest ids in it are shortened
// in the middle — their start says what they are (`pcx-`, `arn:aws:kafka:`),
// their end is the part that tells them apart. --json always has them whole.
import {outputWidth} from './text.ts'

/** An id is never shortened below this: `pcx-01…bcdef0` still tells two apart. */
const MIN_ID = 13

/** `id` in at most `max` characters: its start and end around one `…`. */
export function shortenId(id: string, max: number): string {
  const chars = [...id]
  if (chars.length <= max) return id
  const kept = Math.max(max, MIN_ID) - 1
  const tail = Math.floor(kept / 2)
  return `${chars.slice(0, kept - tail).join('')}…${chars.slice(-tail).join('')}`
}

/**
 * `text` in at most `width` characters where shortening its longest words
 * (ids, ARNs) can do it; each word is cut no further than MIN_ID, so a cell
 * that still does not fit is left to wrap. Returns whether anything was cut.
 */
export function fitCell(text: string, width: number): {text: string; shortened: boolean} {
  const words = text.split(' ')
  const lengthOf = () => words.reduce((sum, word) => sum + [...word].length, words.length - 1)
  let shortened = false
  for (let excess = lengthOf() - width; excess > 0; excess = lengthOf() - width) {
    const longest = words.reduce((best, word, i) => ([...word].length > [...words[best]].length ? i : best), 0)
    const length = [...words[longest]].length
    if (length <= MIN_ID) break
    const others = words.filter((_, i) => i !== longest).map((word) => [...word].length)
    // Cut the longest word to the next-longest first, so the cuts spread over the ids.
    const target = Math.max(MIN_ID, length - excess, Math.min(length - 1, Math.max(0, ...others)))
    words[longest] = shortenId(words[longest], target)
    shortened = true
  }
  return {text: words.join(' '), shortened}
}

export interface FittedTable {
  text: string
  /** Ids were shortened to fit: the caller says so, and where to see them whole. */
  shortened: boolean
  width?: number
}

/**
 * A bordered table of `head` and `rows`. With a width to fit (the terminal's or
 * COLUMNS), the widest columns give way first: their cells' ids are shortened
 * until the table fits or every id is at its minimum. `wrap` names a column of
 * sentences that may wrap (at spaces) when shortening is not enough; `fixed`
 * names columns that never give way (states, times).
 */
export async function renderTable(head: string[], rows: string[][], options: {wrap?: number; fixed?: string[]} = {}): Promise<FittedTable> {
  const {default: Table} = await import('cli-table3')
  const width = outputWidth()
  const style = {head: [], border: []}
  if (!width) {
    const table = new Table({head, style})
    for (const row of rows) table.push(row)
    return {text: table.toString(), shortened: false}
  }
  // Each column: its content plus 2 of padding; the table: the columns and one border more than there are columns.
  const widths = head.map((title, column) => Math.max([...title].length, ...rows.map((row) => [...row[column]].length)) + 2)
  const total = () => widths.reduce((sum, w) => sum + w, head.length + 1)
  // A sentence column may wrap, so it gives way further than an id column may.
  const floor = head.map((title, column) =>
    options.fixed?.includes(title) ? widths[column] : Math.max([...title].length, column === options.wrap ? 24 : MIN_ID) + 2)
  while (total() > width) {
    const column = widths.reduce((best, w, i) => (w - floor[i] > widths[best] - floor[best] ? i : best), 0)
    if (widths[column] <= floor[column]) break
    widths[column] -= 1
  }
  let shortened = false
  const fitted = rows.map((row) => row.map((cell, column) => {
    const fit = fitCell(cell, widths[column] - 2)
    shortened ||= fit.shortened
    return fit.text
  }))
  const table = new Table({head, style, ...(options.wrap === undefined ? {} : {colWidths: widths, wordWrap: true})})
  for (const row of fitted) table.push(row)
  return {text: table.toString(), shortened, width}
}

/** The line under a table whose ids were shortened. */
export function shortenedNote(width: number | undefined): string {
  return `(ids shortened to fit ${width} columns; --json shows them whole)`
}
