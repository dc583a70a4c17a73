// Ownership marks (DESIGN.md, "Ownership, state and cleanup").
export const stackTagKey = 'iotctl:stack'
export const managedTagKey = 'iotctl:managed'

export interface Tag {
  Key?: string
  Value?: string
}

/** The tags every resource the stack creates carries. */
export function stackTags(stack: string): {Key: string; Value: string}[] {
  return [
    {Key: stackTagKey, Value: stack},
    {Key: managedTagKey, Value: 'true'},
  ]
}

/** The same as a plain object, for APIs that take a map (Kafka, tunneling). */
export function stackTagMap(stack: string): Record<string, string> {
  return {[stackTagKey]: stack, [managedTagKey]: 'true'}
}

export function hasStackTag(tags: Tag[] | Record<string, string> | undefined, stack: string): boolean {
  if (!tags) return false
  if (Array.isArray(tags)) return tags.some((t) => t.Key === stackTagKey && t.Value === stack)
  return tags[stackTagKey] === stack
}

/**
 * The mark for things that cannot be tagged (security-group rule descriptions,
 * key-policy Sids): names the stack so cleanup finds exactly its own.
 */
export function stackMark(stack: string): string {
  return `iotctl:stack=${stack}`
}

/** A key-policy statement Sid for the stack (Sids allow only [A-Za-z0-9]). */
export function stackSid(stack: string, purpose: string): string {
  return `iotctl${stack.replace(/[^A-Za-z0-9]/g, '')}${purpose}`
}
