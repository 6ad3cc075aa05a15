import Router from '@koa/router'
import type Koa from 'koa'
import type { Middleware } from 'koa'
import koaJwt from 'koa-jwt'
import type { AddressInfo } from 'node:net'
import { jwtGuard } from 'jwtguard/koa'
import { createGuard } from 'jwtguard'
import { baseline, frameworkArg, loadFramework, publicKeyOf, rawVerifier, readConfig, serve } from './common.js'
import { NOOP_AUTH, ROUTE, type Variant } from './protocol.js'

/** Koa 2 and 3 bench servers: `node --import tsx bench/servers/koa.ts koa2|koa [variant,…]` (started by launch.ts). */

const framework = frameworkArg('koa')
const KoaApp = loadFramework<typeof Koa>(framework)
const config = readConfig()
const { issuer, audience, jwksUri } = config
const raw = rawVerifier(config)

/** The auth middleware of a variant and how the route reads `sub` after it. */
async function authFor(variant: Variant): Promise<{ use?: Middleware; sub: (ctx: Koa.Context) => unknown }> {
  switch (variant) {
    case 'bare':
      return { sub: () => 'anonymous' }
    case 'noop-guard':
      return {
        use: async (ctx, next) => {
          ctx.state.auth = NOOP_AUTH
          await next()
        },
        sub: (ctx) => ctx.state.auth?.payload.sub,
      }
    case 'jwtguard':
    case 'jwtguard-nocache': {
      const guard = createGuard({ issuer, audience, jwksUri, ...(variant === 'jwtguard-nocache' ? { cache: false } : {}) })
      await guard.ready()
      return { use: jwtGuard(guard) as Middleware, sub: (ctx) => ctx.state.auth?.payload.sub }
    }
    case 'baseline':
    case 'baseline-nocache': {
      const { createGuard: make, adapter } = await baseline<typeof import('jwtguard/koa')>('koa')
      const guard = make({ issuer, audience, jwksUri, ...(variant === 'baseline-nocache' ? { cache: false } : {}) })
      await guard.ready()
      return { use: adapter.jwtGuard(guard as never) as Middleware, sub: (ctx) => ctx.state.auth?.payload.sub }
    }
    case 'raw-crypto':
      return {
        use: async (ctx, next) => {
          ctx.state.sub = raw(ctx.headers.authorization)
          if (ctx.state.sub === undefined) ctx.throw(401)
          await next()
        },
        sub: (ctx) => ctx.state.sub,
      }
    case 'koa-jwt':
      return {
        // A KeyObject works at run time (jsonwebtoken takes it); koa-jwt's types only list strings and Buffers.
        use: koaJwt({ secret: publicKeyOf(config) as unknown as Buffer, algorithms: ['RS256'], issuer, audience }),
        sub: (ctx) => ctx.state.user?.sub,
      }
    default:
      throw new Error(`koa: no variant ${variant}`)
  }
}

await serve(framework, async (variant) => {
  const app = new KoaApp()
  app.silent = true
  const { use, sub } = await authFor(variant)
  if (use) app.use(use)
  const router = new Router()
  router.get(ROUTE, (ctx) => {
    ctx.body = { sub: sub(ctx) }
  })
  app.use(router.routes())
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))
  })
})
