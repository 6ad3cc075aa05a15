import type { Socket } from 'node:net'
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler } from 'express'
import {
  isGuardError,
  requireClaims as claimsCheck,
  requireRoles as rolesCheck,
  requireScopes as scopesCheck,
  type AuthCheck,
  type AuthInfo,
  type ClaimCheckOptions,
  type ClaimExpectations,
  type DefaultClaims,
  type Guard,
  type RequireOptions,
} from '../src/index.js'
import { authenticateThen, errorResponse, RequestView, GUARD_KEY, resolveGuard, runCheck, type GuardInput } from '../src/adapter.js'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `jwtGuard()` when the request carried a valid token. */
      auth?: AuthInfo
      [GUARD_KEY]?: Guard<unknown>
    }
  }
}

/**
 * Express 4 / 5 middleware: verifies the request's token and sets `req.auth`.
 * Failures go to `next(err)` as `http-errors` errors (401 / 400 / 503, with
 * `WWW-Authenticate`), which Express's default handler renders as they are.
 */
export function jwtGuard<C = DefaultClaims>(input?: GuardInput<C>): RequestHandler {
  const guard = resolveGuard(input) as Guard<unknown>
  const metadata = guard.protectedResource
  return function jwtGuardMiddleware(req, res, next) {
    if (metadata && req.path === metadata.path && (req.method === 'GET' || req.method === 'HEAD')) return void res.json(metadata.document)
    // The guard rides on `res.locals` (a null-prototype object Express makes per request), not on `req`:
    // every property added to an Express request costs microseconds (its prototype was swapped), and
    // `req.auth` is the one the contract needs.
    // An app that replaced `res.locals` with something that cannot take it (a primitive, a frozen object) gets `req`.
    const locals: unknown = res.locals
    if (typeof locals !== 'object' || locals === null || !Reflect.set(locals, GUARD_KEY, guard)) req[GUARD_KEY] = guard
    const request = new RequestView(
      req,
      connectionOf,
      req.headers,
      req.rawHeaders,
      req.method,
      req.originalUrl,
      req.cookies as Cookies,
      bodyOf,
    )
    authenticateThen(guard, request, settle, req, next)
  }
}

/** Attaches the answer and moves on: one function for every request, not a closure per request. */
function settle(err: unknown, auth: AuthInfo<unknown> | undefined, req: Request, next: NextFunction): void {
  if (err) return next(err)
  if (auth) req.auth = auth as AuthInfo
  next()
}

/** Where the guard is kept for the route checks (see `jwtGuardMiddleware`). */
type Locals = { [GUARD_KEY]?: Guard<unknown> }

type Cookies = Record<string, string | undefined> | undefined

/** The socket the request came on: read only for DPoP without `dpop.origin`, and for `mtls`. */
const connectionOf = (req: Request): Socket => req.socket

/**
 * The body `express.urlencoded()` parsed (read only for `tokenFrom: { body }`). Express 4's parsers
 * set `req.body = {}` on every request, parsed or not, and mark the ones they parsed with `_body`:
 * an empty object without the mark is no parsed body. Express 5's leave `req.body` undefined.
 */
const bodyOf = {
  read: (req: Request): unknown => {
    const body: unknown = req.body
    if ((req as { _body?: unknown })._body === true) return body
    return typeof body === 'object' && body !== null && Object.keys(body).length === 0 ? undefined : body
  },
  parser: 'express.urlencoded() (app.use(express.urlencoded({ extended: false })))',
}

function middleware(check: AuthCheck): RequestHandler {
  return function jwtGuardCheck(req, res, next) {
    try {
      runCheck(check, req.auth, (res.locals as Locals | undefined)?.[GUARD_KEY] ?? req[GUARD_KEY])
    } catch (err) {
      return next(err)
    }
    next()
  }
}

/** 403 `insufficient_scope` unless the token grants the scopes (all, or any with `{ mode: 'any' }`). */
export const requireScopes = (scopes: string | readonly string[], options?: RequireOptions): RequestHandler =>
  middleware(scopesCheck(scopes, options))
/** 403 unless the token grants the roles. */
export const requireRoles = (roles: string | readonly string[], options?: RequireOptions): RequestHandler =>
  middleware(rolesCheck(roles, options))
/** 403 unless the claims satisfy the predicate or expected values. */
export const requireClaims = <C = DefaultClaims>(
  check: Parameters<typeof claimsCheck<C>>[0] | ClaimExpectations,
  options?: ClaimCheckOptions,
): RequestHandler => middleware(claimsCheck(check, options))

/**
 * Renders guard errors as JSON (`{ error, error_description, code }`) with their
 * status and `WWW-Authenticate`, instead of Express's HTML error page. Other
 * errors pass on to the next error handler. Mount it after your routes:
 * `app.use(errorHandler())`.
 */
export function errorHandler(): ErrorRequestHandler {
  return function jwtGuardErrorHandler(err, _req, res, next) {
    if (!isGuardError(err) || res.headersSent) return next(err)
    const { status, headers, body } = errorResponse(err)
    res.status(status).set(headers).json(body)
  }
}

export { createGuard, GuardError, type AuthInfo, type GuardOptions } from '../src/index.js'
