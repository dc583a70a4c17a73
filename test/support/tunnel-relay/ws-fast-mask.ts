// Speeds up the relay's unmasking of client frames. `ws` unmasks byte by byte in
// JavaScript unless the optional native `bufferutil` is installed; here its
// buffer-util exports are replaced, before `ws` loads its receiver, by versions
// that XOR four bytes at a time. Test fixture only: if `ws` was loaded earlier
// in the process, or its layout changed, nothing is patched (only slower).
import {createRequire} from 'node:module'

const require = createRequire(import.meta.url)

function unmask(buffer: Uint8Array, mask: Uint8Array): void {
  const length = buffer.length
  if (length < 32) {
    for (let i = 0; i < length; i++) buffer[i] ^= mask[i & 3]
    return
  }
  const head = (4 - (buffer.byteOffset & 3)) & 3
  for (let i = 0; i < head; i++) buffer[i] ^= mask[i & 3]
  const words = (length - head) >>> 2
  const rotated = new Uint8Array([mask[head & 3], mask[(head + 1) & 3], mask[(head + 2) & 3], mask[(head + 3) & 3]])
  const mask32 = new Uint32Array(rotated.buffer)[0]
  const view = new Uint32Array(buffer.buffer, buffer.byteOffset + head, words)
  for (let i = 0; i < words; i++) view[i] ^= mask32
  for (let i = head + (words << 2); i < length; i++) buffer[i] ^= mask[i & 3]
}

function mask(source: Uint8Array, key: Uint8Array, output: Uint8Array, offset: number, length: number): void {
  output.set(source.subarray(0, length), offset)
  unmask(output.subarray(offset, offset + length), key)
}

function selfTest(): boolean {
  const data = new Uint8Array(101).map((_, i) => (i * 37) & 0xff)
  const key = new Uint8Array([0x12, 0x34, 0x56, 0x78])
  const copy = data.slice(1)
  unmask(copy, key)
  return copy.every((byte, i) => byte === (data[i + 1] ^ key[i & 3]))
}

/**
 * Loads `ws` through require(), with the four-bytes-at-a-time mask functions
 * installed first when ws's receiver is not loaded yet (an ESM import of `ws`
 * runs its CommonJS files before the importing module's body, hence require()).
 */
export function loadWsWithFastMask(): typeof import('ws') {
  try {
    const alreadyLoaded = Object.keys(require.cache).some(key => key.endsWith('/ws/lib/receiver.js'))
    const bufferUtil = require(require.resolve('ws').replace(/index\.js$/, 'lib/buffer-util.js')) as {mask?: unknown; unmask?: unknown}
    if (!alreadyLoaded && typeof bufferUtil.unmask === 'function' && typeof bufferUtil.mask === 'function' && selfTest()) {
      bufferUtil.unmask = unmask
      bufferUtil.mask = mask
    }
  } catch {
    // Not patched: ws keeps its own implementation.
  }
  return require('ws') as typeof import('ws')
}
