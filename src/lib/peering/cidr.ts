// IPv4 CIDR arithmetic for the peering checks: peered VPCs must not overlap.

export interface Ipv4Range {
  cidr: string
  first: number
  last: number
}

export function parseCidr(cidr: string): Ipv4Range {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr.trim())
  if (!match) throw new Error(`'${cidr}' is not an IPv4 CIDR block`)
  const octets = match.slice(1, 5).map(Number)
  const bits = Number(match[5])
  if (octets.some((o) => o > 255) || bits > 32) throw new Error(`'${cidr}' is not an IPv4 CIDR block`)
  const address = ((octets[0] << 24) >>> 0) + (octets[1] << 16) + (octets[2] << 8) + octets[3]
  const size = 2 ** (32 - bits)
  const first = Math.floor(address / size) * size
  return {cidr, first, last: first + size - 1}
}

export function cidrsOverlap(a: string, b: string): boolean {
  const x = parseCidr(a)
  const y = parseCidr(b)
  return x.first <= y.last && y.first <= x.last
}

/** The first overlapping pair between two lists of blocks, if any. */
export function firstOverlap(left: string[], right: string[]): [string, string] | undefined {
  for (const a of left) for (const b of right) if (cidrsOverlap(a, b)) return [a, b]
  return undefined
}
