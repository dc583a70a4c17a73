// The tunneling service fixture: TLS WebSocket relay, test CA, in-memory registry.
export {startTunnelRelay} from './relay.ts'
export type {
  ConnectionState, ConnectionStateChange, HandshakeRecord, RelayMode, RelayOptions, TunnelGrant, TunnelRelay, Violation,
} from './relay.ts'
export {createTunnelRegistry} from './registry.ts'
export type {OpenedTunnel, TunnelRegistry} from './registry.ts'
export {createTestCertificates} from './certs.ts'
export type {TestCertificates} from './certs.ts'
