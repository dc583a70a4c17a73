// Files that hold secrets (device keys, tunnel tokens) or decide what cleanup
// deletes (the ledger): written only into a directory that only the user can
// change, through a temporary file no one else can plant or predict.
//
// The temporary is created in the target directory (so the rename is atomic)
// with a random name and O_CREAT|O_EXCL|O_NOFOLLOW: a file or symlink already
// at that name makes the open fail instead of receiving the secret (open(2)).
import {randomBytes} from 'node:crypto'
import {closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync, type Stats} from 'node:fs'
import {basename, dirname, resolve} from 'node:path'
import {InputError} from '../errors.ts'

/** What the directory check reads: lstat (never follows a link). Injected by tests for the owner rule. */
export type LstatFn = (path: string) => Pick<Stats, 'isDirectory' | 'isSymbolicLink' | 'uid' | 'mode'> | undefined

const lstatOrUndefined: LstatFn = (path) => {
  try {
    return lstatSync(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new InputError(`${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
}

export interface DirectoryCheckOptions {
  /** Default lstat; a test injects one to cover a directory of another owner. */
  lstat?: LstatFn
  /** Default process.getuid(). */
  uid?: number
}

/**
 * Refuses (InputError, exit 2) a directory for private files that is a
 * symbolic link, not a directory, owned by someone else, or writable by group
 * or others: any of these lets another user replace or plant files in it.
 * A directory that does not exist yet passes: iotctl creates it 0700.
 * `label` names the input in the message (`--out certs`, `state directory .iotctl`).
 */
export function checkPrivateDirectory(path: string, label: string, options: DirectoryCheckOptions = {}): void {
  const stat = (options.lstat ?? lstatOrUndefined)(path)
  if (!stat) return
  const what = `${label} ${path}`
  if (stat.isSymbolicLink()) throw new InputError(`${what} is a symbolic link: private files go only into a real directory of yours (replace the link with a directory, or choose another)`)
  if (!stat.isDirectory()) throw new InputError(`${what} is not a directory`)
  const uid = options.uid ?? process.getuid?.()
  if (uid !== undefined && stat.uid !== uid) throw new InputError(`${what} is owned by uid ${stat.uid}, not by you (uid ${uid}): private files go only into a directory of yours (choose another, or chown it)`)
  if ((stat.mode & 0o022) !== 0) {
    throw new InputError(`${what} is writable by ${(stat.mode & 0o020) !== 0 ? 'its group' : 'others'} (mode ${(stat.mode & 0o777).toString(8)}): run \`chmod go-w ${path}\``)
  }
}

/**
 * Checks `path` (see checkPrivateDirectory) and creates it, and any missing
 * parent, with mode 0700 when it does not exist.
 */
export function ensurePrivateDirectory(path: string, label: string, options: DirectoryCheckOptions = {}): void {
  checkPrivateDirectory(path, label, options)
  const created = mkdirSync(path, {recursive: true, mode: 0o700})
  if (created === undefined) return
  // The check above saw nothing there: check what mkdir made (or someone raced in).
  checkPrivateDirectory(path, label, options)
}

export interface PrivateFileOptions {
  /** Names the directory in the refusal message (default: `directory`). */
  label?: string
}

/**
 * Writes `content` to `path` with mode 0600: into a checked directory (created
 * 0700 if needed), through a new temporary with a random name beside it,
 * flushed to disk, then renamed over `path`. On failure the temporary is removed
 * and `path` is unchanged.
 */
export function writePrivateFile(path: string, content: string, options: PrivateFileOptions = {}): void {
  const target = resolve(path)
  const directory = dirname(target)
  ensurePrivateDirectory(directory, options.label ?? 'directory')
  const temporary = `${directory}/.${basename(target)}.${randomBytes(12).toString('hex')}.tmp`
  const fd = openSync(temporary, constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW | constants.O_WRONLY, 0o600)
  try {
    try {
      // The open's mode is filtered by the umask: make it exactly 0600.
      fchmodSync(fd, 0o600)
      const data = Buffer.from(content, 'utf8')
      for (let written = 0; written < data.length;) written += writeSync(fd, data, written)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, target)
  } catch (error) {
    rmSync(temporary, {force: true})
    throw error
  }
  syncDirectory(directory)
}

/** Makes the rename durable; a file system that cannot fsync a directory is no reason to fail. */
function syncDirectory(directory: string): void {
  let fd: number | undefined
  try {
    fd = openSync(directory, constants.O_RDONLY | constants.O_DIRECTORY)
    fsyncSync(fd)
  } catch {
    // EINVAL/EISDIR on some file systems: the data itself is already synced.
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}
