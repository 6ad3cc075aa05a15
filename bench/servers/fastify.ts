import fastifyJwt from '@fastify/jwt'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { jwtGuard } from 'jwtguard/fastify'
import { createGuard } from 'jwtguard'
import { baseline, frameworkArg, loadFramework, pemOf, rawVerifier, readConfig, serve } from './common.js'
import { NOOP_AUTH, ROUTE, type Variant } from './protocol.js'

/** Fastify 4 and 5 bench servers: `node --import tsx bench/servers/fastify.ts fastify4|fastify [variant,…]` (started by launch.ts). */

const framework = frameworkArg('fastify')
const Fastify = loadFramework<typeof import('fastify').default>(framework)
const config = readConfig()
const { issuer, audience, jwksUri, jwksCache } = config
const raw = rawVerifier(config)

/** Installs a variant's auth on `app`; returns how the route reads `sub`. */
async function install(app: FastifyInstance, variant: Variant): Promise<(request: FastifyRequest) => unknown> {
  switch (variant) {
    case 'bare':
      return () => 'anonymous'
    case 'noop-guard': {
      app.decorateRequest('auth', undefined)
      app.addHook('onRequest', (request, _reply, done) => {
        ;(request as unknown as { auth: typeof NOOP_AUTH }).auth = NOOP_AUTH
        done()
      })
      return (request) => request.auth?.payload.sub
    }
    case 'jwtguard':
    case 'jwtguard-nocache': {
      const guard = createGuard({
        issuer,
        audience,
        jwksUri,
        ...(jwksCache ? { jwksCache } : {}),
        ...(variant === 'jwtguard-nocache' ? { cache: false } : {}),
      })
      await guard.ready()
      await app.register(jwtGuard, { guard })
      return (request) => request.auth?.payload.sub
    }
    case 'baseline':
    case 'baseline-nocache': {
      const { createGuard: make, adapter } = await baseline<typeof import('jwtguard/fastify')>('fastify')
      const guard = make({
        issuer,
        audience,
        jwksUri,
        ...(jwksCache ? { jwksCache } : {}),
        ...(variant === 'baseline-nocache' ? { cache: false } : {}),
      })
      await guard.ready()
      await app.register(adapter.jwtGuard, { guard: guard as never })
      return (request) => request.auth?.payload.sub
    }
    case 'raw-crypto': {
      const subs = new WeakMap<FastifyRequest, string>()
      app.addHook('onRequest', async (request, reply) => {
        const sub = raw(request.headers.authorization)
        if (sub === undefined) return reply.code(401).send({ error: 'invalid_token' })
        subs.set(request, sub)
      })
      return (request) => subs.get(request)
    }
    case '@fastify/jwt':
    case '@fastify/jwt-cache': {
      await app.register(fastifyJwt, {
        secret: { public: pemOf(config) },
        verify: { algorithms: ['RS256'], allowedIss: issuer, allowedAud: audience, cache: variant === '@fastify/jwt-cache' },
      })
      app.addHook('onRequest', (request) => request.jwtVerify())
      return (request) => (request.user as { sub?: string }).sub
    }
    default:
      throw new Error(`fastify: no variant ${variant}`)
  }
}

await serve(framework, async (variant) => {
  const app = Fastify({ logger: false })
  const sub = await install(app, variant)
  app.get(ROUTE, async (request) => ({ sub: sub(request) }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  return (app.server.address() as import('node:net').AddressInfo).port
})
