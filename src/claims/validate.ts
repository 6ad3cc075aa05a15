import { GuardError } from '../errors.js'

/** What one allowed issuer's tokens must satisfy. */
export interface IssuerPolicy {
  issuer: string
  audiences: ReadonlySet<string>
  /** Filled once at construction, when the key source is known. */
  algorithms: Set<string>
  /** Overrides the guard's key source for this issuer. */
  jwksUri: string | undefined
}

/** Claim rules fixed at construction. */
export interface ClaimPolicy {
  issuers: ReadonlyMap<string, IssuerPolicy>
  /** Seconds. */
  clockTolerance: number
  /** Seconds, or undefined for no limit. */
  maxTokenAge: number | undefined
  requiredClaims: readonly string[]
  /** Claim holding the audience: `aud`, or e.g. `client_id` for Cognito access tokens. */
  audienceClaim: string
  /** Claims that must hold exactly these values (e.g. Cognito's `token_use: 'access'`). */
  expectedClaims: ReadonlyArray<readonly [string, string | number | boolean]>
}

/** 9999-12-31T23:59:59Z: RFC 7519 NumericDates beyond it are refused as absurd. */
const MAX_NUMERIC_DATE = 253402300799

// Messages name claims without quotes: they become an RFC 6750 `error_description`, where `"` is not allowed.
/** Registered claims the guard reads as strings beyond `iss` and the audience, which are checked on their own. */
const STRING_CLAIMS = ['sub', 'jti'] as const

function claimInvalid(claim: string, reason: string): GuardError {
  return new GuardError('ERR_JWT_CLAIM_INVALID', `Invalid ${claim} claim`, { claim, reason })
}

function numericDate(payload: Record<string, unknown>, claim: string): number | undefined {
  const value = payload[claim]
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_NUMERIC_DATE) {
    throw claimInvalid(claim, 'not_numeric_date')
  }
  return value
}

function has(payload: Record<string, unknown>, claim: string): boolean {
  return Object.hasOwn(payload, claim) && payload[claim] !== undefined
}

/**
 * RFC 7519 §4.1.3: a string or an array of strings, one of them accepted; anything else in the array makes the claim
 * invalid. (No array is made for the usual single string.)
 */
function audienceMatches(aud: unknown, accepted: ReadonlySet<string>): boolean {
  if (typeof aud === 'string') return accepted.has(aud)
  if (!Array.isArray(aud)) return false
  let found = false
  for (const a of aud as unknown[]) {
    if (typeof a !== 'string') return false
    if (!found && accepted.has(a)) found = true
  }
  return found
}

/** Checks `iss` alone: used before any network call to refuse issuers outside the list. */
export function checkIssuer(payload: Record<string, unknown>, issuers: ReadonlyMap<string, IssuerPolicy>): IssuerPolicy {
  const iss = payload.iss
  const found = typeof iss === 'string' ? issuers.get(iss) : undefined
  if (!found) throw new GuardError('ERR_JWT_ISSUER_INVALID', 'Unexpected token issuer', { claim: 'iss', reason: 'check_failed' })
  return found
}

/** Every claim rule that holds whatever the options: run after the signature is verified. */
export function validateClaims(payload: Record<string, unknown>, policy: ClaimPolicy, now: number): void {
  const issuer = checkIssuer(payload, policy.issuers)

  const aud = Object.hasOwn(payload, policy.audienceClaim) ? payload[policy.audienceClaim] : undefined
  if (!audienceMatches(aud, issuer.audiences)) {
    throw new GuardError('ERR_JWT_AUDIENCE_INVALID', 'Unexpected token audience', { claim: policy.audienceClaim, reason: 'check_failed' })
  }

  const tolerance = policy.clockTolerance
  const exp = numericDate(payload, 'exp')
  if (exp === undefined) throw new GuardError('ERR_JWT_CLAIM_MISSING', 'Missing exp claim', { claim: 'exp', reason: 'missing' })
  if (exp <= now - tolerance) throw new GuardError('ERR_JWT_EXPIRED', 'Token expired', { claim: 'exp', reason: 'expired', exp })

  const nbf = numericDate(payload, 'nbf')
  if (nbf !== undefined && nbf > now + tolerance) {
    throw new GuardError('ERR_JWT_NOT_YET_VALID', 'Token not yet valid', { claim: 'nbf', reason: 'not_yet_valid', nbf })
  }

  const iat = numericDate(payload, 'iat')
  if (iat !== undefined && iat > now + tolerance) {
    throw new GuardError('ERR_JWT_ISSUED_IN_FUTURE', 'Token issued in the future', { claim: 'iat', reason: 'future' })
  }
  if (policy.maxTokenAge !== undefined) {
    if (iat === undefined) throw new GuardError('ERR_JWT_CLAIM_MISSING', 'Missing iat claim', { claim: 'iat', reason: 'missing' })
    if (now - iat - tolerance > policy.maxTokenAge) {
      throw new GuardError('ERR_JWT_TOO_OLD', 'Token too old', { claim: 'iat', reason: 'max_age', iat })
    }
  }

  // RFC 7519 §4.1.2 / §4.1.7: strings. Revocation looks both up as strings, so a number there would skip it.
  for (const claim of STRING_CLAIMS) {
    if (has(payload, claim) && typeof payload[claim] !== 'string') throw claimInvalid(claim, 'not_string')
  }

  for (const [claim, value] of policy.expectedClaims) {
    if (!Object.hasOwn(payload, claim) || payload[claim] !== value) throw claimInvalid(claim, 'unexpected_value')
  }

  for (const claim of policy.requiredClaims) {
    if (!has(payload, claim)) throw new GuardError('ERR_JWT_CLAIM_MISSING', `Missing ${claim} claim`, { claim, reason: 'missing' })
  }
}

/** RFC 9068 / RFC 8725 `typ` comparison: case-insensitive, `application/` prefix optional. */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice(12) : lower
}
