import { randomUUID } from 'node:crypto'
import { calculateJwkThumbprint, compactDecrypt, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { createGuard, type GuardEvent, type GuardOptions } from '../../src/index.js'
import { CLIENT_ID, startProvider, type RunningProvider } from './provider.js'
import { rejection } from '../helpers/shared.js'

/** A guard on the provider found by discovery alone (no jwksUri), and the events it emitted. */
function guardFor(provider: RunningProvider, extra: Partial<GuardOptions> = {}) {
  const events: GuardEvent[] = []
  const guard = createGuard({
    issuer: provider.issuer,
    audience: provider.resource,
    typ: 'at+jwt',
    onEvent: (event) => events.push(event),
    ...extra,
  })
  const fetches = () => events.filter((e) => e.type === 'jwks_fetched').length
  return { guard, events, fetches }
}

describe('oidc-provider: RFC 9068 access tokens found by discovery', () => {
  let provider: RunningProvider
  beforeAll(async () => {
    provider = await startProvider()
  })
  afterAll(() => provider.close())

  it('verifies a client_credentials token with the keys discovery points to', async () => {
    const { guard, events } = guardFor(provider)
    const auth = await guard.verify(await provider.token())

    expect(auth.header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: provider.kid })
    expect(auth.payload).toMatchObject({ iss: provider.issuer, aud: provider.resource, client_id: CLIENT_ID, sub: CLIENT_ID })
    expect(auth.scopes).toEqual(['orders:read', 'orders:write'])
    expect(auth.encrypted).toBe(false)
    expect(events).toContainEqual(expect.objectContaining({ type: 'discovery_fetched', jwksUri: `${provider.issuer}/jwks` }))
  })

  it('grants only the scopes the client asked for', async () => {
    const { guard } = guardFor(provider)
    const auth = await guard.verify(await provider.token({ scope: 'orders:read' }))
    expect(auth.scopes).toEqual(['orders:read'])
  })

  it('refuses a token issued for another resource', async () => {
    const { guard } = guardFor(provider)
    const token = await provider.token({ resource: 'https://billing.example.test' })
    expect(decodeJwt(token).aud).toBe('https://billing.example.test')

    const err = await rejection(guard.verify(token))
    expect(err.code).toBe('ERR_JWT_AUDIENCE_INVALID')
    expect(err.status).toBe(401)
  })
})

describe('oidc-provider: signing-key rotation', () => {
  let provider: RunningProvider
  afterEach(async () => {
    vi.useRealTimers()
    await provider.close()
  })

  it('picks up the new kid with one refetch while the old key stays published', async () => {
    provider = await startProvider()
    const { guard, fetches } = guardFor(provider, { jwksCache: { cooldownDuration: 0 } })
    const before = await provider.token()
    await guard.verify(before)
    const oldKid = provider.kid

    await provider.rotate({ keepOld: true })
    expect(provider.kid).not.toBe(oldKid)
    const after = await provider.token()
    expect(decodeProtectedHeader(after).kid).toBe(provider.kid)

    expect((await guard.verify(after)).header.kid).toBe(provider.kid)
    expect((await guard.verify(before)).header.kid).toBe(oldKid)
    expect(fetches()).toBe(2)
  })

  it('refuses the retired key once cacheMaxAge has passed', async () => {
    // Only Date is faked (and keeps running): sockets and fetch keep real timers; the jump ages the cached set.
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true })
    provider = await startProvider()
    // The verified-token cache (its own bound: cache.ttl) is off so the key set alone decides.
    const { guard, fetches } = guardFor(provider, { cache: false, jwksCache: { cacheMaxAge: 60_000, cooldownDuration: 60_000 } })
    const before = await provider.token()
    await guard.verify(before)

    await provider.rotate({ keepOld: false })
    const after = await provider.token()
    // Until the cached set ages out the retired key still verifies: cacheMaxAge bounds that window.
    expect((await guard.verify(before)).payload.jti).toBe(decodeJwt(before).jti)

    vi.setSystemTime(Date.now() + 61_000)
    const err = await rejection(guard.verify(before))
    expect(err.code).toBe('ERR_JWKS_NO_MATCHING_KEY')
    expect(err.status).toBe(401)
    expect((await guard.verify(after)).header.kid).toBe(provider.kid)
    expect(fetches()).toBe(2)
  })
})

describe('oidc-provider: token options', () => {
  let provider: RunningProvider
  afterEach(() => provider.close())

  it('encrypts to the resource server key as a nested JWT', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256')
    provider = await startProvider({ encrypt: { publicJwk: await exportJWK(publicKey), kid: 'enc-1' } })
    const token = await provider.token()

    expect(token.split('.')).toHaveLength(5)
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'RSA-OAEP-256', enc: 'A256GCM', kid: 'enc-1', cty: 'at+jwt' })
    const inner = new TextDecoder().decode((await compactDecrypt(token, privateKey)).plaintext)
    expect(decodeProtectedHeader(inner)).toMatchObject({ typ: 'at+jwt', kid: provider.kid })

    // Without decryption keys the guard refuses it plainly; with them it verifies the inner JWS as usual.
    expect((await rejection(guardFor(provider).guard.verify(token))).code).toBe('ERR_JWE_NOT_SUPPORTED')
    const auth = await guardFor(provider, { decryption: { keys: [privateKey] } }).guard.verify(token)
    expect(auth).toMatchObject({ encrypted: true, header: { typ: 'at+jwt', kid: provider.kid }, payload: { client_id: CLIENT_ID } })
  })

  it('binds the token to the DPoP proof key (cnf.jkt)', async () => {
    provider = await startProvider({ dpop: true })
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwk = await exportJWK(publicKey)
    const dpopProof = await new SignJWT({ htm: 'POST', htu: provider.tokenEndpoint, jti: randomUUID() })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
      .setIssuedAt()
      .sign(privateKey)

    const token = await provider.token({ dpopProof })
    expect(decodeJwt(token).cnf).toEqual({ jkt: await calculateJwkThumbprint(jwk) })
  })
})
