import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { jwkThumbprint } from '../../src/dpop/thumbprint.js'

// jwtguard's RFC 7638 thumbprint (what `cnf.jkt` is compared with) against the RFC's example and jose's own.

describe('jwkThumbprint agrees with jose and RFC 7638', () => {
  it('RFC 7638 §3.1 example', () => {
    const jwk = {
      kty: 'RSA',
      n:
        '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9y' +
        'BXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6' +
        'WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    }
    expect(jwkThumbprint(jwk)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs')
  })

  it.each<[string, Parameters<typeof generateKeyPair>]>([
    ['EC P-256', ['ES256']],
    ['EC P-384', ['ES384']],
    ['EC P-521', ['ES512']],
    ['RSA 2048', ['PS256']],
    ['OKP Ed25519', ['EdDSA', { crv: 'Ed25519' }]],
  ])('%s: same as calculateJwkThumbprint, whatever other members the key has', async (_name, args) => {
    const { publicKey } = await generateKeyPair(...args)
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig', alg: args[0] }
    expect(jwkThumbprint(jwk)).toBe(await calculateJwkThumbprint(jwk))
    expect(jwkThumbprint(Object.fromEntries(Object.entries(jwk).reverse()))).toBe(await calculateJwkThumbprint(jwk))
  })

  it('has no thumbprint for a symmetric key or a key missing a required member', () => {
    expect(jwkThumbprint({ kty: 'oct', k: 'c2VjcmV0' })).toBeUndefined()
    expect(jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'AA' })).toBeUndefined()
  })
})
