// The hot path: a cached token is answered without a promise (authenticateNow), and the RFC 6750
// character check of the credentials runs only when the cache does not vouch for them. These tests
// pin down that the shortcut answers exactly what the full path answers, on every framework.
import { createRequire } from 'node:module'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { FastifyInstance } from 'fastify'
import fastify4 from 'fastify4'
import fastify5 from 'fastify5'
import * as fastifyAdapter from '../../adapters/fastify.js'
import { createGuard, GuardError, type AuthInfo, type GuardEvent } from '../../src/index.js'
import { authenticateNow, authenticateThen, isPending, type Guard } from '../../src/adapter.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Route } from '../conformance/apps.js'
import { rejection } from '../helpers/shared.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer?.close()
})

const request = (authorization?: string) => ({ headers: authorization === undefined ? {} : { authorization } })

describe('authenticateNow (what adapters call)', () => {
  it('answers a cached token synchronously, a new one with a promise, and both with the same AuthInfo', async () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri })
    const token = await issuer.sign({ scope: 'a b' })
    const first = authenticateNow(guard, request(`Bearer ${token}`))
    expect(isPending(first)).toBe(true)
    const verified = (await first) as AuthInfo
    const second = authenticateNow(guard, request(`Bearer ${token}`))
    expect(isPending(second)).toBe(false)
    expect(second).toMatchObject({ token, payload: verified.payload, scopes: ['a', 'b'], encrypted: false })
    // The public method keeps its contract: always a promise.
    const viaAuthenticate = guard.authenticate(request(`Bearer ${token}`))
    expect(isPending(viaAuthenticate)).toBe(true)
    expect(await viaAuthenticate).toMatchObject({ payload: verified.payload })
  })

  it('throws a GuardError with its challenge synchronously where authenticate rejects', async () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri })
    let thrown: unknown
    try {
      authenticateNow(guard, request())
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(GuardError)
    expect((thrown as GuardError).code).toBe('ERR_JWT_MISSING')
    expect((thrown as GuardError).headers['WWW-Authenticate']).toMatch(/^Bearer realm=/)
    // authenticate never throws synchronously: the same error arrives as a rejection.
    const error = await rejection(guard.authenticate(request()))
    expect(error.code).toBe('ERR_JWT_MISSING')
  })

  it('answers undefined synchronously for no token when authRequired is false', () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, authRequired: false })
    expect(authenticateNow(guard, request())).toBeUndefined()
  })

  it('takes the promise path for every request when a revocation check is configured (it may wait)', async () => {
    let asked = 0
    const guard = createGuard({
      ...issuer.guardOptions(),
      jwksUri: issuer.jwksUri,
      isRevoked: () => {
        asked++
        return false
      },
    })
    const token = await issuer.sign()
    await authenticateNow(guard, request(`Bearer ${token}`))
    const again = authenticateNow(guard, request(`Bearer ${token}`))
    expect(isPending(again)).toBe(true)
    await again
    expect(asked).toBe(2)
  })
})

describe('authenticateThen (what callback-style adapters call)', () => {
  it('calls done once: at once for a cached token, later for a new one, with the error for a refusal', async () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri })
    const token = await issuer.sign()
    const calls: { error: unknown; auth?: AuthInfo }[] = []
    const done = (error: unknown, auth?: AuthInfo) => calls.push({ error, auth })

    authenticateThen(guard, request(`Bearer ${token}`), done)
    expect(calls).toHaveLength(0) // a new token: verified first
    await vi.waitFor(() => expect(calls).toHaveLength(1))
    expect(calls[0]!.error).toBeUndefined()
    expect(calls[0]!.auth?.payload.sub).toBe('user-123')

    authenticateThen(guard, request(`Bearer ${token}`), done)
    expect(calls).toHaveLength(2) // cached: answered synchronously
    expect(calls[1]!.auth?.payload.sub).toBe('user-123')

    authenticateThen(guard, request(), done)
    expect(calls).toHaveLength(3)
    expect((calls[2]!.error as GuardError).code).toBe('ERR_JWT_MISSING')
    expect(calls[2]!.auth).toBeUndefined()

    authenticateThen(guard, request(`Bearer ${token.slice(0, -4)}AAAA`), done)
    await vi.waitFor(() => expect(calls).toHaveLength(4))
    expect((calls[3]!.error as GuardError).code).toBe('ERR_JWT_SIGNATURE_INVALID')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(calls).toHaveLength(4) // never twice
  })
})

describe('authenticateThen passes its last two arguments on to done (one done for every request, no closure)', () => {
  it('on the synchronous answer, the promised one and a refusal, and returns what done returns', async () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri })
    const token = await issuer.sign()
    const req = { id: 'req' }
    const next = { id: 'next' }
    const done = (error: unknown, auth: AuthInfo | undefined, a: typeof req, b: typeof next) => ({ error, sub: auth?.payload.sub, a, b })
    const first = authenticateThen(guard, request(`Bearer ${token}`), done, req, next)
    expect(isPending(first)).toBe(true)
    expect(await first).toEqual({ error: undefined, sub: 'user-123', a: req, b: next })
    expect(authenticateThen(guard, request(`Bearer ${token}`), done, req, next)).toEqual({
      error: undefined,
      sub: 'user-123',
      a: req,
      b: next,
    })
    const refused = authenticateThen(guard, request(), done, req, next) as ReturnType<typeof done>
    expect((refused.error as GuardError).code).toBe('ERR_JWT_MISSING')
    expect({ a: refused.a, b: refused.b }).toEqual({ a: req, b: next })
  })
})

describe.each([
  ['with the cache', {}],
  ['without the cache', { cache: false as const }],
])('credentials checked lazily, %s: the same answers as a full check', (_label, cacheOption) => {
  const guardFor = () => createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, ...cacheOption })

  it.each([
    ['a character outside RFC 6750 (!)', 'abc!def'],
    ['a quote', '"abc"'],
    ['two tokens', 'abc def'],
    ['a non-ASCII character', 'abcé'],
  ])('%s is a 400 invalid_request, asked twice', async (_name, credentials) => {
    const guard = guardFor()
    for (let i = 0; i < 2; i++) {
      const error = await rejection(guard.authenticate(request(`Bearer ${credentials}`)))
      expect(error.status).toBe(400)
      expect(error.code).toBe('ERR_REQUEST_INVALID')
      expect(error.context.reason).toBe('authorization_syntax')
    }
  })

  it('a valid token with a character outside RFC 6750 appended is still a 400, after the token was cached', async () => {
    const guard = guardFor()
    const token = await issuer.sign()
    await guard.authenticate(request(`Bearer ${token}`))
    const error = await rejection(guard.authenticate(request(`Bearer ${token}!`)))
    expect(error.status).toBe(400)
  })

  it('RFC 6750 characters that are not base64url (+ and /) are a 401 invalid_token, not a 400', async () => {
    const guard = guardFor()
    const token = await issuer.sign()
    const error = await rejection(guard.authenticate(request(`Bearer ${token.replace(/-/g, '+').replace(/_/g, '/')}+`)))
    expect(error.status).toBe(401)
    expect(error.code).toBe('ERR_JWT_MALFORMED')
  })

  it('a token too large with characters outside RFC 6750 is a 400, as when the header was checked first', async () => {
    const guard = guardFor()
    const error = await rejection(guard.authenticate(request(`Bearer ${'a!'.repeat(10_000)}`)))
    expect(error.status).toBe(400)
  })

  it('extra spaces between the scheme and the token, and around the value, are allowed', async () => {
    const guard = guardFor()
    const token = await issuer.sign()
    for (const value of [`Bearer   ${token}`, ` Bearer ${token} `, `bEaReR ${token}`]) {
      expect((await guard.authenticate(request(value)))?.payload.sub).toBe('user-123')
    }
  })

  it('a DPoP-bound token sent as Bearer to a guard without DPoP is refused every time, also once cached', async () => {
    const guard = guardFor()
    const token = await issuer.sign({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } })
    for (let i = 0; i < 2; i++) {
      const error = await rejection(guard.authenticate(request(`Bearer ${token}`)))
      expect(error.status).toBe(401)
      expect(error.context.reason).toBe('bound_as_bearer')
    }
  })
})

describe.each(FRAMEWORKS)('the synchronous hot path on $name', (framework) => {
  it('serves a cached token with the same answer, runs the route once per request, and hits the cache', async () => {
    const events: GuardEvent[] = []
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, onEvent: (e) => events.push(e) })
    let calls = 0
    const routes: Route[] = [
      {
        path: '/me',
        reply: (auth) => {
          calls++
          return { sub: auth?.payload.sub, scopes: auth?.scopes }
        },
      },
    ]
    const app = await framework.start({ guard: undefined, shared: guard, routes })
    try {
      const token = await issuer.sign({ scope: 'orders:read' })
      const answers = []
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${token}` } })
        answers.push({ status: res.status, body: await res.json() })
      }
      expect(answers).toEqual(Array(3).fill({ status: 200, body: { sub: 'user-123', scopes: ['orders:read'] } }))
      expect(calls).toBe(3)
      expect(events.filter((e) => e.type === 'cache_hit')).toHaveLength(2)
      // A refusal on the synchronous path reaches the framework's error handling as any other.
      const bad = await fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${token}!` } })
      expect(bad.status).toBe(400)
      expect(bad.headers.get('www-authenticate')).toContain('error="invalid_request"')
      const none = await fetch(`${app.url}/me`)
      expect(none.status).toBe(401)
      expect(calls).toBe(3)
    } finally {
      await app.close()
    }
  })
})

// Fastify 4's `request.routeOptions` builds and freezes an object per read (3–4 µs, more than a cache hit):
// the plugin reads a route's config only when a route may be public, and public routes stay public wherever
// they were registered.
describe.each([
  ['fastify4', fastify4],
  ['fastify5', fastify5],
])('%s: the route config is read only when a route may be public', (_name, create) => {
  /** An app whose earliest hook counts the reads of `request.routeOptions` the guard makes after it. */
  function counted(routes: (app: FastifyInstance) => void, before: (app: FastifyInstance) => void = () => {}) {
    const app = (create as (options: object) => FastifyInstance)({})
    const reads = { count: 0 }
    app.addHook('onRequest', (request, _reply, done) => {
      const getter = findGetter(Object.getPrototypeOf(request) as object, 'routeOptions')
      Object.defineProperty(request, 'routeOptions', {
        get() {
          reads.count++
          return getter.get!.call(request)
        },
      })
      done()
    })
    before(app)
    return { app, reads, routes }
  }

  async function serve({ app, routes }: ReturnType<typeof counted>, guard: Guard<unknown>) {
    await app.register(fastifyAdapter.jwtGuard, { guard })
    routes(app)
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    return url
  }

  it('reads no route config per request when no route is public', async () => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri })
    const setup = counted((app) => app.get('/me', async (request) => ({ sub: request.auth?.payload.sub })))
    const url = await serve(setup, guard as Guard<unknown>)
    try {
      const token = await issuer.sign()
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })
        expect(await res.json()).toEqual({ sub: 'user-123' })
      }
      expect((await fetch(`${url}/me`)).status).toBe(401)
      expect(setup.reads.count).toBe(0)
    } finally {
      await setup.app.close()
    }
  })

  it.each([
    ['after the plugin', false],
    ['before the plugin', true],
    ['in a child context', false, true],
  ])('a route with config { auth: false } registered %s stays public; the others are guarded', async (_where, early, child = false) => {
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri })
    const open = (app: FastifyInstance) =>
      app.get('/open', { config: { auth: false } }, async (request) => ({ auth: request.auth ?? null }))
    const setup = counted(
      (app) => {
        app.get('/me', async (request) => ({ sub: request.auth?.payload.sub }))
        if (child) void app.register(async (scope) => open(scope))
        else if (!early) open(app)
      },
      early ? open : undefined,
    )
    const url = await serve(setup, guard as Guard<unknown>)
    try {
      const token = await issuer.sign()
      const anonymous = await fetch(`${url}/open`)
      expect({ status: anonymous.status, body: await anonymous.json() }).toEqual({ status: 200, body: { auth: null } })
      // A token sent to a public route is not looked at: no auth, and a bad one is no 400.
      expect(await (await fetch(`${url}/open`, { headers: { authorization: `Bearer ${token}` } })).json()).toEqual({ auth: null })
      expect((await fetch(`${url}/open`, { headers: { authorization: 'Bearer !' } })).status).toBe(200)
      expect((await fetch(`${url}/me`)).status).toBe(401)
      expect(await (await fetch(`${url}/me`, { headers: { authorization: `Bearer ${token}` } })).json()).toEqual({ sub: 'user-123' })
      expect(setup.reads.count).toBeGreaterThan(0)
    } finally {
      await setup.app.close()
    }
  })
})

function findGetter(proto: object | null, name: string): PropertyDescriptor {
  for (let p = proto; p; p = Object.getPrototypeOf(p) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(p, name)
    if (descriptor?.get) return descriptor
  }
  throw new Error(`no getter ${name}`)
}

// Every property added to an Express request costs microseconds (Express swaps its prototype, so each
// add is a slow map transition): the adapter adds only the `auth` the contract names, and keeps the
// guard the route checks need on `res.locals` (or on `req` where no Express app made `res.locals`).
// express4 and express5 are npm aliases without types: typed by @types/express (as in test/conformance/apps.ts).
const expressVersion = (name: 'express4' | 'express5') => createRequire(import.meta.url)(name) as typeof import('express')

describe('Express: the guard adds no property to the request but auth', () => {
  for (const [name, load] of [
    ['Express 4', 'express4'],
    ['Express 5', 'express5'],
  ] as const) {
    it(`${name}: req gets only auth; requireScopes answers with the guard's realm, two guards in one app`, async () => {
      const express = expressVersion(load)
      const expressAdapter = await import('../../adapters/express.js')
      const app = express()
      const added: string[][] = []
      const own = (req: object) => [...Object.getOwnPropertyNames(req), ...Object.getOwnPropertySymbols(req).map(String)]
      const before = new WeakMap<object, string[]>()
      const a = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, realm: 'realm-a' })
      const b = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, realm: 'realm-b' })
      app.get('/a', expressAdapter.jwtGuard(a), expressAdapter.requireScopes('x'), (_req, res) => void res.end())
      app.get(
        '/b',
        (req, _res, next) => {
          before.set(req, own(req))
          next()
        },
        expressAdapter.jwtGuard(b),
        (req, _res, next) => {
          added.push(own(req).filter((p) => !before.get(req)!.includes(p)))
          next()
        },
        expressAdapter.requireScopes('x'),
        (_req, res) => void res.end(),
      )
      const server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
      try {
        const token = await issuer.sign({ scope: 'y' })
        for (const path of ['/a', '/b']) {
          for (let i = 0; i < 2; i++) {
            const res = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } })
            expect(res.status).toBe(403)
            expect(res.headers.get('www-authenticate')).toContain(`realm="realm-${path.slice(1)}"`)
          }
        }
        // What the guard added to req, on a miss and on a cache hit: auth, nothing else.
        expect(added).toEqual([['auth'], ['auth']])
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    })
  }

  it.each([
    ['a string', () => 'x'],
    ['a frozen object', () => Object.freeze({})],
    ['null', () => null],
  ])('an app whose res.locals is %s: the guard goes on req, and requireScopes still answers with it', async (_what, locals) => {
    const express = expressVersion('express5')
    const expressAdapter = await import('../../adapters/express.js')
    const app = express()
    app.use((_req, res, next) => {
      ;(res as { locals: unknown }).locals = locals()
      next()
    })
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, realm: 'odd-locals' })
    app.get('/r', expressAdapter.jwtGuard(guard), expressAdapter.requireScopes('x'), (_req, res) => void res.end('ok'))
    app.get('/ok', expressAdapter.jwtGuard(guard), expressAdapter.requireScopes('y'), (_req, res) => void res.end('ok'))
    const server = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => server.once('listening', resolve))
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
    try {
      const headers = { authorization: `Bearer ${await issuer.sign({ scope: 'y' })}` }
      const res = await fetch(`${url}/r`, { headers })
      expect(res.status).toBe(403)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="odd-locals", error="insufficient_scope"/)
      expect(await (await fetch(`${url}/ok`, { headers })).text()).toBe('ok')
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('mounted on a bare Router in node:http (no res.locals), requireScopes still answers with its guard', async () => {
    const express = expressVersion('express4')
    const expressAdapter = await import('../../adapters/express.js')
    const { createServer } = await import('node:http')
    const router = express.Router()
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, realm: 'bare-router' })
    router.get('/r', expressAdapter.jwtGuard(guard), expressAdapter.requireScopes('x'), (_req, res) => void res.end('ok'))
    const server = createServer((req, res) =>
      router(req as never, res as never, (err: unknown) => {
        const status = (err as { status?: number } | undefined)?.status ?? 404
        res.writeHead(status, (err as { headers?: Record<string, string> } | undefined)?.headers ?? {}).end()
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`
    try {
      const res = await fetch(`${url}/r`, { headers: { authorization: `Bearer ${await issuer.sign({ scope: 'y' })}` } })
      expect(res.status).toBe(403)
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="bare-router", error="insufficient_scope"/)
    } finally {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
