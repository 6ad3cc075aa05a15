import { callbackError, isThenable, promiseReturned } from '../callbacks.js'
import { GuardError } from '../errors.js'
import { readBody } from './body.js'

/** The framework-neutral request every adapter builds. Header names are lower-case. */
export interface GuardRequest {
  headers: Record<string, string | string[] | undefined>
  /** Node's `rawHeaders`, used to see a repeated `Authorization` that Node folds away. */
  rawHeaders?: string[] | undefined
  /** Parsed cookies, when the framework has them; otherwise the `cookie` header is read. */
  cookies?: Record<string, string | undefined> | undefined
  /** Parsed query, when the framework has it; otherwise `url` is parsed. */
  query?: Record<string, unknown> | undefined
  method?: string | undefined
  /** The request-target as received: origin-form, path and query (`/orders?x=1`). */
  url?: string | undefined
  /**
   * The connection the request came on, as the server's socket reports it (a
   * `net.Socket` or `tls.TLSSocket` fits): read only for DPoP without
   * `dpop.origin`, whose `htu` must then name the address the server listens on,
   * and for `mtls` (the client certificate, the peer's address).
   */
  connection?: RequestConnection | undefined
  /** The body the app's parser left (`tokenFrom: { body }` only): form fields, or `undefined` if none ran. */
  readonly body?: unknown
  /** The parser a form body needs in this framework, named in the 500 when none ran. */
  readonly bodyParser?: string | undefined
}

/** What the server itself knows of a connection: nothing in it comes from the client. */
export interface RequestConnection {
  readonly localAddress?: string | undefined
  readonly localPort?: number | undefined
  /** `true` on a TLS connection. */
  readonly encrypted?: boolean | undefined
  /** The peer's address, compared with `mtls.trustedProxies`. */
  readonly remoteAddress?: string | undefined
  /** A TLS socket's client certificate (`raw`: its DER), for `mtls`. */
  getPeerCertificate?(detailed: boolean): { raw?: Buffer } | null | undefined
}

/** Where a token is taken from. */
export type TokenSource =
  | 'header'
  | { cookie: string }
  | { query: string }
  /** RFC 6750 §2.2: a form-encoded body field, parsed by the app's own body parser. */
  | { body: string }
  | ((request: GuardRequest) => string | undefined)

/** A token found on a request, and how it was presented. */
export interface ExtractedToken {
  token: string
  /** `Bearer` or `DPoP`; `undefined` when the token did not come from `Authorization`. */
  scheme: 'Bearer' | 'DPoP' | undefined
  /**
   * `true` while the credentials' RFC 6750 character set has not been checked
   * (see `locateToken`): a token found in the verified-token cache needs no
   * check, any other must pass `checkTokenSyntax` before it is used.
   */
  unchecked?: boolean
}

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const AUTHORIZATION = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/

// RFC 9110 §7.2 / RFC 3986 §3.2.2: host (reg-name, IPv4address or IP-literal) and an optional port; nothing else.
const HOST = /^(?:(?:[A-Za-z0-9._~!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/
// RFC 9112 §3.2.1 origin-form: an absolute path (and query) in visible ASCII; not `*`, not absolute-form.
const ORIGIN_FORM = /^\/[\x21-\x7e]*$/

function invalidRequest(reason: string, description: string): GuardError {
  return new GuardError('ERR_REQUEST_INVALID', description, { reason })
}

/**
 * How many times a header was sent. Node keeps only the first `Authorization`
 * (and joins others), so the raw list is what tells a repeated one; `name` is lower-case.
 */
export function headerCount(request: GuardRequest, name: string): number {
  const raw = request.rawHeaders
  const value = request.headers[name]
  if (!raw) return Array.isArray(value) ? value.length : value === undefined ? 0 : 1
  let count = 0
  for (let i = 0; i < raw.length; i += 2) if (raw[i]!.length === name.length && raw[i]!.toLowerCase() === name) count++
  return count
}

/**
 * RFC 9112 §3.2: at most one `Host`, and a valid `host[:port]` (no path, query,
 * userinfo or whitespace). A 400 otherwise, before anything compares a URL.
 * An absent `Host` is left to the server (HTTP/1.0, HTTP/2's `:authority`).
 */
export function checkHost(request: GuardRequest): void {
  const host = request.headers.host
  if (host === undefined) return
  if (Array.isArray(host) || headerCount(request, 'host') > 1) throw invalidRequest('multiple_host', 'Multiple Host headers')
  if (typeof host !== 'string' || !HOST.test(host)) throw invalidRequest('host_syntax', 'Malformed Host header')
}

/**
 * The request's path and query, which must be origin-form (`/orders?x=1`):
 * an absolute-form target (`http://other/x`) or `*` names no path of this
 * server, so it is a 400 rather than something to build a URL from.
 */
export function originFormTarget(request: GuardRequest): string {
  const url = request.url ?? '/'
  if (!ORIGIN_FORM.test(url)) throw invalidRequest('request_target', 'Request target must be a path')
  return url
}

function fromAuthorization(request: GuardRequest, schemes: ReadonlySet<string>): ExtractedToken | undefined {
  const value = request.headers.authorization
  if (value === undefined) return undefined
  if (Array.isArray(value) || headerCount(request, 'authorization') > 1) {
    throw invalidRequest('multiple_authorization', 'Multiple Authorization headers')
  }
  const trimmed = value.trim()
  // The common shape, `<scheme> <credentials>` with a scheme this guard takes, without a regex over the
  // whole token; the credentials' characters are checked later, and only when the cache does not know them.
  const space = trimmed.indexOf(' ')
  const prefix = space > 0 ? trimmed.slice(0, space).toLowerCase() : ''
  if (schemes.has(prefix)) {
    let start = space + 1
    while (trimmed.charCodeAt(start) === 32) start++
    const credentials = trimmed.slice(start)
    if (credentials === '') throw invalidRequest('token_empty', 'Empty bearer token')
    return { token: credentials, scheme: prefix === 'dpop' ? 'DPoP' : 'Bearer', unchecked: true }
  }
  const match = AUTHORIZATION.exec(trimmed)
  if (!match) throw invalidRequest('authorization_syntax', 'Malformed Authorization header')
  const scheme = match[1]!.toLowerCase()
  // Another scheme (Basic, …) carries no bearer token: the request is simply unauthenticated.
  if (!schemes.has(scheme)) return undefined
  // A known scheme with nothing after it (`Bearer`).
  throw invalidRequest('token_empty', 'Empty bearer token')
}

/** RFC 6750 §2.1 `b64token`, for credentials `locateToken` left unchecked: the 400 a malformed header gets, if it does. */
export function tokenSyntaxError(found: ExtractedToken): GuardError | undefined {
  return found.unchecked && !B64TOKEN.test(found.token)
    ? invalidRequest('authorization_syntax', 'Malformed Authorization header')
    : undefined
}

/** Throws `tokenSyntaxError(found)`, if any. */
export function checkTokenSyntax(found: ExtractedToken): void {
  const error = tokenSyntaxError(found)
  if (error) throw error
}

function readCookie(request: GuardRequest, name: string): string | undefined {
  if (request.cookies) return request.cookies[name] || undefined
  const header = request.headers.cookie
  if (typeof header !== 'string') return undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    const value = part.slice(eq + 1).trim()
    try {
      return decodeURIComponent(value) || undefined
    } catch {
      return value || undefined
    }
  }
  return undefined
}

function readQuery(request: GuardRequest, name: string): string | undefined {
  let value: unknown
  if (request.query) value = request.query[name]
  else if (request.url) {
    const q = request.url.indexOf('?')
    if (q === -1) return undefined
    const all = new URLSearchParams(request.url.slice(q + 1)).getAll(name)
    value = all.length > 1 ? all : all[0]
  }
  if (Array.isArray(value)) throw invalidRequest('multiple_tokens', 'Token sent more than once')
  return typeof value === 'string' && value !== '' ? value : undefined
}

/**
 * A `tokenFrom` function's token. Its failure is the server's (500, see
 * `callbackError`), never the client's; a value that is not a string may come
 * from the request (a parsed body or query) and is refused as a malformed token.
 */
function fromFunction(source: (request: GuardRequest) => string | undefined, request: GuardRequest): ExtractedToken | undefined {
  let token: unknown
  try {
    token = source(request)
  } catch (err) {
    throw callbackError(err, 'tokenFrom')
  }
  if (isThenable(token)) throw promiseReturned(token, 'tokenFrom')
  return token ? { token: token as string, scheme: undefined } : undefined
}

/**
 * Finds the one token of a request. RFC 6750 §2: a client must not use more
 * than one method, so a token found in two places is a 400, not a guess.
 * Credentials from `Authorization` come back `unchecked`: run
 * `checkTokenSyntax` before using them (unless the cache vouches for them).
 */
export function locateToken(
  request: GuardRequest,
  sources: readonly TokenSource[],
  schemes: ReadonlySet<string>,
): ExtractedToken | undefined {
  let found: ExtractedToken | undefined
  for (const source of sources) {
    let next: ExtractedToken | undefined
    if (source === 'header') next = fromAuthorization(request, schemes)
    else if (typeof source === 'function') next = fromFunction(source, request)
    else {
      const token =
        'cookie' in source
          ? readCookie(request, source.cookie)
          : 'query' in source
            ? readQuery(request, source.query)
            : readBody(request, source.body)
      next = token ? { token, scheme: undefined } : undefined
    }
    if (!next) continue
    if (found) throw invalidRequest('multiple_tokens', 'Token sent more than once')
    found = next
  }
  return found
}
