// `iotctl doctor`: every link of the chain from a device's message to the Kafka
// topic, one check each, with what is wrong and how to fix it. Read-only.
// The stack's resources are found by the registry's own reads (the same code
// `up` and `cleanup` use); the checks look deeper where a read does not
// (secret contents by digest, what the role's policies allow, key users).
import {CheckFailed} from '../errors.ts'
import type {StepContext} from '../plan/types.ts'
import {fail, pass, warn, type Check, type CheckDefinition, type DoctorResult as BaseDoctorResult, type Verdict} from './check.ts'
import {upGraph} from '../stack/steps.ts'
import {readRegistry} from './registry.ts'
import {networkChecks} from './network.ts'
import {secretChecks} from './secrets.ts'
import {iotChecks} from './iot.ts'
import {kafkaChecks} from './kafka.ts'
import {consumerNetworkChecks} from './consumer-network.ts'
import {fleetDoctorChecks} from './fleet.ts'

import type {ProbeOptions, ProbeReport} from './probe.ts'

export type {Check, CheckStatus} from './check.ts'
export type {ProbeReport} from './probe.ts'

export type DoctorResult = BaseDoctorResult & {
  /** With --probe: what the probe message found (failures with AWS's error text, the Kafka half). */
  probe?: ProbeReport
}

const probeTitle = 'a probe message reaches the rule without an error (and Kafka, where reachable)'

/** Every check, in the registry's order of the steps they examine (the chain from the network to the rule). */
export const checkDefinitions: CheckDefinition[] = inRegistryOrder([...networkChecks, ...secretChecks, ...kafkaChecks, ...iotChecks, ...consumerNetworkChecks, ...fleetDoctorChecks])

function inRegistryOrder(checks: CheckDefinition[]): CheckDefinition[] {
  // Every optional part too: a check of one is left out by its `applies` when the settings do not ask for it.
  const order = upGraph({createCluster: true, fleet: true, consumerNetwork: true}).steps.map((s) => s.id)
  const position = (check: CheckDefinition) => {
    const index = order.indexOf(check.step)
    if (index < 0) throw new Error(`doctor check ${check.id} names step ${check.step}, which is not in the registry`)
    return index
  }
  // Stable: checks of one step keep the order their module lists them in.
  return [...checks].sort((a, b) => position(a) - position(b))
}

/**
 * Runs every check. `openContext` resolves both profiles; when that fails the
 * first check says why and the others are skipped (they need the accounts).
 */
export async function runDoctor(stack: string, openContext: () => Promise<StepContext>, options: {probe?: ProbeOptions} = {}): Promise<DoctorResult> {
  let ctx: StepContext
  try {
    ctx = await openContext()
  } catch (error) {
    const checks: Check[] = [{
      id: 'profiles', title: 'both AWS profiles resolve', status: 'fail', detail: (error as Error).message.split('\n')[0],
      hint: 'set iot.profile and msk.profile in iotctl.json (or --iot-profile/--msk-profile) to profiles with working credentials (aws sso login, role_arn)',
    }]
    for (const definition of checkDefinitions) checks.push({id: definition.id, title: definition.title, status: 'skip', detail: 'needs both profiles'})
    if (options.probe) {
      checks.push({id: 'kafka-acl', title: 'the rule\'s SCRAM user may write the rule\'s Kafka topic', status: 'skip', detail: 'needs both profiles'})
      checks.push({id: 'probe', title: probeTitle, status: 'skip', detail: 'needs both profiles'})
    }
    return {stack, healthy: false, checks}
  }
  const checks: Check[] = [profilesCheck(ctx)]
  const registry = await readRegistry(ctx)
  for (const definition of checkDefinitions) {
    if (definition.applies && !definition.applies(ctx.settings)) continue
    let verdict: Verdict
    try {
      ctx.checkpoint()
      verdict = await definition.run(ctx, registry)
    } catch (error) {
      if (error instanceof CheckFailed || (error as Error).name === 'Interrupted') throw error
      verdict = fail(`could not check: ${(error as Error).message.split('\n')[0]}`, 'check the profiles\' permissions and run again (DEBUG=1 shows details)')
    }
    checks.push({id: definition.id, title: definition.title, ...verdict})
  }
  let probe: ProbeReport | undefined
  if (options.probe) {
    // Where the brokers are reachable: may the rule's user write its topic (Kafka ACLs)?
    const {checkKafkaAcls, kafkaAclTitle} = await import('./kafka-acl.ts')
    ctx.checkpoint()
    checks.push({id: 'kafka-acl', title: kafkaAclTitle, ...await checkKafkaAcls(ctx, options.probe)})
    const {runProbe} = await import('./probe.ts')
    let verdict: Verdict
    try {
      ctx.checkpoint()
      const outcome = await runProbe(ctx, options.probe)
      verdict = outcome.verdict
      probe = outcome.report
    } catch (error) {
      if (error instanceof CheckFailed || (error as Error).name === 'Interrupted') throw error
      verdict = fail(`could not probe: ${(error as Error).message.split('\n')[0]}`, 'check the IoT profile\'s permissions (iot:Connect, iot:Publish, iot:Subscribe, iot:Receive) and run again')
    }
    checks.push({id: 'probe', title: probeTitle, ...verdict})
  }
  return {stack: ctx.stack, healthy: checks.every((c) => c.status !== 'fail'), checks, ...(probe ? {probe} : {})}
}

function profilesCheck(ctx: StepContext): Check {
  const {iot, msk} = ctx.identities
  const base = {id: 'profiles', title: 'both AWS profiles resolve, to different accounts'}
  const detail = `IoT account ${iot.accountId} (${ctx.accounts.iot.label}), MSK account ${msk.accountId} (${ctx.accounts.msk.label})`
  if (iot.accountId === msk.accountId) {
    return {...base, ...warn(`${detail}: the same account`, 'fine for a same-account setup; otherwise set iot.profile and msk.profile to the two accounts\' profiles')}
  }
  return {...base, ...pass(detail)}
}
