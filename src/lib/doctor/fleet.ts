// Doctor's checks of fleet provisioning by claim, when the settings ask for it
// (a `fleet` section naming a template): one per managed fleet step, from the
// registry's own read of it — what exists, and what `fleet setup` would still
// change (a missing permission for IoT on the hook, a template that differs).
import {fleetConfigured} from '../fleet/steps.ts'
import type {CheckDefinition} from './check.ts'
import {fail, pass} from './check.ts'

function stepCheck(id: string, step: string, title: string): CheckDefinition {
  return {
    id,
    step,
    title,
    applies: fleetConfigured,
    run(_ctx, registry) {
      const problem = registry.problems.get(step)
      if (problem) return Promise.resolve(fail(problem, 'fix the input named, then run `iotctl fleet setup`'))
      const observed = registry.observed.get(step)
      if (!observed) return Promise.resolve(fail('not read', 'run `iotctl fleet setup`'))
      if (observed.missing.length > 0) return Promise.resolve(fail(observed.missing.join('; '), 'run `iotctl fleet setup` (or `iotctl up`)'))
      const found = observed.resources.map((r) => r.id).join(', ')
      return Promise.resolve(pass(found || 'nothing needed'))
    },
  }
}

export const fleetDoctorChecks: CheckDefinition[] = [
  stepCheck('fleet-role', 'fleet-role', 'the provisioning role trusts AWS IoT and has AWSIoTThingsRegistration'),
  stepCheck('fleet-device-policy', 'fleet-device-policy', 'the provisioned devices\' policy is the stack\'s least-privilege one'),
  stepCheck('fleet-hook', 'fleet-hook', 'AWS IoT may invoke the pre-provisioning hook'),
  stepCheck('fleet-template', 'fleet-template', 'the provisioning template is enabled with the stack\'s role, policy and hook'),
]
