import { randomBytes } from 'node:crypto'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createGuard, memoryRevocationStore, type GuardOptions } from '../../src/index.js'
import { rejection } from '../helpers/shared.js'

// issue 14 item 9: a `sub` or `jti` that is not a string must not skip a revocation check.
const secret = randomBytes(32)
const base: GuardOptions = { issuer: 'https://issuer.test', audience: 'https://api.test', secret }
const now = (): number => Math.floor(Date.now() / 1000)

const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ iss: base.issuer as string, aud: base.audience, iat: now() - 60, ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setExpirationTime('10m')
    .sign(secret)

const invalid = (claim: string) => ({ status: 401, code: 'ERR_JWT_CLAIM_INVALID', challenge: 'invalid_token', context: { claim } })

describe('claim types cannot dodge revocation', () => {
  it.each(['refuse', 'allow'] as const)('a numeric sub is refused, not let past a subject cut-off (missingJti %s)', async (missingJti) => {
    const store = memoryRevocationStore({ missingJti })
    await store.revokeSubject('42', now())
    const guard = createGuard({ ...base, revocation: store, cache: false })
    const token = await sign({ sub: 42, jti: 'j-1' })
    expect(await rejection(guard.verify(token))).toMatchObject(invalid('sub'))
    expect(await rejection(guard.authenticate({ headers: { authorization: `Bearer ${token}` } }))).toMatchObject(invalid('sub'))
    // The same subject as a string is cut off, as it always was.
    expect(await rejection(guard.verify(await sign({ sub: '42', jti: 'j-2' })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
  })

  it('a numeric token id under jtiClaim (Entra uti) is refused, not let past a revoked id (missingJti allow)', async () => {
    const store = memoryRevocationStore({ missingJti: 'allow' })
    await store.revoke('77', now() + 600)
    const guard = createGuard({ ...base, jtiClaim: 'uti', revocation: store })
    expect(await rejection(guard.verify(await sign({ sub: 'u', uti: 77 })))).toMatchObject(invalid('uti'))
    expect(await rejection(guard.verify(await sign({ sub: 'u', uti: '77' })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
  })

  it('a numeric jti is refused, not let past a revoked jti (missingJti allow)', async () => {
    const store = memoryRevocationStore({ missingJti: 'allow' })
    await store.revoke('123', now() + 600)
    const guard = createGuard({ ...base, revocation: store })
    expect(await rejection(guard.verify(await sign({ sub: 'u', jti: 123 })))).toMatchObject(invalid('jti'))
    expect(await rejection(guard.verify(await sign({ sub: 'u', jti: '123' })))).toMatchObject({ code: 'ERR_JWT_REVOKED' })
  })

  it.each([
    ['sub', 42],
    ['sub', null],
    ['sub', ['alice']],
    ['sub', { id: 'alice' }],
    ['jti', 7],
    ['jti', false],
    ['jti', ['a']],
  ])('%s = %j is refused with no revocation configured too', async (claim, value) => {
    const guard = createGuard(base)
    const err = await rejection(guard.verify(await sign({ [claim]: value })))
    expect(err).toMatchObject({ ...invalid(claim), context: { claim, reason: 'not_string' } })
    expect(err.headers['WWW-Authenticate']).toContain('error="invalid_token"')
  })

  it('string sub and jti, or none, still pass', async () => {
    const guard = createGuard(base)
    await expect(guard.verify(await sign({ sub: 'alice', jti: 'j' }))).resolves.toMatchObject({ payload: { sub: 'alice' } })
    await expect(guard.verify(await sign({}))).resolves.toBeDefined()
  })
})
