import { createHash } from 'node:crypto'

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  OKP: ['crv', 'kty', 'x'],
}

/** RFC 7638 JWK SHA-256 thumbprint, base64url; `undefined` for a key type that cannot have one here. */
export function jwkThumbprint(jwk: Record<string, unknown>): string | undefined {
  const members = typeof jwk.kty === 'string' ? MEMBERS[jwk.kty] : undefined
  if (!members || members.some((m) => typeof jwk[m] !== 'string')) return undefined
  const canonical = `{${members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`
  return createHash('sha256').update(canonical).digest('base64url')
}
