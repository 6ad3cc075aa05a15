// JWKS keys given as certificate chains (RFC 7517 §4.7 `x5c`): the key comes from the leaf; a leaf
// outside its validity period, or whose key disagrees with n/e (x/y), drops the key with an event.
import { createPrivateKey, type webcrypto } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGuard, type GuardEvent } from '../../src/index.js'
import { withCertificateKey } from '../../src/keys/x5c.js'
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js'
import { daysFromNow, makeCertificate, type TestCertificate } from '../helpers/certs.js'

let issuer: TestIssuer
const certs: Record<string, TestCertificate> = {}
beforeAll(async () => {
  issuer = await createTestIssuer()
  const [rsa, ec, ed, other, expired, future] = await Promise.all([
    makeCertificate({ key: 'rsa' }),
    makeCertificate({ key: 'ec-p256' }),
    makeCertificate({ key: 'ed25519' }),
    makeCertificate({ key: 'rsa' }),
    makeCertificate({ key: 'ec-p256', notBefore: '20200101000000Z', notAfter: '20200201000000Z' }),
    makeCertificate({ key: 'ec-p256', notBefore: daysFromNow(10), notAfter: daysFromNow(40) }),
  ])
  Object.assign(certs, { rsa, ec, ed, other, expired, future })
}, 60_000)
afterAll(async () => {
  await issuer?.close()
})

const ALG = { rsa: 'RS256', ec: 'ES256', ed: 'EdDSA', other: 'RS256', expired: 'ES256', future: 'ES256' } as const

/** Serves `keys` as the issuer's JWKS and returns a guard that reads it, with the events it emitted. */
function guardFor(keys: unknown[]) {
  issuer.setJwksHandler((res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys }))
  })
  const events: GuardEvent[] = []
  const guard = createGuard({ ...issuer.guardOptions(), jwksUri: issuer.jwksUri, cache: false, onEvent: (e) => void events.push(e) })
  return { guard, dropped: () => events.filter((e) => e.type === 'jwks_key_dropped') }
}

const signWith = (name: keyof typeof ALG, kid: string) =>
  issuer.sign({ sub: name }, { alg: ALG[name], kid, key: createPrivateKey(certs[name]!.keyPem) as unknown as webcrypto.CryptoKey })

describe('a JWKS key published only as x5c', () => {
  it.each(['rsa', 'ec', 'ed'] as const)('%s: the leaf certificate gives the key, tokens verify', async (name) => {
    const { guard, dropped } = guardFor([{ kid: name, use: 'sig', x5c: [certs[name]!.x5c] }])
    await expect(guard.verify(await signWith(name, name))).resolves.toMatchObject({ payload: { sub: name } })
    expect(dropped()).toEqual([])
  })

  it('with n/e that agree with the leaf: used', async () => {
    const { n, e } = certs.rsa!.jwk
    const { guard } = guardFor([{ kid: 'both', kty: 'RSA', n, e, x5c: [certs.rsa!.x5c] }])
    await expect(guard.verify(await signWith('rsa', 'both'))).resolves.toMatchObject({ payload: { sub: 'rsa' } })
  })
})

describe('a JWKS key whose x5c cannot vouch for it is dropped, with an event', () => {
  it('n/e of another key than the leaf: dropped (x5c_key_mismatch), its tokens refused', async () => {
    const { n, e } = certs.other!.jwk
    const { guard, dropped } = guardFor([{ kid: 'mixed', kty: 'RSA', n, e, x5c: [certs.rsa!.x5c] }])
    await expect(guard.verify(await signWith('rsa', 'mixed'))).rejects.toMatchObject({ status: 401 })
    await expect(guard.verify(await signWith('other', 'mixed'))).rejects.toMatchObject({ status: 401 })
    expect(dropped()).toEqual([expect.objectContaining({ kid: 'mixed', reason: 'x5c_key_mismatch' })])
  })

  it.each([
    ['expired', 'x5c_expired'],
    ['future', 'x5c_expired'],
  ] as const)('a %s leaf: dropped (%s), its tokens refused', async (name, reason) => {
    const { guard, dropped } = guardFor([{ kid: name, x5c: [certs[name]!.x5c] }])
    await expect(guard.verify(await signWith(name, name))).rejects.toMatchObject({ status: 401 })
    expect(dropped()).toEqual([expect.objectContaining({ kid: name, reason })])
  })

  it('an expired leaf drops the key even when n/e/x/y are given too', async () => {
    const { crv, x, y } = certs.expired!.jwk
    const { guard, dropped } = guardFor([{ kid: 'old', kty: 'EC', crv, x, y, x5c: [certs.expired!.x5c] }])
    await expect(guard.verify(await signWith('expired', 'old'))).rejects.toMatchObject({ status: 401 })
    expect(dropped()).toEqual([expect.objectContaining({ reason: 'x5c_expired' })])
  })

  it.each([
    ['not an array', 'MIIB'],
    ['empty', []],
    ['not base64', ['%%%']],
    ['base64url', [base64urlCertificate()]],
    ['not DER', [Buffer.from('garbage').toString('base64')]],
    ['a number', [5]],
  ])('x5c %s: dropped (x5c_invalid)', async (_name, x5c) => {
    const { guard, dropped } = guardFor([{ kid: 'bad', x5c }])
    await expect(guard.verify(await signWith('ec', 'bad'))).rejects.toMatchObject({ status: 401 })
    expect(dropped()).toEqual([expect.objectContaining({ kid: 'bad', reason: 'x5c_invalid' })])
  })

  it('a kty that disagrees with the leaf: dropped', () => {
    expect(withCertificateKey({ kty: 'RSA', x5c: [certs.ec!.x5c] })).toEqual({ reason: 'x5c_key_mismatch' })
  })

  it('judges validity at the time of loading', () => {
    const leaf = certs.ec!
    expect(withCertificateKey({ x5c: [leaf.x5c] }, Date.now() + 365 * 86_400_000)).toEqual({ reason: 'x5c_expired' })
    expect(withCertificateKey({ x5c: [leaf.x5c] })).toMatchObject({ jwk: { kty: 'EC', crv: 'P-256', x: leaf.jwk.x, y: leaf.jwk.y } })
  })
})

describe('publicKey given as a JWK with x5c', () => {
  it('is usable, and refused at construction when its leaf expired', async () => {
    const guard = createGuard({ ...issuer.guardOptions(), publicKey: { kty: 'EC', x5c: [certs.ec!.x5c] }, algorithms: ['ES256'] })
    await expect(guard.verify(await signWith('ec', 'any'))).resolves.toMatchObject({ payload: { sub: 'ec' } })
    expect(() => createGuard({ ...issuer.guardOptions(), publicKey: { kty: 'EC', x5c: [certs.expired!.x5c] } })).toThrow(
      /option "publicKey" is not a usable public key/,
    )
  })
})

/** A certificate in base64url (RFC 7517 wants standard base64): refused rather than guessed at. */
function base64urlCertificate(): string {
  return 'MIIBkTCB-wIJAK_-'
}
