// Several keys per source, for rotation: `secret: [current, next]`, `publicKey: [...]`, `getKey`
// returning an array. At most 4 candidates are tried per token, in order; a fifth is never read.
import { createSecretKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type GuardOptions, type KeyInput } from '../../src/index.js'
import { FRAMEWORKS, type Running } from '../conformance/apps.js'
import { rejection } from '../helpers/shared.js'

const ISSUER = 'https://issuer.example'
const AUDIENCE = 'https://api.example'
const base = { issuer: ISSUER, audience: AUDIENCE, cache: false as const }

const secrets = ['a', 'b', 'c', 'd', 'e'].map((c) => c.repeat(32))
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const rsa2 = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string

async function sign(alg: string, key: KeyObject | Uint8Array, claims: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: 'user', ...claims })
    .setProtectedHeader({ alg })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(key)
}
const hs = (secret: string) => sign('HS256', new TextEncoder().encode(secret))

function constructionError(options: Record<string, unknown>): string {
  try {
    createGuard({ ...base, ...options } as GuardOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError)
    return (err as Error).message
  }
  throw new Error('expected createGuard to throw')
}

describe('secret: [current, next]', () => {
  const guard = createGuard({ ...base, secret: [secrets[0]!, secrets[1]!] })

  it('accepts tokens signed with either secret, and no other', async () => {
    await expect(guard.verify(await hs(secrets[0]!))).resolves.toMatchObject({ payload: { sub: 'user' } })
    await expect(guard.verify(await hs(secrets[1]!))).resolves.toMatchObject({ payload: { sub: 'user' } })
    expect((await rejection(guard.verify(await hs(secrets[2]!)))).code).toBe('ERR_JWT_SIGNATURE_INVALID')
  })

  it('infers the HMAC algorithms that every secret is long enough for', () => {
    const g = createGuard({ ...base, secret: ['x'.repeat(64), 'y'.repeat(48)] })
    expect(g.settings.algorithms).toEqual(['HS256', 'HS384'])
  })

  it.each([
    [[secrets[0], 'short'], /option "secret\[1\]" is 5 bytes: HS256 needs at least 32/],
    [['x'.repeat(64), 'y'.repeat(32)], /option "secret\[1\]" is 32 bytes: HS512 needs at least 64/, ['HS512']],
    [[], /option "secret" as an array must hold 1 to 4 keys/],
    [secrets, /option "secret" as an array must hold 1 to 4 keys/],
    [[secrets[0], rsa.publicKey], /option "secret\[1\]" must be a non-empty string/],
    [[secrets[0], ''], /option "secret\[1\]" must be a non-empty string/],
    [[secrets[0], publicPem], /option "secret\[1\]" holds a PEM key/],
    [publicPem, /option "secret" holds a PEM key/],
  ] as [unknown, RegExp, string[]?][])('refuses %#, naming the element', (secret, message, algorithms) => {
    expect(constructionError({ secret, ...(algorithms ? { algorithms } : {}) })).toMatch(message)
  })

  it('never mixes in public-key algorithms', () => {
    expect(constructionError({ secret: [secrets[0], secrets[1]], algorithms: ['RS256'] })).toMatch(/public-key algorithms/)
  })
})

describe('publicKey: [...]', () => {
  it('accepts tokens of any listed key, RSA and EC mixed, each for its own algorithms', async () => {
    const guard = createGuard({ ...base, publicKey: [rsa2.publicKey, publicPem, ec.publicKey.export({ format: 'jwk' })] })
    expect(guard.settings.algorithms).toEqual(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256'])
    await expect(guard.verify(await sign('RS256', rsa.privateKey))).resolves.toBeDefined()
    await expect(guard.verify(await sign('PS256', rsa2.privateKey))).resolves.toBeDefined()
    await expect(guard.verify(await sign('ES256', ec.privateKey))).resolves.toBeDefined()
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    expect((await rejection(guard.verify(await sign('ES256', other.privateKey)))).code).toBe('ERR_JWT_SIGNATURE_INVALID')
  })

  it("honours each JWK's own alg", async () => {
    const jwk = { ...rsa.publicKey.export({ format: 'jwk' }), alg: 'PS256' }
    const guard = createGuard({ ...base, publicKey: [jwk, ec.publicKey] })
    expect(guard.settings.algorithms).toEqual(['PS256', 'ES256'])
  })

  it.each([
    [[rsa.publicKey, rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })], /option "publicKey\[1\]" is not a usable public key/],
    [[rsa.publicKey, { kty: 'oct', k: 'a'.repeat(43) }], /option "publicKey\[1\]" is not a usable public key/],
    [[rsa.publicKey, createSecretKey(Buffer.alloc(32, 1))], /option "publicKey\[1\]" must be a PEM string/],
    [[rsa.publicKey, secrets[0]], /option "publicKey\[1\]" is not a usable public key/],
    [[rsa.publicKey, generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey], /option "publicKey\[1\]" is not a usable/],
    [[], /option "publicKey" as an array must hold 1 to 4 keys/],
    [[rsa.publicKey, rsa2.publicKey, ec.publicKey, rsa.publicKey, rsa2.publicKey], /must hold 1 to 4 keys/],
  ] as [unknown, RegExp][])('refuses %#, naming the element', (publicKey, message) => {
    expect(constructionError({ publicKey })).toMatch(message)
  })

  it('never accepts HMAC algorithms (algorithm confusion)', () => {
    expect(constructionError({ publicKey: [rsa.publicKey, ec.publicKey], algorithms: ['HS256'] })).toMatch(/algorithm confusion/)
  })
})

describe('getKey returning an array', () => {
  const wrong = [1, 2, 3, 4].map(() => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)

  it('tries up to 4 candidates in order: the fourth verifies', async () => {
    const guard = createGuard({ ...base, algorithms: ['RS256'], getKey: () => [wrong[0]!, wrong[1]!, wrong[2]!, rsa.publicKey] })
    await expect(guard.verify(await sign('RS256', rsa.privateKey))).resolves.toMatchObject({ payload: { sub: 'user' } })
  })

  it('never reads, imports or tries a fifth', async () => {
    let read = 0
    const keys: KeyInput[] = [...wrong]
    Object.defineProperty(keys, 4, {
      enumerable: true,
      get: () => {
        read++
        return rsa.publicKey
      },
    })
    const guard = createGuard({ ...base, algorithms: ['RS256'], getKey: () => keys })
    expect((await rejection(guard.verify(await sign('RS256', rsa.privateKey)))).code).toBe('ERR_JWT_SIGNATURE_INVALID')
    expect(read).toBe(0)
  })

  it('gets a header of its own: what it writes there reaches neither the next token nor the answer', async () => {
    const seen: Record<string, unknown>[] = []
    const guard = createGuard({
      ...base,
      algorithms: ['RS256'],
      getKey: (header) => {
        seen.push(header)
        ;(header as Record<string, unknown>).kid ??= 'written-by-getKey'
        header.alg = 'none'
        return rsa.publicKey
      },
    })
    // Two tokens with the same header segment: the parsed header is shared by them (and frozen).
    const auths = [await guard.verify(await sign('RS256', rsa.privateKey)), await guard.verify(await sign('RS256', rsa.privateKey))]
    expect(seen).toHaveLength(2)
    expect(seen[0]).not.toBe(seen[1])
    for (const auth of auths) {
      expect(auth.header.alg).toBe('RS256')
      expect(auth.header).not.toHaveProperty('kid')
    }
  })

  it('skips candidates that do not fit the algorithm, and an empty array is no key', async () => {
    const guard = createGuard({ ...base, algorithms: ['RS256', 'ES256'], getKey: () => [ec.publicKey, rsa.publicKey] })
    await expect(guard.verify(await sign('RS256', rsa.privateKey))).resolves.toBeDefined()
    await expect(guard.verify(await sign('ES256', ec.privateKey))).resolves.toBeDefined()
    const empty = createGuard({ ...base, algorithms: ['RS256'], getKey: () => [] })
    expect((await rejection(empty.verify(await sign('RS256', rsa.privateKey)))).context.reason).toBe('no_key')
  })

  it.each([
    ['a public key for an HMAC token', ['HS256'], () => [secrets[1]!, rsa.publicKey] as KeyInput[]],
    ['a PEM for an HMAC token', ['HS256'], () => [publicPem] as KeyInput[]],
    ['a short secret', ['HS256'], () => [secrets[1]!, 'short'] as KeyInput[]],
    ['a secret for an RS256 token', ['RS256'], () => [rsa2.publicKey, { kty: 'oct', k: 'a'.repeat(43) }] as KeyInput[]],
    ['a null element', ['RS256'], () => [null as unknown as KeyInput]],
  ] as const)('refuses %s: 401 get_key_unusable, never a crash', async (_, algorithms, getKey) => {
    const guard = createGuard({ ...base, algorithms: [...algorithms], getKey })
    const token = algorithms[0] === 'HS256' ? await hs(secrets[0]!) : await sign('RS256', rsa.privateKey)
    const err = await rejection(guard.verify(token))
    expect([err.status, err.code, err.context.reason]).toEqual([401, 'ERR_JWKS_NO_MATCHING_KEY', 'get_key_unusable'])
  })

  it('accepts an HMAC rotation from getKey', async () => {
    const guard = createGuard({ ...base, algorithms: ['HS256'], getKey: async () => [secrets[2]!, secrets[0]!] })
    await expect(guard.verify(await hs(secrets[0]!))).resolves.toBeDefined()
  })
})

describe.each(FRAMEWORKS)('secret rotation through real HTTP on $name', (framework) => {
  let app: Running
  beforeAll(async () => {
    app = await framework.start({
      guard: { ...base, secret: [secrets[0]!, secrets[1]!] },
      routes: [{ path: '/protected', reply: (auth) => ({ sub: auth?.payload.sub }) }],
    })
  }, 30_000)
  afterAll(async () => {
    await app?.close()
  })

  it('current and next secrets pass, another is 401', async () => {
    for (const [secret, status] of [
      [secrets[0]!, 200],
      [secrets[1]!, 200],
      [secrets[2]!, 401],
    ] as const) {
      const res = await fetch(`${app.url}/protected`, { headers: { authorization: `Bearer ${await hs(secret)}` } })
      expect(res.status).toBe(status)
      await res.arrayBuffer()
    }
  })
})
