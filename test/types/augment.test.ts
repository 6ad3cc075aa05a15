// A user's claim interface, declared once by augmentation, types `payload` in every framework.
// The augmentation is global to the type-check, as it is in a user's project.
import express from 'express'
import Fastify from 'fastify'
import Koa from 'koa'
import { describe, expect, expectTypeOf, it } from 'vitest'
import { jwtGuard as expressGuard } from '../../adapters/express.js'
import { jwtGuard as fastifyGuard } from '../../adapters/fastify.js'
import { jwtGuard as koaGuard, requireClaims as koaRequireClaims } from '../../adapters/koa.js'
import { createGuard, requireClaims, type AuthInfo } from '../../src/index.js'
import { mint, options } from './fixtures.js'

declare module '../../src/types.js' {
  interface Claims {
    tenant: string
  }
}

describe('Claims augmentation flows through', () => {
  it('createGuard() with no type argument', async () => {
    const auth = await createGuard(options).verify(await mint({ tenant: 'acme-1' }))
    expectTypeOf(auth.payload.tenant).toEqualTypeOf<string>()
    expect(auth.payload.tenant).toBe('acme-1')
  })

  it('Express: req.auth.payload.tenant', () => {
    const app = express()
    app.use(expressGuard(options))
    app.get('/tenant', (req, res) => {
      expectTypeOf(req.auth!.payload.tenant).toEqualTypeOf<string>()
      expectTypeOf(req.auth!.payload.sub).toEqualTypeOf<string | undefined>()
      res.json({ tenant: req.auth?.payload.tenant })
    })
    expect(app.listen).toBeTypeOf('function')
  })

  it('Koa: ctx.state.auth.payload.tenant', () => {
    const app = new Koa()
    app.use(koaGuard(options))
    app.use(async (ctx) => {
      expectTypeOf(ctx.state.auth!.payload.tenant).toEqualTypeOf<string>()
      ctx.body = { tenant: ctx.state.auth?.payload.tenant }
    })
    expect(app.middleware).toHaveLength(2)
  })

  it('Fastify: request.auth.payload.tenant', async () => {
    const app = Fastify()
    await app.register(fastifyGuard, options)
    app.get('/tenant', async (request) => {
      expectTypeOf(request.auth!.payload.tenant).toEqualTypeOf<string>()
      return { tenant: request.auth?.payload.tenant }
    })
    await app.ready()
    expect(app.hasRoute({ method: 'GET', url: '/tenant' })).toBe(true)
    await app.close()
  })

  it('requireClaims predicates see the augmented claims without a type argument', () => {
    koaRequireClaims((payload) => {
      expectTypeOf(payload.tenant).toEqualTypeOf<string>()
      return payload.tenant === 'acme-1'
    })
    const check = requireClaims((payload) => payload.tenant.startsWith('acme-'))
    const auth = (tenant: string): AuthInfo => ({
      token: 't',
      header: { alg: 'HS256' },
      payload: { tenant },
      claims: { tenant },
      scopes: [],
      roles: [],
      encrypted: false,
    })
    expect(() => check(auth('acme-1'))).not.toThrow()
    expect(() => check(auth('other'))).toThrow(expect.objectContaining({ code: 'ERR_JWT_CLAIM_CHECK_FAILED', status: 403 }))
  })
})
