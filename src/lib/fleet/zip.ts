// A .zip archive of stored (uncompressed) files: the deployment package of the
// hook iotctl deploys (Lambda takes the package as a zip, CreateFunction Code.ZipFile).
import {strToU8, zipSync, type ZipOptions} from 'fflate'

// fflate writes the DOS date from the local-time fields, so a local 1980-01-01 00:00 is
// that date in every time zone: the same code gives the same package, and so the same
// CodeSha256 the hook step compares.
const options: ZipOptions = {level: 0, mtime: new Date(1980, 0, 1), os: 3, attrs: 0o100644 << 16} // Unix, -rw-r--r--

export function zipStored(files: Record<string, string>): Buffer {
  const zip = zipSync(Object.fromEntries(Object.entries(files).map(([name, content]) => [name, strToU8(content)])), options)
  return Buffer.from(zip.buffer, zip.byteOffset, zip.byteLength)
}
