import { callbackError, isThenable, promiseReturned } from '../callbacks.js'
import { GuardError } from '../errors.js'
import { CHALLENGE_TEXT, SCOPE_TOKEN } from '../http/challenge.js'
import type { AuthInfo, DefaultClaims } from '../types.js'
import { optionError } from '../option-error.js'

/** A per-route check: returns when the request may go on, throws a `GuardError` otherwise. */
export type AuthCheck = (auth: AuthInfo<unknown> | undefined) => void

export interface RequireOptions {
  /** `'all'` (default): every listed value is needed; `'any'`: one is enough. */
  mode?: 'all' | 'any'
}

// A string is split on spaces (scope syntax); an array holds exact names. A scope is an RFC 6749 §3.3
// scope-token, since a 403 names the missing ones in its challenge's `scope`; roles are never put in a
// header, and may hold spaces ("Order Admins" is an Okta group) or any other character.
function normalize(values: string | readonly string[], fn: string, scopes: boolean): string[] {
  const list = typeof values === 'string' ? values.split(' ').filter(Boolean) : [...values]
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    throw new TypeError(`jwtguard: ${fn}() needs one or more non-empty names`)
  }
  const bad = scopes ? list.find((v) => !SCOPE_TOKEN.test(v)) : undefined
  if (bad !== undefined) {
    throw new TypeError(
      `jwtguard: ${fn}() scope ${JSON.stringify(bad)} is not an RFC 6749 scope-token (printable ASCII, no space, " or \\)`,
    )
  }
  return list
}

function mode(options: RequireOptions | undefined, fn: string): 'all' | 'any' {
  const m = options?.mode ?? 'all'
  if (m !== 'all' && m !== 'any') throw optionError('mode', "must be 'all' or 'any'", { of: `${fn}()`, given: m })
  return m
}

function authenticated(auth: AuthInfo<unknown> | undefined): AuthInfo<unknown> {
  // A route check on an anonymous request (authRequired: false) asks for a token: 401, not 403.
  if (!auth) throw new GuardError('ERR_JWT_MISSING', 'Authentication required')
  return auth
}

function granted(have: readonly string[], need: readonly string[], m: 'all' | 'any'): boolean {
  return m === 'all' ? need.every((n) => have.includes(n)) : need.some((n) => have.includes(n))
}

/** Requires scopes (exact, case-sensitive). Failure: 403 `insufficient_scope` with `scope="…"`. */
export function requireScopes(scopes: string | readonly string[], options?: RequireOptions): AuthCheck {
  const need = normalize(scopes, 'requireScopes', true)
  const m = mode(options, 'requireScopes')
  return (auth) => {
    if (!granted(authenticated(auth).scopes, need, m)) {
      throw new GuardError('ERR_JWT_INSUFFICIENT_SCOPE', 'Insufficient scope', { scope: need, reason: m })
    }
  }
}

/** Requires roles (exact, case-sensitive). Failure: 403 `insufficient_scope`. */
export function requireRoles(roles: string | readonly string[], options?: RequireOptions): AuthCheck {
  const need = normalize(roles, 'requireRoles', false)
  const m = mode(options, 'requireRoles')
  return (auth) => {
    if (!granted(authenticated(auth).roles, need, m)) {
      throw new GuardError('ERR_JWT_INSUFFICIENT_ROLE', 'Insufficient role', { reason: m })
    }
  }
}

/** Expected claim values: a scalar must equal the claim (or be in it, if the claim is an array); an array must all be in it. */
export type ClaimExpectations = Record<string, string | number | boolean | readonly (string | number | boolean)[]>

function matches(actual: unknown, expected: ClaimExpectations[string]): boolean {
  if (Array.isArray(expected)) return Array.isArray(actual) && expected.every((e) => actual.includes(e))
  return Array.isArray(actual) ? actual.includes(expected) : actual === expected
}

export interface ClaimCheckOptions {
  /**
   * The `error_description` of the 403, e.g. `'Tenant admins only'`: what the
   * client is told. RFC 6750 §3 characters only (printable ASCII without `"`
   * and `\\`); anything else fails when the check is built. Default `'Claim check failed'`.
   */
  description?: string
}

function claimDescription(options: ClaimCheckOptions | undefined): string {
  const description = options?.description ?? 'Claim check failed'
  if (typeof description !== 'string' || !CHALLENGE_TEXT.test(description)) {
    throw optionError('description', 'must be a non-empty string of printable ASCII without " or \\ (RFC 6750 §3)', {
      of: 'requireClaims()',
    })
  }
  return description
}

/**
 * Requires claims to satisfy a predicate or expected values. Failure: 403 `insufficient_scope`, its
 * `error_description` from `options.description`. Expected values are compared with the claims as signed
 * (`auth.claims`), so a `claimsSchema` default or transform cannot satisfy them; a predicate gets `payload`
 * (the schema's output) and `auth`.
 */
export function requireClaims<C = DefaultClaims>(
  check: ((payload: C, auth: AuthInfo<C>) => boolean) | ClaimExpectations,
  options?: ClaimCheckOptions,
): AuthCheck {
  const description = claimDescription(options)
  let predicate: (auth: AuthInfo<unknown>) => boolean
  if (typeof check === 'function') {
    predicate = (auth) => check(auth.payload as C, auth as AuthInfo<C>)
  } else if (
    typeof check === 'object' &&
    check !== null &&
    Object.keys(check).length > 0 &&
    // An empty list would be "included" in any array: a check that checks nothing.
    Object.values(check).every((v) => !Array.isArray(v) || v.length > 0)
  ) {
    const entries = Object.entries(check)
    predicate = ({ claims }) => entries.every(([k, v]) => Object.hasOwn(claims, k) && matches(claims[k], v))
  } else {
    throw new TypeError('jwtguard: requireClaims() needs a predicate or an object of expected claim values')
  }
  return (auth) => {
    const a = authenticated(auth)
    let answer: unknown
    try {
      answer = predicate(a)
    } catch (err) {
      // A predicate that throws has a bug (a 500), unless it threw an http-errors error to choose the answer.
      throw callbackError(err, 'requireClaims')
    }
    if (isThenable(answer)) throw promiseReturned(answer, 'requireClaims')
    if (answer !== true) throw new GuardError('ERR_JWT_CLAIM_CHECK_FAILED', description, { reason: 'check_failed' })
  }
}
