// Issue 15 item 3: explain observes the pipeline. Over generated tokens (JWS, nested and unsigned `dir` JWE,
// multi-issuer with per-issuer algorithms, DPoP-bound with their requests, and every kind of refusal), the code
// explain reports is the one verify / authenticate throws (or both accept), and no step is reported passed that
// the pipeline cannot have run for that token.
import { randomBytes, type webcrypto } from 'node:crypto'
import fc from 'fast-check'
import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { GuardError, type GuardErrorCode } from '../../src/errors.js'
import type { Explanation } from '../../src/explain.js'
import { createGuard, type Guard } from '../../src/guard.js'
import type { GuardRequest } from '../../src/intake/request.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'

const A = 'https://a.example' // RS256 only
const B = 'https://b.example' // ES256 only
const AUDIENCE = 'https://api.example'
const ORIGIN = 'https://api.example'
const RUNS = 520

let rsa: { privateKey: webcrypto.CryptoKey; jwk: JWK }
let ec: { privateKey: webcrypto.CryptoKey; jwk: JWK }
let dirKey: Uint8Array
let client: ClientKey
let guard: Guard<unknown>
let dpopGuard: Guard<unknown>

async function pair(alg: 'RS256' | 'ES256', kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg)
  return { privateKey: privateKey as webcrypto.CryptoKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } }
}

beforeAll(async () => {
  rsa = await pair('RS256', 'rsa-1')
  ec = await pair('ES256', 'ec-1')
  dirKey = randomBytes(32)
  client = await clientKey('ES256')
  const common = {
    issuer: [
      { issuer: A, algorithms: ['RS256' as const] },
      { issuer: B, algorithms: ['ES256' as const] },
    ],
    audience: AUDIENCE,
    jwks: { keys: [rsa.jwk, ec.jwk] },
    cache: false as const,
  }
  const decryption = {
    keys: { kty: 'oct', k: Buffer.from(dirKey).toString('base64url'), alg: 'dir' },
    keyManagementAlgorithms: ['dir'],
    allowUnsigned: true,
  }
  guard = createGuard({ ...common, decryption } as Parameters<typeof createGuard>[0])
  dpopGuard = createGuard({ ...common, dpop: { origin: ORIGIN } })
})

const token = fc.record({
  kind: fc.constantFrom('jws', 'jws', 'nested', 'dir', 'garbage'),
  iss: fc.constantFrom(A, B, 'https://evil.example', undefined),
  alg: fc.constantFrom('RS256', 'ES256', 'HS256'),
  kid: fc.constantFrom(undefined, 'rsa-1', 'ec-1', 'unknown', 7),
  aud: fc.constantFrom<unknown>(AUDIENCE, 'https://other.example', undefined, 42),
  exp: fc.constantFrom<unknown>(3600, -3600, undefined, 'soon'),
  nbf: fc.constantFrom(undefined, undefined, 3600),
  iat: fc.constantFrom(undefined, 0, 3600),
  sub: fc.constantFrom<unknown>('alice', 12),
  bound: fc.boolean(),
  tamper: fc.constantFrom(false, false, true),
  crit: fc.constantFrom(false, false, false, true),
  garbage: fc.constantFrom('a.b', 'a.b.c', '', 'x'.repeat(9000), 'e30.e30.', 'e30.e30.e30.e30.e30'),
})
type Spec = typeof token extends fc.Arbitrary<infer T> ? T : never

const now = (): number => Math.floor(Date.now() / 1000)

async function build(spec: Spec): Promise<string> {
  if (spec.kind === 'garbage') return spec.garbage
  const t = now()
  const claims: Record<string, unknown> = { sub: spec.sub, jti: `j-${Math.random()}` }
  if (spec.iss !== undefined) claims.iss = spec.iss
  if (spec.aud !== undefined) claims.aud = spec.aud
  if (spec.exp !== undefined) claims.exp = typeof spec.exp === 'number' ? t + spec.exp : spec.exp
  if (spec.nbf !== undefined) claims.nbf = t + spec.nbf
  if (spec.iat !== undefined) claims.iat = t + spec.iat
  if (spec.bound) claims.cnf = { jkt: client.jkt }
  const encrypt = (plaintext: string, cty?: string) =>
    new CompactEncrypt(new TextEncoder().encode(plaintext))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', ...(cty ? { cty } : {}) })
      .encrypt(dirKey)
  if (spec.kind === 'dir') return encrypt(JSON.stringify(claims))
  const header: Record<string, unknown> = { alg: spec.alg }
  if (spec.kid !== undefined) header.kid = spec.kid
  if (spec.crit) Object.assign(header, { crit: ['x-ext'], 'x-ext': 1 })
  const key = spec.alg === 'RS256' ? rsa.privateKey : spec.alg === 'ES256' ? ec.privateKey : randomBytes(32)
  let jws = await new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(key, { crit: spec.crit ? { 'x-ext': true } : {} })
  if (spec.tamper) jws = `${jws.slice(0, -6)}${jws.slice(-6, -5) === 'A' ? 'B' : 'A'}${jws.slice(-5)}`
  return spec.kind === 'nested' ? encrypt(jws, 'JWT') : jws
}

async function codeOf(run: Promise<unknown>): Promise<GuardErrorCode | undefined> {
  try {
    await run
    return undefined
  } catch (err) {
    if (err instanceof GuardError) return err.code
    throw err
  }
}

// Checks that refuse before any key is touched: after them, no key or signature step can have run.
const BEFORE_KEYS = new Set<GuardErrorCode>([
  'ERR_JWT_MALFORMED',
  'ERR_JWT_TOO_LARGE',
  'ERR_JWT_ALG_NOT_ALLOWED',
  'ERR_JWT_HEADER_INVALID',
  'ERR_JWT_ISSUER_INVALID',
  'ERR_JWE_NOT_SUPPORTED',
  'ERR_JWE_DECRYPTION_FAILED',
])

/** What no run of the pipeline can have passed for this token and explanation. */
function checkHonest(spec: Spec, e: Explanation, viaRequest: boolean): void {
  const passed = new Set(e.steps.filter((s) => s.ok === true).map((s) => s.check))
  const failed = e.steps.filter((s) => s.ok === false)
  expect(failed.length).toBe(e.ok ? 0 : 1)
  if (failed[0]) expect(passed.has(failed[0].check)).toBe(false)
  if (e.ok) expect(e.steps.every((s) => s.ok === true)).toBe(true)
  // Neither guard has a revocation check or a typ rule, and no step is about a route.
  expect(passed.has('revocation')).toBe(false)
  expect(passed.has('type')).toBe(false)
  expect(passed.has('authorization')).toBe(false)
  if (!viaRequest) expect(passed.has('request') || passed.has('dpop-proof')).toBe(false)
  if (spec.kind === 'jws' || spec.kind === 'garbage') expect(passed.has('decryption')).toBe(false)
  // An unsigned JWE has no signature and no signing key.
  if (spec.kind === 'dir') expect(passed.has('signature') || passed.has('key')).toBe(false)
  if (e.code !== undefined && BEFORE_KEYS.has(e.code)) expect(passed.has('signature') || passed.has('key')).toBe(false)
  if (!passed.has('signature') && spec.kind !== 'dir') expect(passed.has('audience') || passed.has('expiry')).toBe(false)
}

describe('guard.explain observes the pipeline (property)', () => {
  it(`a token: explain's code is verify's, and no step passed that did not run (${RUNS} tokens)`, async () => {
    await fc.assert(
      fc.asyncProperty(token, async (spec) => {
        const t = await build(spec)
        const explained = await guard.explain(t)
        expect(explained.code).toBe(await codeOf(guard.verify(t)))
        checkHonest(spec, explained, false)
      }),
      { numRuns: RUNS },
    )
  }, 180_000)

  const request = fc.record({
    scheme: fc.constantFrom('DPoP', 'DPoP', 'Bearer'),
    proof: fc.constantFrom('good', 'good', 'wrong-method', 'wrong-token', 'none'),
  })

  it("a DPoP request: explain(request) gives authenticate(request)'s code (200 requests)", async () => {
    await fc.assert(
      fc.asyncProperty(token, request, async (spec, r) => {
        const t = await build({ ...spec, kind: spec.kind === 'garbage' ? 'garbage' : 'jws' })
        const headers: Record<string, string> = { authorization: `${r.scheme} ${t}` }
        if (r.proof !== 'none') {
          const htm = r.proof === 'wrong-method' ? 'POST' : 'GET'
          headers.dpop = await signProof(client, { htm, htu: `${ORIGIN}/orders`, token: r.proof === 'wrong-token' ? 'other' : t })
        }
        const req: GuardRequest = { headers, method: 'GET', url: '/orders' }
        const explained = await dpopGuard.explain(req)
        // After explain, so that the proof is still unused: explain never records it.
        expect(explained.code).toBe(await codeOf(dpopGuard.authenticate(req)))
        checkHonest({ ...spec, kind: spec.kind === 'garbage' ? 'garbage' : 'jws' }, explained, true)
      }),
      { numRuns: 200 },
    )
  }, 180_000)
})
