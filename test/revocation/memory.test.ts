import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGuard, GuardError, memoryRevocationStore, type Guard, type GuardEvent, type GuardOptions } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { authOf } from '../helpers/shared.js'

let issuer: TestIssuer
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['RS256', 'ES256'] })
})
afterAll(() => issuer.close())

const now = (): number => Math.floor(Date.now() / 1000)
const guardWith = (options: Partial<GuardOptions> = {}): Guard =>
  createGuard({ issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, ...options })

async function refusal(promise: Promise<unknown>): Promise<GuardError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GuardError)
  return err as GuardError
}

const REVOKED_CHALLENGE = 'Bearer realm="api", error="invalid_token", error_description="Token revoked"'

describe('memoryRevocationStore: jti', () => {
  it('refuses a revoked token with 401 invalid_token and lets other tokens through', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store })
    const jti = randomUUID()
    const revoked = await issuer.sign({ jti })
    const other = await issuer.sign()
    await expect(guard.verify(revoked)).resolves.toMatchObject({ payload: { jti } })
    await store.revoke(jti, now() + 3600)
    const err = await refusal(guard.verify(revoked))
    expect(err).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401, challenge: 'invalid_token' })
    expect(err.headers['WWW-Authenticate']).toBe(REVOKED_CHALLENGE)
    await expect(guard.verify(other)).resolves.toMatchObject({ payload: { sub: 'user-123' } })
  })

  it('is asked on every verification, cache hits too: a token served from the verified-token cache is refused once revoked', async () => {
    const store = memoryRevocationStore()
    const events: GuardEvent[] = []
    let hookCalls = 0
    const guard = guardWith({
      revocation: store,
      isRevoked: () => (hookCalls++, false),
      cache: { max: 100, ttl: 300 },
      onEvent: (e) => events.push(e),
    })
    const jti = randomUUID()
    const token = await issuer.sign({ jti })
    await guard.verify(token)
    await guard.verify(token)
    expect(events).toContainEqual({ type: 'cache_hit' })
    await store.revoke(jti, now() + 60)
    expect(await refusal(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
    expect(events.filter((e) => e.type === 'cache_hit')).toHaveLength(2)
    expect(hookCalls).toBe(3)
    expect(events).toContainEqual({ type: 'token_rejected', code: 'ERR_JWT_REVOKED', reason: 'revoked' })
  })

  it('concurrent requests with one token share a verification, yet each is checked against the store', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store })
    const jti = randomUUID()
    const token = await issuer.sign({ jti })
    await store.revoke(jti, now() + 60)
    const settled = await Promise.allSettled(Array.from({ length: 5 }, () => guard.verify(token)))
    expect(settled.map((r) => (r.status === 'rejected' ? r.reason.code : 'ok'))).toEqual(Array(5).fill('ERR_JWT_REVOKED'))
  })

  it('with leeway 0, drops the entry at expiresAt, not a millisecond before (the store keeps time with Date)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
    try {
      const store = memoryRevocationStore({ leeway: 0 })
      const expiresAt = now() + 1
      await store.revoke('short-lived', expiresAt)
      await store.revoke('already-expired', now() - 1)
      expect(store.size.jti).toBe(1)
      const auth = authOf({ jti: 'short-lived' })
      vi.setSystemTime(expiresAt * 1000 - 1)
      expect(await store.isRevoked(auth)).toBe(true)
      vi.setSystemTime(expiresAt * 1000)
      expect(await store.isRevoked(auth)).toBe(false)
      expect(store.size.jti).toBe(0)
    } finally {
      vi.useRealTimers()
    }
  })

  it.each([
    // [leeway option, expiresAt relative to now, held]: an entry lives until expiresAt + leeway (default 60 s).
    [undefined, -10, true],
    [undefined, -58, true],
    [undefined, -61, false],
    [10, -8, true],
    [10, -11, false],
  ])('leeway %s: a revocation whose expiresAt is now%i s is held: %s', async (leeway, offset, held) => {
    const store = memoryRevocationStore(leeway === undefined ? {} : { leeway })
    await store.revoke('j', now() + offset)
    expect(store.size.jti).toBe(held ? 1 : 0)
    expect(await store.isRevoked(authOf({ jti: 'j' }))).toBe(held)
  })

  // The guard accepts a token until exp + clockTolerance (default 5 s): the entry must outlive exp by at least that,
  // and a revocation sent after exp (but inside the tolerance) must still be stored.
  it('keeps refusing a revoked token while the guard still accepts it under clockTolerance', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store })
    const exp = now() - 2
    const jti = randomUUID()
    const token = await issuer.sign({ jti, iat: exp - 60, exp })
    await expect(guard.verify(token)).resolves.toBeDefined()
    await store.revoke(jti, exp)
    expect(store.size.jti).toBe(1)
    expect(await refusal(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
  })

  it('the default leeway covers a token accepted past its exp + the default clockTolerance (here clockTolerance 30 s)', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store, clockTolerance: 30 })
    const exp = now() - 20
    const jti = randomUUID()
    const token = await issuer.sign({ jti, iat: exp - 60, exp })
    await expect(guard.verify(token)).resolves.toMatchObject({ payload: { jti, exp } })
    await store.revoke(jti, exp)
    expect(await refusal(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
  })

  it('stays within max and never forgets: past max live entries a new revocation is refused, the oldest kept', async () => {
    const store = memoryRevocationStore({ max: 1000 })
    const exp = now() + 3600
    for (let i = 0; i < 1000; i++) await store.revoke(`jti-${i}`, exp)
    await expect(store.revoke('jti-1000', exp)).rejects.toMatchObject({ code: 'ERR_REVOCATION_STORE_FULL', status: 503 })
    expect(store.size.jti).toBe(1000)
    expect(await store.isRevoked(authOf({ jti: 'jti-0' }))).toBe(true)
    expect(await store.isRevoked(authOf({ jti: 'jti-999' }))).toBe(true)
    expect(await store.isRevoked(authOf({ jti: 'jti-1000' }))).toBe(false)
    for (let i = 0; i < 1000; i++) await store.revokeSubject(`user-${i}`, now())
    await expect(store.revokeSubject('user-1000', now())).rejects.toMatchObject({ code: 'ERR_REVOCATION_STORE_FULL' })
    expect(store.size).toEqual({ jti: 1000, subjects: 1000 })
  })
})

describe('memoryRevocationStore: the same token spelled another way', () => {
  it('keys on the jti: the same claims re-signed with another alg or a new key are refused', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store })
    const jti = randomUUID()
    const claims = { jti, iat: now() - 10, exp: now() + 600 }
    const original = await issuer.sign(claims)
    const otherAlg = await issuer.sign(claims, { alg: 'ES256' })
    await issuer.rotate('RS256')
    // A new kid is unknown to the guard's cached JWKS: reload so the token verifies and reaches the store.
    await guard.reload()
    const newKey = await issuer.sign(claims)
    for (const token of [original, otherAlg, newKey]) await expect(guard.verify(token)).resolves.toBeDefined()
    await store.revoke(jti, claims.exp)
    for (const token of [original, otherAlg, newKey]) {
      expect(await refusal(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
    }
  })

  it('refuses it whatever the scheme case, spacing, or whether it comes in a header or a cookie', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store, tokenFrom: ['header', { cookie: 'at' }] })
    const jti = randomUUID()
    const token = await issuer.sign({ jti })
    await store.revoke(jti, now() + 600)
    const requests = [
      { headers: { authorization: `Bearer ${token}` } },
      { headers: { authorization: `bearer ${token}` } },
      { headers: { authorization: `BEARER   ${token}` } },
      { headers: { cookie: `at=${token}` } },
      { headers: {}, cookies: { at: token } },
    ]
    for (const request of requests) {
      const err = await refusal(guard.authenticate(request))
      expect(err).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
      expect(err.headers['WWW-Authenticate']).toBe(REVOKED_CHALLENGE)
    }
  })
})

describe('memoryRevocationStore: subjects', () => {
  it('revokeSubject(sub, at) refuses that user’s tokens issued before `at`, and accepts one issued at or after it and other users', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store })
    const at = now() - 30
    const older = await issuer.sign({ sub: 'alice', iat: at - 100 })
    const justBefore = await issuer.sign({ sub: 'alice', iat: at - 1 })
    const same = await issuer.sign({ sub: 'alice', iat: at })
    const later = await issuer.sign({ sub: 'alice', iat: at + 1 })
    const bob = await issuer.sign({ sub: 'bob', iat: at - 100 })
    await store.revokeSubject('alice', at)
    for (const token of [older, justBefore]) {
      expect(await refusal(guard.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
    }
    await expect(guard.verify(same)).resolves.toMatchObject({ payload: { sub: 'alice', iat: at } })
    await expect(guard.verify(later)).resolves.toMatchObject({ payload: { sub: 'alice', iat: at + 1 } })
    await expect(guard.verify(bob)).resolves.toMatchObject({ payload: { sub: 'bob' } })
  })

  it('keeps the latest cut-off, and refuses a token with no iat (it cannot prove it is newer)', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store })
    const at = now() - 30
    await store.revokeSubject('alice', at)
    await store.revokeSubject('alice', at - 1000)
    expect(await refusal(guard.verify(await issuer.sign({ sub: 'alice', iat: at - 10 })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
    expect(await refusal(guard.verify(await issuer.sign({ sub: 'alice', iat: undefined })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
    // The cut-off kept is `at` itself, not a later one: a token issued at `at` passes.
    await expect(guard.verify(await issuer.sign({ sub: 'alice', iat: at }))).resolves.toMatchObject({ payload: { iat: at } })
  })
})

describe('memoryRevocationStore: tokens without jti', () => {
  it('refuses them by default with ERR_JWT_JTI_MISSING', async () => {
    const guard = guardWith({ revocation: memoryRevocationStore() })
    const err = await refusal(guard.verify(await issuer.sign({ jti: undefined })))
    expect(err).toMatchObject({ code: 'ERR_JWT_JTI_MISSING', status: 401, challenge: 'invalid_token', context: { claim: 'jti' } })
    expect(err.headers['WWW-Authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="Token has no token id"')
  })

  it('lets them through with missingJti: "allow", still checking the subject cut-off', async () => {
    const store = memoryRevocationStore({ missingJti: 'allow' })
    const guard = guardWith({ revocation: store })
    await expect(guard.verify(await issuer.sign({ jti: undefined }))).resolves.toMatchObject({ payload: { sub: 'user-123' } })
    await store.revokeSubject('user-123', now())
    expect(await refusal(guard.verify(await issuer.sign({ jti: undefined, iat: now() - 5 })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
  })
})

describe('the isRevoked hook', () => {
  it('true refuses with 401 ERR_JWT_REVOKED; false lets the token through; it sees the verified claims', async () => {
    const seen: unknown[] = []
    const guard = guardWith({
      isRevoked: async (auth) => {
        seen.push(auth.payload.jti)
        return auth.payload.sub === 'mallory'
      },
    })
    const err = await refusal(guard.verify(await issuer.sign({ sub: 'mallory', jti: 'j-1' })))
    expect(err).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
    expect(err.headers['WWW-Authenticate']).toBe(REVOKED_CHALLENGE)
    await expect(guard.verify(await issuer.sign({ sub: 'alice', jti: 'j-2' }))).resolves.toBeDefined()
    expect(seen).toEqual(['j-1', 'j-2'])
  })

  // As in express-jwt: a hook ported from there may return a row or 1, and that must not let the token through.
  it.each([[1], ['yes'], [{ id: 7 }], [[]]])('a truthy non-boolean answer (%o) from the hook or a store refuses', async (answer) => {
    const token = await issuer.sign()
    const hook = guardWith({ isRevoked: async () => answer as unknown as boolean })
    expect(await refusal(hook.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
    const custom = guardWith({ revocation: { isRevoked: async () => answer as unknown as boolean } })
    expect(await refusal(custom.verify(token))).toMatchObject({ code: 'ERR_JWT_REVOKED', status: 401 })
  })

  it.each([[0], [''], [null], [undefined]])('a falsy answer (%o) lets the token through', async (answer) => {
    const guard = guardWith({
      isRevoked: () => answer as unknown as boolean,
      revocation: { isRevoked: async () => answer as unknown as boolean },
    })
    await expect(guard.verify(await issuer.sign())).resolves.toMatchObject({ payload: { sub: 'user-123' } })
  })

  it('is never called for a token that fails verification', async () => {
    let calls = 0
    const guard = guardWith({ isRevoked: () => (calls++, false) })
    expect(await refusal(guard.verify(await issuer.sign({ exp: now() - 600 })))).toMatchObject({ code: 'ERR_JWT_EXPIRED' })
    expect(calls).toBe(0)
  })

  it.each([
    [
      'throws',
      () => {
        throw new Error('db down')
      },
    ],
    ['rejects', () => Promise.reject(new Error('db down'))],
  ])('%s: 503 ERR_REVOCATION_UNAVAILABLE with no WWW-Authenticate, reported through onEvent', async (_, isRevoked) => {
    const events: GuardEvent[] = []
    const guard = guardWith({ isRevoked, onEvent: (e) => events.push(e) })
    const err = await refusal(guard.verify(await issuer.sign()))
    expect(err).toMatchObject({ code: 'ERR_REVOCATION_UNAVAILABLE', status: 503, challenge: undefined })
    expect(err.headers['WWW-Authenticate']).toBeUndefined()
    expect((err.cause as Error).message).toBe('db down')
    expect(events).toContainEqual({ type: 'revocation_unavailable', reason: 'check_threw', failOpen: false })
  })

  it('and a store both run: either one refusing is enough', async () => {
    const store = memoryRevocationStore()
    const guard = guardWith({ revocation: store, isRevoked: (auth) => auth.payload.sub === 'mallory' })
    const jti = randomUUID()
    await store.revoke(jti, now() + 60)
    expect(await refusal(guard.verify(await issuer.sign({ jti })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
    expect(await refusal(guard.verify(await issuer.sign({ sub: 'mallory' })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
    await expect(guard.verify(await issuer.sign())).resolves.toBeDefined()
  })
})

describe('bad arguments', () => {
  const store = memoryRevocationStore()

  it.each([
    ['an empty jti', '', 1],
    ['a numeric jti', 42, 1],
    ['no expiresAt', 'j', undefined],
    ['NaN', 'j', Number.NaN],
    ['Infinity', 'j', Number.POSITIVE_INFINITY],
    ['a string expiresAt', 'j', '1893456000'],
  ])('revoke with %s throws a TypeError', async (_, id, at) => {
    const err = await store.revoke(id as string, at as number).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as TypeError).message).toMatch(/^jwtguard: revoke\(jti, expiresAt\) needs /)
  })

  it.each([
    ['an empty sub', '', 1],
    ['a null sub', null, 1],
    ['a Date for at', 'u', new Date()],
  ])('revokeSubject with %s throws a TypeError', async (_, id, at) => {
    const err = await store.revokeSubject(id as string, at as number).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as TypeError).message).toMatch(/^jwtguard: revokeSubject\(sub, at\) needs /)
  })

  it.each([
    [{ max: 0 }, 'max'],
    [{ max: 1.5 }, 'max'],
    [{ subjectTtl: -1 }, 'subjectTtl'],
    [{ missingJti: 'ignore' }, 'missingJti'],
    [{ leeway: -1 }, 'leeway'],
    [{ leeway: Number.NaN }, 'leeway'],
    [{ leeway: '60' }, 'leeway'],
  ])('memoryRevocationStore(%o) throws a TypeError naming %s', (options, name) => {
    expect(() => memoryRevocationStore(options as never)).toThrow(TypeError)
    expect(() => memoryRevocationStore(options as never)).toThrow(`option "${name}"`)
  })

  it('a revocation option without isRevoked fails at construction', () => {
    expect(() => guardWith({ revocation: {} as never })).toThrow(/revocation/)
  })
})
