// Doctor checks of the network an MSK consumer needs (`msk consumer-network`),
// when msk.consumerNetwork is set: the rules on the cluster's group, and the way
// out that was chosen, zone by zone (each zone of the cluster needs its NAT
// gateway and routes, or a subnet of every endpoint).
import {consumerNetworkOf, type ConsumerNetworkMode} from '../msk/consumer-network.ts'
import type {ResourceRecord} from '../plan/types.ts'
import {fail, pass, type CheckDefinition} from './check.ts'

const fix = (via: string) => `run \`iotctl msk consumer-network --via ${via}\` (or \`iotctl up\` with msk.consumerNetwork set)`

function zoneDetail(via: ConsumerNetworkMode, resources: ResourceRecord[]): string {
  if (via === 'nat') {
    const nats = resources.filter((r) => r.kind === 'ec2:nat-gateway')
    return nats.map((nat) => `${nat.attrs?.zone}: ${nat.id} in ${nat.attrs?.subnetId}, routes from ${resources.filter((r) => r.kind === 'ec2:route' && r.attrs?.natGatewayId === nat.id).map((r) => r.attrs?.routeTableId).join(', ') || 'no table'}`).join('; ')
  }
  return resources.filter((r) => r.kind === 'ec2:vpc-endpoint').map((r) => `${r.attrs?.service.split('.').pop()} ${r.id} in ${r.attrs?.subnets}`).join('; ')
}

function consumerCheck(step: string, via: ConsumerNetworkMode | undefined, title: string): CheckDefinition {
  return {
    id: step,
    step,
    title,
    applies: (settings) => {
      const chosen = consumerNetworkOf(settings)
      return chosen !== undefined && (via === undefined || chosen.via === via)
    },
    async run(ctx, registry) {
      const hint = fix(consumerNetworkOf(ctx.settings)?.via ?? 'none')
      const problem = registry.problems.get(step)
      if (problem) return fail(problem, hint)
      const observed = registry.observed.get(step)
      if (!observed) return fail('not read', hint)
      const broken = (observed.findings ?? []).filter((f) => f.kind === 'broken')
      if (observed.missing.length > 0 || broken.length > 0) return fail([...observed.missing.map((m) => `missing: ${m}`), ...broken.map((f) => f.text)].join('; '), broken.find((f) => f.fix)?.fix ?? hint)
      if (via === undefined) return pass(`${observed.resources.length} rules on ${[...new Set(observed.resources.map((r) => r.attrs?.groupId))].join(', ')}`)
      return pass(zoneDetail(via, observed.resources))
    },
  }
}

export const consumerNetworkChecks: CheckDefinition[] = [
  consumerCheck('consumer-sg-rules', undefined, 'the MSK cluster\'s group admits its consumers on the broker port and lets 443 out'),
  consumerCheck('consumer-endpoints', 'endpoints', 'every zone of the cluster reaches STS, Secrets Manager and Lambda through interface endpoints with private DNS'),
  consumerCheck('consumer-nat', 'nat', 'every zone of the cluster routes 0.0.0.0/0 to a NAT gateway of its own zone'),
]
