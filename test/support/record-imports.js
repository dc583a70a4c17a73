// Preloaded with --import by the start-up test: appends every module URL the
// process resolves to the file named by IOTCTL_RECORD_IMPORTS.
import {appendFileSync} from 'node:fs'
import module from 'node:module'

const file = process.env.IOTCTL_RECORD_IMPORTS
module.registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context)
    appendFileSync(file, `${resolved.url}\n`)
    return resolved
  },
})
