import { pathToFileURL } from 'node:url'
import { constants, createHmac, createSecretKey, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto'
import { JwtVerifier } from 'aws-jwt-verify'
import { createVerifier } from 'fast-jwt'
import { compactDecrypt, importJWK, jwtVerify } from 'jose'
import { createGuard, type GuardOptions } from 'jwtguard'
import type { Fixtures, JweKind, JwsAlg } from './setup.js'
import { BASELINE_ENV } from './servers/protocol.js'

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

/** How the floor calls `node:crypto` for each algorithm: digest and key options, prepared once. */
const FLOOR_SCHEMES: Record<JwsAlg, { hash: string | null; options?: object }> = {
  RS256: { hash: 'sha256' },
  PS256: { hash: 'sha256', options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { hash: null },
  HS256: { hash: 'sha256' },
}

/**
 * The floor: what any verifier must do at least, written by hand on
 * `node:crypto` with a `KeyObject` prepared once. Split the token, decode and
 * parse header and payload, check `alg`, verify the signature (HMAC with
 * `timingSafeEqual`), then `exp`, `nbf`, `iat`, `iss` and `aud`. No kid
 * lookup, no caching, no intake rules beyond what parsing needs.
 */
export function floorVerifier(alg: JwsAlg, key: KeyObject, iss: string, aud: string): Verify {
  const { hash, options } = FLOOR_SCHEMES[alg]
  const input = options ? { key, ...options } : key
  return (token) => {
    const first = token.indexOf('.')
    const last = token.lastIndexOf('.')
    const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString('utf8')) as { alg?: unknown }
    if (header.alg !== alg) throw new Error('floor: unexpected alg')
    const data = Buffer.from(token.slice(0, last), 'latin1')
    const signature = Buffer.from(token.slice(last + 1), 'base64url')
    let ok: boolean
    if (alg === 'HS256') {
      const mac = createHmac('sha256', key).update(data).digest()
      ok = mac.length === signature.length && timingSafeEqual(mac, signature)
    } else ok = cryptoVerify(hash, data, input as KeyObject, signature)
    if (!ok) throw new Error('floor: invalid signature')
    const claims = JSON.parse(Buffer.from(token.slice(first + 1, last), 'base64url').toString('utf8')) as Record<string, unknown>
    const now = Date.now() / 1000
    if (typeof claims.exp !== 'number' || claims.exp <= now) throw new Error('floor: expired')
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now)) throw new Error('floor: not yet valid')
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now + 5)) throw new Error('floor: issued in the future')
    if (claims.iss !== iss) throw new Error('floor: issuer')
    const audience = claims.aud
    if (!(audience === aud || (Array.isArray(audience) && audience.includes(aud)))) throw new Error('floor: audience')
    return claims.sub
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

/** With `--baseline DIR`: the same two rows for jwtguard as built in that checkout, for a before/after in one run. */
async function baselineVariants(options: GuardOptions): Promise<Variant[]> {
  const dir = process.env[BASELINE_ENV]
  if (!dir) return []
  const { createGuard: make } = (await import(pathToFileURL(`${dir}/dist/src/index.js`).href)) as typeof import('jwtguard')
  const cold = make({ ...options, cache: false })
  const hot = make(options)
  return [
    { name: 'baseline (cache off)', hot: false, verify: async (t) => (await cold.verify(t)).payload.sub },
    { name: 'baseline (cache hit)', hot: true, verify: async (t) => (await hot.verify(t)).payload.sub },
  ]
}

/** Every library on one JWS algorithm. aws-jwt-verify has no HMAC or PSS support. */
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
    { name: 'node:crypto (floor)', hot: false, verify: floorVerifier(alg, hmac ? secretKey : f.keys[alg].keyObject, f.iss, f.aud) },
    {
      name: 'jose jwtVerify',
      hot: false,
      verify: async (t) => (await jwtVerify(t, joseKey, { issuer: f.iss, audience: f.aud, algorithms: [alg] })).payload.sub,
    },
    { name: 'fast-jwt', hot: false, verify: fast(false) },
    { name: 'fast-jwt (cache hit)', hot: true, verify: fast(true) },
  ]
  if (!hmac && alg !== 'PS256') {
    const aws = JwtVerifier.create({ issuer: f.iss, audience: f.aud, jwksUri: f.issuer.jwksUri })
    aws.cacheJwks({ keys: [f.keys[alg].jwk] } as Parameters<typeof aws.cacheJwks>[0])
    variants.push({ name: 'aws-jwt-verify', hot: false, verify: async (t) => (await aws.verify(t)).sub })
  }
  const options = guardOptions(f, alg)
  return [...variants, ...guardVariants(options), ...(await baselineVariants(options))]
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
    ...(await baselineVariants({ ...guardOptions(f, 'RS256'), decryption: { keys: decryptionKey, required: true } })),
  ]
}
