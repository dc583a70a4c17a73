// The files `device create` writes: <thing>.cert.pem, <thing>.private.key and
// <thing>.endpoint, all mode 0600 in the output directory.
import {chmodSync, existsSync, mkdirSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'
import {InputError} from '../errors.ts'

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
 * without `force`, and an output path that is not a directory.
 */
export function checkDeviceFiles(outDirectory: string, paths: DeviceFilePaths, force: boolean): void {
  if (existsSync(outDirectory) && !statSync(outDirectory).isDirectory()) throw new InputError(`--out ${outDirectory} is not a directory`)
  if (force) return
  const existing = [paths.key, paths.cert].filter((path) => existsSync(path))
  if (existing.length > 0) {
    throw new InputError(`${existing.join(' and ')} already exist${existing.length === 1 ? 's' : ''}: pass --force to replace ${existing.length === 1 ? 'it' : 'them'} (a new certificate is created either way), or choose another --out`)
  }
}

/** Writes a file with mode 0600 atomically (temp file + rename), creating the directory (0700) if needed. */
export function writePrivateFile(path: string, content: string, directory: string): void {
  mkdirSync(directory, {recursive: true, mode: 0o700})
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, content, {mode: 0o600})
  // The mode of writeFileSync is filtered by the umask and ignored for an existing file.
  chmodSync(temporary, 0o600)
  renameSync(temporary, path)
}
