// The iotctl.json `iotctl init` writes for a network from createNetwork, and
// the empty accounts the whole-stack tests start from.
import {rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {LocalAws, Network} from './local-aws/index.ts'

/** `extra` adds top-level keys (e.g. `rule`). */
export function writeStackConfig(cwd: string, stack: string, network: Network, extra: Record<string, unknown> = {}): void {
  writeFileSync(join(cwd, 'iotctl.json'), JSON.stringify({
    stack,
    iot: {profile: 'iot', vpcId: network.iot.vpcId, subnetIds: network.iot.subnetIds, securityGroupIds: [network.iot.securityGroupId]},
    msk: {profile: 'msk', vpcId: network.msk.vpcId, subnetIds: network.msk.subnetIds, securityGroupId: network.msk.securityGroupId},
    ...extra,
  }, null, 2))
}

/** Empties the local AWS but for the user's network, writes its iotctl.json, forgets the ledger, and clears the request log. */
export async function emptyAccounts(aws: LocalAws, cwd: string, stack: string): Promise<Network> {
  await aws.reset()
  const network = await aws.createNetwork()
  rmSync(join(cwd, '.iotctl'), {recursive: true, force: true})
  writeStackConfig(cwd, stack, network)
  aws.resetLog()
  return network
}
