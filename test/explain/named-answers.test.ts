// Issue 15 item 3: the answers explain used to get wrong, each as the pipeline saw it. Issue 19 item 6: the binding
// of a certificate-bound token (mtls) names the thumbprints it compared.
import { randomBytes, X509Certificate, type webcrypto } from 'node:crypto'
import { CompactEncrypt, exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type Guard } from '../../src/guard.js'
import type { GuardRequest } from '../../src/intake/request.js'
import { makeCertificate, thumbprintOf } from '../helpers/certs.js'

const A = 'https://a.example'
const B = 'https://b.example'
const AUDIENCE = 'https://api.example'

let rsa: webcrypto.CryptoKey
let rsaJwk: JWK
let ec: webcrypto.CryptoKey
let dirKey: Uint8Array
let guard: Guard<unknown>
const now = (): number => Math.floor(Date.now() / 1000)

beforeAll(async () => {
  const r = await generateKeyPair('RS256')
  const e = await generateKeyPair('ES256')
  rsa = r.privateKey as webcrypto.CryptoKey
  ec = e.privateKey as webcrypto.CryptoKey
  rsaJwk = { ...(await exportJWK(r.publicKey)), kid: 'rsa-1', alg: 'RS256' }
  const keys: JWK[] = [rsaJwk, { ...(await exportJWK(e.publicKey)), kid: 'ec-1', alg: 'ES256' }]
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

describe('guard.explain names the certificate binding it checked', () => {
  let bound: Guard<unknown>
  let behindProxy: Guard<unknown>
  let derA: Buffer
  let derB: Buffer

  beforeAll(async () => {
    const [a, b] = await Promise.all([makeCertificate({ key: 'ec-p256' }), makeCertificate({ key: 'ec-p256' })])
    derA = new X509Certificate(a.certPem).raw
    derB = new X509Certificate(b.certPem).raw
    bound = createGuard({ issuer: A, audience: AUDIENCE, jwks: { keys: [rsaJwk] }, mtls: true })
    behindProxy = createGuard({ issuer: A, audience: AUDIENCE, jwks: { keys: [rsaJwk] }, mtls: { trustedProxies: ['127.0.0.1'] } })
  }, 60_000)

  const signed = (cnf?: Record<string, unknown>) =>
    new SignJWT(claims(cnf ? { cnf } : {})).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(rsa)
  const onConnection = (token: string, der?: Buffer): GuardRequest => ({
    headers: { authorization: `Bearer ${token}` },
    connection: { encrypted: true, remoteAddress: '127.0.0.2', getPeerCertificate: () => (der ? { raw: der } : {}) },
  })
  const binding = (e: { steps: { check: string; ok: boolean | undefined; detail: string }[] }) => e.steps.find((s) => s.check === 'binding')

  it('the certificate it is bound to: passed, naming the thumbprint', async () => {
    const e = await bound.explain(onConnection(await signed({ 'x5t#S256': thumbprintOf(derA) }), derA))
    expect(e.ok).toBe(true)
    expect(binding(e)).toEqual({
      check: 'binding',
      ok: true,
      detail: `the client certificate's thumbprint is the token's cnf["x5t#S256"] "${thumbprintOf(derA)}"`,
    })
  })

  it("another certificate: failed, naming both thumbprints; from a trusted proxy's header the same", async () => {
    const token = await signed({ 'x5t#S256': thumbprintOf(derA) })
    const detail = `bound to a client certificate (cnf["x5t#S256"] "${thumbprintOf(derA)}"), but the client certificate presented has thumbprint "${thumbprintOf(derB)}"`
    const e = await bound.explain(onConnection(token, derB))
    expect(e.code).toBe('ERR_MTLS_BINDING_INVALID')
    expect(binding(e)).toEqual({ check: 'binding', ok: false, detail })
    const proxied: GuardRequest = {
      headers: { authorization: `Bearer ${token}`, 'client-cert': `:${derB.toString('base64')}:` },
      connection: { remoteAddress: '::ffff:127.0.0.1' },
    }
    expect(binding(await behindProxy.explain(proxied))).toEqual({ check: 'binding', ok: false, detail })
  })

  it('no certificate, or no request at all: failed, saying none was presented', async () => {
    const token = await signed({ 'x5t#S256': thumbprintOf(derA) })
    const detail = `bound to a client certificate (cnf["x5t#S256"] "${thumbprintOf(derA)}"), and no client certificate was presented (none on the TLS connection or from a trusted proxy)`
    expect(binding(await bound.explain(onConnection(token)))).toEqual({ check: 'binding', ok: false, detail })
    expect(binding(await bound.explain(token))).toEqual({ check: 'binding', ok: false, detail })
  })

  it('without mtls: refused as unsupported, saying the guard needs the mtls option', async () => {
    const e = await guard.explain(await signed({ 'x5t#S256': thumbprintOf(derA) }))
    expect(e.code).toBe('ERR_JWT_CNF_UNSUPPORTED')
    expect(binding(e)?.detail).toBe(
      'bound to a client certificate (cnf["x5t#S256"]): this guard checks those only with the mtls option, and refuses them as bearer tokens without it',
    )
  })
})
