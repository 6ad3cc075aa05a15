// The test issuer composes its URLs the way users write paths, and an issuer identifier that ends
// in "/" is discovered and compared exactly; a discovery document naming another issuer is
// explained with both values (never in the HTTP answer).
import { afterEach, describe, expect, it } from 'vitest'
import { createGuard, GuardError } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS } from '../conformance/apps.js'

const open: TestIssuer[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((i) => i.close()))
})
async function issuerWith(options: Parameters<typeof createTestIssuer>[0]): Promise<TestIssuer> {
  const issuer = await createTestIssuer(options)
  open.push(issuer)
  return issuer
}

describe('createTestIssuer({ path })', () => {
  it.each(['tenant', '/tenant', 'tenant/', '/tenant/', '//tenant//'])(
    'path %j gives http://127.0.0.1:PORT/tenant, discoverable',
    async (path) => {
      const issuer = await issuerWith({ path })
      expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant$/)
      expect(issuer.jwksUri).toBe(`${issuer.issuer}/jwks`)
      const guard = createGuard(issuer.guardOptions())
      await expect(guard.verify(await issuer.sign({ sub: 'alice' }))).resolves.toMatchObject({ payload: { sub: 'alice' } })
      expect(issuer.requests.discovery).toBe(1)
    },
  )

  it.each(['', '/'])('path %j is the bare origin', async (path) => {
    const issuer = await issuerWith({ path })
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  })
})

describe('an issuer identifier ending in "/"', () => {
  it.each([undefined, 'tenant'])('(path %j) is discovered and compared exactly', async (path) => {
    const issuer = await issuerWith({ path, trailingSlash: true })
    expect(issuer.issuer.endsWith('/')).toBe(true)
    const guard = createGuard(issuer.guardOptions())
    await expect(guard.verify(await issuer.sign({ sub: 'bob' }))).resolves.toMatchObject({ payload: { iss: issuer.issuer } })
    // No trailing-slash leniency in the token's iss either.
    const without = await issuer.sign({ iss: issuer.issuer.slice(0, -1) })
    await expect(guard.verify(without)).rejects.toMatchObject({ code: 'ERR_JWT_ISSUER_INVALID' })
  })

  it('configured without the slash: the discovery mismatch names both values in cause and explain, not in the answer', async () => {
    const issuer = await issuerWith({ path: 'tenant', trailingSlash: true })
    const configured = issuer.issuer.slice(0, -1)
    const guard = createGuard({ issuer: configured, audience: issuer.audience })
    const token = await issuer.sign({ iss: configured })
    const err = await guard.verify(token).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(GuardError)
    expect(err).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', status: 503, context: { reason: 'issuer_mismatch' } })
    const cause = String((err as GuardError).cause)
    expect(cause).toContain(`"${issuer.issuer}"`)
    expect(cause).toContain(`"${configured}"`)
    expect((err as GuardError).message).not.toContain('127.0.0.1')
    const explained = await guard.explain(token)
    const failed = explained.steps.find((s) => s.ok === false)
    expect(failed?.detail).toContain(JSON.stringify(issuer.issuer))
    expect(failed?.detail).toContain(JSON.stringify(configured))
  })

  it.each(FRAMEWORKS)('over HTTP on $name the mismatch is a 503 with no URL in the body', async (framework) => {
    const issuer = await issuerWith({ path: 'tenant', trailingSlash: true })
    const configured = issuer.issuer.slice(0, -1)
    const app = await framework.start({
      guard: { issuer: configured, audience: issuer.audience },
      routes: [{ path: '/me', reply: () => ({}) }],
    })
    try {
      const res = await fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${await issuer.sign({ iss: configured })}` } })
      expect(res.status).toBe(503)
      expect(await res.text()).not.toContain('127.0.0.1')
    } finally {
      await app.close()
    }
  })
})

describe('fault and bookkeeping controls', () => {
  const get = (url: string) => fetch(url, { signal: AbortSignal.timeout(20_000) })

  it('refuses a fault, a delay, extra keys or discovery settings it does not know, and keeps serving', async () => {
    const issuer = await issuerWith({ algorithms: ['ES256'] })
    expect(() => issuer.setJwksFault('teapot' as never)).toThrow(TypeError)
    for (const ms of [-1, Number.NaN, Infinity, '5' as never]) expect(() => issuer.setJwksDelay(ms)).toThrow(TypeError)
    expect(() => issuer.setExtraJwks({ keys: [] } as never)).toThrow(TypeError)
    for (const settings of [null, 'openid', 1]) expect(() => issuer.setDiscovery(settings as never)).toThrow(TypeError)
    const res = await get(issuer.jwksUri)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual(issuer.jwks())
  })

  it('answers with the fault set when a request arrived, counts faulted answers, and a handler takes precedence', async () => {
    const issuer = await issuerWith({ algorithms: ['ES256'] })
    issuer.setJwksDelay(200)
    issuer.setJwksFault('500')
    const pending = get(issuer.jwksUri)
    // Arrived (bounded wait) while the fault was set: the fault answers it even once cleared.
    for (let i = 0; i < 400 && issuer.requests.jwks === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    issuer.setJwksFault(undefined)
    expect((await pending).status).toBe(500)
    issuer.setJwksDelay(0)
    expect((await get(`${issuer.jwksUri}/tenant-a`)).status).toBe(200)
    issuer.setJwksFault('garbage')
    issuer.setJwksHandler((res) => void res.writeHead(418).end())
    expect((await get(issuer.jwksUri)).status).toBe(418)
    expect(issuer.requests).toMatchObject({ jwks: 3, jwksFaulted: 1 })
    expect([...issuer.jwksRequestsByPath]).toEqual([
      ['/jwks', 2],
      ['/jwks/tenant-a', 1],
    ])
  })

  it('close() ends a delayed answer at once', async () => {
    const issuer = await createTestIssuer({ algorithms: ['ES256'] })
    issuer.setJwksDelay(600_000)
    const pending = get(issuer.jwksUri).then(
      () => 'answered',
      () => 'closed',
    )
    for (let i = 0; i < 400 && issuer.requests.jwks === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25))
    await issuer.close()
    expect(await pending).toBe('closed')
  })

  it('publishes keys with or without a kid, signs with any of them, and withdraws one given by itself', async () => {
    const issuer = await issuerWith({ algorithms: ['ES256'] })
    const bare = await issuer.addKey({ kid: null })
    const rsa = await issuer.addKey({ alg: 'RS256', kid: 'shared' })
    expect(issuer.keys().map((k) => [k.alg, k.kid])).toEqual([
      ['ES256', issuer.keys()[0]!.kid],
      ['ES256', undefined],
      ['RS256', 'shared'],
    ])
    expect(issuer.jwks().keys[1]).not.toHaveProperty('kid')
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, cache: false })
    expect((await guard.verify(await issuer.sign({}, { key: bare }))).header).toEqual({ alg: 'ES256' })
    expect((await guard.verify(await issuer.sign({}, { key: rsa }))).header).toEqual({ alg: 'RS256', kid: 'shared' })
    issuer.removeKey(bare)
    expect(issuer.keys()).toHaveLength(2)
    expect(issuer.jwks().keys.map((k) => k.kid)).toEqual([issuer.keys()[0]!.kid, 'shared'])
  })

  it('without tenants, discovery under another path is 404; with tenants, it names that tenant', async () => {
    const single = await issuerWith({ algorithms: ['ES256'] })
    expect((await get(`${single.origin}/acme/.well-known/openid-configuration`)).status).toBe(404)
    const multi = await issuerWith({ algorithms: ['ES256'], tenants: true })
    const doc = await (await get(`${multi.origin}/.well-known/oauth-authorization-server/acme`)).json()
    expect(doc).toMatchObject({ issuer: `${multi.origin}/acme`, jwks_uri: multi.jwksUri })
    const guard = createGuard({ issuer: `${multi.origin}/acme`, audience: multi.audience })
    await expect(guard.verify(await multi.sign({ iss: `${multi.origin}/acme` }))).resolves.toMatchObject({ payload: { sub: 'user-123' } })
    expect(single.requests).toMatchObject({ discovery: 1, openid: 1, oauth: 0 })
  })

  it('rotate(alg, { keepOld: false }) after the current key was withdrawn leaves the other keys published', async () => {
    const issuer = await issuerWith({ algorithms: ['ES256', 'RS256'] })
    const [es, rs] = issuer.keys()
    issuer.removeKey(es!.kid!)
    const next = await issuer.rotate('ES256', { keepOld: false })
    expect(issuer.keys().map((k) => k.kid)).toEqual([rs!.kid, next])
  })
})
