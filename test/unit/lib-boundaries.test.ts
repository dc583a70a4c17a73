// src/lib owns the logic and never prints (DESIGN.md, docs/DEVELOPING.md): no
// oclif (flags live in src/flags/), no listr2 (progress lives in src/ui/), no
// writing to the process's stdout/stderr or the console (text is rendered by
// src/ui/ and written by the commands), no import of the CLI layer above it.
// Read from the syntax tree, so a comment that names process.stdout is no offender.
import assert from 'node:assert/strict'
import {readdirSync, readFileSync} from 'node:fs'
import {dirname, join, relative, resolve} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'
import ts from 'typescript'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const lib = join(root, 'src/lib')

const forbiddenPackages = [/^@oclif\//, /^listr2$/]
// The CLI layer: lib is imported by it, never the reverse.
const cliLayer = ['src/commands', 'src/ui', 'src/flags', 'src/hooks', 'src/lean', 'src/base-command.ts', 'src/settings-flags.ts', 'src/error-output.ts', 'src/interruption.ts'].map((p) => join(root, p))

function tsFiles(directory: string): string[] {
  return readdirSync(directory, {withFileTypes: true}).flatMap((entry) => {
    const path = join(directory, entry.name)
    if (entry.isDirectory()) return tsFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** What in `source` (the text of `file`) breaks the rules above, one line each. */
function offences(file: string, source: string): string[] {
  const tree = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const at = (node: ts.Node) => `${relative(root, file)}:${tree.getLineAndCharacterOfPosition(node.getStart(tree)).line + 1}`
  const checkSpecifier = (node: ts.Node, specifier: string) => {
    if (forbiddenPackages.some((p) => p.test(specifier))) found.push(`${at(node)} imports ${specifier}`)
    if (specifier.startsWith('.')) {
      const target = resolve(dirname(file), specifier)
      if (cliLayer.some((layer) => target === layer || target.startsWith(`${layer}/`))) found.push(`${at(node)} imports ${specifier} (the CLI layer)`)
    }
  }
  const visit = (node: ts.Node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      checkSpecifier(node, node.moduleSpecifier.text)
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteralLike(node.arguments[0])) {
      checkSpecifier(node, node.arguments[0].text)
    } else if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const object = node.expression.text
      const name = node.name.text
      if (object === 'process' && (name === 'stdout' || name === 'stderr')) found.push(`${at(node)} uses process.${name}`)
      if (object === 'console') found.push(`${at(node)} uses console.${name}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(tree)
  return found
}

test('the checker sees each kind of offence, and not a comment', () => {
  const file = join(lib, 'example/sample.ts')
  const sample = [
    "import {Flags} from '@oclif/core'",
    "import type {Listr} from 'listr2'",
    "export {stackFlags} from '../../flags/index.ts'",
    "const ui = await import('../../ui/mqtt.ts')",
    "process.stdout.write('x')",
    'const err = process.stderr',
    "console.log('x')",
    '// process.stdout and console.log in a comment are fine',
    'const input = process.stdin',
  ].join('\n')
  assert.deepEqual(offences(file, sample), [
    'src/lib/example/sample.ts:1 imports @oclif/core',
    'src/lib/example/sample.ts:2 imports listr2',
    'src/lib/example/sample.ts:3 imports ../../flags/index.ts (the CLI layer)',
    'src/lib/example/sample.ts:4 imports ../../ui/mqtt.ts (the CLI layer)',
    'src/lib/example/sample.ts:5 uses process.stdout',
    'src/lib/example/sample.ts:6 uses process.stderr',
    'src/lib/example/sample.ts:7 uses console.log',
  ])
})

test('src/lib imports neither oclif nor listr2 nor the CLI layer, and never prints', () => {
  const files = tsFiles(lib)
  assert.ok(files.length > 50, `expected the library's files under ${lib}, found ${files.length}`)
  const found = files.flatMap((file) => offences(file, readFileSync(file, 'utf8')))
  assert.deepEqual(found, [], `src/lib must not print or depend on the CLI: move flags to src/flags/, text to src/ui/\n${found.join('\n')}`)
})
