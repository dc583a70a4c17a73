// Doctor checks of the network an MSK consumer needs (`msk consumer-network`),
// when msk.consumerNetwork is set: the rules on the cluster's group, and the way
// out that was chosen, zone by zone (each zone of the cluster needs its NAT
// gateway and routes, or a subnet of every endpoint).
import {consumerNetworkOf, type ConsumerNetworkMode} from '../msk/consumer-network.ts'
import type {ResourceRecord} from '../plan/types.ts'
import {pass, type CheckDefinition} from './check.ts'
import {stepCheck} from './network.ts'

const hint = 'run `iotctl msk consumer-network --via <the chosen way>` (or `iotctl up` with msk.consumerNetwork set)'

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
      // Missing or broken is what the step's read found (the same verdict as the network's checks); a pass says where, zone by zone.
      const verdict = await stepCheck(step, title, hint).run(ctx, registry)
      if (verdict.status !== 'pass') return verdict
      const resources = registry.observed.get(step)?.resources ?? []
      if (via === undefined) return pass(`${resources.length} rules on ${[...new Set(resources.map((r) => r.attrs?.groupId))].join(', ')}`)
      return pass(zoneDetail(via, resources))
    },
  }
}

export const consumerNetworkChecks: CheckDefinition[] = [
  consumerCheck('consumer-sg-rules', undefined, 'the MSK cluster\'s group admits its consumers on the broker port and lets 443 out'),
  consumerCheck('consumer-endpoints', 'endpoints', 'every zone of the cluster reaches STS, Secrets Manager and Lambda through interface endpoints with private DNS'),
  consumerCheck('consumer-nat', 'nat', 'every zone of the cluster routes 0.0.0.0/0 to a NAT gateway of its own zone'),
]
