// What `device create` prints. Pure: returns text, the command writes it.
import type {DeviceCreateResult} from '../lib/device/index.ts'

/** `device create`: the lines for stdout (`log`) and for stderr (`notes`). */
export function deviceCreateLines(result: DeviceCreateResult): {log: string[]; notes: string[]} {
  if (result.dryRun) {
    return {log: [`dry run: would ${result.created.thing ? 'create' : 'reuse'} thing ${result.thingName}, ${result.created.policy ? 'create' : 'reuse'} policy ${result.policyName}, create a certificate, and write ${result.files.cert}, ${result.files.key}, ${result.files.endpoint}; nothing was changed`], notes: []}
  }
  const made = (created: boolean) => (created ? 'created' : 'reused')
  return {
    log: [
      `thing        ${result.thingName} (${made(result.created.thing)})`,
      `policy       ${result.policyName} (${made(result.created.policy)})`,
      `certificate  ${result.certificateId} (ACTIVE)`,
      `endpoint     ${result.endpoint}`,
      `files        ${result.files.cert}`,
      `             ${result.files.key} (mode 0600)`,
      `             ${result.files.endpoint}`,
    ],
    notes: [`try: iotctl mqtt publish --cert ${result.files.cert} --key ${result.files.key} --endpoint ${result.endpoint} --topic device/${result.thingName}/data --message '{"temperature": 21.5}'`],
  }
}
