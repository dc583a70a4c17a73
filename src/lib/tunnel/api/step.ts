// The `tunnels` step: the stack's OPEN tunnels, found by tag in the IoT
// account. `up` does not open tunnels (`tunnel open` and `tunnel ssh` do);
// cleanup closes them and removes their token files.
import {dirname} from 'node:path'
import {recordBase} from '../../plan/context.ts'
import {deleteEach} from '../../plan/delete.ts'
import type {FoundStep, ResourceRecord, StepContext} from '../../plan/types.ts'
import {closeTunnel, listTunnels, type TunnelInfo} from './api.ts'
import {removeTokenFile} from './token-file.ts'

export const TUNNELS_STEP = 'tunnels'
export const TUNNEL_KIND = 'iotsecuretunneling:tunnel'

export function tunnelRecord(base: Omit<ResourceRecord, 'step' | 'kind' | 'id'>, tunnel: {tunnelId: string; thingName?: string}): ResourceRecord {
  return {step: TUNNELS_STEP, kind: TUNNEL_KIND, id: tunnel.tunnelId, ...base, ...(tunnel.thingName ? {attrs: {thingName: tunnel.thingName}} : {})}
}

/** Token files sit in the `tunnels` folder beside the ledger. */
function stateDirectoryOf(ctx: StepContext): string {
  return dirname(ctx.ledger.path)
}

export const tunnelsStep: FoundStep = {
  id: TUNNELS_STEP,
  title: 'Secure tunnels opened for the stack',
  account: 'iot',
  async read(ctx) {
    const client = await ctx.accounts.iot.tunneling()
    ctx.progress('listing the stack\'s open tunnels')
    const open: TunnelInfo[] = await listTunnels(client, {stack: ctx.stack, openOnly: true})
    const base = recordBase(ctx, 'iot')
    return {resources: open.map((tunnel) => tunnelRecord(base, tunnel)), missing: []}
  },
  async delete(ctx, resources) {
    const client = await ctx.accounts.iot.tunneling()
    const stateDirectory = stateDirectoryOf(ctx)
    await deleteEach(ctx, resources, {what: (record) => `closing tunnel ${record.id}`}, async (record) => {
      ctx.progress(`closing tunnel ${record.id}`)
      await closeTunnel(client, record.id)
      removeTokenFile(stateDirectory, record.id)
    })
  },
}
