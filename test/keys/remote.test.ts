import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto'
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest'
import { createGuard, type GuardEvent, type GuardOptions } from '../../src/index.js'
import { MAX_CANDIDATES } from '../../src/keys/jwk.js'
import { createTestIssuer, createTestKey, type JwksFault, type TestIssuer } from '../../src/testing/index.js'
import { rejection } from '../helpers/shared.js'

// Cache timing is checked with a fake Date (fetch and its timeout timers stay real): exact windows, no waiting.
const MINUTE = 60_000
const DEFAULT_MAX_AGE = 10 * MINUTE
const DEFAULT_COOLDOWN = 30_000
const DEFAULT_STALE = 10 * MINUTE
const AUDIENCE = 'https://api.example.test'
const fakeDate = (): void => void vi.useFakeTimers({ toFake: ['Date'] })
const advance = (ms: number): void => void vi.advanceTimersByTime(ms)

const servers: TestIssuer[] = []
/** An issuer publishing one ES256 key (more with `addKey`). */
async function serve(options: { path?: string } = {}): Promise<TestIssuer> {
  const server = await createTestIssuer({ algorithms: ['ES256'], audience: AUDIENCE, ...options })
  servers.push(server)
  return server
}
afterEach(() => void vi.useRealTimers())
afterAll(() => Promise.all(servers.map((s) => s.close())))

/**
 * A guard on `server`'s JWKS (or its discovery, with `discovery: true`), recording events. The
 * verified-token cache is off unless asked for: these tests are about the key set behind it.
 */
function guardFor(server: TestIssuer, options: Partial<GuardOptions> & { discovery?: boolean } = {}) {
  const events: GuardEvent[] = []
  const { discovery, ...rest } = options
  const guard = createGuard({
    issuer: server.issuer,
    audience: AUDIENCE,
    ...(discovery ? {} : { jwksUri: server.jwksUri }),
    cache: false,
    onEvent: (e) => events.push(e),
    ...rest,
  })
  const of = <T extends GuardEvent['type']>(type: T) => events.filter((e): e is Extract<GuardEvent, { type: T }> => e.type === type)
  return { guard, events, count: (type: GuardEvent['type']): number => of(type).length, of }
}

/** `'ok'` or `'CODE status'` for every settled verification, deduplicated. */
async function outcomes(promises: Promise<unknown>[]): Promise<Set<string>> {
  const settled = await Promise.allSettled(promises)
  return new Set(settled.map((r) => (r.status === 'fulfilled' ? 'ok' : `${r.reason.code} ${r.reason.status}`)))
}

// Distinct tokens throughout: the guard also shares one verification per identical token in flight,
// which would hide the key set's own single-flight.
const tokensFor = (server: TestIssuer, n: number): Promise<string[]> => Promise.all(Array.from({ length: n }, () => server.sign()))

describe('single-flight', () => {
  it('100 concurrent first verifications share one JWKS fetch', async () => {
    const server = await serve()
    server.setJwksDelay(100) // the fetch is surely in flight while the others arrive
    const { guard } = guardFor(server)
    const tokens = await tokensFor(server, 100)
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ok']))
    expect(server.requests.jwks).toBe(1)
    expect(server.lastJwksHeaders?.accept).toBe('application/jwk-set+json, application/json')
  })

  it('100 concurrent first verifications by discovery share one discovery and one JWKS fetch', async () => {
    const server = await serve()
    server.setJwksDelay(100)
    const { guard } = guardFor(server, { discovery: true })
    const tokens = await tokensFor(server, 100)
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ok']))
    expect(server.requests).toMatchObject({ openid: 1, oauth: 0, jwks: 1 })
  })

  it('200 sequential verifications cause one fetch', async () => {
    const server = await serve()
    const { guard } = guardFor(server)
    for (const token of await tokensFor(server, 200)) expect((await guard.verify(token)).payload.sub).toBe('user-123')
    expect(server.requests.jwks).toBe(1)
  })
})

describe('unknown kids', () => {
  const randomKidTokens = async (server: TestIssuer, n: number): Promise<string[]> => {
    const attacker = await createTestKey({ alg: 'ES256' })
    return Promise.all(Array.from({ length: n }, () => server.sign({}, { key: attacker, kid: randomUUID() })))
  }

  it('1,000 concurrent tokens with random kids: one refetch per cooldown window, all 401', async () => {
    fakeDate()
    const server = await serve()
    const { guard, count } = guardFor(server)
    const tokens = await randomKidTokens(server, 1000)
    await guard.ready()
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY 401']))
    expect(server.requests.jwks).toBe(1) // still inside the cooldown of the warm-up fetch
    expect(count('jwks_cooldown')).toBe(1000)
    advance(DEFAULT_COOLDOWN)
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY 401']))
    expect(server.requests.jwks).toBe(2)
  })

  it('1,000 sequential tokens with random kids over 100 s: one refetch per 30 s window, all 401', async () => {
    fakeDate()
    const server = await serve()
    const { guard } = guardFor(server)
    const tokens = await randomKidTokens(server, 1000)
    await guard.ready()
    const seen = new Set<string>()
    for (const token of tokens) {
      advance(100)
      const err = await rejection(guard.verify(token))
      seen.add(`${err.code} ${err.status}`)
    }
    expect(seen).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY 401']))
    expect(server.requests.jwks).toBe(1 + Math.floor(100_000 / DEFAULT_COOLDOWN))
  })
})

describe('rotation', () => {
  it('a new kid is picked up with exactly one refetch once the cooldown has passed', async () => {
    fakeDate()
    const server = await serve()
    const { guard, count } = guardFor(server)
    const oldToken = await server.sign()
    await guard.ready()
    const fresh = await server.addKey()
    const newToken = await server.sign({}, { key: fresh })
    // Right after a fetch the cooldown holds: the new kid waits for the next window.
    expect(await rejection(guard.verify(newToken))).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY', status: 401 })
    expect(count('jwks_cooldown')).toBe(1)
    advance(DEFAULT_COOLDOWN)
    await guard.verify(newToken)
    expect(server.requests.jwks).toBe(2)
    await guard.verify(newToken)
    await guard.verify(oldToken)
    expect(server.requests.jwks).toBe(2)
  })

  it('a removed key stops verifying once cacheMaxAge has passed, not before', async () => {
    fakeDate()
    const server = await serve()
    const { guard } = guardFor(server)
    const old = server.keys()[0]!
    const oldToken = await server.sign({}, { key: old })
    await guard.ready()
    await server.addKey()
    server.removeKey(old)
    advance(DEFAULT_MAX_AGE - 1000)
    await guard.verify(oldToken)
    expect(server.requests.jwks).toBe(1)
    advance(1000)
    expect(await rejection(guard.verify(oldToken))).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY', status: 401 })
    expect(server.requests.jwks).toBe(2)
  })

  // API.md: "endpoint unreachable and no usable cached key -> 503 (never 401: the token may be fine)" —
  // here a freshly rotated key that could not be fetched.
  it('a new kid while the source is down: 503, not 401, and no fetch beyond one per cooldown', async () => {
    fakeDate()
    const server = await serve()
    const { guard } = guardFor(server)
    await guard.ready()
    const token = await server.sign({}, { key: await server.addKey() })
    server.setJwksFault('500')
    advance(DEFAULT_COOLDOWN)
    expect(await rejection(guard.verify(token))).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 })
    expect(await rejection(guard.verify(token))).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 })
    expect(server.requests.jwks).toBe(2)
  })
})

/** Every fault of the JWKS endpoint, with the error code and reason it must map to. */
const FAULTS: [JwksFault | 'slow', string, string][] = [
  ['500', 'ERR_JWKS_UNAVAILABLE', 'status_500'],
  ['hang', 'ERR_JWKS_TIMEOUT', 'timeout'],
  ['slow', 'ERR_JWKS_TIMEOUT', 'timeout'],
  ['stall', 'ERR_JWKS_TIMEOUT', 'timeout'],
  ['garbage', 'ERR_JWKS_INVALID', 'not_json'],
  ['huge', 'ERR_JWKS_UNAVAILABLE', 'too_large'],
  ['huge-declared', 'ERR_JWKS_UNAVAILABLE', 'too_large'],
  ['gzip-bomb', 'ERR_JWKS_UNAVAILABLE', 'too_large'],
  ['redirect', 'ERR_JWKS_UNAVAILABLE', 'redirect'],
]
const TIMEOUT = 300
function breakServer(server: TestIssuer, fault: JwksFault | 'slow'): void {
  if (fault === 'slow') server.setJwksDelay(3 * TIMEOUT)
  else server.setJwksFault(fault)
}

describe('faults with no key held', () => {
  it.each(FAULTS)('%s -> 503 %s (%s)', async (fault, code, reason) => {
    const server = await serve()
    breakServer(server, fault)
    const { guard, events } = guardFor(server, { jwksCache: { timeoutDuration: TIMEOUT } })
    const err = await rejection(guard.verify(await server.sign()))
    expect(err).toMatchObject({ code, status: 503, context: { reason } })
    expect(err.headers['WWW-Authenticate']).toBeUndefined()
    expect(events).toContainEqual(expect.objectContaining({ type: 'jwks_fetch_failed', code, reason }))
    expect(server.requests).toMatchObject({ jwks: 1, redirected: 0 })
  })
})

describe('faults with keys held (stale-if-error)', () => {
  it.each(FAULTS)('%s: held keys keep verifying for staleIfError, then 503 %s', async (fault, code, reason) => {
    fakeDate()
    const server = await serve()
    const { guard, events, count } = guardFor(server, { jwksCache: { timeoutDuration: TIMEOUT } })
    const token = await server.sign()
    await guard.ready()
    breakServer(server, fault)
    advance(DEFAULT_MAX_AGE)
    await guard.verify(token)
    expect(events).toContainEqual(expect.objectContaining({ type: 'jwks_fetch_failed', code, reason }))
    expect(count('jwks_stale_served')).toBe(1)
    expect(server.requests).toMatchObject({ jwks: 2, redirected: 0 })
    advance(DEFAULT_STALE)
    expect(await rejection(guard.verify(token))).toMatchObject({ code, status: 503 })
    expect(server.requests.jwks).toBe(3)
  })
})

describe('back-off while the source is down', () => {
  it('no key held: 50 sequential requests over 50 s cause one fetch per cooldown window', async () => {
    fakeDate()
    const server = await serve()
    server.setJwksFault('500')
    const { guard, of } = guardFor(server)
    const token = await server.sign()
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const err = await rejection(guard.verify(token))
      seen.add(`${err.code} ${err.status}`)
      advance(1000)
    }
    expect(seen).toEqual(new Set(['ERR_JWKS_UNAVAILABLE 503']))
    expect(server.requests.jwks).toBe(2) // at 0 s and 30 s
    expect(of('jwks_cooldown').map((e) => e.reason)).toEqual(Array(48).fill('backoff'))
  })

  it('no key held: 50 concurrent requests cause one fetch', async () => {
    const server = await serve()
    server.setJwksFault('500')
    const { guard } = guardFor(server)
    const tokens = await tokensFor(server, 50)
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ERR_JWKS_UNAVAILABLE 503']))
    expect(server.requests.jwks).toBe(1)
  })

  it('keys held and stale: 50 sequential requests over 50 s all verify, with one fetch per cooldown window', async () => {
    fakeDate()
    const server = await serve()
    const { guard, count } = guardFor(server)
    const token = await server.sign()
    await guard.ready()
    server.setJwksFault('500')
    advance(DEFAULT_MAX_AGE)
    for (let i = 0; i < 50; i++) {
      await guard.verify(token)
      advance(1000)
    }
    expect(server.requests.jwks).toBe(1 + 2)
    expect(count('jwks_stale_served')).toBe(50)
    expect(count('jwks_cooldown')).toBe(48)
  })
})

describe('with the verified-token cache (the default)', () => {
  // A cached token never outlives the key set that verified it: withdrawal and staleness still bind.
  it('a removed key stops verifying once cacheMaxAge has passed', async () => {
    fakeDate()
    const server = await serve()
    const { guard } = guardFor(server, { cache: undefined })
    const old = server.keys()[0]!
    const token = await server.sign({}, { key: old })
    await guard.ready()
    server.removeKey(old)
    advance(DEFAULT_MAX_AGE - 1000)
    await guard.verify(token)
    advance(1000)
    expect(await rejection(guard.verify(token))).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY', status: 401 })
  })

  it('stale keys stop verifying once cacheMaxAge + staleIfError has passed', async () => {
    fakeDate()
    const server = await serve()
    const { guard } = guardFor(server, { cache: undefined })
    const token = await server.sign()
    await guard.ready()
    server.setJwksFault('500')
    advance(DEFAULT_MAX_AGE + DEFAULT_STALE - 1000)
    await guard.verify(token)
    advance(1000)
    expect(await rejection(guard.verify(token))).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 })
  })
})

describe('issuer allow-list', () => {
  it('a token whose iss is outside the list causes no network call', async () => {
    const [allowed, other] = [await serve(), await serve()]
    const { guard } = guardFor(allowed, { discovery: true })
    const tokens = [
      await other.sign({ iss: other.issuer }),
      await allowed.sign({ iss: `${allowed.issuer}/` }),
      await allowed.sign({ iss: `${allowed.issuer}/realms/x` }),
    ]
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ERR_JWT_ISSUER_INVALID 401']))
    for (const server of [allowed, other])
      expect(server.requests).toEqual({ jwks: 0, jwksFaulted: 0, redirected: 0, discovery: 0, openid: 0, oauth: 0, other: 0 })
  })
})

describe('discovery', () => {
  it('a document whose issuer differs from the configured one: 503 ERR_DISCOVERY_FAILED, no JWKS fetched', async () => {
    const server = await serve()
    server.setDiscovery({ issuer: `${server.issuer}/someone-else` })
    const { guard } = guardFor(server, { discovery: true })
    const err = await rejection(guard.verify(await server.sign()))
    expect(err).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', status: 503 })
    expect(server.requests).toMatchObject({ openid: 1, oauth: 1, jwks: 0 })
  })

  it('falls back to RFC 8414 when OpenID discovery answers 404', async () => {
    const server = await serve()
    server.setDiscovery({ openid: false })
    const { guard, events } = guardFor(server, { discovery: true })
    await guard.verify(await server.sign())
    expect(server.requests).toMatchObject({ openid: 1, oauth: 1, jwks: 1 })
    expect(events).toContainEqual(expect.objectContaining({ type: 'discovery_fetched', issuer: server.issuer, jwksUri: server.jwksUri }))
  })

  it.each([
    ['OpenID discovery', true],
    ['RFC 8414 (path inserted after the well-known prefix)', false],
  ])('an issuer with a path is found by %s', async (_name, openid) => {
    const server = await serve({ path: 'realms/x' })
    server.setDiscovery({ openid })
    expect(server.issuer).toBe(`${server.origin}/realms/x`)
    const { guard } = guardFor(server, { discovery: true })
    await guard.verify(await server.sign())
    expect(server.requests).toMatchObject({ openid: 1, oauth: openid ? 0 : 1, jwks: 1, other: 0 })
  })

  it('no metadata anywhere: 503 ERR_DISCOVERY_FAILED', async () => {
    const server = await serve()
    server.setDiscovery({ openid: false, oauth: false })
    const { guard } = guardFor(server, { discovery: true })
    const err = await rejection(guard.verify(await server.sign()))
    expect(err).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', status: 503 })
    expect(server.requests.jwks).toBe(0)
  })

  it('a jwks_uri that is neither https: nor loopback: 503 ERR_DISCOVERY_FAILED', async () => {
    const server = await serve()
    server.setDiscovery({ jwksUri: 'http://idp.example.com/jwks' })
    const { guard } = guardFor(server, { discovery: true })
    const err = await rejection(guard.verify(await server.sign()))
    expect(err).toMatchObject({ code: 'ERR_DISCOVERY_FAILED', status: 503, context: { reason: 'jwks_uri_invalid' } })
  })
})

/** A compact RS256 JWS signed with node:crypto (jose refuses RSA keys under 2048 bits). */
function signRs256(server: TestIssuer, privateKey: KeyObject, kid: string): string {
  const part = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const input = `${part({ alg: 'RS256', kid })}.${part({ iss: server.issuer, aud: AUDIENCE, sub: 'user-1', exp: now + 3600 })}`
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`
}

describe('keys dropped at load', () => {
  it('private, RSA-1024, e != AQAB, use:enc, oct and alg/kty-contradicting keys are never used', async () => {
    const server = await serve()
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const e3 = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })
    const pub = (k: KeyObject) => k.export({ format: 'jwk' })
    server.setExtraJwks([
      { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'private' },
      { ...pub(small.publicKey), kid: 'rsa-1024' },
      { ...pub(e3.publicKey), kid: 'rsa-e3' },
      { ...pub(rsa.publicKey), kid: 'enc', use: 'enc' },
      { kty: 'oct', k: Buffer.alloc(32, 7).toString('base64url'), kid: 'oct' },
      { ...pub(rsa.publicKey), kid: 'rsa-as-es256', alg: 'ES256' },
      { ...pub(rsa.publicKey), kid: 'ps256-only', alg: 'PS256' }, // kept, but not for an RS256 token
    ])
    const { guard, events, of } = guardFor(server)
    await guard.ready()
    expect(of('jwks_key_dropped').map((e) => [e.kid, e.reason])).toEqual([
      ['private', 'private_key'],
      ['rsa-1024', 'rsa_too_small'],
      ['rsa-e3', 'rsa_exponent'],
      ['enc', 'not_for_signatures'],
      ['oct', 'symmetric_key'],
      ['rsa-as-es256', 'alg_mismatch'],
    ])
    expect(events).toContainEqual(expect.objectContaining({ type: 'jwks_fetched', keyCount: 2 }))
    const tokens = [
      signRs256(server, rsa.privateKey, 'private'),
      signRs256(server, small.privateKey, 'rsa-1024'),
      signRs256(server, e3.privateKey, 'rsa-e3'),
      signRs256(server, rsa.privateKey, 'enc'),
      signRs256(server, rsa.privateKey, 'rsa-as-es256'),
      signRs256(server, rsa.privateKey, 'ps256-only'),
    ]
    expect(await outcomes(tokens.map((t) => guard.verify(t)))).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY 401']))
    await guard.verify(await server.sign())
  })
})

describe('candidate keys', () => {
  it(`a token without kid is tried against each candidate, at most ${MAX_CANDIDATES}`, async () => {
    const server = await serve()
    server.removeKey(server.keys()[0]!)
    await server.addKey({ alg: 'RS256', kid: null }) // other kty: not a candidate for ES256
    for (let i = 0; i <= MAX_CANDIDATES; i++) await server.addKey({ kid: null })
    const { guard } = guardFor(server)
    // keys[1..MAX_CANDIDATES] are the ES256 keys within the bound; keys[MAX_CANDIDATES + 1] is past it.
    await guard.verify(await server.sign({}, { key: server.keys()[MAX_CANDIDATES]! }))
    expect(await rejection(guard.verify(await server.sign({}, { key: server.keys()[MAX_CANDIDATES + 1]! })))).toMatchObject({
      code: 'ERR_JWT_SIGNATURE_INVALID',
      status: 401,
    })
    expect(server.requests.jwks).toBe(1)
  })

  it('duplicate kids: both keys are tried', async () => {
    const server = await serve()
    const first = await server.addKey({ kid: 'dup' })
    const second = await server.addKey({ kid: 'dup' })
    const { guard } = guardFor(server)
    expect((await guard.verify(await server.sign({}, { key: first }))).header.kid).toBe('dup')
    expect((await guard.verify(await server.sign({}, { key: second }))).header.kid).toBe('dup')
    expect(server.requests.jwks).toBe(1)
  })
})

describe('many issuers', () => {
  it('a token signed by issuer B but claiming issuer A is refused', async () => {
    const [a, b] = [await serve(), await serve()]
    const guard = createGuard({ issuer: [a.issuer, b.issuer], audience: AUDIENCE })
    await guard.verify(await b.sign())
    const forged = await b.sign({ iss: a.issuer })
    expect(await rejection(guard.verify(forged))).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY', status: 401 })
    const forgedKid = await b.sign({ iss: a.issuer }, { kid: a.keys()[0]!.kid! })
    expect(await rejection(guard.verify(forgedKid))).toMatchObject({ code: 'ERR_JWT_SIGNATURE_INVALID', status: 401 })
    expect(a.requests).toMatchObject({ openid: 1, jwks: 1 })
    expect(b.requests).toMatchObject({ openid: 1, jwks: 1 })
  })

  it('per-issuer overrides apply their own jwksUri, audience and algorithms', async () => {
    const [a, b] = [await serve(), await serve()]
    const bRsa = await b.addKey({ alg: 'RS256' })
    const guard = createGuard({
      issuer: [
        { issuer: a.issuer, jwksUri: a.jwksUri, audience: 'aud-a' },
        { issuer: b.issuer, jwksUri: b.jwksUri, audience: 'aud-b', algorithms: ['RS256'] },
      ],
      audience: AUDIENCE,
    })
    await guard.verify(await a.sign({ aud: 'aud-a' }))
    await guard.verify(await b.sign({ aud: 'aud-b' }, { key: bRsa }))
    const refused = [
      [await a.sign(), 'ERR_JWT_AUDIENCE_INVALID'],
      [await a.sign({ aud: 'aud-b' }), 'ERR_JWT_AUDIENCE_INVALID'],
      [await b.sign({ aud: 'aud-b' }), 'ERR_JWT_ALG_NOT_ALLOWED'],
    ] as const
    for (const [token, code] of refused) expect(await rejection(guard.verify(token))).toMatchObject({ code, status: 401 })
    for (const server of [a, b]) expect(server.requests).toMatchObject({ openid: 0, oauth: 0, jwks: 1 })
  })
})

describe('ready() and reload()', () => {
  it('ready() fetches before the first request', async () => {
    const server = await serve()
    const { guard } = guardFor(server, { discovery: true })
    await guard.ready()
    expect(server.requests).toMatchObject({ openid: 1, jwks: 1 })
    await guard.verify(await server.sign())
    expect(server.requests).toMatchObject({ openid: 1, jwks: 1 })
  })

  it.each([
    ['the JWKS answers 500', 'ERR_JWKS_UNAVAILABLE'],
    ['no discovery document', 'ERR_DISCOVERY_FAILED'],
  ])('ready() rejects with a 503 GuardError when %s', async (_name, code) => {
    const server = await serve()
    server.setJwksFault('500')
    server.setDiscovery({ openid: code !== 'ERR_DISCOVERY_FAILED', oauth: false })
    const { guard } = guardFor(server, { discovery: true })
    expect(await rejection(guard.ready())).toMatchObject({ code, status: 503 })
  })

  it('reload() refetches at once, inside cacheMaxAge and cooldown', async () => {
    const server = await serve()
    const { guard } = guardFor(server)
    const old = server.keys()[0]!
    const oldToken = await server.sign({}, { key: old })
    await guard.ready()
    const fresh = await server.addKey()
    server.removeKey(old)
    await guard.reload()
    expect(server.requests.jwks).toBe(2)
    await guard.verify(await server.sign({}, { key: fresh }))
    expect(await rejection(guard.verify(oldToken))).toMatchObject({ code: 'ERR_JWKS_NO_MATCHING_KEY', status: 401 })
    expect(server.requests.jwks).toBe(2)
  })

  it('reload() while the source is down rejects with a 503 GuardError and keeps the held keys', async () => {
    const server = await serve()
    const { guard } = guardFor(server)
    const token = await server.sign()
    await guard.ready()
    server.setJwksFault('500')
    expect(await rejection(guard.reload())).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE', status: 503 })
    await guard.verify(token)
  })
})

describe('events', () => {
  it('report fetches, failures and rejections without the token', async () => {
    fakeDate()
    const server = await serve()
    const { guard, events } = guardFor(server)
    const token = await server.sign()
    await guard.verify(token)
    server.setJwksFault('garbage')
    advance(DEFAULT_MAX_AGE + DEFAULT_STALE)
    await rejection(guard.verify(token))
    expect(events.map((e) => e.type)).toEqual(['jwks_fetched', 'jwks_fetch_failed', 'token_rejected'])
    expect(events[0]).toMatchObject({ source: server.jwksUri, keyCount: 1, durationMs: expect.any(Number) })
    expect(events[2]).toMatchObject({ code: 'ERR_JWKS_INVALID', reason: 'not_json' })
    const logged = JSON.stringify(events)
    for (const part of token.split('.')) expect(logged).not.toContain(part)
  })
})
