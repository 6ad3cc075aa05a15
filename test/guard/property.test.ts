import { generateKeyPairSync, sign } from 'node:crypto'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES, GuardError } from '../../src/errors.js'
import { createGuard } from '../../src/guard.js'

const ISSUER = 'https://issuer.example'
const AUDIENCE = 'https://api.example'
const RUNS = { numRuns: 300 }
const ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'HS256', 'none', 'NONE', '']

const key = generateKeyPairSync('rsa', { modulusLength: 2048 })
const guard = createGuard({ issuer: ISSUER, audience: AUDIENCE, publicKey: key.publicKey })
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')

function signed(header: object, payload: object): string {
  const input = `${b64(header)}.${b64(payload)}`
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`
}

/**
 * `'verified'`, or the GuardError the guard rejected with. Anything else thrown escapes and fails the
 * property (fast-check then shrinks the input). A promise that never settles fails on vitest's timeout.
 */
async function outcome(token: string): Promise<'verified' | GuardError> {
  try {
    await guard.verify(token)
    return 'verified'
  } catch (err) {
    if (err instanceof GuardError) return err
    throw err
  }
}

/** A refusal as the contract says: a GuardError with a listed code, 401 for a token that is merely bad. */
function expectRefusal(result: 'verified' | GuardError): void {
  expect(result).toBeInstanceOf(GuardError)
  const err = result as GuardError
  expect(Object.keys(ERROR_CODES)).toContain(err.code)
  expect(err.status).toBe(401)
}

describe('guard.verify on arbitrary input', () => {
  const segments = fc.array(fc.stringMatching(/^[\w-]{0,60}$/), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'))

  it('refuses random strings with a GuardError', async () => {
    const anyString = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
      segments,
    )
    await fc.assert(
      fc.asyncProperty(anyString, async (token) => expectRefusal(await outcome(token))),
      RUNS,
    )
  })

  it('refuses tokens built from random JSON headers, payloads and signatures', async () => {
    const json = fc.jsonValue({ maxDepth: 3 })
    const extra = fc.dictionary(fc.string({ maxLength: 8 }), json, { maxKeys: 4 })
    const header = fc.oneof(
      json,
      fc.tuple(fc.constantFrom(...ALGORITHMS), fc.option(fc.string({ maxLength: 8 })), extra).map(([alg, kid, rest]) => ({
        ...rest,
        alg,
        ...(kid === null ? {} : { kid }),
      })),
    )
    const exp = fc.oneof(fc.integer(), fc.double(), fc.constant(Math.floor(Date.now() / 1000) + 3600))
    const payload = fc.oneof(
      json,
      fc
        .tuple(fc.constantFrom(ISSUER, `${ISSUER}/`, 'x'), fc.constantFrom(AUDIENCE, [AUDIENCE], 1), exp, extra)
        .map(([iss, aud, e, rest]) => ({
          ...rest,
          iss,
          aud,
          exp: e,
        })),
    )
    const signature = fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes).toString('base64url'))
    await fc.assert(
      fc.asyncProperty(header, payload, signature, async (h, p, s) => expectRefusal(await outcome(`${b64(h)}.${b64(p)}.${s}`))),
      RUNS,
    )
  })
})

describe('guard.verify on mutations of a valid token', () => {
  const valid = signed({ alg: 'RS256', kid: 'k1' }, { iss: ISSUER, aud: AUDIENCE, sub: 'u', exp: Math.floor(Date.now() / 1000) + 3600 })
  const characters = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \n\u0000é')
  const at = (token: string, i: number) => i % (token.length + 1)

  const mutation = fc.oneof(
    fc.tuple(fc.nat(), characters).map(
      ([i, c]) =>
        (t: string) =>
          t.slice(0, at(t, i)) + c + t.slice(at(t, i) + 1),
    ),
    fc.tuple(fc.nat(), characters).map(
      ([i, c]) =>
        (t: string) =>
          t.slice(0, at(t, i)) + c + t.slice(at(t, i)),
    ),
    fc.nat().map((i) => (t: string) => t.slice(0, at(t, i)) + t.slice(at(t, i) + 1)),
    fc.nat().map((i) => (t: string) => t.slice(0, at(t, i))),
    // Segments reordered or repeated, e.g. [2, 1, 0] or [0, 0, 2].
    fc.tuple(fc.nat(2), fc.nat(2), fc.nat(2)).map((order) => (t: string) => {
      const parts = t.split('.')
      return order.map((i) => parts[i]).join('.')
    }),
  )

  it('verifies the token itself', async () => {
    expect(await outcome(valid)).toBe('verified')
  })

  it('never verifies a token that differs from it (flip, insert, delete, truncate, reorder)', async () => {
    await fc.assert(
      fc.asyncProperty(mutation, async (mutate) => {
        const mutated = mutate(valid)
        const result = await outcome(mutated)
        if (mutated === valid) expect(result).toBe('verified')
        else expectRefusal(result)
      }),
      RUNS,
    )
  })
})
