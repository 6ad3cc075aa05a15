import type { Socket } from 'node:net'
import type { FastifyPluginAsync, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import {
  authenticateThen,
  RequestView,
  GUARD_KEY,
  requireClaims as claimsCheck,
  requireRoles as rolesCheck,
  requireScopes as scopesCheck,
  resolveGuard,
  runCheck,
  type AuthCheck,
  type AuthInfo,
  type ClaimExpectations,
  type DefaultClaims,
  type Guard,
  type GuardOptions,
  type RequireOptions,
} from '../src/index.js'

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the jwtguard plugin when the request carried a valid token. */
    auth?: AuthInfo
    [GUARD_KEY]?: Guard<unknown>
  }
  interface FastifyContextConfig {
    /** `false` makes the route public: the guard does not run. */
    auth?: boolean
  }
}

/** Plugin options: guard options, `{ guard }` to share a guard, or nothing to read the environment. */
export type JwtGuardPluginOptions = GuardOptions<unknown> | { guard: Guard<unknown> } | Record<string, never>

const plugin: FastifyPluginAsync<JwtGuardPluginOptions> = async (fastify, options) => {
  const input = 'guard' in options ? options.guard : Object.keys(options).length === 0 ? undefined : (options as GuardOptions<unknown>)
  const guard = resolveGuard(input) as Guard<unknown>
  fastify.decorateRequest('auth', undefined)
  const metadata = guard.protectedResource
  if (metadata) fastify.get(metadata.path, { config: { auth: false } }, async () => metadata.document)
  fastify.addHook('onRequest', (request, _reply, done) => {
    if (request.routeOptions.config?.auth === false) return done()
    request[GUARD_KEY] = guard
    const view = new RequestView(request, connectionOf, request.headers, request.raw.rawHeaders, request.method, request.url)
    authenticateThen(guard, view, (err, auth) => {
      if (err) return done(err as Error)
      if (auth) request.auth = auth as AuthInfo
      done()
    })
  })
}

/** The socket the request came on: read only for DPoP without `dpop.origin`. */
const connectionOf = (request: FastifyRequest): Socket => request.raw.socket

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
    runCheck(check, request.auth, request[GUARD_KEY])
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
): preHandlerAsyncHookHandler => hook(claimsCheck(check))

export { createGuard, GuardError, type AuthInfo, type GuardOptions } from '../src/index.js'
