// requireClaims(check, { description }): the 403's error_description, and a description a challenge
// cannot carry (RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E) fails when the check is built.
import { describe, expect, it } from 'vitest'
import { GuardError, requireClaims, type AuthInfo } from '../../src/index.js'

const auth = (payload: Record<string, unknown>): AuthInfo<unknown> => ({
  token: 't',
  header: { alg: 'RS256' },
  payload,
  claims: payload,
  scopes: [],
  roles: [],
  encrypted: false,
})

describe('requireClaims(check, { description })', () => {
  it('puts the description on the 403, for expected values and predicates', () => {
    for (const check of [
      requireClaims({ tenant: 'acme' }, { description: 'Acme staff only' }),
      requireClaims((p) => p.tenant === 'acme', { description: 'Acme staff only' }),
    ]) {
      expect(() => check(auth({ tenant: 'acme' }))).not.toThrow()
      const err = (() => {
        try {
          check(auth({ tenant: 'other' }))
        } catch (e) {
          return e
        }
      })()
      expect(err).toBeInstanceOf(GuardError)
      expect(err).toMatchObject({
        status: 403,
        code: 'ERR_JWT_CLAIM_CHECK_FAILED',
        message: 'Acme staff only',
        challenge: 'insufficient_scope',
      })
    }
  })

  it.each([
    ['a double quote', 'say "no"'],
    ['a backslash', 'a\\b'],
    ['a line break', 'line\nbreak'],
    ['a tab', 'tab\there'],
    ['a non-ASCII letter', 'Zürich only'],
    ['a bidi override', 'admins\u202eonly'],
    ['an empty string', ''],
    ['a number', 5],
  ])('refuses %s when the check is built', (_name, description) => {
    expect(() => requireClaims({ tenant: 'acme' }, { description: description as string })).toThrow(TypeError)
    expect(() => requireClaims({ tenant: 'acme' }, { description: description as string })).toThrow(/option "description"/)
  })

  it('accepts every character RFC 6750 allows', () => {
    const all = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i))
      .filter((c) => c !== '"' && c !== '\\')
      .join('')
    expect(() => requireClaims({ tenant: 'acme' }, { description: all })).not.toThrow()
  })
})
