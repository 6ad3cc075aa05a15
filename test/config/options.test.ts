import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { optionsFromEnv } from '../../src/env.js'
import { GuardError } from '../../src/errors.js'
import { createGuard } from '../../src/guard.js'
import type { GuardOptions } from '../../src/options.js'

const ISSUER = 'https://issuer.example'
const AUDIENCE = 'https://api.example'
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const publicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string
const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
const publicJwk = rsa.publicKey.export({ format: 'jwk' })
const privateJwk = rsa.privateKey.export({ format: 'jwk' })
const SECRET_32 = 'k'.repeat(32)

/** Options as a user might write them, wrong types included. */
type LooseOptions = Partial<Record<keyof GuardOptions, unknown>>

/** The message of the TypeError that construction throws, synchronously. */
function constructionError(options: LooseOptions): string {
  try {
    createGuard(options as GuardOptions)
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError)
    expect(err).not.toBeInstanceOf(GuardError)
    return (err as TypeError).message
  }
  throw new Error('expected createGuard to throw')
}

const withKey = (extra: LooseOptions, key: LooseOptions = { publicKey: rsa.publicKey }): LooseOptions => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  ...key,
  ...extra,
})

describe('key sources', () => {
  it('uses the issuer for discovery when no key source is given, so it must be a URL that may be fetched', () => {
    expect(constructionError({ issuer: 'my-issuer', audience: AUDIENCE })).toMatch(/option "issuer" must be an absolute URL/)
    expect(constructionError({ issuer: 'http://idp.example', audience: AUDIENCE })).toMatch(/option "issuer" must use https:/)
    expect(createGuard({ issuer: ISSUER, audience: AUDIENCE }).settings.issuers).toEqual([ISSUER])
  })

  it.each([
    [{ publicKey: rsa.publicKey, secret: SECRET_32 }, /option "secret" cannot be given with "publicKey": give one key source/],
    [{ jwksUri: 'https://idp.example/jwks', jwks: { keys: [publicJwk] } }, /option "jwks" cannot be given with "jwksUri"/],
    [{ secret: SECRET_32, getKey: () => SECRET_32 }, /option "getKey" cannot be given with "secret"/],
  ])('refuses two key sources (%#)', (sources, message) => {
    expect(constructionError(withKey({}, sources))).toMatch(message)
  })

  // Regression: on Node 20 `webcrypto.CryptoKey` is undefined, and an `instanceof` test on it refused every PEM and JWK.
  it.each([
    ['a PEM string', publicPem],
    ['a public JWK', publicJwk],
  ])('accepts %s as publicKey', (_, publicKey) => {
    expect(createGuard({ issuer: ISSUER, audience: AUDIENCE, publicKey: publicKey as string }).settings.algorithms).toContain('RS256')
  })

  it.each([
    ['a private PEM', privatePem],
    ['a private JWK', privateJwk],
    ['a certificate-less garbage string', 'not a key'],
    ['a number', 42],
  ])('refuses %s as publicKey, naming the option', (_, publicKey) => {
    expect(constructionError(withKey({}, { publicKey }))).toMatch(/option "publicKey"/)
  })

  it.each([
    ['no keys', { keys: [] }],
    ['only a private key', { keys: [privateJwk] }],
    ['only a symmetric key', { keys: [{ kty: 'oct', k: Buffer.from(SECRET_32).toString('base64url') }] }],
    ['no keys array', {}],
    ['a string', 'keys'],
  ])('refuses a jwks with %s', (_, jwks) => {
    expect(constructionError(withKey({}, { jwks }))).toMatch(/option "jwks" must be a JWKS/)
  })

  it.each([
    'http://idp.example/jwks',
    'http://10.0.0.1/jwks',
    'http://127.0.0.1.nip.io/jwks',
    'http://localhost.evil.example/jwks',
    'ftp://idp.example/jwks',
  ])('refuses the jwksUri %s: https only, http only on a loopback host', (jwksUri) => {
    expect(constructionError(withKey({}, { jwksUri }))).toMatch(/option "jwksUri" must use https:/)
  })

  it('accepts http: jwksUri on loopback hosts and refuses one that is no URL', () => {
    for (const jwksUri of ['http://127.0.0.1:1/jwks', 'http://localhost/jwks', 'http://[::1]:8080/jwks', 'https://idp.example/jwks']) {
      expect(createGuard({ issuer: ISSUER, audience: AUDIENCE, jwksUri }).settings.issuers).toEqual([ISSUER])
    }
    expect(constructionError(withKey({}, { jwksUri: '/jwks' }))).toMatch(/option "jwksUri" must be an absolute URL/)
  })
})

describe('issuer and audience', () => {
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['an empty array', []],
    ['a number', 1],
  ])('refuses an audience that is %s', (_, audience) => {
    expect(constructionError(withKey({ audience }))).toMatch(/option "audience"/)
  })

  it.each([
    ['missing', undefined, /option "issuer" is required/],
    ['empty', '', /option "issuer\[0\]"/],
    ['an empty array', [], /option "issuer" must be a non-empty/],
    ['an array with a duplicate', [ISSUER, ISSUER], /option "issuer\[1\]" repeats an issuer/],
  ])('refuses an issuer that is %s', (_, issuer, message) => {
    expect(constructionError(withKey({ issuer }))).toMatch(message)
  })
})

describe('algorithms', () => {
  it.each([['none'], ['NONE'], ['None'], ['RS256', 'none']])('refuses "none" in any spelling: %j', (...algorithms) => {
    expect(constructionError(withKey({ algorithms }))).toMatch(/option "algorithms" must not contain "none"/)
  })

  it.each([['RS1'], ['ES256K'], ['rs256'], ['RSA-OAEP'], ['']])('refuses the unknown algorithm %j', (alg) => {
    expect(constructionError(withKey({ algorithms: [alg] }))).toMatch(/option "algorithms" contains an unsupported algorithm/)
  })

  it('refuses an empty list or no list', () => {
    expect(constructionError(withKey({ algorithms: [] }))).toMatch(/option "algorithms" must be a non-empty array/)
    expect(constructionError(withKey({ algorithms: 'RS256' }))).toMatch(/option "algorithms" must be a non-empty array/)
  })

  it('never mixes HMAC and public-key algorithms', () => {
    const mixed = { algorithms: ['HS256', 'RS256'] }
    expect(constructionError(withKey(mixed))).toMatch(/option "algorithms" must not mix HMAC/)
    expect(constructionError(withKey(mixed, { secret: SECRET_32 }))).toMatch(/option "algorithms" must not mix HMAC/)
  })

  it.each([
    ['publicKey', { publicKey: rsa.publicKey }],
    ['jwks', { jwks: { keys: [publicJwk] } }],
    ['jwksUri', { jwksUri: 'https://idp.example/jwks' }],
    ['discovery', {}],
  ])('refuses HMAC algorithms with a public-key source (%s): algorithm confusion', (_, source) => {
    expect(constructionError(withKey({ algorithms: ['HS256'] }, source))).toMatch(/option "algorithms" has HMAC algorithms/)
  })

  it('refuses public-key algorithms with a secret', () => {
    expect(constructionError(withKey({ algorithms: ['RS256'] }, { secret: SECRET_32 }))).toMatch(
      /option "algorithms" has public-key algorithms but the key source is a "secret"/,
    )
  })

  it('refuses algorithms the public key cannot verify', () => {
    expect(constructionError(withKey({ algorithms: ['RS256', 'ES256'] }))).toMatch(/option "algorithms" contains ES256/)
  })
})

describe('secret', () => {
  it.each([
    ['31 ASCII characters', 'k'.repeat(31)],
    ['31 bytes', new Uint8Array(31)],
    ['10 euro signs and a letter (31 UTF-8 bytes)', '€'.repeat(10) + 'a'],
  ])('refuses a secret of %s: HS256 needs 32 bytes', (_, secret) => {
    expect(constructionError(withKey({}, { secret }))).toMatch(/option "secret" is 31 bytes: HS256 needs at least 32/)
  })

  it('refuses HS512 with a 32-byte secret, and HS384 with 47 bytes', () => {
    expect(constructionError(withKey({ algorithms: ['HS512'] }, { secret: SECRET_32 }))).toMatch(
      /option "secret" is 32 bytes: HS512 needs at least 64/,
    )
    expect(constructionError(withKey({ algorithms: ['HS384'] }, { secret: new Uint8Array(47) }))).toMatch(
      /option "secret" is 47 bytes: HS384 needs at least 48/,
    )
  })

  it('refuses an empty secret', () => {
    expect(constructionError(withKey({}, { secret: '' }))).toMatch(/option "secret"/)
  })

  it('counts bytes, not characters, and allows by default only the HMAC algorithms the secret is long enough for', () => {
    const guard = (secret: string | Uint8Array) => createGuard({ issuer: ISSUER, audience: AUDIENCE, secret }).settings.algorithms
    expect(guard('€'.repeat(11))).toEqual(['HS256'])
    expect(guard(new Uint8Array(48))).toEqual(['HS256', 'HS384'])
    expect(guard(new Uint8Array(64))).toEqual(['HS256', 'HS384', 'HS512'])
  })
})

describe('other options', () => {
  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, 'abc', '30 parsecs', '-5s', ''])('refuses the clockTolerance %j', (clockTolerance) => {
    expect(constructionError(withKey({ clockTolerance }))).toMatch(/option "clockTolerance" must be a non-negative number/)
  })

  // A value that is neither a number nor a string still gets a message naming the option.
  it.each([[true], [null], [{}], [['30s']]])('names clockTolerance when it is %j', (clockTolerance) => {
    expect(constructionError(withKey({ clockTolerance }))).toMatch(/option "clockTolerance"/)
  })

  it.each([-1, 'forever'])('refuses the maxTokenAge %j', (maxTokenAge) => {
    expect(constructionError(withKey({ maxTokenAge }))).toMatch(/option "maxTokenAge"/)
  })

  it.each([['cookie'], [{ cookie: '' }], [{ query: 1 }], [[]], [42], [null], [{ header: true }], [['header', 'query']]])(
    'refuses the tokenFrom %j',
    (tokenFrom) => {
      expect(constructionError(withKey({ tokenFrom }))).toMatch(/option "tokenFrom"/)
    },
  )

  it.each([
    [{ maxAge: 1000 }, /option "jwksCache" has an unknown member "maxAge"/],
    [{ cacheMaxAge: -1 }, /option "jwksCache.cacheMaxAge" must be a non-negative number/],
    [{ cooldownDuration: Number.NaN }, /option "jwksCache.cooldownDuration"/],
    [{ staleIfError: '10m' }, /option "jwksCache.staleIfError"/],
    [{ timeoutDuration: 0 }, /option "jwksCache.timeoutDuration" must be greater than 0/],
    [{ maxResponseSize: 0 }, /option "jwksCache.maxResponseSize" must be greater than 0/],
    [null, /option "jwksCache" must be an object/],
    [5000, /option "jwksCache" must be an object/],
  ])('refuses the jwksCache %j', (jwksCache, message) => {
    expect(constructionError(withKey({ jwksCache }))).toMatch(message)
  })

  // Inherited names (`constructor`, `toString` …) are not members.
  it('refuses a jwksCache member inherited from Object.prototype', () => {
    expect(constructionError(withKey({ jwksCache: { constructor: 5 } }))).toMatch(/option "jwksCache" has an unknown member/)
  })

  it.each([
    ['realm', ''],
    ['maxTokenLength', 10],
    ['maxTokenLength', 1.5],
    ['typ', ''],
    ['authRequired', 'yes'],
    ['isRevoked', true],
    ['onEvent', 'log'],
    ['claimsSchema', {}],
    ['requiredClaims', [1]],
  ])('refuses a bad %s (%j)', (option, value) => {
    expect(constructionError(withKey({ [option]: value }))).toMatch(new RegExp(`option "${option}"`))
  })

  it('refuses options that are not an object', () => {
    expect(() => createGuard(undefined as unknown as GuardOptions)).toThrow(TypeError)
    expect(() => createGuard('https://issuer.example' as unknown as GuardOptions)).toThrow(/options must be an object/)
  })
})

describe('optionsFromEnv', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('reads issuer and audience, as single values or comma-separated lists', () => {
    expect(optionsFromEnv({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE })).toEqual({ issuer: ISSUER, audience: AUDIENCE })
    expect(optionsFromEnv({ JWT_ISSUER: ` ${ISSUER} , https://b.example`, JWT_AUDIENCE: 'a,b,' })).toEqual({
      issuer: [ISSUER, 'https://b.example'],
      audience: ['a', 'b'],
    })
  })

  it('adds jwksUri, secret and algorithms where set', () => {
    const env = { JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_JWKS_URI: 'https://idp.example/jwks', JWT_ALGORITHMS: 'RS256, ES256' }
    expect(optionsFromEnv(env)).toEqual({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: 'https://idp.example/jwks',
      algorithms: ['RS256', 'ES256'],
    })
    expect(optionsFromEnv({ JWT_ISSUER: ISSUER, JWT_AUDIENCE: AUDIENCE, JWT_SECRET: SECRET_32 })).toMatchObject({ secret: SECRET_32 })
  })

  it.each([
    ['JWT_ISSUER is missing', { JWT_AUDIENCE: AUDIENCE }, /JWT_ISSUER is not set/],
    ['JWT_ISSUER is only commas', { JWT_ISSUER: ' , ', JWT_AUDIENCE: AUDIENCE }, /JWT_ISSUER is not set/],
    ['JWT_AUDIENCE is missing', { JWT_ISSUER: ISSUER }, /JWT_AUDIENCE is not set/],
    ['JWT_AUDIENCE is empty', { JWT_ISSUER: ISSUER, JWT_AUDIENCE: '' }, /JWT_AUDIENCE is not set/],
  ])('fails with a TypeError when %s', (_, env, message) => {
    expect(() => optionsFromEnv(env)).toThrow(TypeError)
    expect(() => optionsFromEnv(env)).toThrow(message)
  })

  it('reads process.env by default, and its options build a working guard', async () => {
    vi.stubEnv('JWT_ISSUER', ISSUER)
    vi.stubEnv('JWT_AUDIENCE', AUDIENCE)
    vi.stubEnv('JWT_SECRET', SECRET_32)
    const guard = createGuard(optionsFromEnv())
    expect(guard.settings.algorithms).toEqual(['HS256'])
    const input = `${b64({ alg: 'HS256' })}.${b64({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 60 })}`
    const jwt = `${input}.${hmac(SECRET_32, input)}`
    await expect(guard.verify(jwt)).resolves.toMatchObject({ payload: { iss: ISSUER, aud: AUDIENCE } })
  })
})

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
const hmac = (secret: string | KeyObject, input: string): string => createHmac('sha256', secret).update(input).digest('base64url')
