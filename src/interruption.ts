// Ctrl-C for every command, the oclif ones (BaseCommand) and the lean runner's
// (src/lean): the first aborts the run's signal (steps and proxies stop after
// what is in flight), the second quits at once. No @oclif/core here.

/** The SIGINT listener for `controller`; the caller adds it and removes it when the command ends. */
export function sigintHandler(controller: AbortController): () => void {
  return () => {
    if (controller.signal.aborted) process.exit(130)
    controller.abort()
    process.stderr.write('\nstopping after the requests in flight (Ctrl-C again to quit at once)\n')
  }
}
