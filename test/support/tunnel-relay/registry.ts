// A trivial in-memory tunnel registry for tests that do not need the AWS
// stand-in: OpenTunnel-like tokens and the relay's `authorize` callback.
import {randomBytes, randomUUID} from 'node:crypto'
import type {TunnelGrant} from './relay.ts'

export interface OpenedTunnel {
  tunnelId: string
  sourceAccessToken: string
  destinationAccessToken: string
  services: string[]
}

export interface TunnelRegistry {
  openTunnel(options?: {services?: string[]}): OpenedTunnel
  closeTunnel(tunnelId: string): void
  authorize(token: string): TunnelGrant | undefined
}

export function createTunnelRegistry(): TunnelRegistry {
  const grants = new Map<string, TunnelGrant>()
  return {
    openTunnel({services = []} = {}) {
      const tunnelId = randomUUID()
      const sourceAccessToken = randomBytes(48).toString('base64url')
      const destinationAccessToken = randomBytes(48).toString('base64url')
      grants.set(sourceAccessToken, {tunnelId, mode: 'source', services})
      grants.set(destinationAccessToken, {tunnelId, mode: 'destination', services})
      return {tunnelId, sourceAccessToken, destinationAccessToken, services}
    },
    closeTunnel(tunnelId) {
      for (const [token, grant] of grants) if (grant.tunnelId === tunnelId) grants.delete(token)
    },
    authorize(token) {
      return grants.get(token)
    },
  }
}
