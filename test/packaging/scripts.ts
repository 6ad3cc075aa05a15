// Programs run inside the temp project that installed the packed tarball. Each prints one JSON line.
// They are strings, not files of this repo, because they import `jwtguard` by its package name.

/** ESM: the core's names, every subpath given in argv[2], and a real verification against a test issuer. */
export const esm = `
import { createGuard, GuardError, ERROR_CODES, requireScopes } from 'jwtguard'
import { createTestIssuer } from 'jwtguard/testing'

const loaded = {}
for (const subpath of JSON.parse(process.argv[2])) loaded[subpath] = Object.keys(await import('jwtguard' + subpath.slice(1))).sort()

const issuer = await createTestIssuer()
try {
  const guard = createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri })
  const auth = await guard.verify(await issuer.sign({ sub: 'esm-user', scope: 'read' }))
  const check = requireScopes('write')
  let denied
  try { check(auth) } catch (err) { denied = { isGuardError: err instanceof GuardError, code: err.code, status: err.status } }
  console.log(JSON.stringify({ sub: auth.payload.sub, scopes: auth.scopes, denied, expiredStatus: ERROR_CODES.ERR_JWT_EXPIRED, loaded }))
} finally {
  await issuer.close()
}
`

/** CommonJS: require() of the ESM package (Node >= 20.19), core and the Koa adapter. */
export const cjs = `
const { createGuard } = require('jwtguard')
const koa = require('jwtguard/koa')
const { createTestIssuer } = require('jwtguard/testing')

async function main() {
  const issuer = await createTestIssuer()
  try {
    const guard = createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri })
    const auth = await guard.verify(await issuer.sign({ sub: 'cjs-user' }))
    return { sub: auth.payload.sub, koa: Object.keys(koa).sort() }
  } finally {
    await issuer.close()
  }
}
main().then((out) => console.log(JSON.stringify(out)), (err) => { console.error(err); process.exitCode = 1 })
`

/** A Koa 3 app guarded by jwtguard/koa on 127.0.0.1: one request without a token, one with. */
export const koaApp = `
import Koa from 'koa'
import { jwtGuard } from 'jwtguard/koa'
import { createTestIssuer } from 'jwtguard/testing'

const issuer = await createTestIssuer()
const app = new Koa()
app.use(jwtGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }))
app.use((ctx) => { ctx.body = { sub: ctx.state.auth.payload.sub } })
const server = app.listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const url = 'http://127.0.0.1:' + server.address().port + '/'
try {
  const anonymous = await fetch(url)
  const token = await issuer.sign({ sub: 'koa-user' })
  const authorized = await fetch(url, { headers: { authorization: 'Bearer ' + token } })
  console.log(JSON.stringify({
    anonymous: { status: anonymous.status, challenge: anonymous.headers.get('www-authenticate') },
    authorized: { status: authorized.status, body: await authorized.json() },
  }))
} finally {
  server.closeAllConnections()
  server.close()
  await issuer.close()
}
`

/** TypeScript that must compile: claims augmented once, typed in all three frameworks. */
export const typedApp = `
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { createGuard, type AuthInfo } from 'jwtguard'
import { jwtGuard as expressGuard } from 'jwtguard/express'
import fastifyGuard from 'jwtguard/fastify'
import { jwtGuard as koaGuard } from 'jwtguard/koa'

declare module 'jwtguard' {
  interface Claims {
    tenant: string
  }
}

export const options = { issuer: 'https://issuer.example.test', audience: 'api', jwksUri: 'https://issuer.example.test/jwks' }

export async function verify(token: string): Promise<string> {
  const auth: AuthInfo = await createGuard(options).verify(token)
  return auth.payload.tenant
}

const koa = new Koa()
koa.use(koaGuard(options))
koa.use(async (ctx) => {
  const tenant: string = ctx.state.auth!.payload.tenant
  const maybe: string | undefined = ctx.state.auth?.payload.tenant
  ctx.body = { tenant, maybe, sub: ctx.state.auth?.payload.sub }
})

const app = express()
app.use(expressGuard(options))
app.get('/', (req, res) => {
  const tenant: string = req.auth!.payload.tenant
  res.json({ tenant, scopes: req.auth?.scopes })
})

const fastify = Fastify()
await fastify.register(fastifyGuard, options)
fastify.get('/', async (request) => {
  const tenant: string = request.auth!.payload.tenant
  return { tenant }
})
`

/** TypeScript whose every error is expected: wrong options and wrong claim types do not compile. */
export const typedMistakes = `
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { createGuard } from 'jwtguard'
import { jwtGuard as expressGuard } from 'jwtguard/express'
import fastifyGuard from 'jwtguard/fastify'
import { jwtGuard as koaGuard } from 'jwtguard/koa'

// @ts-expect-error audience is required
createGuard({ issuer: 'x' })

// @ts-expect-error 'none' is never an allowed algorithm
createGuard({ issuer: 'x', audience: 'api', algorithms: ['none'] })

// Each tenant below is the augmented string: were the types any, these lines would not error.
new Koa().use(koaGuard({ issuer: 'x', audience: 'api' })).use(async (ctx) => {
  // @ts-expect-error tenant is a string
  const tenant: number = ctx.state.auth!.payload.tenant
  ctx.body = { tenant }
})

express()
  .use(expressGuard({ issuer: 'x', audience: 'api' }))
  .get('/', (req, res) => {
    // @ts-expect-error tenant is a string
    const tenant: number = req.auth!.payload.tenant
    res.json({ tenant })
  })

const fastify = Fastify()
await fastify.register(fastifyGuard, { issuer: 'x', audience: 'api' })
fastify.get('/', async (request) => {
  // @ts-expect-error tenant is a string
  const tenant: number = request.auth!.payload.tenant
  return { tenant }
})
`

/**
 * A consumer app with no generics anywhere: payloads are `DefaultClaims` in
 * every framework and in option callbacks; with `claimsSchema` the schema's
 * output types the payload. `MODULE` is `esm` or `cjs` (no top-level await there).
 */
export const consumerApp = (module: 'esm' | 'cjs'): string => `
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { z } from 'zod'
import { createGuard, memoryRevocationStore, type AuthInfo, type DefaultClaims, type InferClaims } from 'jwtguard'
import { errorHandler, jwtGuard as expressGuard, requireScopes } from 'jwtguard/express'
import fastifyGuard from 'jwtguard/fastify'
import { jwtGuard as koaGuard } from 'jwtguard/koa'
import { RequestView, authenticateThen } from 'jwtguard/adapter'
import { createTestIssuer } from 'jwtguard/testing'
import { redisDpopReplayStore, redisRevocationStore } from 'jwtguard/redis'

const options = { issuer: 'https://issuer.example.test/', audience: 'api' }

const store = memoryRevocationStore()
export const guard = createGuard({ ...options, revocation: store, isRevoked: (auth) => auth.payload.jti === 'revoked' })
export async function subject(token: string): Promise<string | undefined> {
  const auth: AuthInfo<DefaultClaims> = await guard.verify(token)
  const custom: unknown = auth.payload['tenant']
  return custom === undefined ? auth.payload.sub : String(custom)
}

const schema = z.object({ sub: z.string(), tenant: z.string() })
export interface AppClaims extends InferClaims<typeof schema> {}
const typed = createGuard({ ...options, claimsSchema: schema, isRevoked: (auth) => auth.payload.tenant === 'blocked' })
export async function tenant(token: string): Promise<AppClaims['tenant']> {
  return (await typed.verify(token)).payload.tenant
}

const app = express()
app.use(expressGuard({ ...options, isRevoked: async (auth) => auth.payload.sub === 'blocked' }))
app.get('/', requireScopes('orders:read'), (req, res) => {
  const sub: string | undefined = req.auth?.payload.sub
  res.json({ sub, scopes: req.auth?.scopes })
})
app.use(errorHandler())

const koa = new Koa()
koa.use(koaGuard({ ...options, isRevoked: (auth) => auth.payload.sub === 'blocked' }))
koa.use(async (ctx) => {
  const sub: string | undefined = ctx.state.auth?.payload.sub
  ctx.body = { sub }
})

export async function fastifyApp() {
  const fastify = Fastify()
  await fastify.register(fastifyGuard, { ...options, global: false, isRevoked: (auth) => auth.payload.sub === 'blocked' })
  fastify.get('/', { onRequest: fastify.authenticate }, async (request) => {
    const sub: string | undefined = request.auth?.payload.sub
    return { sub }
  })
  return fastify
}

export const plumbing = [RequestView, authenticateThen, createTestIssuer, redisRevocationStore, redisDpopReplayStore]
${module === 'esm' ? 'await fastifyApp()' : 'void fastifyApp()'}
`
