// Writes JavaScript copies (types stripped, `.ts` imports renamed to `.js`) of
// the files the benchmark's child processes load, so that those processes run
// like the built CLI: a Node process that strips TypeScript at run time loads a
// WebAssembly compiler first, which adds ~17 MB of RSS that the shipped CLI
// (compiled by tsc) does not have.
import {mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {stripTypeScriptTypes} from 'node:module'
import {dirname, join, relative} from 'node:path'

const SOURCES = ['src/lib/errors.ts', 'src/lib/redact/index.ts', 'src/lib/tunnel/protocol', 'test/support/tunnel-relay', 'bench/tunnel/relay-process.ts', 'bench/tunnel/proxy-process.ts', 'bench/tunnel/floor-process.ts']

function files(root: string, entry: string): string[] {
  const path = join(root, entry)
  if (path.endsWith('.ts')) return [path]
  return readdirSync(path).filter(name => name.endsWith('.ts')).map(name => join(path, name))
}

/** Compiles the child-process entry points under `outDir` (inside the repository, so that node_modules resolves). */
export function compileForBenchmark(root: string, outDir: string): void {
  // stripTypeScriptTypes() warns that it is experimental; the benchmark's output does not need that line.
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept only to be put back below, never called detached
  const emitWarning = process.emitWarning
  process.emitWarning = () => {}
  try {
    compile(root, outDir)
  } finally {
    process.emitWarning = emitWarning
  }
}

function compile(root: string, outDir: string): void {
  for (const file of SOURCES.flatMap(entry => files(root, entry))) {
    const javascript = stripTypeScriptTypes(readFileSync(file, 'utf8'), {mode: 'strip'})
      .replace(/(from\s+|import\s*\(\s*|import\s+)(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2')
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js')
    mkdirSync(dirname(target), {recursive: true})
    writeFileSync(target, javascript)
  }
}
