import { afterAll, beforeAll, expect, it } from 'vitest'
import { soakTokens, TOKEN_KINDS, type SoakTokens } from '../../bench/soak-tokens.js'
import { createGuard } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'

// A smoke test of the soak's tokens, not a soak: across rotations only valid tokens verify, each bad
// kind is refused for its own reason, and the test issuer publishes the signer and the next key only.

const AUDIENCE = 'https://api.soak.test'
let issuer: TestIssuer
let tokens: SoakTokens
beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['RS256'], audience: AUDIENCE })
  tokens = await soakTokens(issuer)
})
afterAll(() => issuer?.close())

it('each token kind gets its answer before and after rotations, and only two keys stay published', async () => {
  const guard = createGuard({ issuer: issuer.issuer, audience: AUDIENCE, jwksUri: issuer.jwksUri, cache: false })
  const malformed = new Set<string>()
  for (let round = 0; round < 3; round++) {
    await guard.reload()
    const signer = tokens.signingJwk().kid
    expect(issuer.keys().map((k) => k.kid)).toEqual([signer, expect.any(String)])
    const answer = async (authorization: string | undefined): Promise<string> => {
      if (!authorization?.startsWith('Bearer ')) return 'not bearer'
      return guard.verify(authorization.slice('Bearer '.length)).then(
        (auth) => (auth.header.kid === signer ? 'ok' : `ok with ${auth.header.kid}`),
        (err: { code: string }) => err.code,
      )
    }
    const answers = Object.fromEntries(await Promise.all(TOKEN_KINDS.map(async (kind) => [kind, await answer(tokens.authorization(kind))])))
    expect(answers).toMatchObject({
      valid: 'ok',
      expired: 'ERR_JWT_EXPIRED',
      forged: 'ERR_JWT_SIGNATURE_INVALID',
      'unknown-kid': 'ERR_JWKS_NO_MATCHING_KEY',
    })
    for (let i = 0; i < 8; i++) malformed.add(await answer(tokens.authorization('malformed')))
    await tokens.rotate()
  }
  expect(malformed.has('ok')).toBe(false)
  expect([...malformed].every((a) => a === 'not bearer' || a.startsWith('ERR_'))).toBe(true)
}, 60_000)
