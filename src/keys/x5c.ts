import { X509Certificate, type JsonWebKey } from 'node:crypto'
import type { JWK } from 'jose'

/** Members of a public JWK that carry the key itself, per key type. */
const KEY_MEMBERS: Record<string, readonly string[]> = { RSA: ['n', 'e'], EC: ['crv', 'x', 'y'], OKP: ['crv', 'x'] }

/** A JWK made usable from its `x5c`, or why it must be dropped. */
export type X5cResult = { jwk: JWK } | { reason: string }

/**
 * RFC 7517 §4.7: a JWK may carry its key as a certificate chain (`x5c`), the
 * leaf first. The key then comes from the leaf: a JWK with `x5c` only gets its
 * `n`/`e` (or `crv`/`x`/`y`) from it; a JWK with both must agree with it. A
 * leaf outside its validity period drops the key. The chain is not validated
 * against a trust anchor: as with `n`/`e`, the key set is trusted for where it
 * was fetched from. A JWK without `x5c` is returned as it is.
 */
export function withCertificateKey(jwk: unknown, now: number = Date.now()): X5cResult | undefined {
  if (typeof jwk !== 'object' || jwk === null || !('x5c' in jwk)) return undefined
  const k = jwk as JWK & { x5c?: unknown }
  const chain = k.x5c
  if (!Array.isArray(chain) || chain.length === 0 || chain.some((c) => typeof c !== 'string' || c === '')) return { reason: 'x5c_invalid' }
  let leaf: X509Certificate
  try {
    // RFC 7517 §4.7: standard base64 (not base64url) DER.
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(chain[0] as string)) return { reason: 'x5c_invalid' }
    leaf = new X509Certificate(Buffer.from(chain[0] as string, 'base64'))
  } catch {
    return { reason: 'x5c_invalid' }
  }
  if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) return { reason: 'x5c_expired' }
  let fromCert: JsonWebKey
  try {
    fromCert = leaf.publicKey.export({ format: 'jwk' })
  } catch {
    return { reason: 'x5c_unsupported_key' }
  }
  const kty = fromCert.kty ?? ''
  const members = KEY_MEMBERS[kty]
  if (!members) return { reason: 'x5c_unsupported_key' }
  if (k.kty !== undefined && k.kty !== kty) return { reason: 'x5c_key_mismatch' }
  const given = members.filter((m) => (k as Record<string, unknown>)[m] !== undefined)
  for (const m of given)
    if ((k as Record<string, unknown>)[m] !== (fromCert as Record<string, unknown>)[m]) return { reason: 'x5c_key_mismatch' }
  const out: Record<string, unknown> = { ...k, kty }
  for (const m of members) out[m] = (fromCert as Record<string, unknown>)[m]
  return { jwk: out as JWK }
}
