// Preloaded with --import by the start-up tests: appends the URL of every module
// the process loads (import and require) to the file named by
// IOTCTL_RECORD_IMPORTS. Loads, not resolutions: import.meta.resolve of a
// package (the DEBUG redactor finds each library's `debug` that way) loads nothing.
import {appendFileSync} from 'node:fs'
import module from 'node:module'

const file = process.env.IOTCTL_RECORD_IMPORTS
module.registerHooks({
  load(url, context, nextLoad) {
    appendFileSync(file, `${url}\n`)
    return nextLoad(url, context)
  },
})
