import type { KeyObject, webcrypto } from 'node:crypto'
import { CompactEncrypt, importJWK, type JWK } from 'jose'

export interface EncryptOptions {
  /** The API's public encryption key (JWK, KeyObject, CryptoKey) or a shared secret (`dir`, `A*KW`). */
  key: JWK | KeyObject | webcrypto.CryptoKey | Uint8Array
  /** Key management algorithm. Default `'RSA-OAEP-256'`. */
  alg?: string
  /** Content encryption. Default `'A256GCM'`. */
  enc?: string
  /** `kid` header; default: the JWK's `kid`, if any. */
  kid?: string
  /** `cty` header. Default `'JWT'` (a nested token). */
  cty?: string | null
  /** More protected-header parameters (e.g. replicated `iss`). */
  header?: Record<string, unknown>
}

export async function encryptFor(plaintext: string, opts: EncryptOptions): Promise<string> {
  const alg = opts.alg ?? 'RSA-OAEP-256'
  const jwk = !(opts.key instanceof Uint8Array) && typeof opts.key === 'object' && 'kty' in opts.key ? (opts.key as JWK) : undefined
  const key = jwk ? await importJWK(jwk, alg) : (opts.key as Uint8Array)
  const header: Record<string, unknown> = { alg, enc: opts.enc ?? 'A256GCM', ...opts.header }
  const kid = opts.kid ?? jwk?.kid
  if (kid) header.kid = kid
  if (opts.cty !== null) header.cty = opts.cty ?? 'JWT'
  return new CompactEncrypt(new TextEncoder().encode(plaintext)).setProtectedHeader(header as { alg: string; enc: string }).encrypt(key)
}
