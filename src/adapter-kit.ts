import { AUTHENTICATE_NOW, createGuard, type Guard } from './guard.js'
import type { GuardRequest, RequestConnection } from './intake/request.js'
import { optionsFromEnv } from './env.js'
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

/** How an adapter reads the body its framework's parser left, defined once per adapter. */
export interface BodyReader<R> {
  /** The parsed body of `source`, or `undefined` when no parser ran. */
  read(source: R): unknown
  /** The parser to add for form bodies, named in the 500 when none ran (e.g. `express.urlencoded()`). */
  readonly parser: string
}

/**
 * What the guard reads of a framework's request, made per request from the
 * framework's own fields. The connection (local address, port, TLS, client
 * certificate) and the parsed body are read only by the options that need
 * them (DPoP, `mtls`, `tokenFrom: { body }`), so they are asked for then, of
 * `source`, through `connectionOf` and `bodyOf`: each adapter defines them once.
 */
export class RequestView<R> implements GuardRequest {
  constructor(
    private readonly source: R,
    private readonly connectionOf: (source: R) => RequestConnection,
    readonly headers: GuardRequest['headers'],
    readonly rawHeaders: string[],
    readonly method: string,
    readonly url: string,
    readonly cookies?: Record<string, string | undefined>,
    private readonly bodyOf?: BodyReader<R>,
  ) {}

  get connection(): RequestConnection {
    return this.connectionOf(this.source)
  }

  get body(): unknown {
    return this.bodyOf?.read(this.source)
  }

  get bodyParser(): string | undefined {
    return this.bodyOf?.parser
  }
}

/**
 * `guard.authenticate(request)`, answered synchronously when the guard can (a
 * cached token, nothing to wait for): adapters call `next()` at once then, and
 * chain on the promise otherwise. Throws what `authenticate` would reject with.
 */
export function authenticateNow<C>(guard: Guard<C>, request: GuardRequest): AuthInfo<C> | undefined | Promise<AuthInfo<C> | undefined> {
  const now = guard[AUTHENTICATE_NOW]
  return now ? now(request) : guard.authenticate(request)
}

/** Whether `authenticateNow` answered with a promise (to chain on) rather than the answer itself. */
export const isPending = <T>(value: T | Promise<T>): value is Promise<T> =>
  typeof (value as { then?: unknown } | undefined)?.then === 'function'

/**
 * `authenticateNow` with the dispatch done: calls `done(error, undefined, a, b)`
 * or `done(undefined, auth, a, b)` exactly once, at once for a cached token,
 * after verification otherwise, and returns what `done` returns (a promise of
 * it after verification). `a` and `b` (e.g. the framework's request and its
 * `next`) are passed on as they are, so that `done` can be defined once, at
 * module level, rather than as a closure per request. Callback frameworks
 * (Express `next`, Fastify `done`) ignore the return; Koa returns it,
 * `next()`'s promise included. An exception thrown by `done` itself is not
 * caught here (it is the framework's, not the guard's): synchronous then, a
 * rejection of the returned promise otherwise.
 */
export function authenticateThen<C, R, A = undefined, B = undefined>(
  guard: Guard<C>,
  request: GuardRequest,
  done: (error: unknown, auth: AuthInfo<C> | undefined, a: A, b: B) => R,
  a?: A,
  b?: B,
): R | Promise<R> {
  let result
  try {
    result = authenticateNow(guard, request)
  } catch (err) {
    return done(err, undefined, a as A, b as B)
  }
  if (!isPending(result)) return done(undefined, result, a as A, b as B)
  return result.then(
    (auth) => done(undefined, auth, a as A, b as B),
    (err: unknown) => done(err, undefined, a as A, b as B),
  )
}
