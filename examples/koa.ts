// A Koa 3 API guarded by jwtguard, routed with @koa/router. In your app, import from 'jwtguard/koa'.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import Router from '@koa/router'
import { jwtGuard, requireRoles, requireScopes } from '../adapters/koa.js'

// `issuer`: who signs the tokens (its keys are found by OIDC discovery); `audience`: this API's name in `aud`.
export async function start(options: {
  issuer: string
  audience: string | string[]
  port?: number
}): Promise<{ url: string; close(): Promise<void> }> {
  const app = new Koa()

  // Public routes are mounted before the guard: a matched route answers and the guard never runs.
  const open = new Router()
  open.get('/health', (ctx) => {
    ctx.body = { status: 'ok' }
  })
  app.use(open.routes())

  // From here on, a request needs `Authorization: Bearer <a valid token>`: otherwise 401.
  app.use(jwtGuard({ issuer: options.issuer, audience: options.audience }))

  const api = new Router()
  // The guard put the verified token on ctx.state.auth: claims, scopes and roles.
  api.get('/me', (ctx) => {
    const { auth } = ctx.state
    ctx.body = { sub: auth?.payload.sub, scopes: auth?.scopes, roles: auth?.roles }
  })
  // Per-route checks answer 403 (insufficient_scope) when the token lacks what they ask for.
  api.get('/orders', requireScopes('orders:read'), (ctx) => {
    ctx.body = [{ id: 1, item: 'coffee beans' }]
  })
  api.post('/orders', requireScopes('orders:write'), (ctx) => {
    ctx.status = 201
    ctx.body = { id: 2, createdBy: ctx.state.auth?.payload.sub }
  })
  api.get('/admin', requireRoles('admin'), (ctx) => {
    ctx.body = { admin: true }
  })
  app.use(api.routes()).use(api.allowedMethods())

  // No error middleware: Koa's own ctx.onerror sends the guard's 401 / 403 / 503 with WWW-Authenticate.
  const server = app.listen(options.port ?? 0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  }
}
