import type { ErrorRequestHandler, Request, RequestHandler } from 'express'
import { auth as oauth2JwtBearer } from 'express-oauth2-jwt-bearer'
import { expressjwt } from 'express-jwt'
import { jwtGuard } from 'jwtguard/express'
import { createGuard } from 'jwtguard'
import { baseline, frameworkArg, loadFramework, publicKeyOf, rawVerifier, readConfig, serve } from './common.js'
import { NOOP_AUTH, ROUTE, type Variant } from './protocol.js'

/** Express 4 and 5 bench servers: `node --import tsx bench/servers/express.ts express4|express [variant,…]` (started by launch.ts). */

const framework = frameworkArg('express')
const express = loadFramework<typeof import('express')>(framework)
const config = readConfig()
const { issuer, audience, jwksUri } = config
const raw = rawVerifier(config)

/** The auth middleware of a variant and how the route reads `sub` after it. */
async function authFor(variant: Variant): Promise<{ use?: RequestHandler; sub: (req: Request) => unknown }> {
  const reqAuth = (req: Request) => (req as unknown as { auth?: Record<string, any> }).auth
  switch (variant) {
    case 'bare':
      return { sub: () => 'anonymous' }
    case 'noop-guard':
      return {
        use: (req, _res, next) => {
          ;(req as unknown as { auth: typeof NOOP_AUTH }).auth = NOOP_AUTH
          next()
        },
        sub: (req) => reqAuth(req)?.payload.sub,
      }
    case 'jwtguard':
    case 'jwtguard-nocache': {
      const guard = createGuard({ issuer, audience, jwksUri, ...(variant === 'jwtguard-nocache' ? { cache: false } : {}) })
      await guard.ready()
      return { use: jwtGuard(guard), sub: (req) => reqAuth(req)?.payload.sub }
    }
    case 'baseline':
    case 'baseline-nocache': {
      const { createGuard: make, adapter } = await baseline<typeof import('jwtguard/express')>('express')
      const guard = make({ issuer, audience, jwksUri, ...(variant === 'baseline-nocache' ? { cache: false } : {}) })
      await guard.ready()
      return { use: adapter.jwtGuard(guard as never), sub: (req) => reqAuth(req)?.payload.sub }
    }
    case 'raw-crypto':
      return {
        use: (req, res, next) => {
          const sub = raw(req.headers.authorization)
          if (sub === undefined) return void res.status(401).json({ error: 'invalid_token' })
          res.locals.sub = sub
          next()
        },
        sub: (req) => req.res?.locals.sub,
      }
    case 'express-oauth2-jwt-bearer':
      return { use: oauth2JwtBearer({ issuer, audience, jwksUri }), sub: (req) => reqAuth(req)?.payload.sub }
    case 'express-jwt':
      return {
        use: expressjwt({ secret: publicKeyOf(config), algorithms: ['RS256'], issuer, audience }),
        sub: (req) => reqAuth(req)?.sub,
      }
    default:
      throw new Error(`express: no variant ${variant}`)
  }
}

// Renders any error with its status and headers, without Express's stack logging.
const errors: ErrorRequestHandler = (err, _req, res, _next) => {
  res
    .status(err.status ?? 500)
    .set(err.headers ?? {})
    .json({ error: err.code ?? 'error' })
}

await serve(framework, async (variant) => {
  const app = express()
  const { use, sub } = await authFor(variant)
  if (use) app.use(use)
  app.get(ROUTE, (req, res) => void res.json({ sub: sub(req) }))
  app.use(errors)
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve((server.address() as import('node:net').AddressInfo).port))
  })
})
