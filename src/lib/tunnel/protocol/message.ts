// The secure-tunneling message: one protobuf `Message` per tunnel frame.
//
// The schema is written here (not generated) from the public protocol guides of
// aws-samples/aws-iot-securetunneling-localproxy (V2WebSocketProtocolGuide.md,
// V3WebSocketProtocolGuide.md, resources/Message.proto) and compiled once, at
// module load, with protobufjs reflection.
import protobuf from 'protobufjs/light.js'

/** Message.Type values (proto3 enum, 0 is "not set" and never valid on the wire). */
export const MessageType = {
  UNKNOWN: 0,
  DATA: 1,
  STREAM_START: 2,
  STREAM_RESET: 3,
  SESSION_RESET: 4,
  SERVICE_IDS: 5,
  CONNECTION_START: 6,
  CONNECTION_RESET: 7,
} as const

export type MessageTypeName = keyof typeof MessageType

const typeNames = new Map<number, MessageTypeName>(
  Object.entries(MessageType).map(([name, value]) => [value, name as MessageTypeName]),
)

/** `DATA` -> `"DATA"`, unknown numbers -> `"TYPE_<n>"` (for logs and errors). */
export function messageTypeName(type: number): string {
  return typeNames.get(type) ?? `TYPE_${type}`
}

/**
 * Limits from the guides ("WebSocket Subprotocol" and "Tunneling message frames"):
 * a WebSocket message carries at most 131076 bytes in either direction, a frame's
 * length prefix is an unsigned 16-bit number, and a message's payload may not
 * exceed 63 KiB.
 */
export const MAX_WEBSOCKET_MESSAGE = 131076
export const MAX_FRAME_LENGTH = 0xffff
export const MAX_PAYLOAD = 64512
/** `services` of DestinationConfig: at most 3 ids (iot-secure-tunneling API reference). */
export const MAX_SERVICES = 3
/** Client tokens: `^[a-zA-Z0-9-]{32,128}$` (both guides, "client-token"). */
export const CLIENT_TOKEN_PATTERN = /^[a-zA-Z0-9-]{32,128}$/
/** Service ids in DestinationConfig.services: 1-128 of `[a-zA-Z0-9:_-]`. */
export const SERVICE_ID_PATTERN = /^[a-zA-Z0-9:_-]{1,128}$/

export const SUBPROTOCOL_V2 = 'aws.iot.securetunneling-2.0'
export const SUBPROTOCOL_V3 = 'aws.iot.securetunneling-3.0'

export interface TunnelMessage {
  type: number
  streamId: number
  ignorable: boolean
  payload: Uint8Array
  serviceId: string
  availableServiceIds: string[]
  connectionId: number
}

/** What a caller fills in; absent fields are proto3 defaults and are not written. */
export type TunnelMessageInit = Partial<TunnelMessage> & {type: number}

const schema = {
  nested: {
    com: {nested: {amazonaws: {nested: {iot: {nested: {securedtunneling: {nested: {
      Message: {
        fields: {
          type: {type: 'Type', id: 1},
          streamId: {type: 'int32', id: 2},
          ignorable: {type: 'bool', id: 3},
          payload: {type: 'bytes', id: 4},
          serviceId: {type: 'string', id: 5},
          availableServiceIds: {rule: 'repeated', type: 'string', id: 6},
          connectionId: {type: 'uint32', id: 7},
        },
        nested: {Type: {values: {...MessageType}}},
      },
    }}}}}}}},
  },
}

const MessageSchema = protobuf.Root.fromJSON(schema).lookupType('com.amazonaws.iot.securedtunneling.Message')

const EMPTY = new Uint8Array(0)

/** Drops proto3 defaults so that they are not written (and V1 peers see "no service id"). */
function wireFields(message: TunnelMessageInit): Record<string, unknown> {
  const fields: Record<string, unknown> = {type: message.type}
  if (message.streamId) fields.streamId = message.streamId
  if (message.ignorable) fields.ignorable = true
  if (message.payload && message.payload.length > 0) fields.payload = message.payload
  if (message.serviceId) fields.serviceId = message.serviceId
  if (message.availableServiceIds && message.availableServiceIds.length > 0) fields.availableServiceIds = message.availableServiceIds
  if (message.connectionId) fields.connectionId = message.connectionId
  return fields
}

/** The protobuf bytes of one message (no length prefix). */
export function encodeMessage(message: TunnelMessageInit): Uint8Array {
  return MessageSchema.encode(wireFields(message)).finish()
}

export class MessageDecodeError extends Error {
  override name = 'MessageDecodeError'
}

/**
 * Parses the protobuf bytes of one frame. Throws MessageDecodeError on bytes that
 * are not a valid encoding. `payload` is a view into `bytes`, not a copy.
 */
export function decodeMessage(bytes: Uint8Array): TunnelMessage {
  let decoded: Record<string, unknown>
  try {
    decoded = MessageSchema.decode(bytes)
  } catch (error) {
    throw new MessageDecodeError(`not a tunnel Message: ${(error as Error).message}`, {cause: error})
  }
  const streamId = decoded.streamId as number
  const connectionId = decoded.connectionId as number
  return {
    type: decoded.type as number,
    streamId,
    ignorable: decoded.ignorable as boolean,
    payload: (decoded.payload as Uint8Array | undefined) ?? EMPTY,
    serviceId: decoded.serviceId as string,
    availableServiceIds: decoded.availableServiceIds as string[],
    connectionId,
  }
}

/** Message types that belong to a stream and so need a non-zero stream id. */
const STREAM_TYPES = new Set<number>([
  MessageType.DATA, MessageType.STREAM_START, MessageType.STREAM_RESET,
  MessageType.CONNECTION_START, MessageType.CONNECTION_RESET,
])

export function isStreamMessage(type: number): boolean {
  return STREAM_TYPES.has(type)
}

/** What is wrong with a received message, or undefined if it is acceptable. */
export type MessageProblem = 'no-type' | 'no-stream-id' | 'payload-too-large' | 'unknown-type'

/**
 * Receiver-side checks from "Tunneling frames ... must satisfy the following rules":
 * a type must be set, stream messages need a stream id, payloads are at most 63 KiB.
 * Unknown types are a problem only when not marked ignorable ("Ignorable field").
 */
export function checkMessage(message: TunnelMessage): MessageProblem | undefined {
  if (message.type === MessageType.UNKNOWN) return 'no-type'
  if (!typeNames.has(message.type)) return message.ignorable ? undefined : 'unknown-type'
  if (isStreamMessage(message.type) && message.streamId === 0) return 'no-stream-id'
  if (message.payload.length > MAX_PAYLOAD) return 'payload-too-large'
  return undefined
}
