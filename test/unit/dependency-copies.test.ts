// One copy of the SDK's core and of its credential chain (issue 15): every AWS
// client shares them, so a profile's credentials resolve once and a fix in
// either reaches every client. The one exception is the IoT secure tunneling
// client, which the registry serves only on an older line; its own copies stay
// inside its subtree. Read from the installed tree (`npm ls`), so an update
// that quietly nests a second copy under another client fails here.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {dirname, resolve} from 'node:path'
import {test} from 'node:test'
import {fileURLToPath} from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const olderLineClient = '@aws-sdk/client-iotsecuretunneling'
const shared = ['@aws-sdk/core', '@aws-sdk/credential-provider-node']

interface Node {version?: string; path?: string; dependencies?: Record<string, Node>}

/** Each place `name` is reached, as the chain of packages that leads to it and the folder it loads from. */
function copiesOf(tree: Node, name: string): {chain: string[]; path: string; version: string}[] {
  const found: {chain: string[]; path: string; version: string}[] = []
  const walk = (node: Node, chain: string[]) => {
    for (const [dependency, child] of Object.entries(node.dependencies ?? {})) {
      const next = [...chain, `${dependency}@${child.version}`]
      if (dependency === name) found.push({chain: next, path: child.path ?? '?', version: child.version ?? '?'})
      walk(child, next)
    }
  }
  walk(tree, [])
  return found
}

// --long gives each node the folder it is installed in: two clients that need
// the same version but load it from two folders are two copies.
const installed: Node = JSON.parse(execFileSync('npm', ['ls', '--all', '--json', '--long', ...shared], {cwd: root, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024}))

for (const name of shared) {
  test(`${name}: one installed copy outside ${olderLineClient}`, () => {
    const copies = copiesOf(installed, name)
    assert.ok(copies.length > 0, `${name} is not installed`)
    const current = copies.filter((copy) => !copy.chain[0].startsWith(`${olderLineClient}@`))
    const folders = new Set(current.map((copy) => copy.path))
    assert.equal(folders.size, 1, `${name} is installed ${folders.size} times:\n${[...folders].map((folder) => {
      const copy = current.find((c) => c.path === folder)
      return `${copy?.version} in ${folder} (${copy?.chain.join(' > ')})`
    }).join('\n')}`)
  })
}
