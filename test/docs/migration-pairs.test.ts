// Each migration note of docs/migration.md shows a "before" (the peer) and an "after" (jwtguard). Both are run
// here, as the note writes them, in real servers against one test issuer: a valid token, no token and an expired
// token must get the same answers from both. (What differs on purpose is tested in migration-auth0.test.ts.)
import { createPublicKey } from 'node:crypto'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import fastifyJwt from '@fastify/jwt'
import Router from '@koa/router'
import express, { type Express } from 'express'
import { expressjwt } from 'express-jwt'
import { auth, requiredScopes } from 'express-oauth2-jwt-bearer'
import Fastify, { type FastifyInstance } from 'fastify'
import jwksRsa from 'jwks-rsa'
import Koa from 'koa'
import koaJwt from 'koa-jwt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtGuard as expressGuard, requireScopes } from '../../adapters/express.js'
import { jwtGuard as fastifyGuard } from '../../adapters/fastify.js'
import { jwtGuard as koaGuard } from '../../adapters/koa.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

let issuer: TestIssuer
const closers: (() => Promise<unknown>)[] = []

beforeAll(async () => {
  // Auth0's issuers end with a `/`, as the first note's example does.
  issuer = await createTestIssuer({ trailingSlash: true })
})
afterAll(async () => {
  await Promise.all(closers.map((close) => close()))
  await issuer?.close()
})

async function listenExpress(app: Express): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  closers.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function listenKoa(app: Koa): Promise<string> {
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s))
  })
  closers.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

async function listenFastify(app: FastifyInstance): Promise<string> {
  closers.push(() => app.close())
  return app.listen({ port: 0, host: '127.0.0.1' })
}

interface Answer {
  status: number
  body?: unknown
}

async function call(url: string, token?: string): Promise<Answer> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(20_000) })
  const text = await res.text()
  return res.status === 200 ? { status: 200, body: JSON.parse(text) } : { status: res.status }
}

/** The answers of one base URL + path to a valid token, no token and an expired token. */
async function answers(url: string): Promise<Record<'valid' | 'missing' | 'expired', Answer>> {
  const valid = await issuer.sign({ sub: 'migrating-user', scope: 'orders:read' })
  const expired = await issuer.sign({ sub: 'migrating-user', scope: 'orders:read' }, { expiresIn: -3600 })
  return { valid: await call(url, valid), missing: await call(url), expired: await call(url, expired) }
}

const expected = { valid: { status: 200, body: { sub: 'migrating-user' } }, missing: { status: 401 }, expired: { status: 401 } }
const audience = () => issuer.audience as string

describe('docs/migration.md: before and after answer alike', () => {
  it('express-oauth2-jwt-bearer → jwtguard/express', async () => {
    const handler: express.RequestHandler = (req, res) => void res.json({ sub: req.auth!.payload.sub })
    // before: `issuerBaseURL` is the issuer without Auth0's trailing slash
    const before = express()
    before.use(auth({ issuerBaseURL: issuer.issuer.replace(/\/$/, ''), audience: audience() }))
    before.get('/orders', requiredScopes('orders:read'), handler)
    // after
    const after = express()
    after.use(expressGuard({ issuer: issuer.issuer, audience: audience() }))
    after.get('/orders', requireScopes('orders:read'), handler)

    const theirs = await answers(`${await listenExpress(before)}/orders`)
    expect(theirs).toEqual(expected)
    expect(await answers(`${await listenExpress(after)}/orders`)).toEqual(theirs)
  }, 60_000)

  it('express-jwt and jwks-rsa → jwtguard/express', async () => {
    const health: express.RequestHandler = (req, res) => void res.json({ ok: true })
    // before
    const before = express()
    before.use(
      expressjwt({
        secret: jwksRsa.expressJwtSecret({ jwksUri: issuer.jwksUri, cache: true, rateLimit: true }) as never,
        issuer: issuer.issuer,
        audience: audience(),
        algorithms: ['RS256'],
      }).unless({ path: ['/health'] }),
    )
    before.get('/health', health)
    before.get('/me', (req, res) => void res.json({ sub: (req as unknown as { auth: { sub: string } }).auth.sub }))
    // after
    const after = express()
    after.get('/health', health)
    after.use(expressGuard({ issuer: issuer.issuer, audience: audience() }))
    after.get('/me', (req, res) => void res.json({ sub: req.auth!.payload.sub }))

    const [theirs, ours] = [await listenExpress(before), await listenExpress(after)]
    expect(await answers(`${theirs}/me`)).toEqual(expected)
    expect(await answers(`${ours}/me`)).toEqual(expected)
    for (const base of [theirs, ours]) expect(await call(`${base}/health`)).toEqual({ status: 200, body: { ok: true } })
  }, 60_000)

  it('koa-jwt and jwks-rsa → jwtguard/koa', async () => {
    const publicRouter = () => new Router().get('/public/ping', (ctx) => void (ctx.body = { ok: true }))
    // before
    const before = new Koa()
    before.use(
      koaJwt({
        secret: jwksRsa.koaJwtSecret({ jwksUri: issuer.jwksUri }),
        issuer: issuer.issuer,
        audience: audience(),
        algorithms: ['RS256'],
      }).unless({
        path: [/^\/public/],
      }),
    )
    before.use(publicRouter().routes())
    before.use((ctx) => void (ctx.body = { sub: (ctx.state.user as { sub: string }).sub }))
    // after
    const after = new Koa()
    after.use(publicRouter().routes())
    after.use(koaGuard({ issuer: issuer.issuer, audience: audience() }))
    after.use((ctx) => void (ctx.body = { sub: ctx.state.auth!.payload.sub }))

    const [theirs, ours] = [await listenKoa(before), await listenKoa(after)]
    expect(await answers(`${theirs}/me`)).toEqual(expected)
    expect(await answers(`${ours}/me`)).toEqual(expected)
    for (const base of [theirs, ours]) expect(await call(`${base}/public/ping`)).toEqual({ status: 200, body: { ok: true } })
  }, 60_000)

  it('@fastify/jwt → jwtguard/fastify', async () => {
    const rsa = issuer.jwks().keys.find((k) => k.alg === 'RS256')!
    const publicPem = createPublicKey({ key: rsa, format: 'jwk' }).export({ type: 'spki', format: 'pem' }) as string
    // before
    const before = Fastify()
    await before.register(fastifyJwt, { secret: { public: publicPem }, verify: { allowedIss: issuer.issuer, allowedAud: audience() } })
    before.addHook('onRequest', async (request) => {
      await request.jwtVerify()
    })
    before.get('/me', async (request) => ({ sub: (request.user as { sub: string }).sub }))
    // after
    const after = Fastify()
    await after.register(fastifyGuard, { issuer: issuer.issuer, audience: audience(), publicKey: publicPem })
    after.get('/me', async (request) => ({ sub: request.auth!.payload.sub }))

    expect(await answers(`${await listenFastify(before)}/me`)).toEqual(expected)
    expect(await answers(`${await listenFastify(after)}/me`)).toEqual(expected)
  }, 60_000)
})
