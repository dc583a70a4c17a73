// Reads the files of a .zip archive (a Lambda deployment package): stored and
// deflated entries, through fflate.
import {unzipSync} from 'fflate'

/** Every file of the archive by its path (directories left out); throws on anything that is not a zip archive. */
export function readZip(archive: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>()
  for (const [name, data] of Object.entries(unzipSync(archive))) {
    if (!name.endsWith('/')) files.set(name, Buffer.from(data.buffer, data.byteOffset, data.byteLength))
  }
  return files
}
