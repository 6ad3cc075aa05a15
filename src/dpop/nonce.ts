import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'

/**
 * Stateless server nonces (RFC 9449 §8): `<time>.<mac>`, valid for `lifetime`
 * seconds. Every instance sharing `secret` accepts the others' nonces.
 */
export interface NonceIssuer {
  issue(): string
  isValid(nonce: unknown): boolean
}

export function nonceIssuer(secret: Uint8Array | undefined, lifetime: number): NonceIssuer {
  const key = secret ?? randomBytes(32)
  const mac = (time: string): Buffer => createHmac('sha256', key).update(time).digest()
  return {
    issue() {
      const time = Math.floor(Date.now() / 1000).toString(36)
      return `${time}.${mac(time).toString('base64url')}`
    },
    isValid(nonce) {
      if (typeof nonce !== 'string' || nonce.length > 128) return false
      const [time, tag, extra] = nonce.split('.')
      if (!time || !tag || extra !== undefined) return false
      const issued = parseInt(time, 36)
      const age = Math.floor(Date.now() / 1000) - issued
      if (!Number.isFinite(issued) || age < 0 || age > lifetime) return false
      const expected = mac(time)
      const given = Buffer.from(tag, 'base64url')
      return given.length === expected.length && timingSafeEqual(given, expected)
    },
  }
}
