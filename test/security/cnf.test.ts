import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type GuardOptions, type GuardRequest } from '../../src/index.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { clientKey, signProof, type ClientKey } from '../dpop/fixtures.js'
import { rejection } from '../helpers/shared.js'

// Issue 14, item 7: a confirmation claim (RFC 7800 `cnf`) is honoured or refused, never ignored.

const ORIGIN = 'https://api.example.com'

let issuer: TestIssuer
let key: ClientKey

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] })
  key = await clientKey('ES256')
})

afterAll(() => issuer?.close())

const guardWith = (extra: Partial<GuardOptions> = {}) =>
  createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, dpop: { algorithms: ['ES256'], origin: ORIGIN }, ...extra })

const bearer = (token: string): GuardRequest => ({ headers: { authorization: `Bearer ${token}` }, method: 'GET', url: '/orders' })

async function dpopRequest(token: string): Promise<GuardRequest> {
  const proof = await signProof(key, { htu: `${ORIGIN}/orders`, token })
  return { headers: { authorization: `DPoP ${token}`, dpop: proof }, method: 'GET', url: '/orders' }
}

const UNSUPPORTED: [string, unknown][] = [
  ['x5t#S256 (certificate-bound)', { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' }],
  [
    'jwk',
    {
      jwk: { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' },
    },
  ],
  ['jku', { jku: 'https://client.example/jwks' }],
  ['kid', { kid: 'client-key-1' }],
  ['an unknown member', { 'urn:example:binding': 'x' }],
  [
    'jkt with another member',
    { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs', 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' },
  ],
]
const INVALID: [string, unknown][] = [
  ['a jkt of 42 characters', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X' }],
  ['a jkt of 44 characters', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xss' }],
  ['a jkt with padding', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9X=' }],
  ['a jkt in base64, not base64url', { jkt: 'NzbLsXh8uDCcd+6MNwXF4W/7noWXFZAfHkxZsRGC9Xs' }],
  ['a jkt with stray bits', { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xt' }],
  ['a jkt that is not a string', { jkt: 42 }],
  ['an empty cnf', {}],
  ['a cnf that is a string', 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs'],
  ['a cnf that is an array', [{ jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }]],
  ['a null cnf', null],
]
const CASES: [string, unknown, string][] = [
  ...UNSUPPORTED.map(([n, cnf]): [string, unknown, string] => [n, cnf, 'Token confirmation method not supported']),
  ...INVALID.map(([n, cnf]): [string, unknown, string] => [n, cnf, 'Token confirmation invalid']),
]

describe('a cnf the guard cannot check is refused: 401 invalid_token, ERR_JWT_CNF_UNSUPPORTED', () => {
  it.each(CASES)('%s, sent as Bearer (twice: the cached path too)', async (_n, cnf, message) => {
    const guard = guardWith()
    const token = await issuer.sign({ cnf }, { alg: 'ES256' })
    for (let i = 0; i < 2; i++) {
      const err = await rejection(guard.authenticate(bearer(token)))
      expect({ status: err.status, code: err.code, message: err.message, challenge: err.headers['WWW-Authenticate'] }).toEqual({
        status: 401,
        code: 'ERR_JWT_CNF_UNSUPPORTED',
        message,
        challenge: expect.stringContaining(`error="invalid_token", error_description="${message}"`),
      })
    }
  })

  it.each(CASES)('%s, by a guard with no dpop option and by guard.verify', async (_n, cnf, message) => {
    const token = await issuer.sign({ cnf }, { alg: 'ES256' })
    const plain = guardWith({ dpop: undefined })
    for (const attempt of [plain.authenticate(bearer(token)), plain.verify(token), plain.verify(token, { bindingCheckedElsewhere: true })])
      expect(await rejection(attempt)).toMatchObject({ status: 401, code: 'ERR_JWT_CNF_UNSUPPORTED', message })
  })

  it('x5t#S256 with a DPoP proof: still refused (the proof says nothing of a certificate)', async () => {
    const token = await issuer.sign({ cnf: { 'x5t#S256': 'bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2' } }, { alg: 'ES256' })
    expect(await rejection(guardWith().authenticate(await dpopRequest(token)))).toMatchObject({ code: 'ERR_JWT_CNF_UNSUPPORTED' })
  })

  it('a token-chosen member name stays out of the answer and the event', async () => {
    const events: unknown[] = []
    const token = await issuer.sign({ cnf: { 'evil"\r\nX-Injected: 1': 'x' } }, { alg: 'ES256' })
    const err = await rejection(guardWith({ onEvent: (e) => events.push(e) }).authenticate(bearer(token)))
    expect(err.context).toEqual({ claim: 'cnf', reason: 'cnf_unsupported', member: 'unknown' })
    expect(JSON.stringify([err.message, err.headers, events])).not.toContain('evil')
  })
})

describe('guard.verify and a DPoP-bound token', () => {
  it('refuses it: verify has no proof (twice: the cached path too)', async () => {
    const guard = guardWith()
    const token = await issuer.sign({ cnf: { jkt: key.jkt } }, { alg: 'ES256' })
    for (let i = 0; i < 2; i++)
      expect(await rejection(guard.verify(token))).toMatchObject({
        status: 401,
        code: 'ERR_DPOP_BINDING_INVALID',
        message: 'DPoP-bound token sent as Bearer',
      })
  })

  it('returns it with bindingCheckedElsewhere, cnf.jkt included for the caller to check', async () => {
    const guard = guardWith({ dpop: undefined })
    const token = await issuer.sign({ cnf: { jkt: key.jkt } }, { alg: 'ES256' })
    expect((await guard.verify(token, { bindingCheckedElsewhere: true })).cnf).toEqual({ jkt: key.jkt })
    await expect(guard.verify(token)).rejects.toMatchObject({ code: 'ERR_DPOP_BINDING_INVALID' })
  })

  it('a token without cnf is unaffected; a bound one still passes with its proof', async () => {
    const guard = guardWith()
    expect((await guard.verify(await issuer.sign({ sub: 'bob' }, { alg: 'ES256' }))).payload.sub).toBe('bob')
    const token = await issuer.sign({ cnf: { jkt: key.jkt } }, { alg: 'ES256' })
    expect((await guard.authenticate(await dpopRequest(token)))?.cnf).toEqual({ jkt: key.jkt })
  })
})
