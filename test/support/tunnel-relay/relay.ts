// A local stand-in for the AWS IoT secure-tunneling data plane: a WebSocket relay
// over TLS on 127.0.0.1 that speaks the documented protocol (V2/V3 guides of
// aws-samples/aws-iot-securetunneling-localproxy).
//
// What it does, as the guides describe the service:
// - handshake on /tunnel with `local-proxy-mode`, one access token (header
//   `access-token` or cookie `awsiot-tunnel-token`), optional `client-token`,
//   subprotocol aws.iot.securetunneling-3.0 / -2.0; 4xx for bad requests, tokens
//   and modes; an access token is used up by its first handshake unless the client
//   comes back with the same client token;
// - after the handshake, SERVICE_IDS with the tunnel's services;
// - relays frames between the source and the destination of the same tunnel,
//   WebSocket messages of at most 131076 bytes;
// - closes the connection of a client that breaks the rules (frames that do not
//   parse, payloads over 63 KiB, SERVICE_IDS/SESSION_RESET from a client,
//   STREAM_START from a destination, stream messages without a stream id, service
//   ids not of the tunnel (resets excepted: a reset of something unknown is
//   harmless), DATA for a service never started) and records why;
// - a new client of the same mode replaces the old one, and the remaining peer
//   gets STREAM_RESET for the streams that were active ("the tunnel peer is
//   replaced").
// Choices of this fixture where the guides say nothing: the peer also gets those
// resets when a client disconnects; a stream started while the other side is
// absent is answered with STREAM_RESET instead of waiting. It applies
// backpressure (pauses reading a client while the other one's buffer is full).
//
// Test hooks: failNextHandshakes, drop, inject/send, closeTunnel, state changes.
import {randomUUID} from 'node:crypto'
import {STATUS_CODES} from 'node:http'
import {createServer, type Server} from 'node:https'
import type {Duplex} from 'node:stream'
import type {WebSocket as WebSocketType} from 'ws'
import {FrameDecoder, encodeFrame} from '../../../src/lib/tunnel/protocol/framing.ts'
import {
  CLIENT_TOKEN_PATTERN, MAX_WEBSOCKET_MESSAGE, MessageType, SUBPROTOCOL_V2, SUBPROTOCOL_V3, messageTypeName,
  type TunnelMessage, type TunnelMessageInit,
} from '../../../src/lib/tunnel/protocol/message.ts'
import {createTestCertificates, type TestCertificates} from './certs.ts'
import {loadWsWithFastMask} from './ws-fast-mask.ts'

const {WebSocket, WebSocketServer} = loadWsWithFastMask()

export type RelayMode = 'source' | 'destination'
export type ConnectionState = 'CONNECTED' | 'DISCONNECTED'

/** What an access token grants: what the AWS stand-in's tunnel registry returns. */
export interface TunnelGrant {
  tunnelId: string
  mode: RelayMode
  /** DestinationConfig.services of OpenTunnel (may be empty). */
  services: string[]
}

export interface ConnectionStateChange {
  tunnelId: string
  mode: RelayMode
  state: ConnectionState
  clientToken?: string
  protocol?: string
}

export interface RelayOptions {
  authorize: (token: string) => TunnelGrant | undefined | Promise<TunnelGrant | undefined>
  /** Subprotocol versions accepted, in the relay's order of preference (default ['3.0', '2.0']). */
  protocols?: ('3.0' | '2.0')[]
  onConnectionState?: (change: ConnectionStateChange) => void
  /** Every valid message a client sends, before it is relayed (for tests that check what a proxy said). */
  onMessage?: (event: {tunnelId: string; mode: RelayMode; message: TunnelMessage}) => void
  /** Default: a fresh test CA and certificate, removed by close(). */
  certificates?: TestCertificates
  host?: string
  port?: number
  /** Bytes buffered towards one client above which the other one is not read (default 1 MiB). */
  highWaterMark?: number
}

export interface HandshakeRecord {
  status: number
  mode?: string
  tunnelId?: string
  protocol?: string
  clientToken?: string
  reason?: string
}

export interface Violation {
  tunnelId: string
  mode: RelayMode
  reason: string
}

export interface TunnelRelay {
  /** `wss://127.0.0.1:<port>`: the proxies' `endpoint`. */
  url: string
  port: number
  /** The test CA (PEM) and its file. */
  ca: string
  caFile: string
  handshakes: HandshakeRecord[]
  violations: Violation[]
  state(tunnelId: string): Record<RelayMode, ConnectionState>
  waitForState(tunnelId: string, mode: RelayMode, state: ConnectionState): Promise<void>
  /** The next `count` handshakes get `status` (default 503). */
  failNextHandshakes(count: number, status?: number): void
  /** Cuts a client's connection without a close frame, like a network failure. */
  drop(tunnelId: string, mode?: RelayMode): void
  /** Sends raw bytes to a client as one binary WebSocket message. */
  inject(tunnelId: string, mode: RelayMode, bytes: Uint8Array): void
  /** Sends one framed message to a client. */
  send(tunnelId: string, mode: RelayMode, message: TunnelMessageInit): void
  /** Disconnects both sides (CloseTunnel); later handshakes depend on `authorize`. */
  closeTunnel(tunnelId: string): void
  close(): Promise<void>
}

interface RelayClient {
  ws: WebSocketType
  socket: Duplex
  mode: RelayMode
  tunnel: TunnelState
  protocol: string
  clientToken: string | undefined
  decoder: FrameDecoder
  /** Set when replaced or cut: its close must not touch the tunnel's state. */
  detached: boolean
  /** Clients whose reading is paused until this client's socket drains. */
  blockedSenders: Set<RelayClient>
  paused: boolean
}

interface TunnelState {
  id: string
  services: string[]
  clients: Partial<Record<RelayMode, RelayClient>>
  /** The client token each mode's access token was first used with (null: none, token used up). */
  used: Partial<Record<RelayMode, string | null>>
  /** serviceId -> stream id, as started by the source. */
  activeStreams: Map<string, number>
  startedServices: Set<string>
  /** Streams answered with a reset while the peer was absent. */
  aloneResets: Set<string>
}

const OTHER: Record<RelayMode, RelayMode> = {source: 'destination', destination: 'source'}
const SUBPROTOCOLS: Record<'3.0' | '2.0', string> = {'3.0': SUBPROTOCOL_V3, '2.0': SUBPROTOCOL_V2}
const MAX_REQUEST_BYTES = 4096

export async function startTunnelRelay(options: RelayOptions): Promise<TunnelRelay> {
  const ownCertificates = !options.certificates
  const certificates = options.certificates ?? createTestCertificates()
  const accepted = (options.protocols ?? ['3.0', '2.0']).map(version => SUBPROTOCOLS[version])
  const highWaterMark = options.highWaterMark ?? 1024 * 1024
  const tunnels = new Map<string, TunnelState>()
  const handshakes: HandshakeRecord[] = []
  const violations: Violation[] = []
  const waiters = new Set<{tunnelId: string; mode: RelayMode; state: ConnectionState; resolve: () => void}>()
  const sockets = new Set<Duplex>()
  let failNext = {count: 0, status: 503}

  const server: Server = createServer({key: certificates.key, cert: certificates.cert}, (_request, response) => {
    response.writeHead(404, {'content-type': 'text/plain'}).end('the tunnel endpoint is /tunnel (WebSocket)\n')
  })
  server.on('connection', socket => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.on('secureConnection', socket => socket.setNoDelay(true))
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: MAX_WEBSOCKET_MESSAGE,
    skipUTF8Validation: true,
    handleProtocols: offered => accepted.find(protocol => offered.has(protocol)) ?? false,
  })
  wss.on('headers', headers => headers.push(`channel-id: ${randomUUID()}`))

  function tunnelState(grant: TunnelGrant): TunnelState {
    let tunnel = tunnels.get(grant.tunnelId)
    if (!tunnel) {
      tunnel = {
        id: grant.tunnelId, services: [...grant.services], clients: {}, used: {},
        activeStreams: new Map(), startedServices: new Set(), aloneResets: new Set(),
      }
      tunnels.set(grant.tunnelId, tunnel)
    }
    return tunnel
  }

  function stateOf(tunnelId: string, mode: RelayMode): ConnectionState {
    return tunnels.get(tunnelId)?.clients[mode] ? 'CONNECTED' : 'DISCONNECTED'
  }

  function changed(tunnel: TunnelState, client: RelayClient, state: ConnectionState): void {
    const change: ConnectionStateChange = {tunnelId: tunnel.id, mode: client.mode, state, protocol: client.protocol}
    if (client.clientToken) change.clientToken = client.clientToken
    options.onConnectionState?.(change)
    for (const waiter of [...waiters]) {
      if (waiter.tunnelId === tunnel.id && waiter.mode === client.mode && waiter.state === state) {
        waiters.delete(waiter)
        waiter.resolve()
      }
    }
  }

  function sendFrames(client: RelayClient | undefined, message: TunnelMessageInit): void {
    if (client?.ws.readyState === WebSocket.OPEN) client.ws.send(encodeFrame(message))
  }

  /** The streams the leaving client took part in are over for the peer. */
  function resetPeerStreams(tunnel: TunnelState, leaving: RelayClient): void {
    const peer = tunnel.clients[OTHER[leaving.mode]]
    for (const [serviceId, streamId] of tunnel.activeStreams) sendFrames(peer, {type: MessageType.STREAM_RESET, streamId, serviceId})
    tunnel.activeStreams.clear()
    for (const sender of leaving.blockedSenders) resume(sender)
    leaving.blockedSenders.clear()
  }

  function resume(client: RelayClient): void {
    if (!client.paused) return
    client.paused = false
    client.ws.resume()
  }

  function violation(client: RelayClient, reason: string): void {
    violations.push({tunnelId: client.tunnel.id, mode: client.mode, reason})
    client.ws.close(1008, reason.slice(0, 120))
  }

  function onMessage(client: RelayClient, data: Buffer, isBinary: boolean): void {
    if (client.detached) return
    if (!isBinary) return violation(client, 'text WebSocket message')
    const {tunnel, mode} = client
    const peer = tunnel.clients[OTHER[mode]]
    const alignedBefore = client.decoder.pendingBytes === 0
    const frames = client.decoder.push(data)
    const alignedAfter = client.decoder.pendingBytes === 0
    const forward: Buffer[] = []
    let forwardedAll = true
    for (const frame of frames) {
      if (!frame.message) return violation(client, `frame does not parse: ${frame.error.message}`)
      const message = frame.message
      const type = messageTypeName(message.type)
      if (frame.problem) return violation(client, `${type}: ${frame.problem}`)
      if (message.type === MessageType.SERVICE_IDS || message.type === MessageType.SESSION_RESET) return violation(client, `${type} sent by a client`)
      if (mode === 'destination' && (message.type === MessageType.STREAM_START || message.type === MessageType.CONNECTION_START)) {
        return violation(client, `${type} sent by a destination`)
      }
      const isReset = message.type === MessageType.STREAM_RESET || message.type === MessageType.CONNECTION_RESET
      if (message.serviceId && !isReset && tunnel.services.length > 0 && !tunnel.services.includes(message.serviceId)) {
        return violation(client, `${type} for service ${message.serviceId}, not one of the tunnel's`)
      }
      options.onMessage?.({tunnelId: tunnel.id, mode, message})
      if (message.type === MessageType.STREAM_START) {
        tunnel.activeStreams.set(message.serviceId, message.streamId)
        tunnel.startedServices.add(message.serviceId)
      } else if (message.type === MessageType.DATA && !tunnel.startedServices.has(message.serviceId)) {
        return violation(client, `DATA for service ${JSON.stringify(message.serviceId)} before any STREAM_START`)
      } else if (message.type === MessageType.STREAM_RESET && tunnel.activeStreams.get(message.serviceId) === message.streamId) {
        tunnel.activeStreams.delete(message.serviceId)
      }
      if (peer) {
        forward.push(frame.bytes)
        continue
      }
      forwardedAll = false
      const starts = message.type === MessageType.STREAM_START || message.type === MessageType.CONNECTION_START || message.type === MessageType.DATA
      const key = `${message.serviceId}/${message.streamId}`
      if (starts && !tunnel.aloneResets.has(key)) {
        tunnel.aloneResets.add(key)
        tunnel.activeStreams.delete(message.serviceId)
        sendFrames(client, {type: MessageType.STREAM_RESET, streamId: message.streamId, serviceId: message.serviceId})
      }
    }
    if (!peer || forward.length === 0 || peer.ws.readyState !== WebSocket.OPEN) return
    // The common case (whole frames in, all forwarded) relays the message as it came.
    peer.ws.send(forwardedAll && alignedBefore && alignedAfter ? data : Buffer.concat(forward))
    if (peer.ws.bufferedAmount > highWaterMark && !client.paused) {
      client.paused = true
      client.ws.pause()
      peer.blockedSenders.add(client)
    }
  }

  function attach(ws: WebSocketType, socket: Duplex, tunnel: TunnelState, mode: RelayMode, clientToken: string | undefined): void {
    const previous = tunnel.clients[mode]
    if (previous) {
      previous.detached = true
      resetPeerStreams(tunnel, previous)
      previous.ws.terminate()
      changed(tunnel, previous, 'DISCONNECTED')
    }
    const client: RelayClient = {
      ws, socket, mode, tunnel, protocol: ws.protocol, clientToken, decoder: new FrameDecoder(),
      detached: false, blockedSenders: new Set(), paused: false,
    }
    tunnel.clients[mode] = client
    tunnel.aloneResets.clear()
    socket.on('drain', () => {
      if (client.ws.bufferedAmount > highWaterMark / 4) return
      for (const sender of client.blockedSenders) resume(sender)
      client.blockedSenders.clear()
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => onMessage(client, data, isBinary))
    ws.on('error', () => {})
    ws.on('close', () => {
      if (client.detached) return
      client.detached = true
      if (tunnel.clients[mode] === client) delete tunnel.clients[mode]
      resetPeerStreams(tunnel, client)
      const peer = tunnel.clients[OTHER[mode]]
      if (peer) {
        peer.blockedSenders.delete(client)
        resume(peer)
      }
      changed(tunnel, client, 'DISCONNECTED')
    })
    changed(tunnel, client, 'CONNECTED')
    // "After this, the Secure Tunneling service will send back control message SERVICE_IDS."
    sendFrames(client, {type: MessageType.SERVICE_IDS, availableServiceIds: tunnel.services})
  }

  function reject(socket: Duplex, status: number, reason: string, record: HandshakeRecord): void {
    record.status = status
    record.reason = reason
    const body = `${reason}\n`
    socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nconnection: close\r\nchannel-id: ${randomUUID()}\r\n` +
      `content-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`)
  }

  server.on('upgrade', (request, socket, head) => {
    const record: HandshakeRecord = {status: 0}
    handshakes.push(record)
    socket.on('error', () => {})
    void (async () => {
      if (failNext.count > 0) {
        failNext.count--
        return reject(socket, failNext.status, 'injected failure', record)
      }
      const url = new URL(request.url ?? '/', 'https://relay')
      if (url.pathname !== '/tunnel') return reject(socket, 400, 'the path must be /tunnel', record)
      const mode = url.searchParams.get('local-proxy-mode')
      record.mode = mode ?? undefined
      if (mode !== 'source' && mode !== 'destination') return reject(socket, 400, 'local-proxy-mode must be source or destination', record)
      const requestBytes = request.rawHeaders.reduce((sum, part) => sum + part.length + 2, (request.url ?? '').length + 16)
      if (requestBytes > MAX_REQUEST_BYTES) return reject(socket, 400, 'the handshake request exceeds 4k bytes', record)
      const tokens = [...(request.headersDistinct['access-token'] ?? [])]
      for (const cookie of request.headersDistinct.cookie ?? []) {
        for (const part of cookie.split(';')) {
          const [name, ...value] = part.trim().split('=')
          if (name === 'awsiot-tunnel-token') tokens.push(value.join('='))
        }
      }
      if (tokens.length === 0) return reject(socket, 401, 'no access token', record)
      if (tokens.length > 1) return reject(socket, 400, 'more than one access token', record)
      const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map(part => part.trim())
      const protocol = accepted.find(candidate => offered.includes(candidate))
      if (!protocol) return reject(socket, 400, `Sec-WebSocket-Protocol must offer ${accepted.join(' or ')}`, record)
      record.protocol = protocol
      const clientTokens = request.headersDistinct['client-token'] ?? []
      if (clientTokens.length > 1) return reject(socket, 400, 'more than one client token', record)
      const clientToken = clientTokens[0]
      record.clientToken = clientToken
      if (clientToken !== undefined && !CLIENT_TOKEN_PATTERN.test(clientToken)) return reject(socket, 400, 'client token must match ^[a-zA-Z0-9-]{32,128}$', record)
      const grant = await options.authorize(tokens[0])
      if (socket.destroyed) return
      if (!grant) return reject(socket, 401, 'invalid access token', record)
      record.tunnelId = grant.tunnelId
      if (grant.mode !== mode) return reject(socket, 400, `the access token is for ${grant.mode} mode`, record)
      const tunnel = tunnelState(grant)
      const used = tunnel.used[mode]
      if (used !== undefined && (used === null || used !== clientToken)) {
        return reject(socket, 401, 'the access token was already used (reconnect with the same client token)', record)
      }
      tunnel.used[mode] = clientToken ?? null
      record.status = 101
      wss.handleUpgrade(request, socket, head, ws => attach(ws, socket, tunnel, mode, clientToken))
    })().catch(error => {
      reject(socket, 500, `relay error: ${(error as Error).message}`, record)
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({host: options.host ?? '127.0.0.1', port: options.port ?? 0}, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const port = (server.address() as {port: number}).port

  function clientsOf(tunnelId: string, mode?: RelayMode): RelayClient[] {
    const tunnel = tunnels.get(tunnelId)
    if (!tunnel) return []
    const modes: RelayMode[] = mode ? [mode] : ['source', 'destination']
    return modes.flatMap(m => (tunnel.clients[m] ? [tunnel.clients[m]] : []))
  }

  return {
    url: `wss://127.0.0.1:${port}`,
    port,
    ca: certificates.ca,
    caFile: certificates.caFile,
    handshakes,
    violations,
    state: tunnelId => ({source: stateOf(tunnelId, 'source'), destination: stateOf(tunnelId, 'destination')}),
    waitForState: (tunnelId, mode, state) => new Promise<void>(resolve => {
      if (stateOf(tunnelId, mode) === state) return resolve()
      waiters.add({tunnelId, mode, state, resolve})
    }),
    failNextHandshakes(count, status = 503) {
      failNext = {count, status}
    },
    drop(tunnelId, mode) {
      for (const client of clientsOf(tunnelId, mode)) client.ws.terminate()
    },
    inject(tunnelId, mode, bytes) {
      for (const client of clientsOf(tunnelId, mode)) client.ws.send(bytes)
    },
    send(tunnelId, mode, message) {
      for (const client of clientsOf(tunnelId, mode)) sendFrames(client, message)
    },
    closeTunnel(tunnelId) {
      for (const client of clientsOf(tunnelId)) client.ws.close(1000, 'tunnel closed')
      const tunnel = tunnels.get(tunnelId)
      if (tunnel) tunnel.used = {source: null, destination: null}
    },
    async close() {
      for (const client of wss.clients) client.terminate()
      await new Promise<void>(resolve => wss.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
      if (ownCertificates) certificates.remove()
    },
  }
}
