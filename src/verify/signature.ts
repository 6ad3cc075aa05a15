import { createHmac, constants, timingSafeEqual, verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto'
import { GuardError } from '../errors.js'

/**
 * JWS signature verification on `node:crypto`, with keys imported once as
 * `KeyObject`s. Asymmetric checks run on libuv's thread pool (the callback
 * form of `crypto.verify`), so a second core takes part under load; HMAC is
 * cheap and runs inline.
 */

interface Scheme {
  hash: string | null
  /** Extra key options: PSS padding, IEEE P1363 signatures for ECDSA. */
  key?: Omit<VerifyKeyObjectInput, 'key'>
  /** Exact signature length where the algorithm fixes it (ECDSA r||s, Ed25519). */
  length?: number
}

const PSS = (saltLength: number): Omit<VerifyKeyObjectInput, 'key'> => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength })
const P1363: Omit<VerifyKeyObjectInput, 'key'> = { dsaEncoding: 'ieee-p1363' }

const SCHEMES: Record<string, Scheme> = {
  RS256: { hash: 'sha256' },
  RS384: { hash: 'sha384' },
  RS512: { hash: 'sha512' },
  PS256: { hash: 'sha256', key: PSS(32) },
  PS384: { hash: 'sha384', key: PSS(48) },
  PS512: { hash: 'sha512', key: PSS(64) },
  ES256: { hash: 'sha256', key: P1363, length: 64 },
  ES384: { hash: 'sha384', key: P1363, length: 96 },
  ES512: { hash: 'sha512', key: P1363, length: 132 },
  EdDSA: { hash: null, length: 64 },
  Ed25519: { hash: null, length: 64 },
}

const HMAC: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/** Checks one key; `done` is called once, synchronously for HMAC and misfits, from the thread pool otherwise. */
function verifyOne(alg: string, data: Buffer, signature: Buffer, key: KeyObject, done: (ok: boolean) => void): void {
  const hmac = HMAC[alg]
  if (hmac) {
    if (key.type !== 'secret') return done(false)
    const expected = createHmac(hmac, key).update(data).digest()
    return done(expected.length === signature.length && timingSafeEqual(expected, signature))
  }
  const scheme = SCHEMES[alg]
  if (!scheme || key.type !== 'public') return done(false)
  if (scheme.length !== undefined && signature.length !== scheme.length) return done(false)
  try {
    cryptoVerify(scheme.hash, data, scheme.key ? { key, ...scheme.key } : key, signature, (err, ok) => done(!err && ok))
  } catch {
    done(false) // a key that does not fit the algorithm verifies nothing
  }
}

/**
 * Verifies a compact JWS (already through intake: three canonical segments,
 * alg allowed) against candidate keys matched on `kid`, type and curve. The
 * first key that verifies wins. One promise per token, whatever the number of keys tried.
 */
export function verifySignature(token: string, alg: string, keys: readonly KeyObject[]): Promise<void> {
  const dot = token.lastIndexOf('.')
  const data = Buffer.from(token.slice(0, dot), 'latin1')
  const signature = Buffer.from(token.slice(dot + 1), 'base64url')
  return new Promise((resolve, reject) => {
    const attempt = (i: number): void => {
      if (i >= keys.length) return reject(new GuardError('ERR_JWT_SIGNATURE_INVALID', 'Invalid signature', { reason: 'signature' }))
      verifyOne(alg, data, signature, keys[i]!, (ok) => (ok ? resolve() : attempt(i + 1)))
    }
    attempt(0)
  })
}
