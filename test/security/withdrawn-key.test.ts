import { CompactEncrypt, importJWK } from 'jose'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createGuard, type GuardEvent, type GuardOptions } from '../../src/index.js'
import type { StandardSchemaV1 } from '../../src/claims/schema.js'
import { FRAMEWORKS } from '../conformance/apps.js'
import { rejection } from '../helpers/shared.js'
import { encryptionKey } from '../jwe/fixtures.js'
import { createTestIssuer, createTestKey, type TestIssuer } from '../../src/testing/index.js'

// Issue 14, item 5: once a refetch or guard.reload() no longer holds a key, no verification cached
// with that key is served again; the next request with such a token is judged afresh and refused,
// with the answer an uncached token of a vanished key gets.

const AUDIENCE = 'https://api.example.test'
const servers: TestIssuer[] = []
/** An issuer publishing one ES256 key (more with `addKey`). */
async function serve(): Promise<TestIssuer> {
  const server = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE })
  servers.push(server)
  return server
}
afterEach(() => void vi.useRealTimers())
afterAll(() => Promise.all(servers.map((s) => s.close())))

/** A guard on `server`'s JWKS with the default verified-token cache, counting cache hits. */
function guardFor(server: TestIssuer, options: Partial<GuardOptions> = {}) {
  const events: GuardEvent[] = []
  const guard = createGuard({
    issuer: server.issuer,
    audience: AUDIENCE,
    jwksUri: server.jwksUri,
    onEvent: (e) => events.push(e),
    ...options,
  })
  return { guard, hits: (): number => events.filter((e) => e.type === 'cache_hit').length }
}

/** What a token gets from a guard that never saw it (no cache): the answer for a key that is gone. */
async function uncachedAnswer(server: TestIssuer, token: string): Promise<string> {
  const err = await rejection(
    createGuard({ issuer: server.issuer, audience: AUDIENCE, jwksUri: server.jwksUri, cache: false }).verify(token),
  )
  return `${err.code} ${err.status}`
}

async function answer(verification: Promise<unknown>): Promise<string> {
  const err = await rejection(verification)
  return `${err.code} ${err.status}`
}

describe('a remote key that leaves its set', () => {
  it('guard.reload(): its cached token is judged afresh and refused; a kept key keeps its cached tokens', async () => {
    const server = await serve()
    const gone = server.keys()[0]!
    const kept = await server.addKey()
    const { guard, hits } = guardFor(server)
    const doomed = await server.sign({}, { key: gone })
    const staying = await server.sign({}, { key: kept })
    for (let i = 0; i < 2; i++) {
      await guard.verify(doomed)
      await guard.verify(staying)
    }
    expect(hits()).toBe(2)

    server.removeKey(gone)
    await guard.reload()
    expect(server.requests.jwks).toBe(2)
    const expected = await uncachedAnswer(server, doomed)
    expect(expected).toBe('ERR_JWKS_NO_MATCHING_KEY 401')
    expect(await answer(guard.verify(doomed))).toBe(expected)
    expect(await answer(guard.verify(doomed))).toBe(expected)
    // The key that stayed is the same key: its token is still answered from the cache.
    expect((await guard.verify(staying)).payload.sub).toBe('user-123')
    expect(hits()).toBe(3)
  })

  it('a refetch for a new kid after the cooldown: the withdrawn key’s cached token is refused', async () => {
    // Only Date is faked: the fetch and its timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] })
    const server = await serve()
    const gone = server.keys()[0]!
    const { guard, hits } = guardFor(server)
    const doomed = await server.sign({}, { key: gone })
    await guard.verify(doomed)
    await guard.verify(doomed)
    expect(hits()).toBe(1)

    server.removeKey(gone)
    const next = await server.addKey()
    // Past the cooldown, within the key set's age and the token cache's ttl.
    vi.advanceTimersByTime(31_000)
    expect((await guard.verify(await server.sign({}, { key: next }))).payload.sub).toBe('user-123')
    expect(server.requests.jwks).toBe(2)
    const expected = await uncachedAnswer(server, doomed)
    expect(await answer(guard.verify(doomed))).toBe(expected)
    expect(hits()).toBe(1)
  })

  it('a key withdrawn while its token is being verified: that verification is not cached', async () => {
    const server = await serve()
    const gone = server.keys()[0]!
    // A schema that waits for the test: the verification is past its signature check when the key leaves.
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const schema: StandardSchemaV1<unknown, Record<string, unknown>> = {
      '~standard': { version: 1, vendor: 'test', validate: async (value) => (await held, { value: value as Record<string, unknown> }) },
    }
    const { guard } = guardFor(server, { claimsSchema: schema })
    const doomed = await server.sign({}, { key: gone })
    await guard.ready()
    const first = guard.verify(doomed)
    server.removeKey(gone)
    await guard.reload()
    release()
    // Verified before the key left, it is answered; it is not remembered.
    expect((await first).payload.sub).toBe('user-123')
    expect(await answer(guard.verify(doomed))).toBe(await uncachedAnswer(server, doomed))
  })

  it('a nested JWE: the key that verified the inner JWS counts', async () => {
    const server = await serve()
    const gone = server.keys()[0]!
    const encryption = encryptionKey('rsa')
    const { guard, hits } = guardFor(server, { decryption: { keys: encryption.pem } })
    const inner = await server.sign({}, { key: gone })
    const token = await new CompactEncrypt(new TextEncoder().encode(inner))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' })
      .encrypt(await importJWK(encryption.publicJwk, 'RSA-OAEP-256'))
    expect((await guard.verify(token)).encrypted).toBe(true)
    await guard.verify(token)
    expect(hits()).toBe(1)
    server.removeKey(gone)
    await guard.reload()
    expect(await answer(guard.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY 401')
  })
})

describe('getKey: keys jwtguard cannot see leave', () => {
  it('serves a cached token until guard.reload(), which judges it afresh', async () => {
    const server = await serve()
    const key = await createTestKey({ alg: 'ES256' })
    const store = new Map([[key.kid!, key.publicJwk]])
    const { guard, hits } = guardFor(server, { jwksUri: undefined, getKey: (header) => store.get(header.kid!), algorithms: ['ES256'] })
    const token = await server.sign({}, { key })
    await guard.verify(token)
    store.delete(key.kid!)
    // The documented limit: until reload() (or the cache's ttl), the cache still vouches for it.
    await guard.verify(token)
    expect(hits()).toBe(1)
    await guard.reload()
    expect(await answer(guard.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY 401')
    // A key getKey still returns verifies again after reload(), and is cached again.
    store.set(key.kid!, key.publicJwk)
    await guard.verify(token)
    await guard.verify(token)
    expect(hits()).toBe(2)
  })
})

describe.each(FRAMEWORKS)('over HTTP on $name', (framework) => {
  it('a cached token whose key was withdrawn by guard.reload() gets 401 invalid_token', async () => {
    const server = await serve()
    const gone = server.keys()[0]!
    const { guard, hits } = guardFor(server)
    const app = await framework.start({
      guard: undefined,
      shared: guard,
      routes: [{ path: '/me', reply: (auth) => ({ sub: auth?.payload.sub }) }],
    })
    try {
      const token = await server.sign({}, { key: gone })
      const get = () => fetch(`${app.url}/me`, { headers: { authorization: `Bearer ${token}` } })
      for (let i = 0; i < 2; i++) expect((await get()).status).toBe(200)
      expect(hits()).toBe(1)
      server.removeKey(gone)
      await guard.reload()
      const refused = await get()
      expect(refused.status).toBe(401)
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"')
      await refused.arrayBuffer()
      expect(hits()).toBe(1)
    } finally {
      await app.close()
    }
  })
})

describe('key identity (what decides that a refetched key is the same key)', () => {
  it('a local JWKS member JSON cannot hold builds a guard whose key verifies nothing, as before', async () => {
    const server = await serve()
    const jwk = { ...server.keys()[0]!.publicJwk, x: 1n }
    const guard = createGuard({ issuer: server.issuer, audience: AUDIENCE, jwks: { keys: [jwk as never] } })
    expect(await answer(guard.verify(await server.sign()))).toMatch(/ 401$/)
  })
})
