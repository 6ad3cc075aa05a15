import { GuardError } from '../errors.js'
import type { EventSink } from '../events.js'
import type { AuthInfo } from '../types.js'
import { optionError } from '../option-error.js'

/** What the guard passes to a store besides the token's `AuthInfo`. */
export interface RevocationContext {
  /** The guard's event sink, for stores that report outages (`failOpen`). */
  emit?: EventSink | undefined
  /** The claim that carries the token id (the guard's `jtiClaim`): `'jti'`, or `'uti'` for Entra ID. Default `'jti'`. */
  jtiClaim?: string | undefined
}

/** A revocation store: all a custom store needs is `isRevoked`. */
export interface RevocationStore {
  /** Any truthy answer revokes. Read the token's claims from `auth.claims` (as signed), not `auth.payload` (the schema's output). */
  isRevoked(auth: AuthInfo<unknown>, context?: RevocationContext): Promise<unknown>
  /** Seconds an entry outlives the token's `exp`; the guard refuses a `clockTolerance` longer than this. */
  readonly leeway?: number
}

/** Options shared by the stores jwtguard ships. */
export interface RevocationStoreOptions {
  /**
   * How long a subject cut-off (`revokeSubject`) is kept, in seconds: it must
   * outlive the longest token lifetime your issuer grants. Default 86,400 (1 day).
   */
  subjectTtl?: number
  /** A token without a token id (`jti`, or the guard's `jtiClaim`) cannot be revoked individually: `'refuse'` (default) or `'allow'`. */
  missingJti?: 'refuse' | 'allow'
  /**
   * Seconds a `jti` entry outlives the token's `expiresAt`: the guard accepts
   * tokens up to `exp + clockTolerance`, so this must be at least that. Default 60.
   */
  leeway?: number
}

/** The keys a shipped store looks up: the token id, and `sub` + `iat` for subject cut-offs. Never the raw token. */
export interface RevocationKeys {
  jti: string | undefined
  sub: string | undefined
  iat: number | undefined
}

/** Read from `auth.claims`, the claims as signed: a `claimsSchema` that strips or renames them changes nothing here. */
export function revocationKeys(auth: AuthInfo<unknown>, missingJti: 'refuse' | 'allow', jtiClaim = 'jti'): RevocationKeys {
  const payload = auth.claims
  const id = payload[jtiClaim]
  // A token id that is there but not a string (a number `uti`) would never match a revoked id: refuse it,
  // whatever `missingJti` says, as validation does for `jti` itself.
  if (id !== undefined && typeof id !== 'string')
    throw new GuardError('ERR_JWT_CLAIM_INVALID', 'Invalid token id claim', { claim: jtiClaim, reason: 'not_string' })
  const jti = typeof id === 'string' && id !== '' ? id : undefined
  if (jti === undefined && missingJti === 'refuse') {
    throw new GuardError('ERR_JWT_JTI_MISSING', 'Token has no token id', { claim: jtiClaim, reason: 'missing' })
  }
  return {
    jti,
    sub: typeof payload.sub === 'string' ? payload.sub : undefined,
    iat: typeof payload.iat === 'number' ? payload.iat : undefined,
  }
}

/**
 * Whether a subject cut-off revokes a token: tokens issued before the cut-off
 * are refused; a token without `iat` cannot prove it is newer.
 */
export function revokedBySubject(cutoff: number | undefined, iat: number | undefined): boolean {
  return cutoff !== undefined && (iat === undefined || iat < cutoff)
}

export function checkStoreOptions(options: RevocationStoreOptions, store: string): Required<RevocationStoreOptions> {
  const subjectTtl = options.subjectTtl ?? 86_400
  if (!Number.isFinite(subjectTtl) || subjectTtl <= 0)
    throw optionError('subjectTtl', 'must be a positive number of seconds', { of: store, given: subjectTtl })
  const missingJti = options.missingJti ?? 'refuse'
  if (missingJti !== 'refuse' && missingJti !== 'allow')
    throw optionError('missingJti', "must be 'refuse' or 'allow'", { of: store, given: missingJti })
  const leeway = options.leeway ?? 60
  if (!Number.isFinite(leeway) || leeway < 0)
    throw optionError('leeway', 'must be a non-negative number of seconds', { of: store, given: leeway })
  return { subjectTtl, missingJti, leeway }
}

export function checkRevokeArgs(id: unknown, at: unknown, what: string): void {
  if (typeof id !== 'string' || id === '') throw new TypeError(`jwtguard: ${what} needs a non-empty string`)
  if (typeof at !== 'number' || !Number.isFinite(at)) throw new TypeError(`jwtguard: ${what} needs epoch seconds`)
}
