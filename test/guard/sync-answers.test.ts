// Issue 16 item 1 (review): an HMAC token with held secrets is verified synchronously, and its refusals are thrown
// synchronously from the core. Every public entry point must still answer as before: `verify`, `authenticate` and
// `explain` reject or resolve (never throw), each refusal is its own error with its own challenge and one
// `token_rejected` event, the in-flight sharing and an async `claimsSchema` still work on that path.
import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import { afterAll, describe, expect, it } from 'vitest'
import { authenticateNow } from '../../src/adapter.js'
import { createGuard, GuardError, type GuardEvent, type GuardOptions, type GuardRequest } from '../../src/index.js'

let unhandled = 0
const countUnhandled = (): void => void unhandled++
process.on('unhandledRejection', countUnhandled)
afterAll(() => {
  process.off('unhandledRejection', countUnhandled)
  expect(unhandled).toBe(0)
})

const secret = randomBytes(32)
const base: GuardOptions = { issuer: 'https://issuer.test', audience: 'https://api.test', secret }

const sign = (key: Buffer = secret, claims: Record<string, unknown> = {}, exp: number | string = '10m') =>
  new SignJWT({ iss: 'https://issuer.test', aud: 'https://api.test', sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime(exp)
    .sign(key)

const request = (token: string): GuardRequest => ({ headers: { authorization: `Bearer ${token}` }, method: 'GET', url: '/' })

/** Calls `f`, which must return a promise (never throw), and gives what it rejected with. */
async function rejected(f: () => Promise<unknown>): Promise<GuardError> {
  let answer: Promise<unknown>
  expect(() => (answer = f())).not.toThrow()
  const err = await answer!.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(GuardError)
  return err as GuardError
}

const refusals = async () => ({
  forged: await sign(randomBytes(32)),
  expired: await sign(secret, {}, Math.floor(Date.now() / 1000) - 3600),
  wrongAudience: await sign(secret, { aud: 'https://other.test' }),
})

describe('HMAC tokens answered synchronously by the core', () => {
  it('verify, authenticate and explain reject; the adapters’ entry point throws; one event and one error each', async () => {
    const events: GuardEvent[] = []
    const guard = createGuard({ ...base, onEvent: (event) => void events.push(event) })
    for (const [name, token] of Object.entries(await refusals())) {
      events.length = 0
      const a = await rejected(() => guard.verify(token))
      const b = await rejected(() => guard.verify(token))
      const c = await rejected(() => guard.authenticate(request(token)))
      let d: unknown
      expect(() => authenticateNow(guard, request(token)), name).toThrow(GuardError)
      try {
        authenticateNow(guard, request(token))
      } catch (err) {
        d = err
      }
      const errors = [a, b, c, d as GuardError]
      // Each its own instance with its own challenge: one request's headers never reach another's.
      expect(new Set(errors).size, name).toBe(4)
      for (const err of errors) {
        expect(err.code, name).toBe(a.code)
        expect(err.status, name).toBe(401)
        expect(err.headers['WWW-Authenticate'], name).toContain('error="invalid_token"')
      }
      // Four refusals above, five calls: the `toThrow` probe refused once more.
      expect(events.filter((e) => e.type === 'token_rejected').length, name).toBe(5)
      const explained = await guard.explain(token)
      expect(explained.ok, name).toBe(false)
      expect(explained.code, name).toBe(a.code)
    }
  })

  it('an async claimsSchema still judges the claims, after the signature, on the same path', async () => {
    const seen: unknown[] = []
    const claimsSchema = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: async (value: unknown) => {
          seen.push(value)
          const claims = value as { sub?: unknown }
          return claims.sub === 'alice' ? { value: { who: claims.sub } } : { issues: [{ message: 'not alice', path: ['sub'] }] }
        },
      },
    }
    const guard = createGuard({ ...base, cache: false, claimsSchema })
    const bob = await sign(secret, { sub: 'bob' })
    const auth = await guard.verify(await sign())
    expect(auth.payload).toEqual({ who: 'alice' })
    expect((await rejected(() => guard.verify(bob))).code).toBe('ERR_JWT_SCHEMA_INVALID')
    const forged = await sign(randomBytes(32))
    seen.length = 0
    // A forged token never reaches the schema.
    expect((await rejected(() => guard.verify(forged))).code).toBe('ERR_JWT_SIGNATURE_INVALID')
    expect(seen).toEqual([])
  })

  it('the same token verified twice at once (shared while the schema runs) gives each caller its own AuthInfo', async () => {
    const claimsSchema = {
      '~standard': {
        version: 1 as const,
        vendor: 'test',
        validate: async (value: unknown) => ({ value: value as Record<string, unknown> }),
      },
    }
    const guard = createGuard({ ...base, claimsSchema })
    const token = await sign()
    const [a, b] = await Promise.all([guard.verify(token), guard.verify(token)])
    expect(a).not.toBe(b)
    expect(a.claims).toEqual(b.claims)
    // And from the cache afterwards, at once.
    const now = authenticateNow(guard, request(token))
    expect(now).not.toBeInstanceOf(Promise)
    expect((now as { claims: unknown }).claims).toEqual(a.claims)
  })
})
