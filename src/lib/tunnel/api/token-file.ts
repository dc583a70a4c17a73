// Token files: .iotctl/tunnels/<tunnel-id>.json beside the ledger, mode 0600 in
// a 0700 directory. They hold the access tokens OpenTunnel returned (secrets,
// which the ledger never holds) and the client token the source side reconnects
// with: the tunneling service lets an access token be used again only by the
// client token of its first connection, so every `tunnel proxy` / `forward` of
// this tunnel presents the same one. Written through ../../files/private-file.ts.
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {InputError} from '../../errors.ts'
import {checkPrivateDirectory, ensurePrivateDirectory, writePrivateFile} from '../../files/private-file.ts'
import {STATE_DIRECTORY} from '../../config/files.ts'
import {registerSecret} from '../../redact/index.ts'
import {checkTunnelId} from './inputs.ts'

export interface TunnelTokenFile {
  version: 1
  tunnelId: string
  tunnelArn: string
  stack: string
  thingName?: string
  services: string[]
  region: string
  accountId: string
  profile?: string
  openedAt: string
  /** When the tunnel's lifetime ends (OpenTunnel's timeout). */
  expiresAt?: string
  sourceAccessToken: string
  /** Absent after a rotation of the source token alone (`tunnel ssh --reuse` on another machine). */
  destinationAccessToken?: string
  /** The client token of every source connection made from this file. */
  sourceClientToken: string
}

export function tokenDirectory(stateDirectory: string): string {
  return join(stateDirectory, 'tunnels')
}

export function tokenFilePath(stateDirectory: string, tunnelId: string): string {
  return join(tokenDirectory(stateDirectory), `${checkTunnelId(tunnelId)}.json`)
}

/** A client token as the protocol wants it: 32-128 letters, digits and dashes. */
export function newClientToken(): string {
  return `iotctl-${randomUUID()}`
}

const TOKEN_DIRECTORY = 'token directory'

/**
 * Refuses (InputError) a state or token directory another user could change:
 * a symlink, someone else's, writable by group or others. `tunnel open` calls
 * it before OpenTunnel, so nothing is opened that could not be written.
 */
export function checkTokenDirectory(stateDirectory: string): void {
  checkPrivateDirectory(stateDirectory, STATE_DIRECTORY)
  checkPrivateDirectory(tokenDirectory(stateDirectory), TOKEN_DIRECTORY)
}

/** Writes the file atomically (random temp file + rename), 0600 in a checked 0700 directory; returns its path. */
export function writeTokenFile(stateDirectory: string, document: TunnelTokenFile): string {
  registerTokens(document)
  ensurePrivateDirectory(stateDirectory, STATE_DIRECTORY)
  const path = tokenFilePath(stateDirectory, document.tunnelId)
  writePrivateFile(path, JSON.stringify(document, null, 2) + '\n', {label: TOKEN_DIRECTORY})
  return path
}

/** Reads a tunnel's token file; InputError (exit 2) when it is missing, unreadable or not a token file. */
export function readTokenFile(stateDirectory: string, tunnelId: string): TunnelTokenFile & {path: string} {
  const path = tokenFilePath(stateDirectory, tunnelId)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new InputError(`no token file for tunnel ${tunnelId} (${path}): open tunnels with \`iotctl tunnel open\` from this directory, or pass the source token in AWSIOT_TUNNEL_ACCESS_TOKEN`)
    }
    throw new InputError(`token file ${path} cannot be read (${code ?? (error as Error).message})`)
  }
  let document: Partial<TunnelTokenFile>
  try {
    document = JSON.parse(text) as Partial<TunnelTokenFile>
  } catch {
    throw new InputError(`token file ${path} is not JSON`)
  }
  if (document.version !== 1 || typeof document.sourceAccessToken !== 'string' || typeof document.sourceClientToken !== 'string' || document.tunnelId !== tunnelId) {
    throw new InputError(`token file ${path} is not an iotctl token file for tunnel ${tunnelId}`)
  }
  registerTokens(document)
  return {...(document as TunnelTokenFile), path}
}

/** No debug line shows a token iotctl holds (../../redact). */
function registerTokens(document: Partial<TunnelTokenFile>): void {
  registerSecret(document.sourceAccessToken)
  registerSecret(document.destinationAccessToken)
}

/** True when a file was removed. */
export function removeTokenFile(stateDirectory: string, tunnelId: string): boolean {
  const path = tokenFilePath(stateDirectory, tunnelId)
  if (!existsSync(path)) return false
  rmSync(path, {force: true})
  return true
}
