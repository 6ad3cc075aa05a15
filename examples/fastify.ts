// A Fastify 5 API guarded by jwtguard. In your app, import from 'jwtguard/fastify'.
import Fastify from 'fastify'
import { jwtGuard, requireRoles, requireScopes } from '../adapters/fastify.js'

// `issuer`: who signs the tokens (its keys are found by OIDC discovery); `audience`: this API's name in `aud`.
export async function start(options: {
  issuer: string
  audience: string | string[]
  port?: number
}): Promise<{ url: string; close(): Promise<void> }> {
  const app = Fastify()

  // The plugin guards every route of the app: a request needs `Authorization: Bearer <a valid token>`.
  await app.register(jwtGuard, { issuer: options.issuer, audience: options.audience })

  // `config: { auth: false }` makes a route public: the guard does not run for it.
  app.get('/health', { config: { auth: false } }, async () => ({ status: 'ok' }))

  // The guard put the verified token on request.auth: claims, scopes and roles.
  app.get('/me', async (request) => ({
    sub: request.auth?.payload.sub,
    scopes: request.auth?.scopes,
    roles: request.auth?.roles,
  }))

  // Per-route checks are preHandler hooks: 403 (insufficient_scope) when the token lacks what they ask for.
  app.get('/orders', { preHandler: requireScopes('orders:read') }, async () => [{ id: 1, item: 'coffee beans' }])
  app.post('/orders', { preHandler: requireScopes('orders:write') }, async (request, reply) => {
    reply.code(201)
    return { id: 2, createdBy: request.auth?.payload.sub }
  })
  app.get('/admin', { preHandler: requireRoles('admin') }, async () => ({ admin: true }))

  // No error handler: Fastify's default one sends the guard's 401 / 403 / 503 with WWW-Authenticate.
  const url = await app.listen({ port: options.port ?? 0, host: '127.0.0.1' })
  return {
    url,
    close: async () => {
      await app.close()
    },
  }
}
