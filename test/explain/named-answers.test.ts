// Issue 15 item 3: the answers explain used to get wrong, each as the pipeline saw it.
import { randomBytes, type webcrypto } from 'node:crypto'
import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard } from '../../src/guard.js'

const A = 'https://a.example'
const B = 'https://b.example'
const AUDIENCE = 'https://api.example'

let rsa: webcrypto.CryptoKey
let ec: webcrypto.CryptoKey
let dirKey: Uint8Array
let guard: Guard<unknown>
const now = (): number => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  const r = await generateKeyPair('RS256')
  const e = await generateKeyPair('ES256')
  rsa = r.privateKey as webcrypto.CryptoKey
  ec = e.privateKey as webcrypto.CryptoKey
  const keys: JWK[] = [
    { ...(await exportJWK(r.publicKey)), kid: 'rsa-1', alg: 'RS256' },
    { ...(await exportJWK(e.publicKey)), kid: 'ec-1', alg: 'ES256' },
  ]
  dirKey = randomBytes(32)
  guard = createGuard({
    issuer: [
      { issuer: A, algorithms: ['RS256'] },
      { issuer: B, algorithms: ['ES256'] },
    ],
    audience: AUDIENCE,
    jwks: { keys },
    decryption: {
      keys: { kty: 'oct', k: Buffer.from(dirKey).toString('base64url'), alg: 'dir' },
      keyManagementAlgorithms: ['dir'],
      allowUnsigned: true,
    },
  } as Parameters<typeof createGuard>[0])
})

const claims = (extra: Record<string, unknown> = {}) => ({ iss: A, aud: AUDIENCE, sub: 'alice', exp: now() + 3600, ...extra })
const dir = (plaintext: string, cty?: string) =>
  new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...(cty ? { cty } : {}) })
    .encrypt(dirKey)

describe('guard.explain names what the pipeline saw', () => {
  it('a per-issuer algorithm refusal names the issuer and its algorithms, not the guard-wide list', async () => {
    // ES256 is allowed guard-wide (for B), not for A.
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', kid: 'ec-1' }).sign(ec)
    const e = await guard.explain(token)
    expect(e.code).toBe('ERR_JWT_ALG_NOT_ALLOWED')
    const failed = e.steps.find((s) => s.ok === false)!
    expect(failed.check).toBe('algorithm')
    expect(failed.detail).toBe(`algorithm "ES256" is not allowed for issuer "${A}" (its algorithms: RS256)`)
  })

  it('an unsigned dir JWE shows decryption and claims, and no signature or key step', async () => {
    const e = await guard.explain(await dir(JSON.stringify(claims())))
    expect(e.ok).toBe(true)
    const checks = e.steps.map((s) => s.check)
    expect(checks).toContain('decryption')
    expect(checks).not.toContain('signature')
    expect(checks).not.toContain('key')
  })

  it.each(['nested', 'dir'])('a %s JWE refused for its audience is explained from its decrypted claims', async (kind) => {
    const payload = claims({ aud: 'https://other.example' })
    const jws = await new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsa)
    const token = kind === 'nested' ? await dir(jws, 'JWT') : await dir(JSON.stringify(payload))
    const e = await guard.explain(token)
    expect(e.code).toBe('ERR_JWT_AUDIENCE_INVALID')
    const failed = e.steps.find((s) => s.ok === false)!
    expect(failed.detail).toBe(`audience "https://other.example" is not accepted (expected "${AUDIENCE}")`)
    expect(e.payload?.aud).toBe('https://other.example')
  })
})
