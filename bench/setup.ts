import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { createTestIssuer, type EncryptOptions, type TestIssuer } from 'jwtguard/testing'
import type { ServerConfig } from './servers/protocol.js'

/**
 * Shared setup of every benchmark: one test issuer (its keys sign every token),
 * the public keys in each shape a library wants, and pools of distinct valid
 * tokens. Every token carries the same iss / aud / exp rules and `sub`.
 */

export const JWS_ALGS = ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA', 'HS256'] as const
export type JwsAlg = (typeof JWS_ALGS)[number]
export type AsymmetricAlg = Exclude<JwsAlg, 'HS256'>

/** Nested JWE cases: the inner JWS is RS256, the outer layer one of these key managements with A256GCM. */
export const JWE_KINDS = ['RSA-OAEP-256', 'dir'] as const
export type JweKind = (typeof JWE_KINDS)[number]

/** The `sub` of every bench token: a verifier that returns it has really verified the token. */
export const SUB = 'bench-user'

/** One public verification key, as JWK (for JWKS-based libraries), KeyObject and SPKI PEM. */
export interface PublicKeyShapes {
  jwk: JWK
  keyObject: KeyObject
  pem: string
}

/** An API's JWE decryption key and how the issuer encrypts for it. */
export interface JweKey {
  encrypt: EncryptOptions
  /** `decryption.keys` for jwtguard; also what jose's `compactDecrypt` takes. */
  decryptionKey: KeyObject | Uint8Array
}

export interface Fixtures {
  issuer: TestIssuer
  iss: string
  aud: string
  keys: Record<AsymmetricAlg, PublicKeyShapes>
  /** HS256 secret. */
  secret: Uint8Array
  jwe: Record<JweKind, JweKey>
  /** `n` distinct valid tokens (each has its own `jti`). */
  tokens(alg: JwsAlg, n: number): Promise<string[]>
  /** `n` distinct valid nested JWEs (inner RS256). */
  jweTokens(kind: JweKind, n: number): Promise<string[]>
  close(): Promise<void>
}

function shapes(jwk: JWK): PublicKeyShapes {
  const keyObject = createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
  return { jwk, keyObject, pem: keyObject.export({ type: 'spki', format: 'pem' }) as string }
}

/** Signs in batches: thousands of WebCrypto signatures at once would only queue on the thread pool. */
async function many(n: number, make: () => Promise<string>): Promise<string[]> {
  const out: string[] = []
  while (out.length < n) out.push(...(await Promise.all(Array.from({ length: Math.min(64, n - out.length) }, make))))
  return out
}

export async function createFixtures(): Promise<Fixtures> {
  const issuer = await createTestIssuer({ algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA'] })
  const jwkOf = (alg: AsymmetricAlg): JWK => issuer.jwks().keys.find((k) => k.alg === alg)!
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const dirSecret = new Uint8Array(randomBytes(32))
  const jwe: Record<JweKind, JweKey> = {
    'RSA-OAEP-256': {
      encrypt: { key: rsa.publicKey.export({ format: 'jwk' }) as JWK, alg: 'RSA-OAEP-256', enc: 'A256GCM' },
      decryptionKey: rsa.privateKey,
    },
    dir: { encrypt: { key: dirSecret, alg: 'dir', enc: 'A256GCM' }, decryptionKey: dirSecret },
  }
  const claims = { sub: SUB }
  return {
    issuer,
    iss: issuer.issuer,
    aud: issuer.audience as string,
    keys: {
      RS256: shapes(jwkOf('RS256')),
      PS256: shapes(jwkOf('PS256')),
      ES256: shapes(jwkOf('ES256')),
      ES384: shapes(jwkOf('ES384')),
      EdDSA: shapes(jwkOf('EdDSA')),
    },
    secret: issuer.secret,
    jwe,
    tokens: (alg, n) => many(n, () => issuer.sign(claims, { alg })),
    jweTokens: (kind, n) => many(n, () => issuer.signEncrypted(claims, jwe[kind].encrypt, { alg: 'RS256' })),
    close: () => issuer.close(),
  }
}

/** What a bench server needs: the issuer's RS256 key, and its JWKS URL for the libraries that fetch keys. */
export const serverConfig = (f: Fixtures): ServerConfig => ({
  issuer: f.iss,
  audience: f.aud,
  jwksUri: f.issuer.jwksUri,
  jwk: f.keys.RS256.jwk,
})
