import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type GuardOptions, type GuardRequest } from '../../src/index.js'
import { startProvider, type RunningProvider } from '../interop/provider.js'
import { clientKey, signProof, type ClientKey, type ProofAlgorithm } from './fixtures.js'
import { rejection } from '../helpers/shared.js'

// Tokens from a real authorization server with DPoP enabled (oidc-provider), used at the API as a client would.

const API = 'https://orders.example.test'

let provider: RunningProvider

beforeAll(async () => {
  provider = await startProvider({ resource: API, dpop: true })
})

afterAll(() => provider?.close())

function guardFor(extra: Partial<GuardOptions> = {}) {
  return createGuard({ issuer: provider.issuer, audience: API, typ: 'at+jwt', dpop: { origin: API }, ...extra })
}

/** client_credentials with a DPoP proof for the token endpoint: the token comes back bound to `key`. */
async function boundToken(key: ClientKey): Promise<string> {
  return provider.token({ dpopProof: await signProof(key, { htm: 'POST', htu: provider.tokenEndpoint, token: null }) })
}

const apiRequest = (scheme: string, token: string, proof?: string): GuardRequest => ({
  headers: { host: 'orders.internal', authorization: `${scheme} ${token}`, ...(proof && { dpop: proof }) },
  method: 'GET',
  url: '/orders/42',
})

describe('oidc-provider DPoP-bound access tokens', () => {
  it.each<ProofAlgorithm>(['ES256', 'EdDSA'])('verify with a %s proof for the API request', async (alg) => {
    const key = await clientKey(alg)
    const token = await boundToken(key)
    expect(decodeJwt(token).cnf).toEqual({ jkt: key.jkt })

    const proof = await signProof(key, { htu: `${API}/orders/42`, token })
    const auth = await guardFor().authenticate(apiRequest('DPoP', token, proof))
    expect(auth?.cnf).toEqual({ jkt: key.jkt })
    expect(auth?.header.typ).toBe('at+jwt')
    expect(auth?.scopes).toEqual(['orders:read', 'orders:write'])
  })

  it.each<[string, Partial<GuardOptions>]>([
    ['a guard that accepts DPoP', {}],
    ['a guard with no dpop option', { dpop: undefined }],
  ])('the same token sent as Bearer is refused by %s', async (_name, extra) => {
    const token = await boundToken(await clientKey('ES256'))
    const err = await rejection(guardFor(extra).authenticate(apiRequest('Bearer', token)))
    expect({ code: err.code, reason: err.context.reason, message: err.message }).toEqual({
      code: 'ERR_DPOP_BINDING_INVALID',
      reason: 'bound_as_bearer',
      message: 'DPoP-bound token sent as Bearer',
    })
  })

  it('a proof by another key than the one the provider bound the token to is refused', async () => {
    const token = await boundToken(await clientKey('ES256'))
    const proof = await signProof(await clientKey('ES256'), { htu: `${API}/orders/42`, token })
    const err = await rejection(guardFor().authenticate(apiRequest('DPoP', token, proof)))
    expect({ code: err.code, reason: err.context.reason }).toEqual({ code: 'ERR_DPOP_BINDING_INVALID', reason: 'jkt_mismatch' })
  })

  it('the proof made for the token endpoint does not open the API', async () => {
    const key = await clientKey('ES256')
    const tokenProof = await signProof(key, { htm: 'POST', htu: provider.tokenEndpoint, token: null })
    const token = await provider.token({ dpopProof: tokenProof })
    const err = await rejection(guardFor().authenticate(apiRequest('DPoP', token, tokenProof)))
    expect({ code: err.code, reason: err.context.reason }).toEqual({ code: 'ERR_DPOP_PROOF_INVALID', reason: 'htm' })
  })
})
