import { createPrivateKey, createSecretKey, KeyObject, webcrypto } from 'node:crypto'
import { isCryptoKey } from '../keys/import.js'
import type { JWK } from 'jose'
import type { DecryptionKeyInput, DecryptionOptions } from './options.js'
import { optionError } from '../option-error.js'

/** A decryption key imported once at construction. */
export interface DecryptionKey {
  kid: string | undefined
  key: KeyObject
  /** `rsa`, `ec:<curve>`, `x25519`, or `oct:<bytes>`. */
  kind: string
  /** The JWK's `alg`, if it names one: the key serves only that algorithm (for `dir`, that `enc`). */
  alg: string | undefined
  /** `CryptoKey`s made from a secret, by WebCrypto algorithm, the first time a token needs one (see `joseKey`). */
  webcrypto?: Map<string, Promise<CryptoKey | KeyObject>>
}

type CryptoKey = webcrypto.CryptoKey

const CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' }

function kindOf(key: KeyObject): string {
  if (key.type === 'secret') return `oct:${key.symmetricKeySize}`
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return 'rsa'
    case 'ec':
      return `ec:${CURVES[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'unknown'}`
    case 'x25519':
      return 'x25519'
    default:
      return 'unsupported'
  }
}

function importOne(input: DecryptionKeyInput, kid: string | undefined, where: string): DecryptionKey {
  let key: KeyObject
  let alg: string | undefined
  try {
    if (input instanceof KeyObject) key = input
    else if (isCryptoKey(input)) key = KeyObject.from(input)
    else if (input instanceof Uint8Array) key = createSecretKey(Buffer.from(input))
    else if (typeof input === 'string') key = createPrivateKey(input)
    else if (typeof input === 'object' && input !== null && 'key' in input) return importOne(input.key, input.kid ?? kid, where)
    else {
      const jwk = input as JWK
      kid ??= typeof jwk.kid === 'string' ? jwk.kid : undefined
      // A key published for signatures, or restricted to other operations, must not decrypt (RFC 7517 §4.2, §4.3).
      if (jwk.use !== undefined && jwk.use !== 'enc') throw new Error('use')
      if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.some((op) => op === 'decrypt' || op === 'unwrapKey'))) {
        throw new Error('key_ops')
      }
      alg = typeof jwk.alg === 'string' ? jwk.alg : undefined
      if (jwk.kty === 'oct') key = createSecretKey(Buffer.from(String(jwk.k), 'base64url'))
      else key = createPrivateKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    }
  } catch (cause) {
    throw optionError(where, 'is not a usable decryption key (private key, JWK or secret)', { cause })
  }
  if (key.type === 'public') throw optionError(where, 'is a public key: decryption needs the private key')
  const kind = kindOf(key)
  if (kind === 'unsupported' || kind === 'ec:unknown') throw optionError(where, 'has an unsupported key type')
  return { kid, key, kind, alg }
}

const forEncryption = (jwk: JWK): boolean => jwk.use === undefined || jwk.use === 'enc'

/**
 * Imports `decryption.keys` (one key, a list, or a JWKS) once. From a JWKS,
 * keys published for signatures are skipped (a full private JWKS may hold
 * both); a single key or list entry that is not for encryption is an error.
 */
export function importDecryptionKeys(keys: DecryptionOptions['keys']): DecryptionKey[] {
  const isSet = typeof keys === 'object' && keys !== null && !Array.isArray(keys) && Array.isArray((keys as { keys?: unknown }).keys)
  const list: readonly DecryptionKeyInput[] = isSet
    ? (keys as { keys: JWK[] }).keys.filter(forEncryption)
    : Array.isArray(keys)
      ? keys
      : [keys as DecryptionKeyInput]
  if (list.length === 0) throw optionError('decryption.keys', 'needs at least one encryption key')
  return list.map((k, i) => importOne(k, undefined, `decryption.keys[${i}]`))
}

const CEK_BYTES: Record<string, number> = {
  A128GCM: 16,
  A192GCM: 24,
  A256GCM: 32,
  'A128CBC-HS256': 32,
  'A192CBC-HS384': 48,
  'A256CBC-HS512': 64,
}

/** Whether a key can serve a JWE with this `alg` / `enc` (so a wrong key is never even tried). */
export function fits(key: DecryptionKey, alg: string, enc: string): boolean {
  if (key.alg !== undefined && key.alg !== (alg === 'dir' ? enc : alg) && key.alg !== alg) return false
  if (alg.startsWith('RSA-OAEP')) return key.kind === 'rsa'
  if (alg.startsWith('ECDH-ES')) return key.kind.startsWith('ec:') || key.kind === 'x25519'
  if (alg === 'dir') return key.kind === `oct:${CEK_BYTES[enc]}`
  const bits = /^A(\d{3})(GCM)?KW$/.exec(alg)
  return bits !== null && key.kind === `oct:${Number(bits[1]) / 8}`
}

/**
 * The key as jose takes it fastest. Given a secret as bytes or a `KeyObject`,
 * jose exports and imports it again for every token (it caches only
 * asymmetric conversions), so for its WebCrypto AES uses, `dir` with AES-GCM
 * and AES key wrap, a secret is handed over as a `CryptoKey` imported once
 * per key and algorithm (`dir` + A256GCM: 1.47x the throughput, `npm run bench -- --only micro`).
 * Everything else (RSA, ECDH, `dir` with AES-CBC-HMAC, which jose splits as bytes) gets the `KeyObject`.
 */
export function joseKey(key: DecryptionKey, alg: string, enc: string): KeyObject | Promise<CryptoKey | KeyObject> {
  if (key.key.type !== 'secret') return key.key
  const use: [string, webcrypto.KeyUsage] | undefined =
    alg === 'dir' && enc.endsWith('GCM') ? ['AES-GCM', 'decrypt'] : /^A\d{3}KW$/.test(alg) ? ['AES-KW', 'unwrapKey'] : undefined
  if (!use) return key.key
  key.webcrypto ??= new Map()
  let imported = key.webcrypto.get(use[0])
  if (!imported) {
    // If WebCrypto refuses the secret, jose gets the KeyObject and refuses or uses it as before.
    imported = webcrypto.subtle.importKey('raw', key.key.export(), use[0], false, [use[1]]).catch(() => key.key)
    key.webcrypto.set(use[0], imported)
  }
  return imported
}
