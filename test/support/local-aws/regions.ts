// AWS refuses a request whose SigV4 credential scope names a region that does
// not exist: 403 SignatureDoesNotMatch, "Credential should be scoped to a valid
// region, not 'us-west-7'." (on a real network the regional endpoint does not
// even resolve). The regions are those of botocore's endpoints.json, the
// partition data moto and the AWS CLI use.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

/** Every region of every partition; undefined when botocore's data cannot be read (then no region is refused). */
export function knownRegions(dataDir: string | undefined): Set<string> | undefined {
  if (!dataDir) return undefined
  try {
    const endpoints = JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8')) as {partitions: {regions: Record<string, unknown>}[]}
    return new Set(endpoints.partitions.flatMap((p) => Object.keys(p.regions)))
  } catch {
    return undefined
  }
}

export function invalidRegionMessage(region: string): string {
  return `Credential should be scoped to a valid region, not '${region}'.`
}
