import { randomUUID } from 'node:crypto'
import type { JWK } from 'jose'
import { createTestKey, type TestIssuer, type TestKey } from '../src/testing/index.js'

/**
 * The soak's tokens, minted by the test issuer, whose RS256 keys rotate the way real IdPs
 * do: a key is published one period before it signs, and stays published one period after.
 */

export const TOKEN_KINDS = ['valid', 'expired', 'forged', 'unknown-kid', 'malformed'] as const
export type TokenKind = (typeof TOKEN_KINDS)[number]

export interface SoakTokens {
  /** The public JWK of the key that signs now. */
  signingJwk(): JWK
  /** Publishes a new key; the previously published one starts signing; keys older than the previous signer are withdrawn. */
  rotate(): Promise<void>
  /** An `Authorization` header value (or none) of this kind. */
  authorization(kind: TokenKind): string | undefined
}

const POOL = 50

/** Authorization values no verifier may accept: not a JWT, bad base64url, `alg: none`, too large, another scheme. */
const MALFORMED: (string | undefined)[] = [
  undefined,
  'Bearer not-a-jwt',
  'Bearer a.b.c',
  'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
  'Bearer ey!.ey!.sig',
  `Bearer ${'a'.repeat(9000)}.b.c`,
  'Basic dXNlcjpwYXNz',
  'Bearer',
]

type Pools = Record<Exclude<TokenKind, 'malformed'>, string[]>

/** Takes over `issuer`'s RS256 keys: its own signs first, one more is published ahead of its turn. */
export async function soakTokens(issuer: TestIssuer): Promise<SoakTokens> {
  const published: TestKey[] = [issuer.keys().find((k) => k.alg === 'RS256')!, await issuer.addKey({ alg: 'RS256' })]
  const attacker = await createTestKey({ alg: 'RS256' })
  let counter = 0

  async function mint(key: TestKey): Promise<Pools> {
    const now = Math.floor(Date.now() / 1000)
    const many = (make: (sub: string) => Promise<string>) => Promise.all(Array.from({ length: POOL }, (_, i) => make(`soak-${i}`)))
    return {
      valid: await many((sub) => issuer.sign({ sub }, { key, typ: 'JWT' })),
      expired: await many((sub) => issuer.sign({ sub, iat: now - 120 - 3600, exp: now - 120 }, { key, typ: 'JWT' })),
      forged: await many((sub) => issuer.sign({ sub }, { key: attacker.privateKey, alg: 'RS256', kid: key.kid!, typ: 'JWT' })),
      'unknown-kid': await many((sub) => issuer.sign({ sub }, { key: attacker, kid: `unknown-${randomUUID().slice(0, 8)}`, typ: 'JWT' })),
    }
  }
  let pools = await mint(published[0]!)

  return {
    signingJwk: () => published[0]!.publicJwk,
    async rotate() {
      const next = await issuer.addKey({ alg: 'RS256' })
      const fresh = await mint(published[1]!)
      // The signer, its tokens and the withdrawal change together, so no valid token is of a withdrawn key.
      issuer.removeKey(published.shift()!)
      published.push(next)
      pools = fresh
    },
    authorization(kind) {
      counter++
      if (kind === 'malformed') return MALFORMED[counter % MALFORMED.length]
      const pool = pools[kind]
      return `Bearer ${pool[counter % pool.length]}`
    },
  }
}
