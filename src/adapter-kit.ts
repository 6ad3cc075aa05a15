import { createGuard, type Guard } from './guard.js'
import { optionsFromEnv } from './config.js'
import type { GuardOptions } from './options.js'
import type { AuthInfo, DefaultClaims } from './types.js'
import type { AuthCheck } from './authz/checks.js'
import { asGuardError, withChallenge } from './http/challenge.js'

/** What every adapter's `jwtGuard(...)` accepts: options, a guard from `createGuard`, or nothing (environment). */
export type GuardInput<C = DefaultClaims> = GuardOptions<C> | Guard<C> | undefined

function isGuard<C>(value: unknown): value is Guard<C> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Guard<C>).authenticate === 'function' &&
    typeof (value as Guard<C>).verify === 'function'
  )
}

/** Turns an adapter's argument into a guard, once, at install time. */
export function resolveGuard<C = DefaultClaims>(input: GuardInput<C>): Guard<C> {
  if (input === undefined) return createGuard(optionsFromEnv()) as unknown as Guard<C>
  if (isGuard<C>(input)) return input
  return createGuard(input)
}

/** Where adapters keep the guard that served a request, so route checks use its realm. */
export const GUARD_KEY: unique symbol = Symbol.for('jwtguard.guard')

/**
 * Runs a route check with the challenge settings of the guard that served the
 * request (or the defaults, if the check runs on a route no guard saw).
 */
export function runCheck(check: AuthCheck, auth: AuthInfo<unknown> | undefined, guard: Guard<unknown> | undefined): void {
  if (guard) return guard.check(check, auth)
  try {
    check(auth)
  } catch (err) {
    throw withChallenge(asGuardError(err))
  }
}
