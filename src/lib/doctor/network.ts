// Doctor checks of step 4: non-overlapping VPCs, the peering, routes both
// ways, and the brokers' ingress from the IoT VPC.
import {firstOverlap} from '../peering/cidr.ts'
import {describeLink} from '../peering/index.ts'
import {describeVpc} from '../peering/network.ts'
import {fail, pass, type CheckDefinition} from './check.ts'
import type {Registry} from './registry.ts'

const peerSetup = 'run `iotctl peer setup` (or `iotctl up`)'

/** A check that is exactly a registry step's read: pass when nothing is missing or broken. */
export function stepCheck(id: string, title: string, hint: string): CheckDefinition {
  return {
    id,
    step: id,
    title,
    async run(_ctx, registry: Registry) {
      const problem = registry.problems.get(id)
      if (problem) return fail(problem, hint)
      const observed = registry.observed.get(id)
      if (!observed) return fail('not read', hint)
      const broken = (observed.findings ?? []).filter((f) => f.kind === 'broken')
      if (observed.missing.length > 0 || broken.length > 0) return fail([...observed.missing.map((m) => `missing: ${m}`), ...broken.map((f) => f.text)].join('; '), broken.find((f) => f.fix)?.fix ?? hint)
      return pass(observed.resources.filter((r) => r.step === id).map(describeLink).join('; ') || 'in place')
    },
  }
}

export const networkChecks: CheckDefinition[] = [
  {
    id: 'cidrs',
    step: 'peering',
    title: 'the two VPCs\' CIDR blocks do not overlap',
    async run(ctx) {
      const iotVpc = ctx.settings.iot?.vpcId
      const mskVpc = ctx.settings.msk?.vpcId
      if (!iotVpc || !mskVpc) return fail('iot.vpcId or msk.vpcId is not set', 'run `iotctl init`, or set iot.vpcId and msk.vpcId in iotctl.json')
      const [iot, msk] = [
        await describeVpc(ctx.accounts.iot, ctx.identities.iot.accountId, iotVpc, 'iot.vpcId'),
        await describeVpc(ctx.accounts.msk, ctx.identities.msk.accountId, mskVpc, 'msk.vpcId'),
      ]
      const overlap = firstOverlap(iot.cidrs, msk.cidrs)
      if (overlap) return fail(`${iotVpc} ${overlap[0]} overlaps ${mskVpc} ${overlap[1]}`, 'peered VPCs need non-overlapping CIDR blocks: use another IoT VPC (or add a non-overlapping one)')
      return pass(`${iotVpc} ${iot.cidrs.join(', ')} and ${mskVpc} ${msk.cidrs.join(', ')}`)
    },
  },
  stepCheck('peering', 'the VPC peering is active', peerSetup),
  stepCheck('routes:iot', 'routes from the IoT VPC to the MSK VPC go through the peering', `${peerSetup} to add the route`),
  stepCheck('routes:msk', 'routes from the MSK VPC to the IoT VPC go through the peering', `${peerSetup} to add the route`),
  stepCheck('sg-ingress', 'the brokers\' security group admits the IoT VPC on the broker port', `${peerSetup} to add the ingress rule`),
]
