import { createHmac, hash, timingSafeEqual, type KeyObject } from 'node:crypto'

/**
 * HMAC (RFC 2104) for JWS signatures, as two one-shot hashes: H((K ^ opad) || H((K ^ ipad) || data)), the padded key
 * blocks made once per key. `createHmac` builds a new object and OpenSSL context for each token, which cost a fifth of
 * an HS256 verification (`npm run bench`); `crypto.hash` reuses its digest. The key's bytes are then held in the
 * process as the padded blocks, as they are in any KeyObject and in the secret the options gave.
 */

/** Block size of each hash, in bytes (RFC 2104's B). */
const BLOCK: Readonly<Record<string, number>> = { sha256: 64, sha384: 128, sha512: 128 }

interface Pads {
  /** K ^ ipad: copied in front of the data for the inner hash. */
  inner: Buffer
  /** K ^ opad, then room for the inner digest: the outer hash's whole input. */
  outer: Buffer
}

/** Per secret key, per hash. A KeyObject's bytes never change, so what was made once holds. */
const padsByKey = new WeakMap<KeyObject, Map<string, Pads>>()

function padsOf(key: KeyObject, algorithm: string, block: number): Pads {
  let byHash = padsByKey.get(key)
  if (!byHash) padsByKey.set(key, (byHash = new Map()))
  let pads = byHash.get(algorithm)
  if (pads) return pads
  const secret = key.export()
  // A key longer than the block is hashed first; a shorter one is padded with zeros (`alloc`).
  const k = secret.length > block ? hash(algorithm, secret, 'buffer') : secret
  const digestLength = hash(algorithm, '', 'buffer').length
  pads = { inner: Buffer.alloc(block, 0x36), outer: Buffer.alloc(block + digestLength, 0) }
  pads.outer.fill(0x5c, 0, block)
  for (let i = 0; i < k.length; i++) {
    pads.inner[i]! ^= k[i]!
    pads.outer[i]! ^= k[i]!
  }
  byHash.set(algorithm, pads)
  return pads
}

/**
 * The inner hash's input is assembled here: the padded key, then the signing input. Everything between writing it and
 * hashing it is synchronous, so one buffer serves every check. Longer signing input (a `maxTokenLength` above the
 * default) goes through `createHmac`, so this stays at its size.
 */
const scratch = Buffer.alloc(16 * 1024)

/** The HMAC of `token`'s first `length` characters (its JWS signing input: ASCII, after intake), as `token.slice(0, length)`. */
export function hmacOf(algorithm: string, key: KeyObject, token: string, length: number): Buffer {
  const block = BLOCK[algorithm]
  if (block === undefined || length < 0 || block + length > scratch.length) {
    return createHmac(algorithm, key)
      .update(Buffer.from(token.slice(0, length), 'latin1'))
      .digest()
  }
  const pads = padsOf(key, algorithm, block)
  scratch.set(pads.inner, 0)
  // What was written, not `length`: bytes past a shorter string are the last token's.
  const written = scratch.write(token, block, length, 'latin1')
  const inner = hash(algorithm, scratch.subarray(0, block + written), 'buffer')
  inner.copy(pads.outer, block)
  return hash(algorithm, pads.outer, 'buffer')
}

/** Whether `signature` is `key`'s HMAC of the signing input, compared in constant time. */
export function hmacVerifies(algorithm: string, key: KeyObject, token: string, length: number, signature: Buffer): boolean {
  if (key.type !== 'secret') return false
  const expected = hmacOf(algorithm, key, token, length)
  return expected.length === signature.length && timingSafeEqual(expected, signature)
}
