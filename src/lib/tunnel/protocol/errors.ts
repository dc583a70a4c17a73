// Typed errors of the tunnel proxy. Both are failures at AWS or on the network
// (exit 1); bad options are InputError (exit 2) from src/lib/errors.ts.
import {AwsError} from '../../errors.ts'

const STEP = 'connect to the secure tunnel'

/**
 * The tunneling service answered the WebSocket handshake with a 4xx status: the
 * token is wrong, used up or for the other mode, or the tunnel is closed. The
 * guides say not to retry until the request changes.
 */
export class TunnelRejectedError extends AwsError {
  override name = 'TunnelRejectedError'
  readonly status: number
  /** The `channel-id` response header, for AWS Support. */
  readonly channelId: string | undefined
  constructor(status: number, message: string, channelId?: string) {
    super(STEP, `Http${status}`, message)
    this.status = status
    this.channelId = channelId
  }
}

/** The service and the proxy do not speak the same protocol (subprotocol, service ids). */
export class TunnelProtocolError extends AwsError {
  override name = 'TunnelProtocolError'
  constructor(code: string, message: string) {
    super(STEP, code, message)
  }
}

/** The service could not be reached (network errors, 5xx) within the allowed reconnect attempts. */
export class TunnelUnreachableError extends AwsError {
  override name = 'TunnelUnreachableError'
  /** The last HTTP status, if the service answered at all. */
  readonly status: number | undefined
  constructor(message: string, status?: number) {
    super(STEP, 'Unreachable', message)
    this.status = status
  }
}
