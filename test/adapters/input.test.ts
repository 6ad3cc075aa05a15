// What every adapter's jwtGuard() accepts besides options: nothing (the environment, a drop-in for
// microservices) or a guard made by createGuard (one guard, and its caches, serving several apps).
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGuard, type GuardEvent } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Route } from '../conformance/apps.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer()
})
afterAll(async () => {
  await issuer?.close()
})
afterEach(() => {
  vi.unstubAllEnvs()
})

const routes: Route[] = [{ path: '/me', reply: (auth) => ({ sub: auth?.payload.sub }) }]
const get = (url: string, token?: string) => fetch(`${url}/me`, token ? { headers: { authorization: `Bearer ${token}` } } : {})

describe.each(FRAMEWORKS)('jwtGuard() on $name', (framework) => {
  it('with no options reads JWT_ISSUER, JWT_AUDIENCE and JWT_JWKS_URI', async () => {
    vi.stubEnv('JWT_ISSUER', issuer.issuer)
    vi.stubEnv('JWT_AUDIENCE', issuer.audience as string)
    vi.stubEnv('JWT_JWKS_URI', issuer.jwksUri)
    const app = await framework.start({ guard: undefined, routes })
    try {
      expect((await get(app.url)).status).toBe(401)
      const ok = await get(app.url, await issuer.sign({ sub: 'from-env' }))
      expect(ok.status).toBe(200)
      expect(await ok.json()).toEqual({ sub: 'from-env' })
    } finally {
      await app.close()
    }
  })

  it('with JWT_SECRET and JWT_ALGORITHMS verifies HS256 tokens', async () => {
    // An environment variable holds text: the issuer signs with the same 48 ASCII characters.
    const secret = 'an-hmac-secret-of-forty-eight-ascii-characters!!'
    const hmacIssuer = await createTestIssuer({ secret: new TextEncoder().encode(secret) })
    vi.stubEnv('JWT_ISSUER', hmacIssuer.issuer)
    vi.stubEnv('JWT_AUDIENCE', hmacIssuer.audience as string)
    vi.stubEnv('JWT_SECRET', secret)
    vi.stubEnv('JWT_ALGORITHMS', 'HS256')
    const app = await framework.start({ guard: undefined, routes })
    try {
      expect((await get(app.url, await hmacIssuer.sign({}, { alg: 'HS256' }))).status).toBe(200)
      expect((await get(app.url, await hmacIssuer.sign())).status).toBe(401)
    } finally {
      await app.close()
      await hmacIssuer.close()
    }
  })

  it('fails at start, naming the variable, when the environment lacks JWT_ISSUER', async () => {
    vi.stubEnv('JWT_ISSUER', '')
    vi.stubEnv('JWT_AUDIENCE', 'https://api.example.test')
    await expect(async () => (await framework.start({ guard: undefined, routes })).close()).rejects.toThrow(/JWT_ISSUER/)
  })

  it('given one guard for two apps, shares it: the second app hits the cache the first one filled', async () => {
    const events: GuardEvent[] = []
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, onEvent: (e) => events.push(e) })
    const [a, b] = await Promise.all([
      framework.start({ guard: undefined, shared: guard, routes }),
      framework.start({ guard: undefined, shared: guard, routes }),
    ])
    try {
      const token = await issuer.sign()
      expect((await get(a.url, token)).status).toBe(200)
      expect((await get(b.url, token)).status).toBe(200)
      expect(events.filter((e) => e.type === 'cache_hit')).toHaveLength(1)
      expect(events.filter((e) => e.type === 'jwks_fetched')).toHaveLength(1)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })
})
