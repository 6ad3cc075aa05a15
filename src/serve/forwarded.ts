import type { IncomingMessage } from 'node:http'
import { GuardError } from '../errors.js'
import type { GuardRequest } from '../intake/request.js'
import { isToken } from './names.js'

/** Longest original URI taken (nginx's default header line limit is 8 KiB). */
export const MAX_URI_LENGTH = 8192

// Visible ASCII only: a raw request target never holds anything else (RFC 9112 §3.2).
const VISIBLE = /^[\x21-\x7e]+$/
// What sends a path to the slow path: percent-encoding, dot segments, repeated slashes, backslashes.
const UNUSUAL = /%|\/\.|\/\/|\\|;/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

const badUri = (): GuardError => new GuardError('ERR_REQUEST_INVALID', 'Malformed forwarded URI', { reason: 'forwarded_uri' })

/**
 * The path a rule is matched against: decoded, repeated slashes merged, the
 * query dropped. Dot segments, encoded slashes and control characters are
 * refused rather than resolved: the upstream might resolve them otherwise than
 * we would, and a rule must see the path the upstream serves.
 */
export function normalizePath(uri: string): string | undefined {
  if (uri.length > MAX_URI_LENGTH || uri.charCodeAt(0) !== 47 || !VISIBLE.test(uri)) return undefined
  const end = uri.search(/[?#]/)
  const raw = end === -1 ? uri : uri.slice(0, end)
  if (!UNUSUAL.test(raw)) return raw
  const out: string[] = []
  for (const segment of raw.split('/')) {
    if (segment === '') continue
    let decoded: string
    try {
      decoded = decodeURIComponent(segment)
    } catch {
      return undefined
    }
    const name = decoded.split(';')[0]
    if (name === '.' || name === '..' || decoded.includes('/') || decoded.includes('\\') || CONTROL.test(decoded)) return undefined
    out.push(decoded)
  }
  return `/${out.join('/')}${raw.endsWith('/') && out.length > 0 ? '/' : ''}`
}

const single = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value.join(', ') : value)

/**
 * The nginx header or the Caddy/Traefik one. Both, differing, is a client's
 * header that a gateway passed through beside its own: refused, not guessed.
 */
function forwarded(original: string | string[] | undefined, xForwarded: string | string[] | undefined): string | undefined {
  const a = single(original)
  const b = single(xForwarded)
  if (a !== undefined && b !== undefined && a !== b)
    throw new GuardError('ERR_REQUEST_INVALID', 'Conflicting forwarded headers', { reason: 'forwarded_conflict' })
  return a || b || undefined
}

/**
 * The request the gateway asks about, as the guard reads it: the client's
 * headers (the token, cookies, a DPoP proof) with the original method and URI
 * that a trusted proxy forwarded. From any other peer the forwarded headers
 * are ignored and the request stands for itself.
 */
export class ForwardedRequest implements GuardRequest {
  readonly headers: IncomingMessage['headers']
  readonly rawHeaders: string[]
  readonly method: string
  /** The original path and query, as the client sent them. */
  readonly url: string
  readonly protocol: string
  /** `url`'s path, normalised for route matching. */
  readonly path: string

  /** Throws a 400 `GuardError` for a forwarded method or URI that cannot be a request's. */
  constructor(req: IncomingMessage, trusted: boolean) {
    const h = req.headers
    this.headers = h
    this.rawHeaders = req.rawHeaders
    const own = req.url ?? '/'
    let method = req.method ?? 'GET'
    let url = own
    let proto: string | undefined
    if (trusted) {
      method = forwarded(h['x-original-method'], h['x-forwarded-method']) ?? method
      // Envoy's ext_authz appends the original path to the service's: /verify/orders/1.
      url = forwarded(h['x-original-uri'], h['x-forwarded-uri']) ?? (own.startsWith('/verify/') ? own.slice(7) : own)
      proto = single(h['x-forwarded-proto'])
    }
    if (!isToken(method)) throw new GuardError('ERR_REQUEST_INVALID', 'Malformed forwarded method', { reason: 'forwarded_method' })
    const path = normalizePath(url)
    if (path === undefined) throw badUri()
    this.method = method
    this.url = url
    this.protocol = proto === 'https' ? 'https' : 'http'
    this.path = path
  }
}
