import { createPublicKey } from 'node:crypto'
import type { JWK } from 'jose'
import { keyShapeFor } from './algorithms.js'
import { withCertificateKey } from './x5c.js'
import type { Candidate, KeyLease } from './lease.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const
const CURVES = new Set(['P-256', 'P-384', 'P-521', 'Ed25519'])
/** RSA moduli below this are refused (RFC 7518 §3.3, NIST SP 800-131A). */
const MIN_RSA_BITS = 2048

/** Why a JWK must not be trusted for verification, or `undefined` when it may be. */
export function unusableReason(jwk: unknown): string | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return 'not_an_object'
  const k = jwk as Record<string, unknown>
  if (k.kty === 'oct') return 'symmetric_key'
  if (k.kty !== 'RSA' && k.kty !== 'EC' && k.kty !== 'OKP') return 'unsupported_kty'
  for (const m of PRIVATE_MEMBERS) if (k[m] !== undefined) return 'private_key'
  if (k.use !== undefined && k.use !== 'sig') return 'not_for_signatures'
  if (k.key_ops !== undefined && !(Array.isArray(k.key_ops) && k.key_ops.includes('verify'))) return 'not_for_verify'
  if (k.kid !== undefined && typeof k.kid !== 'string') return 'bad_kid'
  if (k.alg !== undefined) {
    const shape = typeof k.alg === 'string' ? keyShapeFor(k.alg) : undefined
    if (!shape || shape.kty !== k.kty || (shape.crv !== undefined && shape.crv !== k.crv)) return 'alg_mismatch'
  }
  if (k.kty === 'RSA') {
    if (k.e !== 'AQAB') return 'rsa_exponent'
    if (typeof k.n !== 'string') return 'rsa_modulus'
    const n = Buffer.from(k.n, 'base64url')
    let i = 0
    while (i < n.length && n[i] === 0) i++
    const bits = (n.length - i) * 8 - (i < n.length ? Math.clz32(n[i]!) - 24 : 0)
    if (bits < MIN_RSA_BITS) return 'rsa_too_small'
  } else if (typeof k.crv !== 'string' || !CURVES.has(k.crv) || (k.kty === 'OKP') !== (k.crv === 'Ed25519')) {
    return 'unsupported_curve'
  }
  return undefined
}

interface Entry {
  jwk: JWK
  kid: string | undefined
  /** The members that make the key what it is: an entry with the same identity in the next set is this key. */
  identity: string | undefined
  lease: KeyLease
  candidate: Candidate | undefined
  broken: boolean
}

function identityOf(jwk: JWK): string | undefined {
  try {
    return JSON.stringify([jwk.kty, jwk.crv, jwk.n, jwk.e, jwk.x, jwk.y, jwk.kid, jwk.alg, jwk.use, jwk.key_ops])
  } catch {
    return undefined // members JSON cannot hold (only in a local JWKS object): such a key never imports anyway
  }
}

/** At most this many keys are tried for one token that names no `kid` (or a duplicated one). */
export const MAX_CANDIDATES = 4

/**
 * A validated set of public verification keys. Untrusted keys are dropped at
 * load; each key is imported once, on first use, and reused.
 */
export class KeySet {
  private readonly entries: Entry[]
  private readonly byKid = new Map<string, Entry[]>()

  private constructor(entries: Entry[]) {
    this.entries = entries
    for (const e of entries) {
      if (e.kid === undefined) continue
      const list = this.byKid.get(e.kid)
      if (list) list.push(e)
      else this.byKid.set(e.kid, [e])
    }
  }

  /**
   * Builds a set from a JWKS document; `dropped` hears about every refused key. `previous` is the
   * set this one replaces: a key both hold keeps its entry (imported key and lease), and every key
   * only `previous` held is withdrawn, so that the tokens it verified are judged afresh.
   */
  static from(jwks: unknown, dropped?: (kid: string | undefined, reason: string) => void, previous?: KeySet): KeySet | undefined {
    if (typeof jwks !== 'object' || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) return undefined
    const leaving = new Map<string, Entry[]>()
    for (const e of previous?.entries ?? []) {
      if (e.identity === undefined) {
        e.lease.withdrawn = true
        continue
      }
      const same = leaving.get(e.identity)
      if (same) same.push(e)
      else leaving.set(e.identity, [e])
    }
    const entries: Entry[] = []
    for (const given of (jwks as { keys: unknown[] }).keys) {
      const kid = typeof (given as JWK | null)?.kid === 'string' ? (given as JWK).kid : undefined
      const certified = withCertificateKey(given)
      if (certified && 'reason' in certified) {
        dropped?.(kid, certified.reason)
        continue
      }
      const jwk = certified?.jwk ?? given
      const reason = unusableReason(jwk)
      if (reason) {
        dropped?.(kid, reason)
        continue
      }
      const identity = identityOf(jwk as JWK)
      const kept = identity === undefined ? undefined : leaving.get(identity)?.pop()
      entries.push(kept ?? { jwk: jwk as JWK, kid, identity, lease: { withdrawn: false }, candidate: undefined, broken: false })
    }
    for (const same of leaving.values()) for (const e of same) e.lease.withdrawn = true
    return new KeySet(entries)
  }

  get size(): number {
    return this.entries.length
  }

  kids(): string[] {
    return [...this.byKid.keys()]
  }

  /** Keys that may verify a token with this `alg` and `kid`, imported, at most `MAX_CANDIDATES`. */
  candidates(alg: string, kid: string | undefined): Candidate[] {
    const shape = keyShapeFor(alg)
    if (!shape) return []
    const pool = kid === undefined ? this.entries : (this.byKid.get(kid) ?? [])
    const out: Candidate[] = []
    for (const e of pool) {
      if (out.length === MAX_CANDIDATES) break
      const { jwk } = e
      if (jwk.kty !== shape.kty || (shape.crv !== undefined && jwk.crv !== shape.crv)) continue
      if (jwk.alg !== undefined && jwk.alg !== alg && !(isEdDsa(jwk.alg) && isEdDsa(alg))) continue
      const candidate = this.imported(e)
      if (candidate) out.push(candidate)
    }
    return out
  }

  private imported(e: Entry): Candidate | undefined {
    if (e.candidate || e.broken) return e.candidate
    try {
      e.candidate = { key: createPublicKey({ key: e.jwk as import('node:crypto').JsonWebKey, format: 'jwk' }), lease: e.lease }
    } catch {
      e.broken = true // a key that does not import (bad point, bad encoding) never verifies
    }
    return e.candidate
  }
}

const isEdDsa = (alg: string): boolean => alg === 'EdDSA' || alg === 'Ed25519'
