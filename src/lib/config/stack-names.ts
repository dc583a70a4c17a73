// The one rule for the names of a stack's resources (roles, keys, clusters,
// rules, policies), kept free of imports: the device and tunnel paths load it.

/**
 * What the names of a stack's resources start with: `iotctl-<stack>`, or the
 * stack name alone when it already starts with iotctl, so the default stack
 * makes `iotctl-iot-to-msk`, not `iotctl-iotctl-iot-to-msk`.
 */
export function stackPrefix(stack: string): string {
  return /^iotctl(?![A-Za-z0-9])/.test(stack) ? stack : `iotctl-${stack}`
}
