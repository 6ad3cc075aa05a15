import type { Socket } from 'node:net'
import type { Middleware, Next, ParameterizedContext } from 'koa'
import {
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
import { authenticateThen, RequestView, GUARD_KEY, resolveGuard, runCheck, type GuardInput } from '../src/adapter.js'

declare module 'koa' {
  interface DefaultState {
    /** Set by `jwtGuard()` when the request carried a valid token. */
    auth?: AuthInfo
    [GUARD_KEY]?: Guard<unknown>
  }
}

/** The state a guarded Koa app carries. */
export interface AuthState<C = DefaultClaims> {
  auth?: AuthInfo<C>
  [GUARD_KEY]?: Guard<unknown>
}

/**
 * Koa 2 / 3 middleware: verifies the request's token and sets `ctx.state.auth`.
 * Failures are thrown as `http-errors` errors, which Koa's `ctx.onerror`
 * renders with their status and `WWW-Authenticate` header.
 */
export function jwtGuard<C = DefaultClaims>(input?: GuardInput<C>): Middleware<AuthState<C>> {
  const guard = resolveGuard(input) as Guard<unknown>
  const metadata = guard.protectedResource
  return function jwtGuardMiddleware(ctx, next) {
    if (metadata && ctx.path === metadata.path && (ctx.method === 'GET' || ctx.method === 'HEAD')) {
      ctx.body = metadata.document
      return Promise.resolve()
    }
    ctx.state[GUARD_KEY] = guard
    // A refusal thrown synchronously (a cached answer) becomes a rejection in koa-compose, as from an async middleware.
    const { req } = ctx
    const request = new RequestView(ctx, connectionOf, req.headers, req.rawHeaders, req.method!, ctx.originalUrl, undefined, bodyOf)
    return authenticateThen(guard, request, settle, ctx, next)
  }
}

/** Attaches the answer and moves on: one function for every request, not a closure per request. */
function settle(
  err: unknown,
  auth: AuthInfo<unknown> | undefined,
  ctx: ParameterizedContext<AuthState<unknown>>,
  next: Next,
): Promise<unknown> {
  if (err) throw err
  if (auth) ctx.state.auth = auth
  return next()
}

/** The socket the request came on: read only for DPoP without `dpop.origin`, and for `mtls`. */
const connectionOf = (ctx: ParameterizedContext<unknown>): Socket => ctx.req.socket

/** The body `@koa/bodyparser` parsed, mounted before the guard (read only for `tokenFrom: { body }`). */
const bodyOf = {
  read: (ctx: ParameterizedContext<unknown>): unknown => (ctx.request as { body?: unknown }).body,
  parser: '@koa/bodyparser (app.use(bodyParser()))',
}

function middleware(check: AuthCheck): Middleware {
  return async function jwtGuardCheck(ctx, next) {
    runCheck(check, ctx.state.auth, ctx.state[GUARD_KEY])
    await next()
  }
}

/** 403 `insufficient_scope` unless the token grants the scopes (all, or any with `{ mode: 'any' }`). */
export const requireScopes = (scopes: string | readonly string[], options?: RequireOptions): Middleware =>
  middleware(scopesCheck(scopes, options))
/** 403 unless the token grants the roles. */
export const requireRoles = (roles: string | readonly string[], options?: RequireOptions): Middleware =>
  middleware(rolesCheck(roles, options))
/** 403 unless the claims satisfy the predicate or expected values. */
export const requireClaims = <C = DefaultClaims>(
  check: Parameters<typeof claimsCheck<C>>[0] | ClaimExpectations,
  options?: ClaimCheckOptions,
): Middleware => middleware(claimsCheck(check, options))

export { createGuard, GuardError, type AuthInfo, type GuardOptions } from '../src/index.js'
