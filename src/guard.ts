import type { AuthCheck } from './authz/checks.js'
import { explanation, type Explanation } from './explain.js'
import { frozen, GuardError } from './errors.js'
import { asGuardError, withChallenge } from './http/challenge.js'
import { checkTokenSyntax, locateToken, tokenSyntaxError, type ExtractedToken, type GuardRequest } from './intake/request.js'
import type { GuardOptions } from './options.js'
import type { AuthInfo, DefaultClaims } from './types.js'
import { checkBinding, checkProof } from './dpop/binding.js'
import { rememberProof } from './dpop/proof.js'
import type { ProtectedResource } from './http/metadata.js'
import { resolveSettings } from './verify/settings.js'
import { verifiedAuth } from './verify/cache.js'
import { checkRevocation } from './verify/revocation.js'
import { traceRequest, traceToken } from './verify/explain.js'
import { newTrace } from './verify/trace.js'

/**
 * For adapters: `authenticate` that answers synchronously when it can (a cached
 * token and nothing to wait for), so the common request pays no promise.
 * Throws the same `GuardError`s that `authenticate` rejects with.
 */
export const AUTHENTICATE_NOW: unique symbol = Symbol.for('jwtguard.authenticateNow')

/** A guard: everything built once from the options; `verify` and `authenticate` per request. */
export interface Guard<C = DefaultClaims> {
  /**
   * Verifies a raw token. Resolves with `AuthInfo`; rejects with a `GuardError`
   * (challenge headers set). A sender-constrained token (`cnf.jkt`) is refused,
   * since no proof comes with it, unless `options.bindingCheckedElsewhere`.
   */
  verify(token: string, options?: VerifyOptions): Promise<AuthInfo<C>>
  /**
   * Finds the token on a framework-neutral request and verifies it. Resolves
   * `undefined` when there is no token and `authRequired` is `false`.
   */
  authenticate(request: GuardRequest): Promise<AuthInfo<C> | undefined>
  /** Internal, for adapters: see `AUTHENTICATE_NOW`. */
  readonly [AUTHENTICATE_NOW]?: (request: GuardRequest) => AuthInfo<C> | undefined | Promise<AuthInfo<C> | undefined>
  /** Runs a route check (`requireScopes(...)` …), with this guard's challenge settings on failure. */
  check(check: AuthCheck, auth: AuthInfo<C> | undefined): void
  /** A copy of the error with this guard's `WWW-Authenticate` (anything not a `GuardError` becomes one); `err` itself is left as is. */
  toHttpError(err: unknown): GuardError
  /**
   * Runs the same stages as `verify` (a token) or `authenticate` (a request, so
   * DPoP proofs and bindings are explained too) and reports what they did, check
   * by check: what passed, and exactly why the first failing check failed (for
   * development logs and the `jwtguard` CLI). Its `code` is the one they would
   * throw. Never throws for a bad token; never uses the cache, records a DPoP
   * proof as used, or emits events.
   */
  explain(input: string | GuardRequest, options?: VerifyOptions): Promise<Explanation>
  /** Fetches remote keys now (call before `listen()`); rejects if they cannot be had. */
  ready(): Promise<void>
  /**
   * Forces a refetch of remote keys (e.g. after the IdP announced a rotation). Cached tokens verified
   * by a key the new set lacks are judged afresh; with `getKey`, every key it returned so far is.
   */
  reload(): Promise<void>
  /** RFC 9728 metadata (`resourceMetadata`): adapters serve `document` on `path`. */
  readonly protectedResource: ProtectedResource | undefined
  /** The options after defaults, for diagnostics. */
  readonly settings: Readonly<{
    issuers: readonly string[]
    algorithms: readonly string[]
    realm: string
    /** Whether a token may come from a form body (`tokenFrom: { body }`): adapters must run after the body parser. */
    readsBody: boolean
  }>
}

/** Options of `guard.verify`. */
export interface VerifyOptions {
  /**
   * `true`: you check the token's binding yourself (a DPoP proof verified
   * elsewhere, against `auth.cnf.jkt`), so a sender-constrained token is
   * returned rather than refused. A `cnf` the guard cannot read is refused
   * either way. Default `false`: `verify` has no proof, so a DPoP-bound token
   * gets 401 `ERR_DPOP_BINDING_INVALID`.
   */
  bindingCheckedElsewhere?: boolean
}

/**
 * Creates a guard. Validates every option synchronously and throws a
 * `TypeError` naming the option at fault; builds key sources and readers once
 * (`resolveSettings`). Per request: intake (`locateToken`), the DPoP proof,
 * the cached or fresh verification (`verifiedAuth`: keys, signature or
 * decryption, claims), the binding, the revocation check.
 */
export function createGuard<C = DefaultClaims>(options: GuardOptions<C>): Guard<C> {
  const s = resolveSettings(options)
  const { dpop, emit } = s

  const reject = (err: unknown, scheme?: 'Bearer' | 'DPoP'): never => {
    const cause = frozen(asGuardError(err))
    const nonce = cause.code === 'ERR_DPOP_NONCE_REQUIRED' && dpop?.nonce ? { 'DPoP-Nonce': dpop.nonce.issue() } : undefined
    // Its own copy, headers included: requests that failed on one token in flight share `cause`.
    const error = withChallenge(cause, s.challenge, scheme, nonce)
    emit?.({
      type: 'token_rejected',
      code: error.code,
      reason: typeof error.context.reason === 'string' ? error.context.reason : undefined,
    })
    throw error
  }

  const verify = async (token: string, verifyOptions?: VerifyOptions): Promise<AuthInfo<C>> => {
    try {
      const known = verifiedAuth(s, token)
      const auth = known instanceof Promise ? await known : known
      // No proof comes with a bare token: it is a bearer use, unless the caller checks the binding.
      if (verifyOptions?.bindingCheckedElsewhere !== true) checkBinding(undefined, undefined, auth, s.mtls)
      if (s.revocable) await checkRevocation(s, auth)
      return auth
    } catch (err) {
      return reject(err)
    }
  }

  /**
   * Refuses a token found on a request. Credentials outside RFC 6750's
   * characters are a 400 whatever else failed: `locateToken` leaves that scan
   * for failures, since a JWS or JWE that passes intake is within them.
   */
  const refuse = (found: ExtractedToken, err: unknown): never => reject(tokenSyntaxError(found) ?? err, found.scheme)

  /** A verified token for a request without DPoP: refused if it is DPoP-bound, or bound to a certificate not presented. */
  const unbound = (found: ExtractedToken, auth: AuthInfo<C>, request: GuardRequest): AuthInfo<C> => {
    try {
      checkBinding(found.scheme, undefined, auth, s.mtls, request)
    } catch (err) {
      refuse(found, err)
    }
    return auth
  }

  /** `authenticate` without the promise when the answer is known at once: a cached token and no check that waits. */
  const authenticateNow = (request: GuardRequest): AuthInfo<C> | undefined | Promise<AuthInfo<C> | undefined> => {
    let found: ExtractedToken | undefined
    try {
      found = locateToken(request, s.sources, s.schemes)
    } catch (err) {
      return reject(err)
    }
    if (!found) {
      if (s.authRequired) return reject(new GuardError('ERR_JWT_MISSING', 'Authentication required'))
      return undefined
    }
    if (dpop || s.revocable) return authenticateSlow(found, request)
    // Nothing to wait for: a cached token is the answer; a new one is one promise chain from its signature check.
    let known: AuthInfo<C> | Promise<AuthInfo<C>>
    try {
      known = verifiedAuth(s, found.token)
    } catch (err) {
      return refuse(found, err)
    }
    if (!(known instanceof Promise)) return unbound(found, known, request)
    return known.then(
      (auth) => unbound(found, auth, request),
      (err: unknown) => refuse(found, err),
    )
  }

  /** Everything that may wait: the DPoP proof, a verification, the revocation check. */
  const authenticateSlow = async (found: ExtractedToken, request: GuardRequest) => {
    try {
      if (dpop) checkTokenSyntax(found)
      const proof = dpop ? await checkProof(dpop, request, found) : undefined
      const auth = await verifiedAuth(s, found.token)
      checkBinding(found.scheme, proof, auth, s.mtls, request)
      if (dpop && proof) await rememberProof(dpop, proof, emit)
      if (s.revocable) await checkRevocation(s, auth)
      return auth
    } catch (err) {
      return refuse(found, err)
    }
  }

  const explainContext = {
    algorithms: s.algorithmList,
    typ: s.typRequired,
    issuers: s.policy.issuers,
    audienceClaim: s.policy.audienceClaim,
    kids: s.keys.kids.bind(s.keys),
    revocable: s.revocable,
  }

  return {
    verify,
    async authenticate(request) {
      return authenticateNow(request)
    },
    [AUTHENTICATE_NOW]: authenticateNow,
    check(check, auth) {
      try {
        check(auth as AuthInfo<unknown> | undefined)
      } catch (err) {
        // RFC 9449 §7.1: a request made with a DPoP-bound token is answered in the DPoP scheme.
        throw withChallenge(asGuardError(err), s.challenge, auth?.cnf?.jkt !== undefined ? 'DPoP' : undefined)
      }
    },
    toHttpError: (err) => withChallenge(asGuardError(err), s.challenge),
    async explain(input, options) {
      const trace = newTrace()
      try {
        const auth =
          typeof input === 'object' && input !== null
            ? await traceRequest(s, input, trace)
            : await traceToken(s, input, trace, options?.bindingCheckedElsewhere === true)
        const done = explanation(trace, undefined, explainContext)
        if (!auth) return done
        const { header, payload, scopes, roles } = auth
        return { ...done, header: header as Record<string, unknown>, payload: payload as Record<string, unknown>, scopes, roles }
      } catch (err) {
        return explanation(trace, asGuardError(err), explainContext)
      }
    },
    ready: () => s.keys.warm(s.issuerPolicies),
    reload: () => s.keys.reload(s.issuerPolicies),
    protectedResource: s.resource,
    settings: Object.freeze({
      issuers: s.issuerPolicies.map((i) => i.issuer),
      algorithms: [...s.algorithmList],
      realm: s.realm,
      readsBody: s.sources.some((source) => typeof source === 'object' && 'body' in source),
    }),
  }
}
