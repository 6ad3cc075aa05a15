// The habits users bring from the peers: Fastify's `global: false` + `app.authenticate` (as with
// @fastify/jwt), and Express's JSON error rendering (`errorHandler()`) instead of an HTML page.
import type { AddressInfo } from 'node:net'
import { createRequire } from 'node:module'
import type Express from 'express'
import type { FastifyInstance } from 'fastify'
import fastify4 from 'fastify4'
import fastify5 from 'fastify5'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as expressAdapter from '../../adapters/express.js'
import * as fastifyAdapter from '../../adapters/fastify.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer?.close()
})

// express4/5 are npm aliases that ship no types: loaded as the CommonJS they are, typed by @types/express.
const require = createRequire(import.meta.url)
const express4 = require('express4') as typeof Express
const express5 = require('express5') as typeof Express
// Fastify 4 and 5 each ship their own types; the adapter is typed against fastify (5).
const newFastify = (create: unknown) => (create as () => FastifyInstance)()

const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

describe.each([
  ['fastify4', fastify4],
  ['fastify5', fastify5],
])('%s with { global: false }', (_name, create) => {
  let url: string
  let close: () => Promise<unknown>
  beforeAll(async () => {
    const app = newFastify(create)
    await app.register(fastifyAdapter.jwtGuard, { ...issuer.guardOptions(), global: false })
    app.get('/open', async (request) => ({ auth: request.auth ?? null }))
    app.get('/me', { onRequest: app.authenticate }, async (request) => ({ sub: request.auth?.payload.sub }))
    app.get('/orders', { onRequest: app.authenticate, preHandler: fastifyAdapter.requireScopes('orders:read') }, async () => ({ ok: true }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
    close = () => app.close()
  })
  afterAll(async () => {
    await close?.()
  })

  it('guards no route by itself: an unknown route is 404, an open route 200 without a token', async () => {
    expect((await fetch(`${url}/nowhere`)).status).toBe(404)
    const open = await fetch(`${url}/open`)
    expect(open.status).toBe(200)
    expect(await open.json()).toEqual({ auth: null })
  })

  it('guards the routes that list app.authenticate: 401 without a token, 200 with one, 403 without the scope', async () => {
    const none = await fetch(`${url}/me`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="api"')
    const ok = await fetch(`${url}/me`, { headers: bearer(await issuer.sign({ sub: 'alice' })) })
    expect(await ok.json()).toEqual({ sub: 'alice' })
    expect((await fetch(`${url}/orders`, { headers: bearer(await issuer.sign({ scope: 'profile' })) })).status).toBe(403)
    expect((await fetch(`${url}/orders`, { headers: bearer(await issuer.sign({ scope: 'orders:read' })) })).status).toBe(200)
  })

  it('refuses a "global" that is not a boolean when the plugin is registered', async () => {
    const app = newFastify(create)
    await expect(async () => {
      await app.register(fastifyAdapter.jwtGuard, { ...issuer.guardOptions(), global: 'no' as unknown as boolean })
      await app.ready()
    }).rejects.toThrow(/option "global" must be a boolean/)
    await app.close()
  })
})

describe.each([
  ['express4', express4],
  ['express5', express5],
])('%s with errorHandler()', (_name, create) => {
  let url: string
  let server: import('node:http').Server
  beforeAll(async () => {
    const app = create()
    app.set('env', 'production')
    app.get('/boom', () => {
      throw new Error('not a guard error')
    })
    app.use(expressAdapter.jwtGuard(issuer.guardOptions()))
    app.get('/orders', expressAdapter.requireScopes('orders:read'), (_req, res) => void res.json({ ok: true }))
    app.use(expressAdapter.errorHandler())
    server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
  })

  it('renders a missing token as JSON 401 with the bare challenge', async () => {
    const res = await fetch(`${url}/orders`)
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toMatch(/^application\/json/)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"')
    expect(await res.json()).toEqual({ error: 'unauthorized', error_description: 'Authentication required', code: 'ERR_JWT_MISSING' })
  })

  it('renders an invalid token and a missing scope as JSON with their challenges', async () => {
    const expired = await fetch(`${url}/orders`, { headers: bearer(await issuer.sign({ exp: Math.floor(Date.now() / 1000) - 60 })) })
    expect(expired.status).toBe(401)
    expect(expired.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token"/)
    expect(await expired.json()).toMatchObject({ error: 'invalid_token', code: 'ERR_JWT_EXPIRED' })
    const scope = await fetch(`${url}/orders`, { headers: bearer(await issuer.sign({ scope: 'profile' })) })
    expect(scope.status).toBe(403)
    expect(scope.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/)
    expect(await scope.json()).toMatchObject({ error: 'insufficient_scope', code: 'ERR_JWT_INSUFFICIENT_SCOPE' })
  })

  it('passes other errors on to the next error handler', async () => {
    const res = await fetch(`${url}/boom`)
    expect(res.status).toBe(500)
    expect(res.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await res.text()).not.toContain('not a guard error')
  })
})
