// The files `device create` writes: <thing>.cert.pem, <thing>.private.key and
// <thing>.endpoint, all mode 0600 in the output directory (../files/private-file.ts).
import {lstatSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {InputError} from '../errors.ts'
import {checkPrivateDirectory, writePrivateFile} from '../files/private-file.ts'

export interface DeviceFilePaths {
  cert: string
  key: string
  endpoint: string
}

export function deviceFilePaths(outDirectory: string, thing: string): DeviceFilePaths {
  // ':' is valid in a thing name and in POSIX file names; keep the name as it is.
  const directory = resolve(outDirectory)
  return {
    cert: join(directory, `${thing}.cert.pem`),
    key: join(directory, `${thing}.private.key`),
    endpoint: join(directory, `${thing}.endpoint`),
  }
}

/**
 * Refuses (InputError, before any AWS call) to overwrite a certificate or key
 * without `force`, and an output directory that is not one, or that another
 * user could change (a symlink, someone else's, writable by group or others).
 */
export function checkDeviceFiles(outDirectory: string, paths: DeviceFilePaths, force: boolean): void {
  checkPrivateDirectory(outDirectory, '--out')
  if (force) return
  // lstat: a dangling symlink in the way is in the way too.
  const existing = [paths.key, paths.cert].filter((path) => lstatSync(path, {throwIfNoEntry: false}) !== undefined)
  if (existing.length > 0) {
    throw new InputError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace ${existing.length === 1 ? 'it' : 'them'} (a new certificate is created either way), or choose another --out`)
  }
}

/** Writes one of the device's files: mode 0600, atomically, into the checked --out directory. */
export function writeDeviceFile(path: string, content: string): void {
  writePrivateFile(path, content, {label: '--out'})
}
