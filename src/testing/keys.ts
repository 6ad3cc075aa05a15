import { randomUUID, type webcrypto } from 'node:crypto'
import { exportJWK, generateKeyPair, type JWK } from 'jose'

/** Algorithms the test issuer can hold signing keys for. */
export type TestAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512' | 'EdDSA'

/** A signing key pair of the test issuer (published or not): pass it to `sign(claims, { key })`. */
export interface TestKey {
  /** Its `kid`, in the JWKS and in the header of tokens it signs; `undefined` for a key without one. */
  readonly kid: string | undefined
  readonly alg: TestAlgorithm
  readonly privateKey: webcrypto.CryptoKey
  /** The public half as published: `kty` members, `alg`, `use: 'sig'` and `kid` (unless it has none). */
  readonly publicJwk: JWK
}

export interface TestKeyOptions {
  /** Default `'RS256'` (`issuer.addKey` defaults to the issuer's default algorithm). */
  alg?: TestAlgorithm
  /** Default `<alg>-<8 random hex digits>`; `null` makes a key without a kid (tokens it signs carry none). */
  kid?: string | null
}

/** A fresh key pair, published nowhere: a forger's key, or one for a `getKey` callback of your own. */
export async function createTestKey({ alg = 'RS256', kid }: TestKeyOptions = {}): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) })
  const id = kid === null ? undefined : (kid ?? `${alg.toLowerCase()}-${randomUUID().slice(0, 8)}`)
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), alg, use: 'sig', ...(id === undefined ? {} : { kid: id }) }
  return Object.freeze({ kid: id, alg, privateKey, publicJwk: Object.freeze(publicJwk) })
}

/** Whether a `sign({ key })` value is a `TestKey` rather than a bare private key or secret. */
export function isTestKey(value: unknown): value is TestKey {
  return typeof value === 'object' && value !== null && 'publicJwk' in value && 'privateKey' in value
}
