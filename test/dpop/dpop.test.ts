import { randomBytes } from 'node:crypto'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGuard, GuardError, requireScopes, type GuardErrorCode, type GuardOptions, type GuardRequest } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { ALGS, clientKey, now, PROOF_ALGORITHMS, signProof, unsecuredProof, type ClientKey, type ProofOptions } from './fixtures.js'
import { rejection } from '../helpers/shared.js'

// The API as its clients address it (`dpop.origin`): the proofs' htu is built from these.
const HOST = 'api.example.test'
const HTU = `https://${HOST}/orders`
/** DPoP settings of every guard here: the origin is configured, as in production (the Host header is not trusted for it). */
const DPOP = { algorithms: ['ES256', 'EdDSA', 'PS256'], origin: `https://${HOST}` }

let issuer: TestIssuer
let key: ClientKey

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  key = await clientKey('ES256')
})

afterAll(() => issuer?.close())

function guardWith(extra: Partial<GuardOptions> = {}) {
  return createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, dpop: DPOP, ...extra })
}

/** A token bound to `to` (RFC 9449 §6: `cnf.jkt`), signed by the issuer. */
const boundToken = (to: ClientKey, claims: Record<string, unknown> = {}) =>
  issuer.sign({ cnf: { jkt: to.jkt }, ...claims }, { alg: 'ES256' })

interface Sent {
  token?: string
  scheme?: string
  proof?: string | string[]
  method?: string
  url?: string
  rawHeaders?: string[]
}

/** A framework-neutral request, as an adapter builds it. */
function request({ token, scheme = 'DPoP', proof, method = 'GET', url = '/orders', rawHeaders }: Sent): GuardRequest {
  const headers: GuardRequest['headers'] = { host: HOST }
  if (token !== undefined) headers.authorization = `${scheme} ${token}`
  if (proof !== undefined) headers.dpop = proof
  return { headers, method, url, ...(rawHeaders && { rawHeaders }) }
}

interface Refusal {
  code: GuardErrorCode
  message: string
  reason?: string
  challenge: string
}

async function expectRefused(promise: Promise<unknown>, expected: Refusal): Promise<GuardError> {
  const err = await rejection(promise)
  expect({ code: err.code, status: err.status, message: err.message, challenge: err.headers['WWW-Authenticate'] }).toEqual({
    code: expected.code,
    status: 401,
    message: expected.message,
    challenge: expected.challenge,
  })
  if (expected.reason !== undefined) expect(err.context.reason).toBe(expected.reason)
  return err
}

const invalidProof = (message: string, reason: string): Refusal => ({
  code: 'ERR_DPOP_PROOF_INVALID',
  message,
  reason,
  challenge: `DPoP realm="api", error="invalid_dpop_proof", error_description="${message}", ${ALGS}`,
})
const badBinding = (message: string, reason: string, scheme: 'DPoP' | 'Bearer' = 'DPoP'): Refusal => ({
  code: 'ERR_DPOP_BINDING_INVALID',
  message,
  reason,
  challenge:
    scheme === 'DPoP'
      ? `DPoP realm="api", error="invalid_token", error_description="${message}", ${ALGS}`
      : `Bearer realm="api", error="invalid_token", error_description="${message}"`,
})

describe('a valid DPoP proof (RFC 9449 §4.3, §7.1)', () => {
  it.each(PROOF_ALGORITHMS)('is accepted when signed with %s, and AuthInfo carries cnf.jkt', async (alg) => {
    const client = await clientKey(alg)
    const token = await boundToken(client)
    const proof = await signProof(client, { htu: HTU, token })
    const auth = await guardWith().authenticate(request({ token, proof }))
    expect(auth?.cnf).toEqual({ jkt: client.jkt })
    expect(auth?.payload.cnf).toEqual({ jkt: client.jkt })
  })

  it.each<[string, Partial<ProofOptions>, Partial<Sent>]>([
    ['ignores a query and fragment in htu', { htu: `${HTU}?page=2#top` }, {}],
    ['ignores the query of the request', { htu: HTU }, { url: '/orders?page=2' }],
    ['normalises scheme and host case and the default port', { htu: `HTTPS://API.Example.TEST:443/orders` }, {}],
    ['checks htm against the request method', { htm: 'DELETE', htu: HTU }, { method: 'DELETE' }],
  ])('%s', async (_name, proofOptions, sent) => {
    const token = await boundToken(key)
    const proof = await signProof(key, { htu: HTU, token, ...proofOptions })
    expect((await guardWith().authenticate(request({ token, proof, ...sent })))?.cnf).toEqual({ jkt: key.jkt })
  })

  it('accepts an unbound token as Bearer when DPoP is allowed but not required, with no proof', async () => {
    const token = await issuer.sign({ sub: 'plain' }, { alg: 'ES256' })
    expect((await guardWith().authenticate(request({ token, scheme: 'Bearer' })))?.payload.sub).toBe('plain')
  })
})

describe('proofs refused with invalid_dpop_proof', () => {
  const cases: [string, (token: string) => Promise<string>, Refusal][] = [
    ['htm of another method', (token) => signProof(key, { htm: 'POST', htu: HTU, token }), invalidProof('DPoP proof htm mismatch', 'htm')],
    [
      'htu of another path',
      (token) => signProof(key, { htu: `https://${HOST}/other`, token }),
      invalidProof('DPoP proof htu mismatch', 'htu'),
    ],
    [
      'htu of another host',
      (token) => signProof(key, { htu: 'https://evil.example/orders', token }),
      invalidProof('DPoP proof htu mismatch', 'htu'),
    ],
    [
      'htu with another scheme',
      (token) => signProof(key, { htu: `http://${HOST}/orders`, token }),
      invalidProof('DPoP proof htu mismatch', 'htu'),
    ],
    [
      'htu missing',
      (token) => signProof(key, { htu: HTU, token, claims: { htu: undefined } }),
      invalidProof('DPoP proof htu mismatch', 'htu'),
    ],
    [
      'iat two minutes old',
      (token) => signProof(key, { htu: HTU, token, claims: { iat: now() - 120 } }),
      invalidProof('DPoP proof iat outside the accepted window', 'iat'),
    ],
    [
      'iat two minutes ahead',
      (token) => signProof(key, { htu: HTU, token, claims: { iat: now() + 120 } }),
      invalidProof('DPoP proof iat outside the accepted window', 'iat'),
    ],
    [
      'iat missing',
      (token) => signProof(key, { htu: HTU, token, claims: { iat: undefined } }),
      invalidProof('DPoP proof iat outside the accepted window', 'iat'),
    ],
    [
      'jti missing',
      (token) => signProof(key, { htu: HTU, token, claims: { jti: undefined } }),
      invalidProof('DPoP proof jti missing', 'jti'),
    ],
    ['ath of another token', (token) => signProof(key, { htu: HTU, token: `${token}x` }), invalidProof('DPoP proof ath mismatch', 'ath')],
    ['ath missing', () => signProof(key, { htu: HTU, token: null }), invalidProof('DPoP proof ath mismatch', 'ath')],
    [
      'typ JWT',
      (token) => signProof(key, { htu: HTU, token, header: { typ: 'JWT' } }),
      invalidProof('DPoP proof typ must be dpop+jwt', 'typ'),
    ],
    [
      'typ missing',
      (token) => signProof(key, { htu: HTU, token, header: { typ: undefined } }),
      invalidProof('DPoP proof typ must be dpop+jwt', 'typ'),
    ],
    ['alg none, unsecured', async (token) => unsecuredProof(key, { htu: HTU, token }), invalidProof('Invalid DPoP proof', 'malformed')],
    [
      'alg none, with a signature',
      async (token) => unsecuredProof(key, { htu: HTU, token }, 'c2lnbmF0dXJl'),
      invalidProof('DPoP proof algorithm not allowed', 'alg'),
    ],
    [
      'HS256 with the client key as jwk',
      (token) => signProof(key, { htu: HTU, token, header: { alg: 'HS256' }, signWith: randomBytes(32) }),
      invalidProof('DPoP proof algorithm not allowed', 'alg'),
    ],
    [
      'ES384, not in dpop.algorithms',
      async (token) => signProof(await clientKey('ES384'), { htu: HTU, token }),
      invalidProof('DPoP proof algorithm not allowed', 'alg'),
    ],
    [
      'a private key (d) in jwk',
      (token) => signProof(key, { htu: HTU, token, header: { jwk: key.privateJwk } }),
      invalidProof('DPoP proof key invalid', 'jwk'),
    ],
    ['no jwk', (token) => signProof(key, { htu: HTU, token, header: { jwk: undefined } }), invalidProof('DPoP proof key invalid', 'jwk')],
    [
      'a jwk of another key type than alg',
      async (token) => signProof(key, { htu: HTU, token, header: { jwk: (await clientKey('PS256')).publicJwk } }),
      invalidProof('DPoP proof key invalid', 'jwk'),
    ],
    [
      'signed by another key than its jwk',
      async (token) => signProof(key, { htu: HTU, token, signWith: (await clientKey('ES256')).privateKey }),
      invalidProof('DPoP proof signature invalid', 'signature'),
    ],
  ]

  it.each(cases)('%s', async (_name, makeProof, expected) => {
    const token = await boundToken(key)
    await expectRefused(guardWith().authenticate(request({ token, proof: await makeProof(token) })), expected)
  })

  // RFC 7515 §4.1.11: a proof naming an extension jwtguard does not implement is refused, as the token's own header is.
  it('a crit header parameter jwtguard does not understand (RFC 7515 §4.1.11)', async () => {
    const token = await boundToken(key)
    const proof = await signProof(key, { htu: HTU, token, header: { crit: ['urn:example:bind'], 'urn:example:bind': 1 } })
    expect((await rejection(guardWith().authenticate(request({ token, proof })))).code).toBe('ERR_DPOP_PROOF_INVALID')
  })

  it('a proof used twice: the second is a replay', async () => {
    const guard = guardWith()
    const token = await boundToken(key)
    const proof = await signProof(key, { htu: HTU, token })
    await guard.authenticate(request({ token, proof }))
    await expectRefused(guard.authenticate(request({ token, proof })), invalidProof('DPoP proof replayed', 'replay'))
  })

  it('Authorization: DPoP with no DPoP header', async () => {
    const token = await boundToken(key)
    await expectRefused(guardWith().authenticate(request({ token })), invalidProof('DPoP proof required', 'missing'))
  })

  it.each<[string, Partial<Sent>]>([
    ['as two values (folded by a framework)', { proof: ['p1', 'p2'] }],
    ['as two raw header lines', { rawHeaders: ['DPoP', 'p1', 'dpop', 'p2'] }],
  ])('two DPoP headers %s', async (_name, sent) => {
    const token = await boundToken(key)
    const proof = await signProof(key, { htu: HTU, token })
    const rawHeaders = sent.rawHeaders && ['Host', HOST, 'Authorization', `DPoP ${token}`, 'DPoP', proof, 'dpop', proof]
    await expectRefused(
      guardWith().authenticate(request({ token, proof: sent.proof ?? proof, ...(rawHeaders && { rawHeaders }) })),
      invalidProof('More than one DPoP proof', 'multiple_proofs'),
    )
  })
})

describe('binding between token and proof (RFC 9449 §6, §7.1, §7.2)', () => {
  it('a proof by a key other than cnf.jkt: invalid_token', async () => {
    const token = await boundToken(await clientKey('ES256'))
    const proof = await signProof(key, { htu: HTU, token })
    await expectRefused(guardWith().authenticate(request({ token, proof })), badBinding('Token not bound to the DPoP key', 'jkt_mismatch'))
  })

  it('an unbound token sent with the DPoP scheme: invalid_token', async () => {
    const token = await issuer.sign({}, { alg: 'ES256' })
    const proof = await signProof(key, { htu: HTU, token })
    await expectRefused(guardWith().authenticate(request({ token, proof })), badBinding('Token not bound to the DPoP key', 'jkt_mismatch'))
  })

  it('a bound token sent as Bearer, to a guard that accepts DPoP', async () => {
    const token = await boundToken(key)
    await expectRefused(
      guardWith().authenticate(request({ token, scheme: 'Bearer' })),
      badBinding('DPoP-bound token sent as Bearer', 'bound_as_bearer'),
    )
  })

  it('a bound token sent as Bearer, to a guard with no dpop option', async () => {
    const token = await boundToken(key)
    await expectRefused(
      guardWith({ dpop: undefined }).authenticate(request({ token, scheme: 'Bearer' })),
      badBinding('DPoP-bound token sent as Bearer', 'bound_as_bearer', 'Bearer'),
    )
  })

  it('a bound token taken from a cookie is a bearer token too', async () => {
    const token = await boundToken(key)
    const guard = guardWith({ tokenFrom: { cookie: 'at' } })
    await expectRefused(guard.authenticate({ headers: { host: HOST, cookie: `at=${token}` }, method: 'GET', url: '/orders' }), {
      code: 'ERR_DPOP_BINDING_INVALID',
      message: 'DPoP-bound token sent as Bearer',
      challenge: `DPoP realm="api", error="invalid_token", error_description="DPoP-bound token sent as Bearer", ${ALGS}`,
    })
  })

  it('a failing token on a DPoP request is answered with the DPoP scheme', async () => {
    const token = await boundToken(key, { exp: now() - 600 })
    const proof = await signProof(key, { htu: HTU, token })
    await expectRefused(guardWith().authenticate(request({ token, proof })), {
      code: 'ERR_JWT_EXPIRED',
      message: 'Token expired',
      challenge: `DPoP realm="api", error="invalid_token", error_description="Token expired", ${ALGS}`,
    })
  })

  it('dpop.required refuses a Bearer token', async () => {
    const token = await issuer.sign({}, { alg: 'ES256' })
    const guard = guardWith({ dpop: { ...DPOP, required: true } })
    await expectRefused(guard.authenticate(request({ token, scheme: 'Bearer' })), {
      code: 'ERR_DPOP_BINDING_INVALID',
      message: 'DPoP-bound token required',
      reason: 'bearer_refused',
      challenge: `DPoP realm="api", error="invalid_token", error_description="DPoP-bound token required", ${ALGS}`,
    })
  })

  it.each<[string, Partial<GuardOptions>, string]>([
    ['accepts both schemes: a Bearer and a DPoP challenge', {}, `Bearer realm="api", DPoP ${ALGS}`],
    ['requires DPoP: only the DPoP challenge', { dpop: { ...DPOP, required: true } }, `DPoP realm="api", ${ALGS}`],
    [
      'uses the default algorithms',
      { dpop: true },
      'Bearer realm="api", DPoP algs="RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA Ed25519"',
    ],
  ])('no token, a guard that %s', async (_name, options, challenge) => {
    await expectRefused(guardWith(options).authenticate(request({})), {
      code: 'ERR_JWT_MISSING',
      message: 'Authentication required',
      challenge,
    })
  })

  it('Authorization: DPoP to a guard with no dpop option: an unknown scheme, so no token', async () => {
    const token = await boundToken(key)
    const proof = await signProof(key, { htu: HTU, token })
    await expectRefused(guardWith({ dpop: undefined }).authenticate(request({ token, proof })), {
      code: 'ERR_JWT_MISSING',
      message: 'Authentication required',
      challenge: 'Bearer realm="api"',
    })
  })
})

describe('route checks after a DPoP request', () => {
  // RFC 9449 §7.1: a 403 to a request made with a DPoP-bound token is answered in the DPoP scheme.
  it('insufficient_scope is answered with the DPoP scheme', async () => {
    const guard = guardWith()
    const token = await boundToken(key, { scope: 'orders:read' })
    const auth = await guard.authenticate(request({ token, proof: await signProof(key, { htu: HTU, token }) }))
    let err: unknown
    try {
      guard.check(requireScopes('orders:write'), auth)
    } catch (e) {
      err = e
    }
    expect((err as GuardError).headers['WWW-Authenticate']).toBe(
      `DPoP realm="api", error="insufficient_scope", error_description="Insufficient scope", scope="orders:write", ${ALGS}`,
    )
  })
})

describe('server nonces (RFC 9449 §8, §9)', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  const nonceRefusal = (reason: string): Refusal => ({
    code: 'ERR_DPOP_NONCE_REQUIRED',
    message: 'DPoP nonce required',
    reason,
    challenge: `DPoP realm="api", error="use_dpop_nonce", error_description="DPoP nonce required", ${ALGS}`,
  })
  const nonceGuard = (nonce: { secret?: Uint8Array; lifetime?: number } | true = true) => guardWith({ dpop: { ...DPOP, nonce } })

  /** Sends a proof with `nonce` and returns the DPoP-Nonce of the use_dpop_nonce answer. */
  async function challenged(guard: ReturnType<typeof guardWith>, token: string, nonce: string | undefined, reason: string) {
    const proof = await signProof(key, { htu: HTU, token, claims: { nonce } })
    const err = await expectRefused(guard.authenticate(request({ token, proof })), nonceRefusal(reason))
    const fresh = err.headers['DPoP-Nonce']
    expect(fresh).toMatch(/^[!#-[\]-~]+$/) // RFC 9449 §8.1: NQCHAR
    return fresh!
  }

  it('no nonce: use_dpop_nonce with a DPoP-Nonce; the retry with that nonce passes', async () => {
    const guard = nonceGuard()
    const token = await boundToken(key)
    const nonce = await challenged(guard, token, undefined, 'nonce_missing')
    const proof = await signProof(key, { htu: HTU, token, claims: { nonce } })
    expect((await guard.authenticate(request({ token, proof })))?.cnf).toEqual({ jkt: key.jkt })
  })

  it('a nonce from another server (other secret): use_dpop_nonce again, with one of its own', async () => {
    const guard = nonceGuard({ secret: randomBytes(32) })
    const token = await boundToken(key)
    const foreign = await challenged(nonceGuard({ secret: randomBytes(32) }), token, undefined, 'nonce_missing')
    const own = await challenged(guard, token, foreign, 'nonce_invalid')
    const proof = await signProof(key, { htu: HTU, token, claims: { nonce: own } })
    expect((await guard.authenticate(request({ token, proof })))?.cnf).toEqual({ jkt: key.jkt })
  })

  it('instances sharing the secret accept each other’s nonces', async () => {
    const secret = randomBytes(32)
    const token = await boundToken(key)
    const nonce = await challenged(nonceGuard({ secret }), token, undefined, 'nonce_missing')
    const proof = await signProof(key, { htu: HTU, token, claims: { nonce } })
    expect((await nonceGuard({ secret }).authenticate(request({ token, proof })))?.cnf).toEqual({ jkt: key.jkt })
  })

  it('a nonce past its lifetime: use_dpop_nonce again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    const guard = nonceGuard({ lifetime: 60 })
    const token = await boundToken(key)
    const nonce = await challenged(guard, token, undefined, 'nonce_missing')
    vi.setSystemTime(Date.now() + 61_000)
    await challenged(guard, token, nonce, 'nonce_invalid')
  })

  it.each(['', 'a.b', 'a.b.c', 'x'.repeat(200)])('a forged nonce %j: use_dpop_nonce', async (nonce) => {
    const token = await boundToken(key)
    await challenged(nonceGuard(), token, nonce, 'nonce_invalid')
  })
})

describe('dpop options fail at construction, naming the member', () => {
  it.each<[string, unknown]>([
    ['dpop.algorithms', { algorithms: ['HS256'] }],
    ['dpop.algorithms', { algorithms: ['none'] }],
    ['dpop.algorithms', { algorithms: [] }],
    ['dpop.proofMaxAge', { proofMaxAge: 0 }],
    ['dpop.nonce.secret', { nonce: { secret: new Uint8Array(16) } }],
    ['dpop.nonce.lifetime', { nonce: { lifetime: -1 } }],
    ['dpop.replayStore', { replayStore: {} }],
    ['dpop.origin', { origin: 'api.example.com' }],
  ])('%s: %j', (member, dpop) => {
    expect(() => guardWith({ dpop: dpop as GuardOptions['dpop'] })).toThrow(TypeError)
    expect(() => guardWith({ dpop: dpop as GuardOptions['dpop'] })).toThrow(`"${member}"`)
  })
})
