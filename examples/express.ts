// An Express 5 API guarded by jwtguard. In your app, import from 'jwtguard/express'.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import express from 'express'
import { jwtGuard, requireRoles, requireScopes } from '../adapters/express.js'

// `issuer`: who signs the tokens (its keys are found by OIDC discovery); `audience`: this API's name in `aud`.
export async function start(options: {
  issuer: string
  audience: string | string[]
  port?: number
}): Promise<{ url: string; close(): Promise<void> }> {
  const app = express()

  // Public routes go before the guard, so it never runs for them.
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' })
  })

  // From here on, a request needs `Authorization: Bearer <a valid token>`: otherwise 401.
  app.use(jwtGuard({ issuer: options.issuer, audience: options.audience }))

  // The guard put the verified token on req.auth: claims, scopes and roles.
  app.get('/me', (req, res) => {
    res.json({ sub: req.auth?.payload.sub, scopes: req.auth?.scopes, roles: req.auth?.roles })
  })

  // Per-route checks answer 403 (insufficient_scope) when the token lacks what they ask for.
  app.get('/orders', requireScopes('orders:read'), (_req, res) => {
    res.json([{ id: 1, item: 'coffee beans' }])
  })
  app.post('/orders', requireScopes('orders:write'), (req, res) => {
    res.status(201).json({ id: 2, createdBy: req.auth?.payload.sub })
  })
  app.get('/admin', requireRoles('admin'), (_req, res) => {
    res.json({ admin: true })
  })

  // No error handler: Express's default one sends the guard's 401 / 403 / 503 with WWW-Authenticate.
  const server = app.listen(options.port ?? 0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  }
}
