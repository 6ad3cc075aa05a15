import { callbackError, isThenable, promiseReturned } from '../callbacks.js'
import { GuardError } from '../errors.js'
import type { AuthInfo, DefaultClaims } from '../types.js'

/** A per-route check: returns when the request may go on, throws a `GuardError` otherwise. */
export type AuthCheck = (auth: AuthInfo<unknown> | undefined) => void

export interface RequireOptions {
  /** `'all'` (default): every listed value is needed; `'any'`: one is enough. */
  mode?: 'all' | 'any'
}

// A string is split on spaces (scope syntax); an array holds exact names. Scopes can never contain a
// space (RFC 6749 §3.3), roles can ("Order Admins" is an Okta group).
function normalize(values: string | readonly string[], fn: string, spacesAllowed: boolean): string[] {
  const list = typeof values === 'string' ? values.split(' ').filter(Boolean) : [...values]
  if (list.length === 0 || list.some((v) => typeof v !== 'string' || v === '' || (!spacesAllowed && v.includes(' ')))) {
    throw new TypeError(`jwtguard: ${fn}() needs one or more non-empty names${spacesAllowed ? '' : ' without spaces'}`)
  }
  return list
}

function mode(options: RequireOptions | undefined, fn: string): 'all' | 'any' {
  const m = options?.mode ?? 'all'
  if (m !== 'all' && m !== 'any') throw new TypeError(`jwtguard: ${fn}() option "mode" must be 'all' or 'any'`)
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
  const need = normalize(scopes, 'requireScopes', false)
  const m = mode(options, 'requireScopes')
  return (auth) => {
    if (!granted(authenticated(auth).scopes, need, m)) {
      throw new GuardError('ERR_JWT_INSUFFICIENT_SCOPE', 'Insufficient scope', { scope: need, reason: m })
    }
  }
}

/** Requires roles (exact, case-sensitive). Failure: 403 `insufficient_scope`. */
export function requireRoles(roles: string | readonly string[], options?: RequireOptions): AuthCheck {
  const need = normalize(roles, 'requireRoles', true)
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

/** Requires claims to satisfy a predicate or expected values. Failure: 403 `insufficient_scope`. */
export function requireClaims<C = DefaultClaims>(check: ((payload: C, auth: AuthInfo<C>) => boolean) | ClaimExpectations): AuthCheck {
  let predicate: (payload: Record<string, unknown>, auth: AuthInfo<unknown>) => boolean
  if (typeof check === 'function') {
    predicate = check as unknown as typeof predicate
  } else if (
    typeof check === 'object' &&
    check !== null &&
    Object.keys(check).length > 0 &&
    // An empty list would be "included" in any array: a check that checks nothing.
    Object.values(check).every((v) => !Array.isArray(v) || v.length > 0)
  ) {
    const entries = Object.entries(check)
    predicate = (payload) => entries.every(([k, v]) => Object.hasOwn(payload, k) && matches(payload[k], v))
  } else {
    throw new TypeError('jwtguard: requireClaims() needs a predicate or an object of expected claim values')
  }
  return (auth) => {
    const a = authenticated(auth)
    let answer: unknown
    try {
      answer = predicate(a.payload as Record<string, unknown>, a)
    } catch (err) {
      // A predicate that throws has a bug (a 500), unless it threw an http-errors error to choose the answer.
      throw callbackError(err, 'requireClaims')
    }
    if (isThenable(answer)) throw promiseReturned(answer, 'requireClaims')
    if (answer !== true) throw new GuardError('ERR_JWT_CLAIM_CHECK_FAILED', 'Claim check failed', { reason: 'check_failed' })
  }
}
