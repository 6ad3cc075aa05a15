// Issue 15 item 3: explain observes the pipeline. Over generated tokens (JWS, nested and unsigned `dir` JWE,
// multi-issuer with per-issuer algorithms, DPoP-bound with their requests, and every kind of refusal), the code
// explain reports is the one verify / authenticate throws (or both accept), and no step is reported passed that
// the pipeline cannot have run for that token. Issue 19 item 6: the same for certificate-bound tokens (mtls) on
// connections presenting their certificate, another one or none, and for tokens in a form body.
import { randomBytes, X509Certificate, type webcrypto } from 'node:crypto'
import fc from 'fast-check'
import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { GuardError, type GuardErrorCode } from '../../src/errors.js'
import type { Explanation } from '../../src/explain.js'
import { createGuard, type Guard } from '../../src/guard.js'
import type { GuardRequest } from '../../src/intake/request.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'
import { makeCertificate, thumbprintOf } from '../helpers/certs.js'

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
let mtlsGuard: Guard<unknown>
/** DER of the client certificate tokens are bound to (A) and of another one (B). */
let certA: Buffer
let certB: Buffer
let thumbprintA: string

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
  mtlsGuard = createGuard({ ...common, mtls: true, tokenFrom: ['header', { body: 'access_token' }] })
  const [a, b] = await Promise.all([makeCertificate({ key: 'ec-p256' }), makeCertificate({ key: 'ec-p256' })])
  certA = new X509Certificate(a!.certPem).raw
  certB = new X509Certificate(b!.certPem).raw
  thumbprintA = thumbprintOf(certA)
}, 60_000)

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
  // Bound to client certificate A (alone, or beside a jkt: two confirmations, refused).
  x5t: fc.constantFrom(false, false, true),
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
  if (spec.bound || spec.x5t) claims.cnf = { ...(spec.bound && { jkt: client.jkt }), ...(spec.x5t && { 'x5t#S256': thumbprintA }) }
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
        // With mtls and no request there is no certificate: a certificate-bound token is refused by both.
        const withMtls = await mtlsGuard.explain(t)
        expect(withMtls.code).toBe(await codeOf(mtlsGuard.verify(t)))
        checkHonest(spec, withMtls, false)
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

  const mtlsRequest = fc.record({
    // Where the token comes: the header, a form body, both, or a body the source must not read or cannot.
    where: fc.constantFrom('header', 'header', 'body', 'body', 'both', 'body-get', 'body-json', 'body-unparsed', 'body-twice'),
    presented: fc.constantFrom('A', 'A', 'B', 'none'),
    // Half the tokens pass every other check, so that the binding decides often enough to be observed.
    valid: fc.boolean(),
    cnf: fc.constantFrom('x5t', 'x5t', 'none', 'jkt', 'both'),
  })
  // Every token check passing (the first property's values that pass).
  const VALID = {
    iss: A,
    alg: 'RS256',
    kid: 'rsa-1',
    aud: AUDIENCE,
    exp: 3600,
    nbf: undefined,
    iat: 0,
    sub: 'alice',
    tamper: false,
    crit: false,
  } as const

  it("mtls and a form body: explain(request) gives authenticate(request)'s code, the binding as it ran (300 requests)", async () => {
    const seen = new Set<string>()
    await fc.assert(
      fc.asyncProperty(token, mtlsRequest, async (generated, r) => {
        const kind = generated.kind === 'garbage' && !r.valid ? 'garbage' : 'jws'
        const bindings = { bound: r.cnf === 'jkt' || r.cnf === 'both', x5t: r.cnf === 'x5t' || r.cnf === 'both' }
        const spec: Spec = { ...generated, ...(r.valid && VALID), ...bindings, kind }
        const t = await build(spec)
        const form = { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(t.length + 13) }
        const raw = r.presented === 'A' ? certA : r.presented === 'B' ? certB : undefined
        // What a TLS socket reports: the peer certificate's DER, or an empty object when the client sent none.
        const connection = { encrypted: true, remoteAddress: '127.0.0.1', getPeerCertificate: () => (raw ? { raw } : {}) }
        const req: GuardRequest = {
          header: { headers: { authorization: `Bearer ${t}` }, method: 'GET' },
          body: { headers: form, method: 'POST', body: { access_token: t } },
          both: { headers: { ...form, authorization: `Bearer ${t}` }, method: 'POST', body: { access_token: t } },
          'body-get': { headers: form, method: 'GET', body: { access_token: t } },
          'body-json': { headers: { ...form, 'content-type': 'application/json' }, method: 'POST', body: { access_token: t } },
          'body-unparsed': { headers: form, method: 'POST', bodyParser: 'express.urlencoded()' },
          'body-twice': { headers: form, method: 'POST', body: { access_token: [t, t] } },
        }[r.where]!
        const request = { ...req, url: '/orders', connection }
        const explained = await mtlsGuard.explain(request)
        expect(explained.code).toBe(await codeOf(mtlsGuard.authenticate(request)))
        checkHonest(spec, explained, true)
        seen.add(`${explained.code ?? 'ok'} ${r.cnf}`)
        const binding = explained.steps.find((s) => s.check === 'binding')
        const certificateBound = r.cnf === 'x5t'
        // A binding reported passed for a certificate-bound token ran with certificate A, and names its thumbprint.
        if (binding?.ok === true && certificateBound) {
          expect(r.presented).toBe('A')
          expect(binding.detail).toContain(thumbprintA)
        }
        if (explained.code === 'ERR_MTLS_BINDING_INVALID') {
          expect(binding?.ok).toBe(false)
          expect(r.presented).not.toBe('A')
          expect(binding!.detail).toContain(thumbprintA)
          if (r.presented === 'B') expect(binding!.detail).toContain(thumbprintOf(certB))
          else expect(binding!.detail).toContain('no client certificate was presented')
        }
        // No token read from a body the RFC excludes, or that nothing parsed: the request step refuses or nothing ran.
        if (
          r.where === 'body-get' ||
          r.where === 'body-json' ||
          r.where === 'body-unparsed' ||
          r.where === 'body-twice' ||
          r.where === 'both'
        )
          expect(explained.steps.filter((s) => s.ok === true)).toEqual([])
      }),
      { numRuns: 300 },
    )
    // Not vacuous: the binding passed and failed, and the body source answered each way.
    for (const outcome of ['ok x5t', 'ERR_MTLS_BINDING_INVALID x5t', 'ERR_BODY_NOT_PARSED x5t', 'ERR_REQUEST_INVALID x5t'])
      expect(seen, outcome).toContain(outcome)
  }, 180_000)
})
