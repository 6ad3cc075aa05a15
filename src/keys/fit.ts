import type { KeyObject } from 'node:crypto'
import type { JWK } from 'jose'
import { keyShapeFor } from './algorithms.js'

/** The JWK shape (kty, crv) of an imported key. */
function shapeOf(key: KeyObject): { kty: string; crv?: string } {
  if (key.type === 'secret') return { kty: 'oct' }
  const type = key.asymmetricKeyType
  if (type === 'rsa' || type === 'rsa-pss') return { kty: 'RSA' }
  if (type === 'ed25519') return { kty: 'OKP', crv: 'Ed25519' }
  if (type === 'ec') {
    const named = key.asymmetricKeyDetails?.namedCurve
    const crv = named === 'prime256v1' ? 'P-256' : named === 'secp384r1' ? 'P-384' : named === 'secp521r1' ? 'P-521' : named
    return crv === undefined ? { kty: 'EC' } : { kty: 'EC', crv }
  }
  return { kty: String(type) }
}

/** Whether a key can verify `alg` at all (type and curve). */
export function fitsAlg(key: KeyObject, alg: string): boolean {
  const need = keyShapeFor(alg)
  const have = shapeOf(key)
  return need !== undefined && need.kty === have.kty && (need.crv === undefined || need.crv === have.crv)
}

/** A JWK's own `alg` binds it to that algorithm (EdDSA and Ed25519 name the same one). */
export function jwkAlgOf(input: unknown): string | undefined {
  return typeof input === 'object' && input !== null && 'kty' in input && typeof (input as JWK).alg === 'string'
    ? (input as JWK).alg
    : undefined
}

/** Whether a key bound to `bound` (its JWK's `alg`) may verify `alg`. */
export const sameAlg = (bound: string | undefined, alg: string): boolean =>
  bound === undefined || bound === alg || ((bound === 'EdDSA' || bound === 'Ed25519') && (alg === 'EdDSA' || alg === 'Ed25519'))
