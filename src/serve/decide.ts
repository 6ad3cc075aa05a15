import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { authenticateNow, isPending } from '../adapter-kit.js'
import { GuardError } from '../errors.js'
import type { AuthInfo } from '../types.js'
import type { ServeConfig } from './config.js'
import { ForwardedRequest } from './forwarded.js'
import { anonymousHeaders, identityHeaders } from './identity.js'
import type { Log } from './log.js'
import type { Metrics } from './metrics.js'
import { matchRoute, type Route } from './routes.js'

const LOGGED_PATH = 256

/**
 * The `/verify` handler of one configuration: may the forwarded request pass,
 * and who is it? Everything is built here once; a reload builds another.
 * A cached token is answered without a promise.
 */
export function createDecider(config: ServeConfig, metrics: Metrics, log: Log): (req: IncomingMessage, res: ServerResponse) => void {
  const { guard, routes, fallback, identity, trusts } = config
  // Trust is a property of the connection: decided once per socket (nginx keeps its connections alive).
  const trustedSockets = new WeakMap<Socket, boolean>()
  // Identity headers per verified payload (the cache hands out the same payload on every hit).
  const identities = new WeakMap<object, string[]>()
  const anonymous = anonymousHeaders(identity)

  const isTrusted = (socket: Socket): boolean => {
    let trusted = trustedSockets.get(socket)
    if (trusted === undefined) trustedSockets.set(socket, (trusted = trusts(socket.remoteAddress)))
    return trusted
  }

  const allow = (res: ServerResponse, started: number, auth: AuthInfo<unknown> | undefined): void => {
    let headers = anonymous
    if (auth) {
      metrics.verified()
      const payload = auth.payload as object
      headers = identities.get(payload) ?? anonymous
      if (headers === anonymous) {
        headers = identityHeaders(identity, auth, (omitted) => log({ level: 'warn', msg: 'identity_header_omitted', ...omitted }))
        identities.set(payload, headers)
      }
    }
    res.writeHead(200, headers).end()
    metrics.decided(200, undefined, (performance.now() - started) / 1000)
  }

  const refuse = (
    res: ServerResponse,
    started: number,
    err: unknown,
    route: Route | undefined,
    request: ForwardedRequest | undefined,
    auth?: AuthInfo<unknown>,
  ): void => {
    if (!(err instanceof GuardError)) return internalError(res, err, log)
    // Errors of the guard carry their challenge already (in the scheme of the request); the gateway's own get it here.
    const error = err.headers['WWW-Authenticate'] || err.status >= 500 ? err : guard.toHttpError(err)
    res
      .writeHead(error.status, { ...error.headers, 'content-type': 'application/json' })
      .end(JSON.stringify({ code: error.code, message: error.message }))
    metrics.decided(error.status, error.code, (performance.now() - started) / 1000)
    const issuer = (auth?.payload as { iss?: unknown } | undefined)?.iss
    log({
      level: 'info',
      msg: 'refused',
      status: error.status,
      code: error.code,
      reason: error.context.reason,
      route: route?.match ?? null,
      method: request?.method,
      path: request?.path.slice(0, LOGGED_PATH),
      issuer: typeof issuer === 'string' ? issuer : undefined,
    })
  }

  const grant = (
    res: ServerResponse,
    started: number,
    route: Route | undefined,
    request: ForwardedRequest,
    auth: AuthInfo<unknown> | undefined,
  ): void => {
    if (route)
      try {
        for (const check of route.checks) guard.check(check, auth as AuthInfo | undefined)
      } catch (err) {
        return refuse(res, started, err, route, request, auth)
      }
    allow(res, started, auth)
  }

  return (req, res) => {
    const started = performance.now()
    let request: ForwardedRequest
    try {
      request = new ForwardedRequest(req, isTrusted(req.socket))
    } catch (err) {
      return refuse(res, started, err, undefined, undefined)
    }
    const route = matchRoute(routes, request.method, request.path)
    if (route && !route.auth) return allow(res, started, undefined)
    if (!route && fallback === 'deny')
      return refuse(res, started, new GuardError('ERR_ROUTE_DENIED', 'Route not allowed', { reason: 'no_route' }), route, request)
    let result
    try {
      result = authenticateNow(guard, request)
    } catch (err) {
      return refuse(res, started, err, route, request)
    }
    if (!isPending(result)) return grant(res, started, route, request, result)
    result
      .then(
        (auth) => grant(res, started, route, request, auth),
        (err: unknown) => refuse(res, started, err, route, request),
      )
      .catch((err: unknown) => internalError(res, err, log))
  }
}

/** A fault of the service itself: 500, logged, never a stack to the client. */
export function internalError(res: ServerResponse, err: unknown, log: Log): void {
  log({ level: 'error', msg: 'internal_error', error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })
  if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' })
  res.end('{"code":"internal_error"}')
}
