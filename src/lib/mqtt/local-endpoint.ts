// Where the IoT data plane listens when it is not AWS's: the AWS SDKs'
// service-specific endpoint setting AWS_ENDPOINT_URL_<SERVICE> (AWS SDKs and
// Tools reference guide, "Service-specific endpoints"; IoT Data Plane's
// identifier is IOT_DATA_PLANE) names the port, and AWS_CA_BUNDLE (same guide,
// "ca_bundle") the CA that signs its certificate. The host still comes from
// --endpoint or DescribeEndpoint; the port is taken only when that URL's host
// is the same host, so against real AWS (no such variable, or another host)
// the ports stay 8883 (mutual TLS) and 443 (WebSocket). Pure.

export type Environment = Record<string, string | undefined>

export const dataPlaneEndpointVariable = 'AWS_ENDPOINT_URL_IOT_DATA_PLANE'
export const caBundleVariable = 'AWS_CA_BUNDLE'

/** The port of AWS_ENDPOINT_URL_IOT_DATA_PLANE when its host is `host`, else undefined. */
export function dataPlanePort(host: string, env: Environment = process.env): number | undefined {
  const text = env[dataPlaneEndpointVariable]
  if (!text) return undefined
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return undefined
  }
  const bare = (name: string) => name.replace(/^\[|\]$/g, '').toLowerCase()
  if (bare(url.hostname) !== bare(host)) return undefined
  if (url.port !== '') return Number(url.port)
  return url.protocol === 'https:' || url.protocol === 'wss:' ? 443 : undefined
}

/** --ca, else AWS_CA_BUNDLE when set, else undefined (Node's trust store, which has Amazon Root CA 1). */
export function caBundleOf(flag: string | undefined, env: Environment = process.env): string | undefined {
  return flag ?? (env[caBundleVariable] || undefined)
}

/** `host` or, when the data-plane setting names a port for it, `host:port` (the device's .endpoint file). */
export function endpointWithPort(host: string, env: Environment = process.env): string {
  const port = dataPlanePort(host, env)
  return port === undefined ? host : `${host.includes(':') ? `[${host}]` : host}:${port}`
}
