// Issue 15 item 1: options are resolved once. What the caller does to its options object afterwards changes nothing.
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createGuard } from '../../src/guard.js'
import type { GuardOptions } from '../../src/options.js'

const SECRET = 'a-test-secret-of-at-least-32-bytes!!'
const sign = (claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: 'https://idp.example', aud: 'api', sub: 'alice', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(SECRET))

describe('settings resolved once', () => {
  it('callbacks replaced on the options after createGuard are never called', async () => {
    const options: GuardOptions = { issuer: 'https://idp.example', audience: 'api', secret: SECRET, isRevoked: () => false }
    const guard = createGuard(options)
    options.isRevoked = () => true
    options.claimsSchema = {
      '~standard': { version: 1, vendor: 'test', validate: () => ({ issues: [{ message: 'no' }] }) },
    }
    await expect(guard.verify(await sign())).resolves.toMatchObject({ claims: { sub: 'alice' } })
  })

  it('the diagnostic settings cannot be changed', () => {
    const guard = createGuard({ issuer: 'https://idp.example', audience: 'api', secret: SECRET })
    expect(Object.isFrozen(guard.settings)).toBe(true)
  })
})
