// Human output that fits the reader's terminal (issue 19): lines longer than
// the width wrap at spaces, continuation lines indented under their start.
// Ids and ARNs are never broken (a word longer than the width stays whole);
// --json is never wrapped.

/**
 * The width to fit: the terminal's, or COLUMNS when a wrapper (the demo, a
 * CI log viewer) says how wide its reader is; undefined (no wrapping) when
 * output goes to a pipe or file with no width, so scripts see whole lines.
 */
export function outputWidth(stream: {isTTY?: boolean; columns?: number} = process.stdout): number | undefined {
  if (stream.isTTY && stream.columns) return stream.columns
  const columns = Number(process.env.COLUMNS)
  return Number.isInteger(columns) && columns >= 40 ? columns : undefined
}

/** A note (progress, a hint) as written to stderr: fitted to stderr's width, one line with its newline. */
export function noteLine(message: string): string {
  return `${fitToWidth(message, outputWidth(process.stderr))}\n`
}

/** `text` with every line longer than `width` wrapped at spaces, continuations indented 4 more than the line. */
export function fitToWidth(text: string, width: number | undefined): string {
  if (!width) return text
  return text.split('\n').map((line) => wrapLine(line, width)).join('\n')
}

function wrapLine(line: string, width: number): string {
  if (line.length <= width) return line
  const indent = /^ */.exec(line)?.[0] ?? ''
  const hanging = `${indent}    `
  const words = line.slice(indent.length).split(' ')
  const lines: string[] = []
  let current = indent
  for (const word of words) {
    const start = current.trim() === ''
    if (!start && current.length + 1 + word.length > width) {
      lines.push(current)
      current = hanging + word
    } else {
      current = start ? current + word : `${current} ${word}`
    }
  }
  lines.push(current)
  return lines.join('\n')
}
