import type { Socket } from 'node:net'
import type { FastifyPluginAsync, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler, preHandlerAsyncHookHandler } from 'fastify'
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
  type GuardOptions,
  type RequireOptions,
} from '../src/index.js'
import { authenticateThen, RequestView, GUARD_KEY, resolveGuard, runCheck } from '../src/adapter.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the jwtguard plugin when the request carried a valid token. */
    auth?: AuthInfo
    /** The guard that served the request (`null` where none ran), for the route checks. */
    [GUARD_KEY]?: Guard<unknown> | null
  }
  interface FastifyContextConfig {
    /** `false` makes the route public: the guard does not run. */
    auth?: boolean
  }
  interface FastifyInstance {
    /**
     * The guard as an `onRequest` hook, for routes that opt in when the plugin
     * was registered with `global: false`: `{ onRequest: app.authenticate }`.
     */
    authenticate: onRequestHookHandler
  }
}

/** Where the plugin applies: every route (default), or only routes that list `app.authenticate`. */
interface Scope {
  /** `false`: guard no route by itself; routes opt in with `onRequest: app.authenticate` (unknown routes stay 404). Default `true`. */
  global?: boolean
}

/** Plugin options: guard options, `{ guard }` to share a guard, or nothing to read the environment; each with `global`. */
export type JwtGuardPluginOptions = (GuardOptions<DefaultClaims> & Scope) | ({ guard: Guard<unknown> } & Scope) | Scope

const plugin: FastifyPluginAsync<JwtGuardPluginOptions> = async (fastify, options) => {
  const { global = true, ...rest } = options as Scope & Record<string, unknown>
  if (typeof global !== 'boolean') throw new TypeError('jwtguard: Fastify plugin option "global" must be a boolean')
  const input =
    'guard' in rest
      ? (rest.guard as Guard<unknown>)
      : Object.keys(rest).length === 0
        ? undefined
        : (rest as unknown as GuardOptions<unknown>)
  const guard = resolveGuard(input) as Guard<unknown>
  // Declared up front, so every request object has the same shape whether the guard ran on it or not.
  fastify.decorateRequest('auth', undefined)
  fastify.decorateRequest(GUARD_KEY, null)
  const metadata = guard.protectedResource
  if (metadata) fastify.get(metadata.path, { config: { auth: false } }, async () => metadata.document)
  const authenticate: onRequestHookHandler = function jwtGuardAuthenticate(request, _reply, done) {
    request[GUARD_KEY] = guard
    const view = new RequestView(
      request,
      connectionOf,
      request.headers,
      request.raw.rawHeaders,
      request.method,
      request.url,
      undefined,
      bodyOf,
    )
    authenticateThen(guard, view, settle, request, done)
  }
  fastify.decorate('authenticate', authenticate)
  if (!global) return
  // Reading a route's config (`request.routeOptions`) builds and freezes an object per request on Fastify 4
  // (3–4 µs, more than a cache hit costs): it is read only once a route may say `auth: false`. Routes
  // registered after the plugin pass through `onRoute`; any registered before it cannot be seen, so then it is read always.
  let publicRoutes = metadata !== undefined || fastify.printRoutes() !== EMPTY_ROUTES
  fastify.addHook('onRoute', function jwtGuardPublicRoute(route) {
    if (route.config?.auth === false) publicRoutes = true
  })
  const hook: onRequestHookHandler = function jwtGuardHook(request, reply, done) {
    if (publicRoutes && request.routeOptions.config?.auth === false) return done()
    authenticate.call(this, request, reply, done)
  }
  if (!guard.settings.readsBody) return void fastify.addHook('onRequest', hook)
  // A form body is parsed after `onRequest`: a guard that reads one runs once it is (`preValidation`),
  // and without a form parser Fastify answers form posts 415 before the guard could say why: say so at start.
  fastify.addHook('preValidation', hook)
  fastify.addHook('onReady', function jwtGuardFormParser(done) {
    if (this.hasContentTypeParser('application/x-www-form-urlencoded')) return done()
    done(new Error(`jwtguard: tokenFrom reads a form body: register ${bodyOf.parser} before listening`))
  })
}

/** Attaches the answer and moves on: one function for every request, not a closure per request. */
function settle(err: unknown, auth: AuthInfo<unknown> | undefined, request: FastifyRequest, done: HookHandlerDoneFunction): void {
  if (err) return done(err as Error)
  if (auth) request.auth = auth as AuthInfo
  done()
}

/** What `printRoutes()` answers while no route is registered (find-my-way's wording; anything else counts as routes). */
const EMPTY_ROUTES = '(empty tree)'

/** The socket the request came on: read only for DPoP without `dpop.origin`, and for `mtls`. */
const connectionOf = (request: FastifyRequest): Socket => request.raw.socket

/**
 * The body `@fastify/formbody` parsed (read only for `tokenFrom: { body }`). Without that parser Fastify
 * itself answers a form post 415; an unparsed body here means the guard ran before parsing.
 */
const bodyOf = {
  read: (request: FastifyRequest): unknown => request.body,
  parser: '@fastify/formbody (and, with global: false, app.authenticate as a preValidation hook, after parsing)',
}

// What fastify-plugin would set: hooks apply to the whole app, not an encapsulated child.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'jwtguard',
  [Symbol.for('plugin-meta')]: { name: 'jwtguard', fastify: '4.x || 5.x' },
})

/** Fastify 4 / 5 plugin: `await app.register(jwtGuard, options)`; sets `request.auth`. */
export const jwtGuard = plugin
export default plugin

function hook(check: AuthCheck): preHandlerAsyncHookHandler {
  return async function jwtGuardCheck(request) {
    runCheck(check, request.auth, request[GUARD_KEY] ?? undefined)
  }
}

/** `preHandler`: 403 `insufficient_scope` unless the token grants the scopes. */
export const requireScopes = (scopes: string | readonly string[], options?: RequireOptions): preHandlerAsyncHookHandler =>
  hook(scopesCheck(scopes, options))
/** `preHandler`: 403 unless the token grants the roles. */
export const requireRoles = (roles: string | readonly string[], options?: RequireOptions): preHandlerAsyncHookHandler =>
  hook(rolesCheck(roles, options))
/** `preHandler`: 403 unless the claims satisfy the predicate or expected values. */
export const requireClaims = <C = DefaultClaims>(
  check: Parameters<typeof claimsCheck<C>>[0] | ClaimExpectations,
  options?: ClaimCheckOptions,
): preHandlerAsyncHookHandler => hook(claimsCheck(check, options))

export { createGuard, GuardError, type AuthInfo, type GuardOptions } from '../src/index.js'
