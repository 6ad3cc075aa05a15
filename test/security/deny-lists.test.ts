import { randomUUID } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { DEFAULT_REPLAY_MAX, memoryDpopReplayStore } from '../../src/dpop/replay.js'
import {
  createGuard,
  memoryRevocationStore,
  type AuthInfo,
  type DpopReplayStore,
  type GuardEvent,
  type GuardOptions,
} from '../../src/index.js'
import { ExpiringMap } from '../../src/revocation/expiring.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type Running } from '../conformance/apps.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'
import { expectErrorBody, get, startAt } from '../dpop/http.js'
import { rejection } from '../helpers/shared.js'

// Issue 14, item 3: a deny-list never forgets an entry before it expires. Both
// in-memory stores were LRU caches: `max` newer entries evicted a revoked token
// or a used proof, which was then accepted again. Full now means refused.

let issuer: TestIssuer
let key: ClientKey
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  key = await clientKey('ES256')
})
afterAll(() => issuer?.close())
afterEach(() => {
  vi.useRealTimers()
})

/** Only the clock is fake: sockets and timers stay real for the HTTP servers. */
const freezeClock = (): void => {
  vi.useFakeTimers({ toFake: ['Date'], now: Date.now() })
}
const advance = (ms: number): void => {
  vi.setSystemTime(Date.now() + ms)
}
const seconds = (): number => Math.floor(Date.now() / 1000)

const authOf = (payload: Record<string, unknown>): AuthInfo<unknown> => ({
  token: 'unused',
  header: { alg: 'ES256' },
  payload,
  claims: payload,
  scopes: [],
  roles: [],
  encrypted: false,
})

describe('memoryRevocationStore when full', () => {
  const MAX = 50

  it('keeps every revoked jti until it expires, refuses the next revoke with an error and an event, then makes room', async () => {
    freezeClock()
    const events: GuardEvent[] = []
    const store = memoryRevocationStore({ max: MAX, onEvent: (e) => events.push(e) })
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, revocation: store })
    const jti = randomUUID()
    const token = await issuer.sign({ jti }, { alg: 'ES256' })
    await store.revoke(jti, seconds() + 3600)
    // Newer entries, all unexpired: an LRU would have forgotten the first one by now.
    for (let i = 1; i < MAX; i++) await store.revoke(`filler-${i}`, seconds() + 1)
    expect(store.size.jti).toBe(MAX)

    const refused = await rejection(guard.verify(token))
    expect({ code: refused.code, status: refused.status }).toEqual({ code: 'ERR_JWT_REVOKED', status: 401 })

    const full = await rejection(store.revoke('one-too-many', seconds() + 1))
    expect({ code: full.code, status: full.status, message: full.message }).toEqual({
      code: 'ERR_REVOCATION_STORE_FULL',
      status: 503,
      message: 'Revocation store full',
    })
    expect(events).toEqual([{ type: 'store_full', store: 'revocation_jti', max: MAX }])
    expect(await store.isRevoked(authOf({ jti: 'one-too-many' }))).toBe(false)
    // What is already held can still be extended; what is already expired needs no room.
    await expect(store.revoke('filler-1', seconds() + 120)).resolves.toBeUndefined()
    await expect(store.revoke('long-gone', seconds() - 100)).resolves.toBeUndefined()

    // The fillers expire after exp + leeway (60 s; filler-1 was extended): room for MAX - 2, the first revocation still held.
    advance(62_000)
    for (let i = 0; i < MAX - 2; i++) await store.revoke(`new-${i}`, seconds() + 60)
    await expect(store.revoke('new-extra', seconds() + 60)).rejects.toMatchObject({ code: 'ERR_REVOCATION_STORE_FULL' })
    expect((await rejection(guard.verify(token))).code).toBe('ERR_JWT_REVOKED')
  })

  it('keeps every subject cut-off for subjectTtl, refuses the next revokeSubject with an error and an event', async () => {
    freezeClock()
    const store = memoryRevocationStore({ max: MAX, subjectTtl: 600 })
    const events: GuardEvent[] = []
    // No onEvent of its own: events go to the guard that consulted the store.
    const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, revocation: store, onEvent: (e) => events.push(e) })
    const iat = seconds() - 10
    const token = await issuer.sign({ jti: randomUUID(), sub: 'victim', iat }, { alg: 'ES256' })
    await expect(guard.verify(token)).resolves.toMatchObject({ payload: { sub: 'victim' } })

    await store.revokeSubject('victim', seconds())
    for (let i = 1; i < MAX; i++) await store.revokeSubject(`user-${i}`, seconds())
    expect((await rejection(guard.verify(token))).code).toBe('ERR_JWT_REVOKED')

    await expect(store.revokeSubject('user-new', seconds())).rejects.toMatchObject({
      code: 'ERR_REVOCATION_STORE_FULL',
      status: 503,
      context: { reason: 'full', kind: 'subject', max: MAX },
    })
    expect(events.filter((e) => e.type === 'store_full')).toEqual([{ type: 'store_full', store: 'revocation_subject', max: MAX }])
    // A held subject's cut-off still moves forward when full.
    await expect(store.revokeSubject('user-1', seconds() + 5)).resolves.toBeUndefined()

    advance(601_000)
    await expect(store.revokeSubject('user-new', seconds())).resolves.toBeUndefined()
    expect(store.size.subjects).toBe(1)
  })
})

describe('memoryDpopReplayStore when full', () => {
  it('still detects the first proof, refuses a new one (503) with an event, and makes room once proofs expire', async () => {
    freezeClock()
    const events: GuardEvent[] = []
    const store = memoryDpopReplayStore({ max: 3 })
    const context = { emit: (e: GuardEvent) => events.push(e) }
    for (const jti of ['a', 'b', 'c']) expect(await store.remember(jti, 11, context)).toBe(true)
    expect(await store.remember('a', 11, context)).toBe(false)
    const full = await rejection(store.remember('d', 11, context))
    expect({ code: full.code, status: full.status, message: full.message }).toEqual({
      code: 'ERR_DPOP_REPLAY_STORE_FULL',
      status: 503,
      message: 'DPoP replay store full',
    })
    expect(events).toEqual([{ type: 'store_full', store: 'dpop_replay', max: 3 }])
    advance(11_000)
    expect(await store.remember('d', 11, context)).toBe(true)
    expect(await store.remember('a', 11, context)).toBe(true)
  })

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 0, -1])('refuses a ttl of %s (NaN would stop every purge behind it)', async (ttl) => {
    const store = memoryDpopReplayStore({ max: 2 })
    await expect(store.remember('a', ttl)).rejects.toThrow(TypeError)
    expect(await store.remember('a', 11)).toBe(true)
  })

  it('defaults to a max that sustains 2,000 proofs/s over the default proof window (2 × 60 + 1 s)', () => {
    expect(DEFAULT_REPLAY_MAX).toBeGreaterThanOrEqual(2000 * (2 * 60 + 1))
  })
})

describe.each(FRAMEWORKS)('$name: a full DPoP replay store over HTTP', (framework) => {
  const MAX = 3
  const PROOF_MAX_AGE = 5
  let app: Running
  let replayStore: DpopReplayStore
  const events: GuardEvent[] = []

  beforeAll(async () => {
    replayStore = memoryDpopReplayStore({ max: MAX })
    app = await startAt(framework, (origin) => {
      const guard: GuardOptions = {
        ...issuer.guardOptions(),
        jwksUri: issuer.jwksUri,
        dpop: { algorithms: ['ES256'], origin, proofMaxAge: PROOF_MAX_AGE, replayStore },
        onEvent: (e) => events.push(e),
      }
      return { guard, routes: [{ path: '/orders', reply: (auth) => ({ jkt: auth?.cnf?.jkt }) }] }
    })
  }, 30_000)
  afterAll(() => app?.close())

  it('refuses a new proof with 503 ERR_DPOP_REPLAY_STORE_FULL and an event, never accepting it unrecorded', async () => {
    freezeClock()
    const token = await issuer.sign({ cnf: { jkt: key.jkt } }, { alg: 'ES256' })
    const send = async (proof: string) => get(`${app.url}/orders`, { authorization: `DPoP ${token}`, dpop: proof })
    const proof = () => signProof(key, { htu: `${app.url}/orders`, token })

    const first = await proof()
    expect((await send(first)).status).toBe(200)
    for (let i = 1; i < MAX; i++) expect((await send(await proof())).status).toBe(200)

    const replay = await send(first)
    expect(replay.status).toBe(401)
    expect(replay.headers['www-authenticate']).toContain('error_description="DPoP proof replayed"')

    events.length = 0
    const fresh = await proof()
    const full = await send(fresh)
    expect(full.status).toBe(503)
    expect(full.headers['www-authenticate']).toBeUndefined()
    expectErrorBody(framework.family, full, 'ERR_DPOP_REPLAY_STORE_FULL', 'DPoP replay store full')
    expect(events).toContainEqual({ type: 'store_full', store: 'dpop_replay', max: MAX })
    expect(events).toContainEqual(expect.objectContaining({ type: 'token_rejected', code: 'ERR_DPOP_REPLAY_STORE_FULL' }))
    // Refused, so not recorded: once there is room it is accepted once, and only once.
    advance((PROOF_MAX_AGE * 2 + 1) * 1000)
    expect((await send(fresh)).status).toBe(401) // its iat is now too old: made before the wait
    const later = await proof()
    expect((await send(later)).status).toBe(200)
    expect((await send(later)).status).toBe(401)
  }, 30_000)
})

describe('ExpiringMap: the structure behind both stores', () => {
  it('purges in expiry order, not insertion order, and only what has expired', () => {
    const map = new ExpiringMap<true>(3)
    expect(map.set('late', true, 300, 0)).toBe(true)
    expect(map.set('early', true, 100, 0)).toBe(true)
    expect(map.set('middle', true, 200, 0)).toBe(true)
    expect(map.set('new', true, 400, 50)).toBe(false)
    expect(map.set('new', true, 400, 150)).toBe(true)
    expect([map.get('early', 150), map.get('middle', 150), map.get('late', 150)]).toEqual([undefined, true, true])
    expect({ size: map.size, pending: map.pending }).toEqual({ size: 3, pending: 3 })
    map.purge(250)
    expect({ size: map.size, pending: map.pending }).toEqual({ size: 2, pending: 2 })
  })

  it('never shortens an entry, and keeps its heap bounded (2 × max + 1) when entries are extended again and again', () => {
    const max = 4
    const map = new ExpiringMap<number>(max)
    for (let i = 0; i < max; i++) map.set(`k${i}`, i, 1000, 0)
    for (let t = 1; t <= 1000; t++) {
      expect(map.set(`k${t % max}`, t, 1000 + t, t)).toBe(true)
      expect(map.pending).toBeLessThanOrEqual(2 * max + 1)
    }
    expect(map.set('k0', -1, 10, 1000)).toBe(true)
    expect(map.get('k0', 1999)).toBe(-1)
    // Stale nodes (for until 1000 …) were popped without dropping the extended entries.
    expect(map.get('k1', 1996)).toBe(997)
    expect(map.get('k1', 1997)).toBeUndefined()
    map.purge(2001)
    expect({ size: map.size, pending: map.pending }).toEqual({ size: 0, pending: 0 })
  })
})
