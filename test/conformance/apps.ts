import { createServer, type RequestListener } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import Router from '@koa/router'
import type Express from 'express'
import type { RequestHandler } from 'express'
import fastify4 from 'fastify4'
import fastify5 from 'fastify5'
import type Koa from 'koa'
import * as expressAdapter from '../../adapters/express.js'
import * as fastifyAdapter from '../../adapters/fastify.js'
import * as koaAdapter from '../../adapters/koa.js'
import type { AuthInfo, ClaimCheckOptions, ClaimExpectations, Guard, GuardOptions, RequireOptions } from '../../src/index.js'
import type { TestIssuer } from '../../src/testing/index.js'

// express4/5 and koa2/3 are npm aliases that ship no types: load them as the
// CommonJS they are, typed by @types/express and @types/koa.
const require = createRequire(import.meta.url)

/** The per-route checks every adapter exports under the same names. */
interface Checks<H> {
  requireScopes(scopes: string | readonly string[], options?: RequireOptions): H
  requireRoles(roles: string | readonly string[], options?: RequireOptions): H
  requireClaims(check: ClaimExpectations | ((payload: Record<string, unknown>) => boolean), options?: ClaimCheckOptions): H
}

/** One GET route, described once and built by every framework. */
export interface Route {
  path: string
  check?: <H>(checks: Checks<H>) => H
  reply: (auth: AuthInfo | undefined) => unknown
}

/** An app: guard options and the routes behind the guard (`/public` is always in front of it). */
export interface AppSpec {
  /** Guard options; `undefined` makes the adapter read the environment (`jwtGuard()`). */
  guard: GuardOptions | undefined
  /** A guard made by `createGuard`, shared across apps (`jwtGuard(guard)`, Fastify `{ guard }`); wins over `guard`. */
  shared?: Guard
  routes: Route[]
  /** Trust `X-Forwarded-*` (Express `trust proxy`, Koa `app.proxy`, Fastify `trustProxy`). Default off. */
  trustProxy?: boolean
}

export type AppName = 'main' | 'discovery' | 'hmac' | 'optional' | 'unavailable'

const PUBLIC: Route = { path: '/public', reply: () => ({ public: true }) }
const sub = (auth: AuthInfo | undefined) => ({ sub: auth?.payload.sub })
const protectedRoute: Route = {
  path: '/protected',
  reply: (auth) => ({ sub: auth?.payload.sub, scopes: auth?.scopes, roles: auth?.roles }),
}

/** The apps each framework serves, from one description so all six are identical. */
export function appSpecs(issuer: TestIssuer): Record<AppName, AppSpec> {
  const { audience } = issuer
  return {
    main: {
      guard: { issuer: issuer.issuer, audience, jwksUri: issuer.jwksUri },
      routes: [
        protectedRoute,
        { path: '/scoped', check: (c) => c.requireScopes('orders:read'), reply: sub },
        { path: '/scoped-all', check: (c) => c.requireScopes(['orders:read', 'orders:write']), reply: sub },
        { path: '/scoped-any', check: (c) => c.requireScopes(['orders:read', 'orders:write'], { mode: 'any' }), reply: sub },
        { path: '/admin', check: (c) => c.requireRoles('admin'), reply: sub },
        { path: '/tenant', check: (c) => c.requireClaims({ tenant: 'acme' }), reply: sub },
        { path: '/tenant-fn', check: (c) => c.requireClaims((p) => p.tenant === 'acme'), reply: sub },
        {
          path: '/tenant-described',
          check: (c) => c.requireClaims({ tenant: 'acme' }, { description: 'Acme staff only' }),
          reply: sub,
        },
      ],
    },
    // No jwksUri: the keys are found through the issuer's discovery document.
    discovery: { guard: { issuer: issuer.issuer, audience }, routes: [protectedRoute] },
    // The JWKS URL answers 404: no key can be had, so even a good token gets 503 (never 401).
    unavailable: { guard: { issuer: issuer.issuer, audience, jwksUri: `${issuer.issuer}/no-such-jwks` }, routes: [protectedRoute] },
    hmac: { guard: { issuer: issuer.issuer, audience, secret: issuer.secret }, routes: [protectedRoute] },
    optional: {
      guard: { issuer: issuer.issuer, audience, jwksUri: issuer.jwksUri, authRequired: false },
      routes: [
        { path: '/optional', reply: (auth) => ({ anonymous: !auth }) },
        { path: '/optional-scoped', check: (c) => c.requireScopes('orders:read'), reply: sub },
      ],
    },
  }
}

export interface Running {
  url: string
  close(): Promise<void>
}

/** Which default error handler renders the errors: each has its own body shape. */
export type Family = 'express' | 'koa' | 'fastify'

export interface Framework {
  name: string
  family: Family
  /** Serves `spec` on 127.0.0.1: on `port`, for apps whose options name their own URL; default an ephemeral port. */
  start(spec: AppSpec, port?: number): Promise<Running>
}

async function listen(listener: RequestListener, port = 0): Promise<Running> {
  const server = createServer(listener)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

function expressFramework(name: string, express: typeof Express): Framework {
  return {
    name,
    family: 'express',
    start(spec, port) {
      const app = express()
      app.set('env', 'test') // finalhandler logs every error to stderr unless env is 'test'
      if (spec.trustProxy) app.set('trust proxy', true)
      app.get(PUBLIC.path, (_req, res) => {
        res.json(PUBLIC.reply(undefined))
      })
      app.use(expressAdapter.jwtGuard(spec.shared ?? spec.guard))
      for (const route of spec.routes) {
        const handler: RequestHandler = (req, res) => {
          res.json(route.reply(req.auth))
        }
        if (route.check) app.get(route.path, route.check(expressAdapter), handler)
        else app.get(route.path, handler)
      }
      return listen(app, port)
    },
  }
}

function koaFramework(name: string, KoaApp: typeof Koa): Framework {
  return {
    name,
    family: 'koa',
    start(spec, port) {
      const app = new KoaApp()
      app.silent = true // ctx.onerror would log non-exposed errors to stderr
      app.proxy = spec.trustProxy === true
      const open = new Router()
      open.get(PUBLIC.path, (ctx) => {
        ctx.body = PUBLIC.reply(undefined)
      })
      const guarded = new Router()
      for (const route of spec.routes) {
        const handler: Koa.Middleware = (ctx) => {
          ctx.body = route.reply(ctx.state.auth)
        }
        if (route.check) guarded.get(route.path, route.check(koaAdapter), handler)
        else guarded.get(route.path, handler)
      }
      app.use(open.routes())
      app.use(koaAdapter.jwtGuard(spec.shared ?? spec.guard))
      app.use(guarded.routes())
      return listen(app.callback(), port)
    },
  }
}

/**
 * The part of a Fastify instance used here. Fastify 4 and 5 each ship their
 * own types, while the adapter is typed against `fastify` (5): both versions
 * are driven through this one shape.
 */
interface FastifyApp {
  register(plugin: typeof fastifyAdapter.jwtGuard, options: GuardOptions | { guard: Guard } | Record<string, never>): PromiseLike<unknown>
  get(
    path: string,
    options: { config?: { auth?: boolean }; preHandler?: unknown },
    handler: (request: { auth?: AuthInfo }) => Promise<unknown>,
  ): unknown
  listen(options: { port: number; host: string }): Promise<string>
  close(): PromiseLike<unknown>
}

function fastifyFramework(name: string, create: (options: { trustProxy: boolean }) => unknown): Framework {
  return {
    name,
    family: 'fastify',
    async start(spec, port = 0) {
      const app = create({ trustProxy: spec.trustProxy === true }) as FastifyApp
      await app.register(fastifyAdapter.jwtGuard, spec.shared ? { guard: spec.shared } : (spec.guard ?? {}))
      app.get(PUBLIC.path, { config: { auth: false } }, async () => PUBLIC.reply(undefined))
      for (const route of spec.routes) {
        const options = route.check ? { preHandler: route.check(fastifyAdapter) } : {}
        app.get(route.path, options, async (request) => route.reply(request.auth))
      }
      const url = await app.listen({ port, host: '127.0.0.1' })
      return {
        url,
        close: async () => {
          await app.close()
        },
      }
    },
  }
}

export const FRAMEWORKS: Framework[] = [
  expressFramework('express4', require('express4') as typeof Express),
  expressFramework('express5', require('express5') as typeof Express),
  koaFramework('koa2', require('koa2') as typeof Koa),
  koaFramework('koa3', require('koa3') as typeof Koa),
  fastifyFramework('fastify4', (options) => fastify4(options)),
  fastifyFramework('fastify5', (options) => fastify5(options)),
]
