import { createHmac, createSecretKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { JwtVerifier } from 'aws-jwt-verify'
import { createVerifier } from 'fast-jwt'
import { compactDecrypt, importJWK, jwtVerify } from 'jose'
import { createGuard, type GuardOptions } from 'jwtguard'
import type { Fixtures, JweKind, JwsAlg } from './setup.js'

/**
 * The verifiers the micro suite compares, all configured with the same
 * issuer, audience, algorithm and key. Each returns the token's `sub`, so a
 * caller can check that it really verified (a verifier that rejects would
 * benchmark its error path).
 */

export type Verify = (token: string) => unknown

export interface Variant {
  name: string
  /** `true`: measured on cache hits (a pool of tokens seen before); `false`: every verification is done in full. */
  hot: boolean
  verify: Verify
}

/** The floor: what any verifier must do at least. Signature check with a KeyObject, base64url decode, JSON parse; no claim checks. */
export function floorVerifier(alg: JwsAlg, key: KeyObject): Verify {
  const input = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key
  const hash = alg === 'EdDSA' ? null : 'sha256'
  return (token) => {
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    const data = Buffer.from(token.slice(0, last), 'latin1')
    const signature = Buffer.from(token.slice(last + 1), 'base64url')
    const ok =
      alg === 'HS256'
        ? timingSafeEqual(createHmac('sha256', key).update(data).digest(), signature)
        : cryptoVerify(hash, data, input, signature)
    if (!ok) throw new Error('floor: invalid signature')
    return (JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8')) as { sub: string }).sub
  }
}

const guardOptions = (f: Fixtures, alg: JwsAlg): GuardOptions =>
  alg === 'HS256'
    ? { issuer: f.iss, audience: f.aud, secret: f.secret, algorithms: [alg] }
    : { issuer: f.iss, audience: f.aud, jwks: { keys: [f.keys[alg].jwk] }, algorithms: [alg] }

function guardVariants(options: GuardOptions): Variant[] {
  const cold = createGuard({ ...options, cache: false })
  const hot = createGuard(options)
  return [
    { name: 'jwtguard (cache off)', hot: false, verify: async (t) => (await cold.verify(t)).payload.sub },
    { name: 'jwtguard (cache hit)', hot: true, verify: async (t) => (await hot.verify(t)).payload.sub },
  ]
}

/** Every library on one JWS algorithm. aws-jwt-verify has no HMAC support. */
export async function jwsVariants(f: Fixtures, alg: JwsAlg): Promise<Variant[]> {
  const hmac = alg === 'HS256'
  const secretKey = createSecretKey(Buffer.from(f.secret))
  const joseKey = hmac ? f.secret : await importJWK(f.keys[alg].jwk, alg)
  const fastKey = hmac ? Buffer.from(f.secret) : f.keys[alg].pem
  const fast = (cache: boolean): Verify => {
    const verifier = createVerifier({ key: fastKey, algorithms: [alg], allowedIss: f.iss, allowedAud: f.aud, cache })
    return (t) => (verifier(t) as { sub: string }).sub
  }
  const variants: Variant[] = [
    { name: 'node:crypto (floor)', hot: false, verify: floorVerifier(alg, hmac ? secretKey : f.keys[alg].keyObject) },
    {
      name: 'jose jwtVerify',
      hot: false,
      verify: async (t) => (await jwtVerify(t, joseKey, { issuer: f.iss, audience: f.aud, algorithms: [alg] })).payload.sub,
    },
    { name: 'fast-jwt', hot: false, verify: fast(false) },
    { name: 'fast-jwt (cache hit)', hot: true, verify: fast(true) },
  ]
  if (!hmac) {
    const aws = JwtVerifier.create({ issuer: f.iss, audience: f.aud, jwksUri: f.issuer.jwksUri })
    aws.cacheJwks({ keys: [f.keys[alg].jwk] } as Parameters<typeof aws.cacheJwks>[0])
    variants.push({ name: 'aws-jwt-verify', hot: false, verify: async (t) => (await aws.verify(t)).sub })
  }
  return [...variants, ...guardVariants(guardOptions(f, alg))]
}

/** Nested JWE (inner RS256): plain jose (decrypt, then verify) against jwtguard. No other peer decrypts. */
export async function jweVariants(f: Fixtures, kind: JweKind): Promise<Variant[]> {
  const signingKey = await importJWK(f.keys.RS256.jwk, 'RS256')
  const { decryptionKey } = f.jwe[kind]
  const decoder = new TextDecoder()
  const jose: Verify = async (t) => {
    const { plaintext } = await compactDecrypt(t, decryptionKey, {
      keyManagementAlgorithms: [kind],
      contentEncryptionAlgorithms: ['A256GCM'],
    })
    return (await jwtVerify(decoder.decode(plaintext), signingKey, { issuer: f.iss, audience: f.aud, algorithms: ['RS256'] })).payload.sub
  }
  return [
    { name: 'jose compactDecrypt + jwtVerify', hot: false, verify: jose },
    ...guardVariants({ ...guardOptions(f, 'RS256'), decryption: { keys: decryptionKey, required: true } }),
  ]
}
