import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler } from 'express'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { jwtGuard, requireClaims, requireRoles, requireScopes } from '../../adapters/express.js'
import { createGuard, memoryRevocationStore, type GuardOptions, type RevocationStore, type StandardSchemaV1 } from '../../src/index.js'
import { redisRevocationStore } from '../../src/revocation/redis.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'
import { redisServerAvailable, startRedis, type RedisServer } from '../helpers/redis.js'

// Issue 14 item 2: every decision (revocation, DPoP binding, scopes, roles, claim checks) reads the
// claims as signed; `claimsSchema` only shapes what the route receives as `auth.payload`.

/**
 * A schema that changes everything a decision could read: `jti`, `iat` and `cnf` are stripped (zod
 * drops unknown keys), `sub` becomes `user`, `scope` an upper-case array, `roles` always `['admin']`,
 * and a missing `tenant` defaults to `'acme'`.
 */
const schema = z
  .object({
    sub: z.string(),
    scope: z.string().transform((s) => s.toUpperCase().split(' ')),
    tenant: z.string().default('acme'),
  })
  .transform(({ sub, ...rest }) => ({ ...rest, user: sub, roles: ['admin'] }))
type Shaped = z.output<typeof schema>

const now = (): number => Math.floor(Date.now() / 1000)
/** The DPoP origin the test clients address (the app is told, so `Host` does not matter). */
const ORIGIN = 'https://api.example.test'

interface App {
  url: string
  server: Server
}

const renderError: ErrorRequestHandler = (err, _req, res, _next) => {
  res
    .status(err.status ?? 500)
    .set(err.headers ?? {})
    .json({ code: err.code })
}

async function startApp(issuer: TestIssuer, options: Partial<GuardOptions<Shaped>>): Promise<App> {
  const app = express()
  app.use(jwtGuard<Shaped>({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, claimsSchema: schema, ...options }))
  app.get('/me', (req, res) => void res.json({ payload: req.auth?.payload, scopes: req.auth?.scopes, roles: req.auth?.roles }))
  app.get('/read', requireScopes('orders:read'), (_req, res) => void res.json({ ok: true }))
  app.get('/shouted', requireScopes('ORDERS:READ'), (_req, res) => void res.json({ ok: true }))
  app.get('/admin', requireRoles('admin'), (_req, res) => void res.json({ ok: true }))
  app.get('/reader', requireRoles('reader'), (_req, res) => void res.json({ ok: true }))
  app.get('/acme', requireClaims({ tenant: 'acme' }), (_req, res) => void res.json({ ok: true }))
  app.use(renderError)
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

async function stopApp(app: App | undefined): Promise<void> {
  if (!app) return
  app.server.closeAllConnections()
  await new Promise<void>((resolve) => app.server.close(() => resolve()))
}

interface Answer {
  status: number
  body: Record<string, unknown>
}

async function get(app: App, path: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${app.url}${path}`, { headers: { authorization: `Bearer ${token}`, ...headers } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

const OK = { status: 200, body: { ok: true } }
const REVOKED = { status: 401, body: { code: 'ERR_JWT_REVOKED' } }

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
})
afterAll(() => issuer?.close())

/** A token as the schema above reshapes it: a `jti`, an `iat`, a scope string. */
const token = (claims: Record<string, unknown> = {}) => issuer.sign({ scope: 'orders:read', roles: ['reader'], ...claims })

describe('scopes, roles and claim checks read the signed claims', () => {
  let app: App
  beforeAll(async () => {
    app = await startApp(issuer, {})
  })
  afterAll(() => stopApp(app))

  it('scopes come from the signed scope string, not its transformed copy', async () => {
    const t = await token()
    expect(await get(app, '/read', t)).toEqual(OK)
    expect(await get(app, '/shouted', t)).toEqual({ status: 403, body: { code: 'ERR_JWT_INSUFFICIENT_SCOPE' } })
  })

  it('roles come from the signed roles claim: a role the schema adds grants nothing', async () => {
    const t = await token()
    expect(await get(app, '/reader', t)).toEqual(OK)
    expect(await get(app, '/admin', t)).toEqual({ status: 403, body: { code: 'ERR_JWT_INSUFFICIENT_ROLE' } })
  })

  it('requireClaims values are compared with the signed claims: a schema default satisfies no check', async () => {
    expect(await get(app, '/acme', await token({ tenant: 'acme' }))).toEqual(OK)
    expect(await get(app, '/acme', await token())).toEqual({ status: 403, body: { code: 'ERR_JWT_CLAIM_CHECK_FAILED' } })
  })
})

describe('revocation reads the signed jti, sub and iat (memory store)', () => {
  let store: ReturnType<typeof memoryRevocationStore>
  let lenient: ReturnType<typeof memoryRevocationStore>
  let app: App
  let allowing: App
  beforeAll(async () => {
    store = memoryRevocationStore()
    lenient = memoryRevocationStore({ missingJti: 'allow' })
    app = await startApp(issuer, { revocation: store })
    allowing = await startApp(issuer, { revocation: lenient })
  })
  afterAll(async () => {
    await stopApp(app)
    await stopApp(allowing)
  })

  it('a token passes revocation although the schema stripped its jti, and the route gets the schema output', async () => {
    const t = await token({ jti: randomUUID(), tenant: 'globex' })
    expect(await get(app, '/me', t)).toEqual({
      status: 200,
      body: {
        payload: { user: 'user-123', scope: ['ORDERS:READ'], tenant: 'globex', roles: ['admin'] },
        scopes: ['orders:read'],
        roles: ['reader'],
      },
    })
  })

  it('a token revoked by jti is refused, cached or not', async () => {
    const jti = randomUUID()
    const t = await token({ jti })
    expect(await get(app, '/read', t)).toEqual(OK)
    await store.revoke(jti, now() + 3600)
    expect(await get(app, '/read', t)).toEqual(REVOKED)
  })

  it("with missingJti: 'allow', a revoked token is still refused", async () => {
    const jti = randomUUID()
    const t = await token({ jti })
    expect(await get(allowing, '/read', t)).toEqual(OK)
    await lenient.revoke(jti, now() + 3600)
    expect(await get(allowing, '/read', t)).toEqual(REVOKED)
  })

  it('a subject cut-off refuses the signed sub by its signed iat, though the schema renamed one and dropped the other', async () => {
    const at = now() - 30
    const older = await token({ sub: 'mallory', iat: at - 600 })
    const newer = await token({ sub: 'mallory', iat: at + 1 })
    for (const [target, s] of [
      [app, store],
      [allowing, lenient],
    ] as const) {
      await s.revokeSubject('mallory', at)
      expect(await get(target, '/read', older)).toEqual(REVOKED)
      expect(await get(target, '/read', newer)).toEqual(OK)
    }
  })

  it('isRevoked and a custom store read auth.claims, the signed claims, frozen', async () => {
    const denied = new Set<unknown>()
    const seen: unknown[] = []
    const custom: RevocationStore = {
      async isRevoked(auth) {
        seen.push(Object.isFrozen(auth.claims), auth.claims.sub)
        return false
      },
    }
    const hooked = await startApp(issuer, { isRevoked: (auth) => denied.has(auth.claims.jti), revocation: custom })
    try {
      const jti = randomUUID()
      const t = await token({ jti })
      expect(await get(hooked, '/read', t)).toEqual(OK)
      denied.add(jti)
      expect(await get(hooked, '/read', t)).toEqual(REVOKED)
      expect(seen).toEqual([true, 'user-123'])
    } finally {
      await stopApp(hooked)
    }
  })
})

describe('a schema that mutates its input', () => {
  it('cannot change the signed claims: they are frozen before it runs', async () => {
    const store = memoryRevocationStore()
    // Written as sloppy code would behave: Reflect reports a refused write instead of throwing.
    const mutating: StandardSchemaV1<unknown, Record<string, unknown>> = {
      '~standard': {
        version: 1,
        vendor: 'test',
        validate(value) {
          const claims = value as Record<string, unknown>
          Reflect.deleteProperty(claims, 'jti')
          Reflect.set(claims, 'sub', 'someone-else')
          Reflect.set(claims, 'scope', 'orders:read orders:admin')
          return { value: { ...claims } }
        },
      },
    }
    const guard = createGuard({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      claimsSchema: mutating,
      revocation: store,
    })
    const jti = randomUUID()
    const t = await token({ jti })
    const auth = await guard.verify(t)
    expect(auth.claims).toMatchObject({ jti, sub: 'user-123', scope: 'orders:read' })
    expect(auth.scopes).toEqual(['orders:read'])
    await store.revoke(jti, now() + 3600)
    await expect(guard.verify(t)).rejects.toMatchObject({ code: 'ERR_JWT_REVOKED' })
  })
})

describe('the signed claims are frozen all the way down', () => {
  it('nested objects and arrays, and objects inside arrays, refuse writes', async () => {
    const guard = createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri })
    const t = await token({ org: { id: 'o1', teams: [{ name: 't1', tags: ['a'] }] }, aud: [issuer.audience, 'other'] })
    const { claims } = await guard.verify(t)
    const org = claims.org as { id: string; teams: { name: string; tags: string[] }[] }
    for (const value of [claims, org, org.teams, org.teams[0], org.teams[0]!.tags, claims.aud, claims.roles])
      expect(Object.isFrozen(value)).toBe(true)
    expect(Reflect.set(org.teams[0]!, 'name', 'x')).toBe(false)
    expect(Reflect.set(org.teams[0]!.tags, 0, 'x')).toBe(false)
    expect(org.teams[0]).toEqual({ name: 't1', tags: ['a'] })
  })
})

describe.skipIf(!redisServerAvailable())('revocation reads the signed jti, sub and iat (Redis store)', () => {
  let redis: RedisServer
  let client: ReturnType<typeof createClient>
  let store: ReturnType<typeof redisRevocationStore>
  let app: App
  beforeAll(async () => {
    redis = await startRedis()
    client = createClient({ url: redis.url })
    client.on('error', () => {})
    await client.connect()
    store = redisRevocationStore({ client, prefix: `signed-${randomUUID()}:` })
    app = await startApp(issuer, { revocation: store })
  })
  afterAll(async () => {
    await stopApp(app)
    client?.destroy()
    await redis?.stop()
  })

  it('a token revoked by jti is refused', async () => {
    const jti = randomUUID()
    const t = await token({ jti })
    expect(await get(app, '/read', t)).toEqual(OK)
    await store.revoke(jti, now() + 3600)
    expect(await get(app, '/read', t)).toEqual(REVOKED)
  })

  it('a subject cut-off refuses older tokens of the signed sub', async () => {
    const at = now() - 30
    const older = await token({ sub: 'trudy', iat: at - 600 })
    const newer = await token({ sub: 'trudy', iat: at + 1 })
    expect(await get(app, '/read', older)).toEqual(OK)
    await store.revokeSubject('trudy', at)
    expect(await get(app, '/read', older)).toEqual(REVOKED)
    expect(await get(app, '/read', newer)).toEqual(OK)
  })
})

describe('the DPoP binding reads the signed cnf', () => {
  let app: App
  let key: ClientKey
  let other: ClientKey
  beforeAll(async () => {
    ;[key, other] = await Promise.all([clientKey('ES256'), clientKey('ES256')])
    app = await startApp(issuer, { dpop: { algorithms: ['ES256'], origin: ORIGIN } })
  })
  afterAll(() => stopApp(app))

  const dpop = async (t: string, by: ClientKey): Promise<Answer> => {
    const proof = await signProof(by, { htu: `${ORIGIN}/read`, token: t })
    const res = await fetch(`${app.url}/read`, { headers: { authorization: `DPoP ${t}`, dpop: proof } })
    return { status: res.status, body: (await res.json()) as Record<string, unknown> }
  }

  it('a bound token whose schema strips cnf is refused as Bearer and accepted only with a proof by its key', async () => {
    const t = await token({ cnf: { jkt: key.jkt } })
    expect(await get(app, '/read', t)).toEqual({ status: 401, body: { code: 'ERR_DPOP_BINDING_INVALID' } })
    expect(await dpop(t, other)).toEqual({ status: 401, body: { code: 'ERR_DPOP_BINDING_INVALID' } })
    expect(await dpop(t, key)).toEqual(OK)
  })
})
