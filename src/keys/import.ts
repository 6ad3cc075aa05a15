import { createPublicKey, createSecretKey, KeyObject, type webcrypto } from 'node:crypto'
import { unusableReason } from './jwk.js'
import { withCertificateKey } from './x5c.js'
import { optionError } from '../option-error.js'

/** The same strength rules as for JWKS keys: RSA at least 2048 bits with e = 65537. */
function checkStrength(key: KeyObject): KeyObject {
  const details = key.asymmetricKeyDetails
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') {
    if ((details?.modulusLength ?? 0) < 2048) throw new Error('rsa_too_small')
    if (details?.publicExponent !== 65537n) throw new Error('rsa_exponent')
  }
  return key
}

/** `CryptoKey` is not a global constructor on every Node 20 build: recognise it by its tag. */
export const isCryptoKey = (value: unknown): value is webcrypto.CryptoKey =>
  typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'CryptoKey'

/** Imports one public key given as PEM, JWK, KeyObject or CryptoKey, as a `KeyObject`. */
export function importPublicKey(input: unknown, option: string): KeyObject {
  try {
    if (isCryptoKey(input)) input = KeyObject.from(input)
    if (input instanceof KeyObject) {
      if (input.type === 'private') return checkStrength(createPublicKey(input))
      if (input.type === 'public') return checkStrength(input)
    } else if (typeof input === 'string') {
      // A private PEM here is a mistake we refuse rather than silently derive from.
      if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(input)) throw new Error('private')
      return checkStrength(createPublicKey(input))
    } else if (typeof input === 'object' && input !== null) {
      const certified = withCertificateKey(input)
      if (certified && 'reason' in certified) throw new Error(certified.reason)
      const jwk = certified?.jwk ?? input
      const reason = unusableReason(jwk)
      if (reason) throw new Error(reason)
      return createPublicKey({ key: jwk as import('node:crypto').JsonWebKey, format: 'jwk' })
    }
  } catch (cause) {
    throw optionError(option, 'is not a usable public key', { cause })
  }
  throw optionError(option, 'must be a PEM string, a public JWK, a KeyObject or a CryptoKey')
}

/** Imports the HMAC secret; its length is checked against the algorithms by the caller. */
export function importSecret(input: unknown, option: string): KeyObject {
  // A PEM given as a secret is a public key about to be used as an HMAC key: algorithm confusion.
  if (typeof input === 'string' && input.includes('-----BEGIN ')) {
    throw optionError(option, 'holds a PEM key: an HMAC secret is never a public or private key')
  }
  if (typeof input === 'string' && input !== '') return createSecretKey(Buffer.from(input, 'utf8'))
  if (input instanceof Uint8Array && input.byteLength > 0) return createSecretKey(Buffer.from(input))
  if (isCryptoKey(input) && input.type === 'secret') return KeyObject.from(input)
  if (input instanceof KeyObject && input.type === 'secret') return input
  throw optionError(option, 'must be a non-empty string, Uint8Array or secret KeyObject')
}
