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

/**
 * A key-policy statement Sid for the stack. Sids allow only [A-Za-z0-9], so
 * the stack name is escaped injectively ('Z' starts an escape: Z2d is '-',
 * Z5f '_', Z5a 'Z') and ends with 'Z': stacks "a-b" and "ab" never share a Sid.
 */
export function stackSid(stack: string, purpose: string): string {
  const escaped = stack.replace(/[^A-Ya-z0-9]/g, (c) => `Z${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
  return `iotctl${escaped}Z${purpose}`
}
