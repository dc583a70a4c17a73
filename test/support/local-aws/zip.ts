// Reads the files of a .zip archive (a Lambda deployment package): stored and
// deflated entries, located through the central directory (APPNOTE.TXT 4.3).
import {inflateRawSync} from 'node:zlib'

const END_OF_CENTRAL_DIRECTORY = 0x06054b50
const CENTRAL_FILE_HEADER = 0x02014b50
const LOCAL_FILE_HEADER = 0x04034b50

/** Every file of the archive by its path; throws on anything that is not a zip archive. */
export function readZip(archive: Buffer): Map<string, Buffer> {
  let end = -1
  for (let i = archive.length - 22; i >= Math.max(0, archive.length - 22 - 65_535); i--) {
    if (archive.readUInt32LE(i) === END_OF_CENTRAL_DIRECTORY) {
      end = i
      break
    }
  }
  if (end < 0) throw new Error('not a zip archive (no end of central directory record)')
  const count = archive.readUInt16LE(end + 10)
  let offset = archive.readUInt32LE(end + 16)
  const files = new Map<string, Buffer>()
  for (let n = 0; n < count; n++) {
    if (archive.readUInt32LE(offset) !== CENTRAL_FILE_HEADER) throw new Error('corrupt zip archive (central directory)')
    const method = archive.readUInt16LE(offset + 10)
    const compressedSize = archive.readUInt32LE(offset + 20)
    const nameLength = archive.readUInt16LE(offset + 28)
    const extraLength = archive.readUInt16LE(offset + 30)
    const commentLength = archive.readUInt16LE(offset + 32)
    const localOffset = archive.readUInt32LE(offset + 42)
    const name = archive.subarray(offset + 46, offset + 46 + nameLength).toString('utf8')
    offset += 46 + nameLength + extraLength + commentLength
    if (archive.readUInt32LE(localOffset) !== LOCAL_FILE_HEADER) throw new Error(`corrupt zip archive (local header of ${name})`)
    const start = localOffset + 30 + archive.readUInt16LE(localOffset + 26) + archive.readUInt16LE(localOffset + 28)
    const data = archive.subarray(start, start + compressedSize)
    if (name.endsWith('/')) continue
    if (method === 0) files.set(name, Buffer.from(data))
    else if (method === 8) files.set(name, inflateRawSync(data))
    else throw new Error(`zip entry ${name}: compression method ${method} is not supported`)
  }
  return files
}
