import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AuthInfo, GuardErrorCode, GuardOptions } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { FRAMEWORKS, type AppSpec, type Running } from '../conformance/apps.js'
import { ALGS, clientKey, now, PROOF_ALGORITHMS, signProof, unsecuredProof, type ClientKey, type ProofOptions } from './fixtures.js'
import { expectErrorBody, get, getRaw, type Reply } from './http.js'

// The same DPoP cases through real HTTP on Express 4/5, Koa 2/3 and Fastify 4/5: the adapters must
// hand the core the method, URL, protocol and raw headers the proof is checked against.

type AppName = 'main' | 'nonce' | 'required' | 'plain' | 'proxied'

const algorithms = ['ES256', 'EdDSA', 'PS256']
const reply = (auth: AuthInfo | undefined) => ({ sub: auth?.payload.sub, jkt: auth?.cnf?.jkt ?? null })

function specs(issuer: TestIssuer): Record<AppName, AppSpec> {
  const base = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri }
  const app = (dpop: GuardOptions['dpop'], path = '/orders'): AppSpec => ({ guard: { ...base, dpop }, routes: [{ path, reply }] })
  return {
    main: app({ algorithms }),
    nonce: app({ algorithms, nonce: true }),
    required: app({ algorithms, required: true }),
    plain: app(undefined),
    // Behind a proxy: clients address https://api.example.com, the app listens on plain http.
    proxied: app({ algorithms, origin: 'https://api.example.com' }, '/x'),
  }
}

let issuer: TestIssuer
let key: ClientKey

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  key = await clientKey('ES256')
})

afterAll(() => issuer?.close())

const bound = (to: ClientKey, claims: Record<string, unknown> = {}) =>
  issuer.sign({ sub: 'alice', cnf: { jkt: to.jkt }, ...claims }, { alg: 'ES256' })

interface Refusal {
  code: GuardErrorCode
  message: string
  challenge: string
}

const invalidProof = (message: string): Refusal => ({
  code: 'ERR_DPOP_PROOF_INVALID',
  message,
  challenge: `DPoP realm="api", error="invalid_dpop_proof", error_description="${message}", ${ALGS}`,
})
const invalidToken = (code: GuardErrorCode, message: string, scheme: 'DPoP' | 'Bearer' = 'DPoP'): Refusal => ({
  code,
  message,
  challenge:
    scheme === 'DPoP'
      ? `DPoP realm="api", error="invalid_token", error_description="${message}", ${ALGS}`
      : `Bearer realm="api", error="invalid_token", error_description="${message}"`,
})

/** A proof for `htu`, with the options of one case. */
type ProofFor = (htu: string, token: string) => Promise<string>
const proofWith =
  (options: Partial<ProofOptions> = {}): ProofFor =>
  (htu, token) =>
    signProof(key, { htu, token, ...options })

const REFUSED: [string, ProofFor, Refusal][] = [
  ['htm POST on a GET', proofWith({ htm: 'POST' }), invalidProof('DPoP proof htm mismatch')],
  [
    'htu of another path',
    (htu, token) => signProof(key, { htu: htu.replace('/orders', '/other'), token }),
    invalidProof('DPoP proof htu mismatch'),
  ],
  ['iat two minutes old', proofWith({ claims: { iat: now() - 120 } }), invalidProof('DPoP proof iat outside the accepted window')],
  ['iat two minutes ahead', proofWith({ claims: { iat: now() + 120 } }), invalidProof('DPoP proof iat outside the accepted window')],
  ['ath of another token', (htu, token) => signProof(key, { htu, token: `${token}x` }), invalidProof('DPoP proof ath mismatch')],
  ['alg none', async (htu, token) => unsecuredProof(key, { htu, token }, 'c2ln'), invalidProof('DPoP proof algorithm not allowed')],
  ['HS256', proofWith({ header: { alg: 'HS256' }, signWith: randomBytes(32) }), invalidProof('DPoP proof algorithm not allowed')],
  [
    'a private key in jwk',
    (htu, token) => signProof(key, { htu, token, header: { jwk: key.privateJwk } }),
    invalidProof('DPoP proof key invalid'),
  ],
  ['typ JWT', proofWith({ header: { typ: 'JWT' } }), invalidProof('DPoP proof typ must be dpop+jwt')],
  [
    'a key other than cnf.jkt',
    async (htu, token) => signProof(await clientKey('ES256'), { htu, token }),
    invalidToken('ERR_DPOP_BINDING_INVALID', 'Token not bound to the DPoP key'),
  ],
]

function expectRefusal(framework: (typeof FRAMEWORKS)[number], got: Reply, expected: Refusal): void {
  expect({ status: got.status, challenge: got.headers['www-authenticate'] }).toEqual({ status: 401, challenge: expected.challenge })
  expectErrorBody(framework.family, got, expected.code, expected.message)
}

describe.each(FRAMEWORKS.map((f) => [f.name, f] as const))('%s', (_name, framework) => {
  const apps: Partial<Record<AppName, Running>> = {}
  const url = (name: AppName, path = '/orders') => `${apps[name]!.url}${path}`
  const dpop = (token: string, proof: string) => ({ authorization: `DPoP ${token}`, dpop: proof })

  beforeAll(async () => {
    for (const [name, spec] of Object.entries(specs(issuer))) apps[name as AppName] = await framework.start(spec)
  })

  afterAll(async () => {
    await Promise.all(Object.values(apps).map((app) => app.close()))
  })

  it.each(PROOF_ALGORITHMS)('accepts a bound token with a valid %s proof', async (alg) => {
    const client = await clientKey(alg)
    const token = await bound(client)
    const got = await get(url('main'), dpop(token, await signProof(client, { htu: url('main'), token })))
    expect({ status: got.status, body: JSON.parse(got.body) }).toEqual({ status: 200, body: { sub: 'alice', jkt: client.jkt } })
  })

  it.each<[string, string, string]>([
    ['a proof whose htu has a query', '/orders', '/orders?page=2'],
    ['a request with a query', '/orders?page=2', '/orders'],
  ])('accepts %s (the query is not part of htu)', async (_n, requested, inProof) => {
    const token = await bound(key)
    const got = await get(url('main', requested), dpop(token, await signProof(key, { htu: url('main', inProof), token })))
    expect(got.status).toBe(200)
  })

  it.each(REFUSED)('refuses %s', async (_n, makeProof, expected) => {
    const token = await bound(key)
    expectRefusal(framework, await get(url('main'), dpop(token, await makeProof(url('main'), token))), expected)
  })

  it('refuses a replayed proof', async () => {
    const token = await bound(key)
    const headers = dpop(token, await signProof(key, { htu: url('main'), token }))
    expect((await get(url('main'), headers)).status).toBe(200)
    expectRefusal(framework, await get(url('main'), headers), invalidProof('DPoP proof replayed'))
  })

  it('refuses Authorization: DPoP without a proof', async () => {
    expectRefusal(framework, await get(url('main'), { authorization: `DPoP ${await bound(key)}` }), invalidProof('DPoP proof required'))
  })

  it('refuses two DPoP headers (raw socket: fetch folds them)', async () => {
    const token = await bound(key)
    const proof = await signProof(key, { htu: url('main'), token })
    const got = await getRaw(url('main'), [`Authorization: DPoP ${token}`, `DPoP: ${proof}`, `DPoP: ${proof}`])
    expect({ status: got.status, challenge: got.headers['www-authenticate'] }).toEqual({
      status: 401,
      challenge: invalidProof('More than one DPoP proof').challenge,
    })
  })

  it.each<[string, AppName, Refusal]>([
    ['accepts DPoP', 'main', invalidToken('ERR_DPOP_BINDING_INVALID', 'DPoP-bound token sent as Bearer')],
    ['has no dpop option', 'plain', invalidToken('ERR_DPOP_BINDING_INVALID', 'DPoP-bound token sent as Bearer', 'Bearer')],
  ])('refuses a bound token sent as Bearer, by an app that %s', async (_n, app, expected) => {
    expectRefusal(framework, await get(url(app), { authorization: `Bearer ${await bound(key)}` }), expected)
  })

  it('dpop.required: refuses a plain Bearer token, accepts a bound one with its proof', async () => {
    const plain = await issuer.sign({ sub: 'bob' }, { alg: 'ES256' })
    expectRefusal(
      framework,
      await get(url('required'), { authorization: `Bearer ${plain}` }),
      invalidToken('ERR_DPOP_BINDING_INVALID', 'DPoP-bound token required'),
    )
    const token = await bound(key)
    expect((await get(url('required'), dpop(token, await signProof(key, { htu: url('required'), token })))).status).toBe(200)
  })

  it('nonce: use_dpop_nonce with a DPoP-Nonce, then 200 with it; a forged one gets use_dpop_nonce again', async () => {
    const token = await bound(key)
    const withNonce = async (nonce: string | undefined) =>
      get(url('nonce'), dpop(token, await signProof(key, { htu: url('nonce'), token, claims: { nonce } })))
    const useNonce: Refusal = {
      code: 'ERR_DPOP_NONCE_REQUIRED',
      message: 'DPoP nonce required',
      challenge: `DPoP realm="api", error="use_dpop_nonce", error_description="DPoP nonce required", ${ALGS}`,
    }

    const first = await withNonce(undefined)
    expectRefusal(framework, first, useNonce)
    const nonce = first.headers['dpop-nonce']
    expect(nonce).toEqual(expect.any(String))
    expect((await withNonce(nonce)).status).toBe(200)

    const forged = await withNonce(`${nonce!.split('.')[0]}.${randomBytes(32).toString('base64url')}`)
    expectRefusal(framework, forged, useNonce)
    expect(forged.headers['dpop-nonce']).toEqual(expect.any(String))
  })

  it('dpop.origin: a proof for the external URL passes behind a proxy; one for the internal URL does not', async () => {
    const token = await bound(key)
    const external = await get(url('proxied', '/x'), dpop(token, await signProof(key, { htu: 'https://api.example.com/x', token })))
    expect({ status: external.status, body: JSON.parse(external.body) }).toEqual({ status: 200, body: { sub: 'alice', jkt: key.jkt } })
    const internal = await get(url('proxied', '/x'), dpop(token, await signProof(key, { htu: url('proxied', '/x'), token })))
    expectRefusal(framework, internal, invalidProof('DPoP proof htu mismatch'))
  })
})
