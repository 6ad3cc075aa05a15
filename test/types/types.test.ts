// Type tests: `npm run typecheck` checks the `expectTypeOf` and `@ts-expect-error` lines;
// at runtime they are no-ops, so each test also builds the app or verifies a token for real.
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { jwtGuard as expressGuard } from '../../adapters/express.js'
import { jwtGuard as fastifyGuard } from '../../adapters/fastify.js'
import { jwtGuard as koaGuard } from '../../adapters/koa.js'
import { createGuard, type AuthInfo, type Guard } from '../../src/index.js'
import { mint, options } from './fixtures.js'

describe('adapters type the attached AuthInfo without a cast', () => {
  it('Express: req.auth', () => {
    const app = express()
    app.use(expressGuard(options))
    app.get('/me', (req, res) => {
      expectTypeOf(req.auth).toEqualTypeOf<AuthInfo | undefined>()
      expectTypeOf(req.auth!.payload.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(req.auth!.scopes).toEqualTypeOf<string[]>()
      expectTypeOf(req.auth!.roles).toEqualTypeOf<string[]>()
      res.json({ sub: req.auth?.payload.sub })
    })
    expect(app.listen).toBeTypeOf('function')
  })

  it('Koa: ctx.state.auth in a later middleware', () => {
    const app = new Koa()
    app.use(koaGuard(options))
    app.use(async (ctx) => {
      expectTypeOf(ctx.state.auth).toEqualTypeOf<AuthInfo | undefined>()
      expectTypeOf(ctx.state.auth!.payload.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(ctx.state.auth!.scopes).toEqualTypeOf<string[]>()
      ctx.body = { sub: ctx.state.auth?.payload.sub }
    })
    expect(app.middleware).toHaveLength(2)
  })

  it('Koa: the state type also flows through a chained app.use()', () => {
    const app = new Koa().use(koaGuard(options)).use(async (ctx) => {
      expectTypeOf(ctx.state.auth!.payload.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(ctx.state.auth!.scopes).toEqualTypeOf<string[]>()
    })
    expect(app.middleware).toHaveLength(2)
  })

  it('Fastify: request.auth in a route after register()', async () => {
    const app = Fastify()
    await app.register(fastifyGuard, options)
    app.get('/me', async (request) => {
      expectTypeOf(request.auth).toEqualTypeOf<AuthInfo | undefined>()
      expectTypeOf(request.auth!.payload.sub).toEqualTypeOf<string | undefined>()
      expectTypeOf(request.auth!.scopes).toEqualTypeOf<string[]>()
      return { sub: request.auth?.payload.sub }
    })
    await app.ready()
    expect(app.hasRoute({ method: 'GET', url: '/me' })).toBe(true)
    await app.close()
  })
})

describe('claims types from createGuard', () => {
  it('an explicit type argument types payload', async () => {
    const guard = createGuard<{ org: string }>(options)
    expectTypeOf(guard).toEqualTypeOf<Guard<{ org: string }>>()
    expectTypeOf(guard.verify).returns.resolves.toEqualTypeOf<AuthInfo<{ org: string }>>()
    const auth = await guard.verify(await mint({ org: 'acme' }))
    expectTypeOf(auth.payload.org).toEqualTypeOf<string>()
    expect(auth.payload.org).toBe('acme')
  })

  it("a zod claimsSchema types payload with the schema's output (after transforms)", async () => {
    const schema = z.object({ sub: z.string(), org: z.string(), perms: z.string().transform((s) => s.split(',')) })
    const guard = createGuard({ ...options, claimsSchema: schema })
    expectTypeOf(guard.verify).returns.resolves.toEqualTypeOf<AuthInfo<z.output<typeof schema>>>()
    const auth = await guard.verify(await mint({ org: 'acme', perms: 'read,write' }))
    expectTypeOf(auth.payload.perms).toEqualTypeOf<string[]>()
    expect(auth.payload).toEqual({ sub: 'user-1', org: 'acme', perms: ['read', 'write'] })
  })
})

describe('wrong options do not compile (and fail at construction)', () => {
  it("algorithms: ['none']", () => {
    // @ts-expect-error 'none' is not a JwsAlgorithm
    expect(() => createGuard({ ...options, algorithms: ['none'] })).toThrow(/option "algorithms" must not contain "none"/)
  })

  it('audience missing', () => {
    // @ts-expect-error audience is required
    expect(() => createGuard({ issuer: 'x', secret: options.secret })).toThrow(/option "audience"/)
  })

  it("tokenFrom: 'body'", () => {
    // @ts-expect-error 'body' is not a TokenSource
    expect(() => createGuard({ ...options, tokenFrom: 'body' })).toThrow(/option "tokenFrom"/)
  })
})
