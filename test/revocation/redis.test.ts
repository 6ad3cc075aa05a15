import { randomUUID } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import express, { type ErrorRequestHandler } from 'express'
import { createClient } from 'redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwtGuard } from '../../adapters/express.js'
import type { GuardEvent } from '../../src/index.js'
import { redisRevocationStore, type RedisRevocationStore, type RedisRevocationStoreOptions } from '../../src/revocation/redis.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { redisServerAvailable, startRedis, type RedisServer } from '../helpers/redis.js'

type Client = ReturnType<typeof createClient>

const PREFIX = 'fleet-test:'
/** The stores' default `leeway`: a jti key outlives the token's exp by this many seconds. */
const DEFAULT_LEEWAY = 60
const now = (): number => Math.floor(Date.now() / 1000)

/** One instance of the API: its own Redis connection, its own store, its own HTTP server. */
interface Instance {
  client: Client
  store: RedisRevocationStore
  events: GuardEvent[]
  url: string
  server: Server
}

/** Renders a guard error as the code, with the guard's headers (WWW-Authenticate). */
const renderError: ErrorRequestHandler = (err, _req, res, _next) => {
  res
    .status(err.status ?? 500)
    .set(err.headers ?? {})
    .json({ code: err.code })
}

async function connect(url: string): Promise<Client> {
  // Retry fast so the recovery test does not wait; a client without an 'error' listener crashes the process.
  const client = createClient({ url, socket: { reconnectStrategy: () => 50 } })
  client.on('error', () => {})
  await client.connect()
  return client
}

async function startInstance(issuer: TestIssuer, redisUrl: string, options: Partial<RedisRevocationStoreOptions> = {}): Promise<Instance> {
  const client = await connect(redisUrl)
  const store = redisRevocationStore({ client, prefix: PREFIX, ...options })
  const events: GuardEvent[] = []
  const app = express()
  app.use(
    jwtGuard({
      issuer: issuer.issuer,
      audience: issuer.audience,
      jwksUri: issuer.jwksUri,
      revocation: store,
      onEvent: (e) => events.push(e),
    }),
  )
  app.get('/me', (req, res) => void res.json({ sub: req.auth?.payload.sub }))
  app.use(renderError)
  const server = createServer(app)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { client, store, events, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/me` }
}

async function call(instance: Instance, token: string): Promise<{ status: number; challenge: string | null; body: unknown }> {
  const res = await fetch(instance.url, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, challenge: res.headers.get('www-authenticate'), body: await res.json() }
}

const REVOKED = {
  status: 401,
  challenge: 'Bearer realm="api", error="invalid_token", error_description="Token revoked"',
  body: { code: 'ERR_JWT_REVOKED' },
}
const UNAVAILABLE = { status: 503, challenge: null, body: { code: 'ERR_REVOCATION_UNAVAILABLE' } }
const ok = (sub = 'user-123') => ({ status: 200, challenge: null, body: { sub } })

describe.skipIf(!redisServerAvailable())('redisRevocationStore: a fleet sharing one Redis', () => {
  let redis: RedisServer
  let issuer: TestIssuer
  let admin: Client
  let a: Instance
  let b: Instance
  let open: Instance

  beforeAll(async () => {
    redis = await startRedis()
    issuer = await createTestIssuer({ algorithms: ['RS256'] })
    admin = await connect(redis.url)
    a = await startInstance(issuer, redis.url)
    b = await startInstance(issuer, redis.url, { subjectTtl: 7200 })
    open = await startInstance(issuer, redis.url, { failOpen: true })
  })

  afterAll(async () => {
    for (const instance of [a, b, open]) {
      if (!instance) continue
      instance.server.closeAllConnections()
      await new Promise<void>((resolve) => instance.server.close(() => resolve()))
      instance.client.destroy()
    }
    admin?.destroy()
    await issuer?.close()
    await redis?.stop()
  })

  it('a jti revoked through one instance is refused by the other at once; other tokens pass', async () => {
    const jti = randomUUID()
    const token = await issuer.sign({ jti })
    const other = await issuer.sign()
    expect(await call(b, token)).toEqual(ok())
    await a.store.revoke(jti, now() + 600)
    expect(await call(b, token)).toEqual(REVOKED)
    expect(await call(a, token)).toEqual(REVOKED)
    expect(await call(b, other)).toEqual(ok())
  })

  it('revokeSubject refuses every token of the user issued before `at` and accepts one issued at or after it', async () => {
    const at = now() - 30
    const tokens = await Promise.all([at - 600, at - 1].map((iat) => issuer.sign({ sub: 'alice', iat })))
    const same = await issuer.sign({ sub: 'alice', iat: at })
    const later = await issuer.sign({ sub: 'alice', iat: at + 1 })
    const bob = await issuer.sign({ sub: 'bob', iat: at - 600 })
    await b.store.revokeSubject('alice', at)
    for (const token of tokens) {
      expect(await call(a, token)).toEqual(REVOKED)
      expect(await call(b, token)).toEqual(REVOKED)
    }
    expect(await call(a, same)).toEqual(ok('alice'))
    expect(await call(b, later)).toEqual(ok('alice'))
    expect(await call(b, bob)).toEqual(ok('bob'))
  })

  // An earlier `at` arriving later (a retried or out-of-order admin call) must not lift a revocation:
  // the cut-off only moves forward, as in the memory store.
  it('keeps the latest subject cut-off, whatever order the calls arrive in', async () => {
    const at = now() - 30
    const key = `${PREFIX}sub:carol`
    const token = await issuer.sign({ sub: 'carol', iat: at - 10 })
    await a.store.revokeSubject('carol', at - 1000)
    expect(await admin.get(key)).toBe(String(at - 1000))
    await a.store.revokeSubject('carol', at)
    await b.store.revokeSubject('carol', at - 1000)
    expect(await admin.get(key)).toBe(String(at))
    expect(await admin.ttl(key)).toBeGreaterThan(0)
    expect(await call(a, token)).toEqual(REVOKED)
    expect(await call(b, await issuer.sign({ sub: 'carol', iat: at }))).toEqual(ok('carol'))

    // Two instances racing: the highest cut-off wins, not the last write.
    const cutoffs = Array.from({ length: 20 }, (_, i) => at - 1000 + ((i * 7) % 20))
    await Promise.all(cutoffs.map((cutoff, i) => (i % 2 ? a : b).store.revokeSubject('erin', cutoff)))
    expect(await admin.get(`${PREFIX}sub:erin`)).toBe(String(Math.max(...cutoffs)))
  })

  it('keeps its keys under the prefix, the jti key expiring leeway after the token and the subject after subjectTtl', async () => {
    const jti = randomUUID()
    const exp = now() + 900
    await a.store.revoke(jti, exp)
    await b.store.revokeSubject('dave', now())
    const keys = await admin.keys(`${PREFIX}*`)
    expect(keys).toEqual(expect.arrayContaining([`${PREFIX}jti:${jti}`, `${PREFIX}sub:dave`]))
    expect(keys.every((key) => key.startsWith(PREFIX))).toBe(true)
    const jtiTtl = await admin.ttl(`${PREFIX}jti:${jti}`)
    expect(jtiTtl).toBeGreaterThan(900 + DEFAULT_LEEWAY - 5)
    expect(jtiTtl).toBeLessThanOrEqual(900 + DEFAULT_LEEWAY)
    const subTtl = await admin.ttl(`${PREFIX}sub:dave`)
    expect(subTtl).toBeGreaterThan(7200 - 5)
    expect(subTtl).toBeLessThanOrEqual(7200)
    expect(await admin.get(`${PREFIX}sub:dave`)).toMatch(/^\d+$/)
  })

  it('stores a revocation whose expiresAt is past while expiresAt + leeway is not, and skips it after', async () => {
    await a.store.revoke('recently-expired', now() - 10)
    expect(await admin.ttl(`${PREFIX}jti:recently-expired`)).toBeGreaterThan(DEFAULT_LEEWAY - 10 - 5)
    expect(await admin.ttl(`${PREFIX}jti:recently-expired`)).toBeLessThanOrEqual(DEFAULT_LEEWAY - 10)
    await a.store.revoke('long-gone', now() - DEFAULT_LEEWAY - 1)
    expect(await admin.exists(`${PREFIX}jti:long-gone`)).toBe(0)
    const strict = redisRevocationStore({ client: admin, prefix: PREFIX, leeway: 0 })
    await strict.revoke('just-expired', now() - 1)
    expect(await admin.exists(`${PREFIX}jti:just-expired`)).toBe(0)
    await strict.revoke('short-lived', now() + 30)
    expect(await admin.ttl(`${PREFIX}jti:short-lived`)).toBeGreaterThan(30 - 5)
    expect(await admin.ttl(`${PREFIX}jti:short-lived`)).toBeLessThanOrEqual(30)
  })

  // The guard accepts a token until exp + clockTolerance (default 5 s): a revocation sent
  // after exp but inside the tolerance must be stored, and outlive exp.
  it('keeps refusing a revoked token while the guard still accepts it under clockTolerance', async () => {
    const exp = now() - 2
    const jti = randomUUID()
    const token = await issuer.sign({ jti, iat: exp - 60, exp })
    expect(await call(b, token)).toEqual(ok())
    await a.store.revoke(jti, exp)
    expect(await admin.ttl(`${PREFIX}jti:${jti}`)).toBeGreaterThan(DEFAULT_LEEWAY - 2 - 5)
    expect(await call(b, token)).toEqual(REVOKED)
  })

  it('asks Redis once per request: one MGET, nothing else', async () => {
    const token = await issuer.sign()
    await admin.configResetStat()
    expect(await call(a, token)).toEqual(ok())
    const stats = await admin.info('commandstats')
    const calls = Object.fromEntries([...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1], Number(m[2])]))
    delete calls.info
    delete calls['config|resetstat']
    expect(calls).toEqual({ mget: 1 })
  })

  it('Redis down: 503 when failing closed, 200 with an event when failOpen; recovers when Redis is back', async () => {
    const jti = randomUUID()
    const token = await issuer.sign({ jti })
    expect(await call(a, token)).toEqual(ok())
    await redis.stop()

    // Every request settles (the store's 200 ms deadline), none hangs.
    expect(await call(a, token)).toEqual(UNAVAILABLE)
    expect(await call(b, token)).toEqual(UNAVAILABLE)
    expect(a.events).toContainEqual(expect.objectContaining({ type: 'revocation_unavailable', failOpen: false }))
    expect(a.events).toContainEqual({ type: 'token_rejected', code: 'ERR_REVOCATION_UNAVAILABLE', reason: expect.any(String) })
    expect(await call(open, token)).toEqual(ok())
    expect(open.events).toContainEqual(expect.objectContaining({ type: 'revocation_unavailable', failOpen: true }))
    // Once the client knows Redis is gone, calls fail at once rather than queue behind the outage.
    for (let i = 0; i < 100 && a.client.isReady; i++) await sleep(50)
    // Writes fail fast with the same 503-class error as checks (nothing is queued): callers retry.
    const down = { code: 'ERR_REVOCATION_UNAVAILABLE', status: 503, context: { reason: 'not_connected' } }
    await expect(a.store.revoke(randomUUID(), now() + 60)).rejects.toMatchObject(down)
    await expect(a.store.revokeSubject('user-123', now())).rejects.toMatchObject(down)
    expect(await call(a, token)).toEqual(UNAVAILABLE)
    expect(a.events.slice(-2)).toEqual([
      { type: 'revocation_unavailable', reason: 'not_connected', failOpen: false },
      { type: 'token_rejected', code: 'ERR_REVOCATION_UNAVAILABLE', reason: 'not_connected' },
    ])

    await redis.restart()
    // The restarted Redis is empty: never read as "nothing is revoked". Every instance refuses (failOpen too)
    // and reports the wipe once, until an operator acknowledges it.
    let answer = await call(a, token)
    for (let i = 0; i < 100 && answer.status === 503 && !a.events.some((e) => e.type === 'revocation_store_reset'); i++) {
      await sleep(50)
      answer = await call(a, token)
    }
    expect(answer).toEqual(UNAVAILABLE)
    for (let i = 0; i < 100 && !b.client.isReady; i++) await sleep(50)
    for (let i = 0; i < 100 && !open.client.isReady; i++) await sleep(50)
    expect(await call(b, token)).toEqual(UNAVAILABLE)
    expect(await call(open, token)).toEqual(UNAVAILABLE)
    for (const instance of [a, b, open]) {
      expect(instance.events.filter((e) => e.type === 'revocation_store_reset')).toEqual([
        { type: 'revocation_store_reset', restored: false },
      ])
      expect(instance.events.at(-1)).toEqual({ type: 'token_rejected', code: 'ERR_REVOCATION_UNAVAILABLE', reason: 'reset' })
    }
    // The operator re-issues what must stay revoked, then acknowledges on any one instance: all resume.
    await b.store.revoke(jti, now() + 600)
    await a.store.acknowledgeReset()
    expect(await call(a, token)).toEqual(REVOKED)
    expect(await call(b, token)).toEqual(REVOKED)
    expect(await call(open, token)).toEqual(REVOKED)
    expect(await call(b, await issuer.sign())).toEqual(ok())
  })

  it('FLUSHALL is a wipe too: refused until acknowledged, reported once per instance', async () => {
    const jti = randomUUID()
    const token = await issuer.sign({ jti })
    await a.store.revoke(jti, now() + 600)
    expect(await call(b, token)).toEqual(REVOKED)
    const before = b.events.filter((e) => e.type === 'revocation_store_reset').length
    await admin.flushAll()
    // Without the marker this would be a 200: the revocation is gone from Redis.
    expect(await call(b, token)).toEqual(UNAVAILABLE)
    expect(await call(b, await issuer.sign())).toEqual(UNAVAILABLE)
    expect(b.events.filter((e) => e.type === 'revocation_store_reset').length).toBe(before + 1)
    await a.store.revoke(jti, now() + 600)
    await b.store.acknowledgeReset()
    expect(await call(a, token)).toEqual(REVOKED)
    expect(await call(b, await issuer.sign())).toEqual(ok())
  })

  // A deadline alone only stops waiting: the MGET would stay in the client's offline queue
  // (unbounded during an outage, one per request) and be replayed when Redis returns.
  it('a check made during an outage is never queued, so not replayed when Redis returns', async () => {
    const client = await connect(redis.url)
    const store = redisRevocationStore({ client, prefix: PREFIX, failOpen: true })
    const events: GuardEvent[] = []
    await redis.stop()
    for (let i = 0; i < 100 && client.isReady; i++) await sleep(50)
    expect(client.isReady).toBe(false)
    const auth = {
      token: 'unused',
      header: { alg: 'RS256' },
      payload: { jti: 'j', sub: 's', iat: 1 },
      claims: { jti: 'j', sub: 's', iat: 1 },
      scopes: [],
      roles: [],
      encrypted: false,
    }
    const checks = Array.from({ length: 20 }, () => store.isRevoked(auth, { emit: (e) => events.push(e) }))
    expect(await Promise.all(checks)).toEqual(Array(20).fill(false))
    expect(events).toEqual(Array(20).fill({ type: 'revocation_unavailable', reason: 'not_connected', failOpen: true }))
    await redis.restart()
    for (let i = 0; i < 100 && !client.isReady; i++) await sleep(50)
    // The queue is FIFO: once this PING is answered, anything queued before it has run.
    await client.ping()
    const stats = await client.info('commandstats')
    client.destroy()
    expect(stats).not.toMatch(/^cmdstat_mget:/m)
  })
})

describe('redisRevocationStore options', () => {
  const client = { sendCommand: async () => null }

  it.each([
    [{}, 'client'],
    [{ client: {} }, 'client'],
    [{ client: { mGet: async () => [], set: async () => 'OK' } }, 'client'],
    [{ client, timeout: 0 }, 'timeout'],
    [{ client, timeout: Number.NaN }, 'timeout'],
    [{ client, subjectTtl: 0 }, 'subjectTtl'],
    [{ client, missingJti: 'skip' }, 'missingJti'],
    [{ client, leeway: -5 }, 'leeway'],
    [{ client, leeway: Number.POSITIVE_INFINITY }, 'leeway'],
    [{ client, replicate: 'yes' }, 'replicate'],
    [{ client, replicate: { maxLagMs: 0 } }, 'replicate'],
    [{ client, replicate: { maxLagMs: 120_000 } }, 'replicate'],
    [{ client, replicate: { maxLagMs: Number.NaN } }, 'replicate'],
  ])('redisRevocationStore(%o) throws a TypeError naming %s', (options, name) => {
    expect(() => redisRevocationStore(options as never)).toThrow(TypeError)
    expect(() => redisRevocationStore(options as never)).toThrow(`option "${name}"`)
  })
})
