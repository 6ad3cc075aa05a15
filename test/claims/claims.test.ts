import { createHmac, randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createGuard, type Guard } from '../../src/guard.js'
import { GuardError } from '../../src/errors.js'
import type { GuardOptions } from '../../src/options.js'

const SECRET = randomBytes(32)
const ISSUER = 'https://issuer.example'
const AUDIENCE = 'https://api.example'
/** The frozen clock, in seconds: 2030-01-01T00:00:00Z. */
const NOW = Date.UTC(2030, 0, 1) / 1000

const seg = (text: string): string => Buffer.from(text).toString('base64url')

/** An HS256 token over the claims as given; a string is used verbatim, so it can hold JSON that `JSON.stringify` cannot write. */
function token(claims: Record<string, unknown> | string, header: Record<string, unknown> = { alg: 'HS256' }): string {
  const input = `${seg(JSON.stringify(header))}.${seg(typeof claims === 'string' ? claims : JSON.stringify(claims))}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

const valid = (extra: Record<string, unknown> = {}) => ({ iss: ISSUER, aud: AUDIENCE, exp: NOW + 600, ...extra })
const guardWith = (extra: Partial<GuardOptions> = {}): Guard =>
  createGuard({ issuer: ISSUER, audience: AUDIENCE, secret: SECRET, ...extra })

async function refusal(guard: Guard, jwt: string): Promise<GuardError> {
  const err = await guard.verify(jwt).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GuardError)
  return err as GuardError
}

const refused = (code: string, claim?: string) => ({ code, status: 401, ...(claim ? { context: expect.objectContaining({ claim }) } : {}) })

beforeEach(() => {
  // Only Date is faked: jose and node:crypto keep their real timers.
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(NOW * 1000)
})
afterEach(() => {
  vi.useRealTimers()
})

describe('exp', () => {
  it('verifies a token that has not expired, and says why a bad one is refused', async () => {
    const auth = await guardWith().verify(token(valid()))
    expect(auth.payload).toEqual(valid())
    const err = await refusal(guardWith(), token(valid({ exp: NOW - 60 })))
    expect(err).toMatchObject(refused('ERR_JWT_EXPIRED', 'exp'))
    expect(err.headers['WWW-Authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="Token expired"')
  })

  it('is required even when requiredClaims does not name it', async () => {
    const err = await refusal(guardWith({ requiredClaims: ['sub'] }), token({ iss: ISSUER, aud: AUDIENCE, sub: 'x' }))
    expect(err).toMatchObject({ ...refused('ERR_JWT_CLAIM_MISSING', 'exp'), context: { claim: 'exp', reason: 'missing' } })
  })

  it.each([
    ['a string', '"1893456600"'],
    ['1e999 (JSON.parse makes it Infinity)', '1e999'],
    ['-1e999 (-Infinity)', '-1e999'],
    ['negative', '-1'],
    ['beyond year 9999', '253402300800'],
    ['null', 'null'],
    ['a boolean', 'true'],
    ['an array', `[${NOW + 600}]`],
    ['an object', '{}'],
  ])('refuses an exp that is %s', async (_, exp) => {
    const err = await refusal(guardWith(), token(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${exp}}`))
    expect(err).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', status: 401, context: { claim: 'exp', reason: 'not_numeric_date' } })
  })

  it('accepts the last second of year 9999 and a fractional NumericDate', async () => {
    await expect(guardWith().verify(token(valid({ exp: 253402300799 })))).resolves.toBeDefined()
    await expect(guardWith().verify(token(valid({ exp: NOW + 0.5 })))).resolves.toBeDefined()
  })

  it.each([
    [undefined, 4, 5],
    [0, -1, 0],
    [30, 29, 30],
    ['30s', 29, 30],
    ['2m', 119, 120],
  ])('with clockTolerance %s, a token expired %is ago passes and one expired %is ago does not', async (tolerance, passes, fails) => {
    const guard = guardWith(tolerance === undefined ? {} : { clockTolerance: tolerance })
    await expect(guard.verify(token(valid({ exp: NOW - passes })))).resolves.toBeDefined()
    expect(await refusal(guard, token(valid({ exp: NOW - fails })))).toMatchObject(refused('ERR_JWT_EXPIRED', 'exp'))
  })
})

describe('nbf and iat', () => {
  it.each([
    [undefined, 5, 6],
    [30, 30, 31],
    ['30s', 30, 31],
  ])('with clockTolerance %s, nbf %is ahead passes and %is ahead is not yet valid', async (tolerance, passes, fails) => {
    const guard = guardWith(tolerance === undefined ? {} : { clockTolerance: tolerance })
    await expect(guard.verify(token(valid({ nbf: NOW + passes })))).resolves.toBeDefined()
    expect(await refusal(guard, token(valid({ nbf: NOW + fails })))).toMatchObject(refused('ERR_JWT_NOT_YET_VALID', 'nbf'))
  })

  it.each([
    [undefined, 5, 6],
    [30, 30, 31],
    ['30s', 30, 31],
  ])('with clockTolerance %s, iat %is ahead passes and %is ahead is issued in the future', async (tolerance, passes, fails) => {
    const guard = guardWith(tolerance === undefined ? {} : { clockTolerance: tolerance })
    await expect(guard.verify(token(valid({ iat: NOW + passes })))).resolves.toBeDefined()
    expect(await refusal(guard, token(valid({ iat: NOW + fails })))).toMatchObject(refused('ERR_JWT_ISSUED_IN_FUTURE', 'iat'))
  })

  it.each(['nbf', 'iat'])('refuses a %s that is not a NumericDate', async (claim) => {
    for (const value of ['"0"', '1e999', '-5', 'null']) {
      const err = await refusal(guardWith(), token(`{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 600},"${claim}":${value}}`))
      expect(err).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID', context: { claim, reason: 'not_numeric_date' } })
    }
  })
})

describe('maxTokenAge', () => {
  it.each([60, '1m', '60 seconds'])(
    'with maxTokenAge %s and the default 5 s tolerance, 65 s old passes and 66 s old is too old',
    async (age) => {
      const guard = guardWith({ maxTokenAge: age })
      await expect(guard.verify(token(valid({ iat: NOW - 65 })))).resolves.toBeDefined()
      expect(await refusal(guard, token(valid({ iat: NOW - 66 })))).toMatchObject(refused('ERR_JWT_TOO_OLD', 'iat'))
    },
  )

  it('requires iat', async () => {
    const err = await refusal(guardWith({ maxTokenAge: 60 }), token(valid()))
    expect(err).toMatchObject({ code: 'ERR_JWT_CLAIM_MISSING', context: { claim: 'iat', reason: 'missing' } })
  })
})

describe('requiredClaims', () => {
  const guard = () => guardWith({ requiredClaims: ['sub', 'jti'] })

  it('passes when every listed claim is present', async () => {
    await expect(guard().verify(token(valid({ sub: 'u', jti: 'j' })))).resolves.toBeDefined()
  })

  it('names the first missing claim', async () => {
    expect(await refusal(guard(), token(valid({ sub: 'u' })))).toMatchObject(refused('ERR_JWT_CLAIM_MISSING', 'jti'))
  })

  it('does not count a claim inherited through "__proto__"', async () => {
    const claims = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 600},"jti":"j","__proto__":{"sub":"u"}}`
    expect(await refusal(guard(), token(claims))).toMatchObject(refused('ERR_JWT_CLAIM_MISSING', 'sub'))
  })
})

describe('iss', () => {
  it.each([
    ['upper case', 'HTTPS://ISSUER.EXAMPLE'],
    ['a different host case', 'https://Issuer.example'],
    ['a trailing slash', `${ISSUER}/`],
    ['a trailing space', `${ISSUER} `],
    ['an array', [ISSUER]],
    ['a number', 1],
    ['missing', undefined],
  ])('is compared exactly: %s is refused', async (_, iss) => {
    expect(await refusal(guardWith(), token(valid({ iss })))).toMatchObject(refused('ERR_JWT_ISSUER_INVALID', 'iss'))
  })

  it('accepts any issuer of the list, and a configured trailing slash is not stripped either', async () => {
    const guard = guardWith({ issuer: ['https://other.example', ISSUER] })
    await expect(guard.verify(token(valid()))).resolves.toBeDefined()
    await expect(guard.verify(token(valid({ iss: 'https://other.example' })))).resolves.toBeDefined()
    const slashed = guardWith({ issuer: `${ISSUER}/` })
    expect(await refusal(slashed, token(valid()))).toMatchObject(refused('ERR_JWT_ISSUER_INVALID', 'iss'))
  })
})

describe('aud', () => {
  it('accepts the audience as a string or inside an array, and any configured audience', async () => {
    await expect(guardWith().verify(token(valid({ aud: ['https://other.example', AUDIENCE] })))).resolves.toBeDefined()
    await expect(guardWith({ audience: ['a', AUDIENCE] }).verify(token(valid({ aud: 'a' })))).resolves.toBeDefined()
  })

  it.each([
    ['upper case', AUDIENCE.toUpperCase()],
    ['a trailing slash', `${AUDIENCE}/`],
    ['another audience', 'https://other.example'],
    ['an empty array', []],
    ['an array of other audiences', ['a', 'b']],
    ['a number', 1],
    ['an object', { aud: AUDIENCE }],
    ['an array of non-strings', [1, null, { a: AUDIENCE }]],
    ['an array holding the audience in an array', [[AUDIENCE]]],
    ['missing', undefined],
  ])('is compared exactly: %s is refused', async (_, aud) => {
    expect(await refusal(guardWith(), token(valid({ aud })))).toMatchObject(refused('ERR_JWT_AUDIENCE_INVALID', 'aud'))
  })

  // RFC 7519 §4.1.3: `aud` is a string or an array of strings; a non-string member makes it malformed.
  it('refuses an aud array mixing a non-string member with the right audience', async () => {
    expect(await refusal(guardWith(), token(valid({ aud: [{}, AUDIENCE] })))).toMatchObject(refused('ERR_JWT_AUDIENCE_INVALID', 'aud'))
    // After the right audience too: finding it does not end the look at the other members.
    for (const aud of [
      [AUDIENCE, 1],
      [AUDIENCE, 'b', null],
      ['a', AUDIENCE, [AUDIENCE]],
    ]) {
      expect(await refusal(guardWith(), token(valid({ aud })))).toMatchObject(refused('ERR_JWT_AUDIENCE_INVALID', 'aud'))
    }
  })
})

describe('typ', () => {
  const typed = (typ: unknown) => token(valid(), typ === undefined ? { alg: 'HS256' } : { alg: 'HS256', typ })

  it.each(['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/AT+JWT'])('accepts %s when at+jwt is required', async (typ) => {
    await expect(guardWith({ typ: 'at+jwt' }).verify(typed(typ))).resolves.toBeDefined()
    await expect(guardWith({ typ: 'application/at+jwt' }).verify(typed(typ))).resolves.toBeDefined()
  })

  it.each([
    ['JWT', 'JWT'],
    ['application/jwt', 'application/jwt'],
    ['a trailing space', 'at+jwt '],
    ['a number', 1],
    ['missing', undefined],
  ])('refuses %s when at+jwt is required', async (_, typ) => {
    expect(await refusal(guardWith({ typ: 'at+jwt' }), typed(typ))).toMatchObject({
      code: 'ERR_JWT_TYP_INVALID',
      status: 401,
      context: { reason: 'typ' },
    })
  })

  it('checks no typ unless asked', async () => {
    await expect(guardWith().verify(typed('JWT'))).resolves.toBeDefined()
    await expect(guardWith().verify(typed(undefined))).resolves.toBeDefined()
  })
})
