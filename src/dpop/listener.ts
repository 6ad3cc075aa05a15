import { isIPv4, isIPv6 } from 'node:net'
import type { RequestConnection } from '../intake/request.js'

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']

/**
 * The origins of the address a connection reached, for DPoP without
 * `dpop.origin`: its local address and port, `https` when it is TLS. A
 * loopback listener is also reached as `localhost`, `127.0.0.1` and `[::1]`.
 * Empty when the socket does not say (closed, or no connection given).
 */
export function listenerOrigins(connection: RequestConnection | undefined): ReadonlySet<string> {
  const origins = new Set<string>()
  const address = connection?.localAddress
  const port = connection?.localPort
  if (typeof address !== 'string' || typeof port !== 'number') return origins
  // A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`.
  const ip = address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address
  const loopback = ip === '::1' || (isIPv4(ip) && ip.startsWith('127.'))
  const host = isIPv6(ip) ? `[${ip}]` : ip
  const scheme = connection?.encrypted === true ? 'https' : 'http'
  for (const name of loopback ? [host, ...LOOPBACK_NAMES] : [host]) {
    try {
      origins.add(new URL(`${scheme}://${name}:${port}`).origin)
    } catch {
      // An address a URL cannot carry (an IPv6 zone id): that name cannot match any `htu`.
    }
  }
  return origins
}
