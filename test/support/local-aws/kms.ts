// KMS fixes: moto 5.2.5 requires PolicyName on GetKeyPolicy and PutKeyPolicy,
// where AWS has made it optional (default "default"); without it moto answers
// NotFoundException "No such policy exists".
import {relay, type Handler} from './context.ts'

const defaultPolicyName: Handler = async (c) => {
  if (c.input.PolicyName !== undefined) return relay(await c.forward())
  return relay(await c.forward(Buffer.from(JSON.stringify({...c.input, PolicyName: 'default'}))))
}

export function kmsHandlers(): Record<string, Handler> {
  return {GetKeyPolicy: defaultPolicyName, PutKeyPolicy: defaultPolicyName}
}
