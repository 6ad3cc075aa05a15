import type { JWSHeaderParameters } from 'jose'
import { compileReader, type GrantReader } from './authz/grants.js'
import type { AuthCheck } from './authz/checks.js'
import { validateWithSchema } from './claims/schema.js'
import { checkIssuer, normalizeTyp, validateClaims, type ClaimPolicy, type IssuerPolicy } from './claims/validate.js'
import { explainOutcome, type Explanation } from './explain.js'
import { callbackError } from './callbacks.js'
import { GuardError } from './errors.js'
import { eventSink, type EventSink } from './events.js'
import { asGuardError, withChallenge, type ChallengeSettings } from './http/challenge.js'
import {
  checkTokenSyntax,
  locateToken,
  tokenSyntaxError,
  type ExtractedToken,
  type GuardRequest,
  type TokenSource,
} from './intake/request.js'
import { parseToken, type ParsedToken } from './intake/token.js'
import { checkReplicatedClaims, decryptToken, type DecryptionPolicy } from './jwe/decrypt.js'
import { decryptionPolicy } from './jwe/policy.js'
import { createKeyResolver, type KeyResolver } from './keys/sources.js'
import { HELD, type Candidate, type KeyLease } from './keys/lease.js'
import { resolveOptions } from './config.js'
import { cacheSettings, deepFreeze, tokenDigest, VerifiedCache } from './cache.js'
import type { GuardOptions } from './options.js'
import type { AuthInfo, DefaultClaims } from './types.js'
import { verifySignature } from './verify/signature.js'
import { checkBinding, checkProof } from './dpop/binding.js'
import { confirmationOf } from './claims/confirmation.js'
import { dpopPolicy } from './dpop/policy.js'
import { rememberProof, type DpopPolicy } from './dpop/proof.js'
import { protectedResource, type ProtectedResource } from './http/metadata.js'
import { mtlsPolicy, type MtlsPolicy } from './mtls/policy.js'
import type { RevocationContext } from './revocation/store.js'

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
   * Verifies a token and says, check by check, what passed and exactly why the
   * first failing check failed (for development logs and the `jwtguard` CLI).
   * Never throws for a bad token.
   */
  explain(token: string): Promise<Explanation>
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

interface Built<C> {
  policy: ClaimPolicy
  algorithms: ReadonlySet<string>
  typ: string | undefined
  maxTokenLength: number
  sources: readonly TokenSource[]
  schemes: ReadonlySet<string>
  authRequired: boolean
  keys: KeyResolver
  scopes: GrantReader
  roles: GrantReader
  challenge: ChallengeSettings
  emit: EventSink | undefined
  decryption: DecryptionPolicy | undefined
  cache: VerifiedCache<C> | undefined
  /** Verifications in progress, by token: concurrent requests with one new token share one verification. */
  inflight: Map<string, Promise<Verified<C>>>
  dpop: DpopPolicy | undefined
  mtls: MtlsPolicy | undefined
  /** Whether any revocation check is configured (skipped entirely otherwise). */
  revocable: boolean
  /** What a revocation store is told besides the token, built once. */
  revocationContext: RevocationContext
  options: GuardOptions<C>
}

/**
 * Creates a guard. Validates every option synchronously and throws a
 * `TypeError` naming the option at fault; builds key sources and readers once.
 */
export function createGuard<C = DefaultClaims>(options: GuardOptions<C>): Guard<C> {
  const emit = eventSink(options?.onEvent)
  const resolved = resolveOptions(options as GuardOptions<unknown>)
  const issuerPolicies = [...resolved.policy.issuers.values()]
  const keys = createKeyResolver(options as GuardOptions<unknown>, issuerPolicies, resolved.remote, emit)
  const algorithms = resolved.finish(keys)
  const variables = options.claimVariables ?? {}
  const dpop = options.dpop === undefined || options.dpop === false ? undefined : dpopPolicy(options.dpop)
  const resource =
    options.resourceMetadata === undefined
      ? undefined
      : protectedResource(options.resourceMetadata, {
          bearerMethods: bearerMethods(resolved.sources),
          dpopAlgorithms: dpop ? [...dpop.algorithms] : undefined,
          dpopRequired: dpop?.required ?? false,
        })
  const b: Built<C> = {
    policy: resolved.policy,
    algorithms: new Set(algorithms),
    typ: options.typ === undefined ? undefined : normalizeTyp(options.typ),
    maxTokenLength: resolved.maxTokenLength,
    sources: resolved.sources,
    schemes: new Set(dpop ? ['bearer', 'dpop'] : ['bearer']),
    authRequired: options.authRequired ?? true,
    keys,
    scopes: compileReader(options.scopeClaim ?? ['scope', 'scp'], variables, 'scopeClaim'),
    roles: compileReader(options.rolesClaim ?? 'roles', variables, 'rolesClaim'),
    challenge: {
      realm: resolved.realm,
      resourceMetadataUrl: resource?.url,
      dpopAlgorithms: dpop ? [...dpop.algorithms] : undefined,
      dpopRequired: dpop?.required ?? false,
    },
    emit,
    decryption: options.decryption === undefined ? undefined : decryptionPolicy(options.decryption),
    cache: ((s) => (s ? new VerifiedCache<C>(s) : undefined))(cacheSettings(options.cache)),
    inflight: new Map(),
    dpop,
    mtls: options.mtls === undefined || options.mtls === false ? undefined : mtlsPolicy(options.mtls),
    revocable: options.isRevoked !== undefined || options.revocation !== undefined,
    revocationContext: { emit, jtiClaim: resolved.jtiClaim },
    options,
  }
  const issuers = issuerPolicies.map((i) => i.issuer)

  const reject = (err: unknown, scheme?: 'Bearer' | 'DPoP'): never => {
    const cause = asGuardError(err)
    const nonce = cause.code === 'ERR_DPOP_NONCE_REQUIRED' && dpop?.nonce ? { 'DPoP-Nonce': dpop.nonce.issue() } : undefined
    // Its own copy, headers included: requests that failed on one token in flight share `cause`.
    const error = withChallenge(cause, b.challenge, scheme, nonce)
    emit?.({
      type: 'token_rejected',
      code: error.code,
      reason: typeof error.context.reason === 'string' ? error.context.reason : undefined,
    })
    throw error
  }

  const verify = async (token: string, verifyOptions?: VerifyOptions): Promise<AuthInfo<C>> => {
    try {
      const known = verifiedAuth(b, token)
      const auth = known instanceof Promise ? await known : known
      // No proof comes with a bare token: it is a bearer use, unless the caller checks the binding.
      if (verifyOptions?.bindingCheckedElsewhere !== true) checkBinding(undefined, undefined, auth, b.mtls)
      if (b.revocable) await checkRevocation(b, auth)
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
      checkBinding(found.scheme, undefined, auth, b.mtls, request)
    } catch (err) {
      refuse(found, err)
    }
    return auth
  }

  /** `authenticate` without the promise when the answer is known at once: a cached token and no check that waits. */
  const authenticateNow = (request: GuardRequest): AuthInfo<C> | undefined | Promise<AuthInfo<C> | undefined> => {
    let found: ExtractedToken | undefined
    try {
      found = locateToken(request, b.sources, b.schemes)
    } catch (err) {
      return reject(err)
    }
    if (!found) {
      if (b.authRequired) return reject(new GuardError('ERR_JWT_MISSING', 'Authentication required'))
      return undefined
    }
    if (dpop || b.revocable) return authenticateSlow(found, request)
    // Nothing to wait for: a cached token is the answer; a new one is one promise chain from its signature check.
    let known: AuthInfo<C> | Promise<AuthInfo<C>>
    try {
      known = verifiedAuth(b, found.token)
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
      const auth = await verifiedAuth(b, found.token)
      checkBinding(found.scheme, proof, auth, b.mtls, request)
      if (dpop && proof) await rememberProof(dpop, proof, b.emit)
      if (b.revocable) await checkRevocation(b, auth)
      return auth
    } catch (err) {
      return refuse(found, err)
    }
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
        throw withChallenge(asGuardError(err), b.challenge, auth?.cnf?.jkt !== undefined ? 'DPoP' : undefined)
      }
    },
    toHttpError: (err) => withChallenge(asGuardError(err), b.challenge),
    async explain(token) {
      const context = {
        algorithms,
        typ: options.typ,
        issuers: b.policy.issuers,
        audienceClaim: b.policy.audienceClaim,
        kids: (issuer: IssuerPolicy) => keys.kids(issuer),
      }
      try {
        const auth = await verify(token)
        return {
          ...explainOutcome(token, undefined, context),
          header: auth.header as Record<string, unknown>,
          payload: auth.payload as Record<string, unknown>,
        }
      } catch (err) {
        return explainOutcome(token, asGuardError(err), context)
      }
    },
    ready: () => keys.warm(issuerPolicies),
    reload: () => keys.reload(issuerPolicies),
    protectedResource: resource,
    settings: { issuers, algorithms, realm: resolved.realm, readsBody: resolved.sources.some((s) => typeof s === 'object' && 'body' in s) },
  }
}

/** RFC 9728 `bearer_methods_supported`, from where the guard takes tokens. */
function bearerMethods(sources: readonly TokenSource[]): string[] {
  const methods = new Set<string>()
  for (const s of sources)
    if (s === 'header') methods.add('header')
    else if (typeof s === 'object' && 'query' in s) methods.add('query')
    else if (typeof s === 'object' && 'body' in s) methods.add('body')
  return [...methods]
}

/** The cache key of a token, or `undefined` when there is no cache or the token cannot be a verified one. */
function cacheKey<C>(b: Built<C>, token: string): string | undefined {
  if (!b.cache || typeof token !== 'string' || token.length > b.maxTokenLength) return undefined
  return tokenDigest(token)
}

/**
 * The token's `AuthInfo`: synchronously from the cache when it holds the token
 * (the hot path), otherwise its verification. Throws synchronously what intake
 * refuses.
 */
function verifiedAuth<C>(b: Built<C>, token: string): AuthInfo<C> | Promise<AuthInfo<C>> {
  const digest = cacheKey(b, token)
  const hit = digest === undefined ? undefined : b.cache!.get(digest, token)
  if (!hit) return verifyCached(b, token, digest)
  b.emit?.({ type: 'cache_hit' })
  return hit
}

/**
 * One shared verification per distinct token in flight, then the full
 * verification, then the cache. Throws synchronously what intake refuses;
 * everything later rejects.
 */
function verifyCached<C>(b: Built<C>, token: string, digest: string | undefined): Promise<AuthInfo<C>> {
  if (typeof token !== 'string') throw new GuardError('ERR_JWT_MALFORMED', 'Malformed token', { reason: 'not_a_string' })
  if (token.length > b.maxTokenLength) throw new GuardError('ERR_JWT_TOO_LARGE', 'Token too large', { reason: 'too_large' })
  // Keyed by the token itself: an entry lives only while its verification runs.
  const running = b.inflight.get(token)
  if (running) return running.then(({ auth }) => ({ ...auth }))
  const work = verifyToken(b, token)
  b.inflight.set(token, work)
  return work.then(
    ({ auth, until, lease }) => {
      b.inflight.delete(token)
      if (digest !== undefined) b.cache?.set(digest, auth, until, lease)
      return auth
    },
    (err: unknown) => {
      b.inflight.delete(token)
      throw err
    },
  )
}

/** A verified token, the epoch ms until which its claims stay acceptable, and the lease of the key that verified it. */
interface Verified<C> {
  auth: AuthInfo<C>
  until: number
  lease: KeyLease
}

/** Epoch ms until which the verified claims stay acceptable: `exp`, and `iat + maxTokenAge`, with the tolerance. */
function validUntil<C>(b: Built<C>, payload: Record<string, unknown>): number {
  const { clockTolerance, maxTokenAge } = b.policy
  let until = (payload.exp as number) + clockTolerance
  if (maxTokenAge !== undefined) until = Math.min(until, (payload.iat as number) + maxTokenAge + clockTolerance)
  return until * 1000
}

/** Intake, then the JWS or JWE path. Throws synchronously what intake refuses. */
function verifyToken<C>(b: Built<C>, token: string): Promise<Verified<C>> {
  const parsed = parseToken(token, b.maxTokenLength)
  if (!parsed.encrypted) {
    if (b.decryption?.required) throw new GuardError('ERR_JWE_REQUIRED', 'Encrypted token required', { reason: 'plain_jws' })
    return verifyJws(b, parsed, (jws) => finish(b, token, jws, false))
  }
  return verifyJwe(b, token, parsed)
}

async function verifyJwe<C>(b: Built<C>, token: string, parsed: ParsedToken): Promise<Verified<C>> {
  if (!b.decryption) throw new GuardError('ERR_JWE_NOT_SUPPORTED', 'Encrypted tokens are not accepted', { reason: 'jwe' })
  const inner = await decryptToken(parsed, b.decryption)
  let verified: JwsResult
  if (inner.kind === 'nested') {
    const jws = parseToken(inner.jws, b.maxTokenLength)
    verified = await verifyJws(b, jws, (result) => result)
  } else {
    // Unsigned claims (allowed only with symmetric key management): the JWE header stands in for the JWS one.
    checkTyp(b, parsed.header)
    validateClaims(inner.payload, b.policy, Math.floor(Date.now() / 1000))
    // Its only key is a decryption key, given in the options: it cannot be withdrawn.
    verified = { header: parsed.header as JWSHeaderParameters, payload: inner.payload, keysUntil: undefined, lease: HELD }
  }
  checkReplicatedClaims(parsed.header, verified.payload)
  return finish(b, token, verified, true)
}

function checkTyp<C>(b: Built<C>, header: Record<string, unknown>): void {
  if (b.typ !== undefined && (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== b.typ)) {
    throw new GuardError('ERR_JWT_TYP_INVALID', 'Unexpected token type', { reason: 'typ' })
  }
}

interface JwsResult {
  header: JWSHeaderParameters
  payload: Record<string, unknown>
  /** Epoch ms until which the key that verified it may be trusted (remote keys), for the token cache. */
  keysUntil: number | undefined
  /** The lease of the key that verified it (for a JWE, of the key that verified the inner JWS). */
  lease: KeyLease
}

/**
 * The JWS policy, the same for a plain token and for the inside of a JWE.
 * Header checks throw synchronously; `then` runs on the verified result in
 * the same step as the claim checks (one promise hop less per token).
 */
function verifyJws<C, T>(b: Built<C>, parsed: ParsedToken, then: (result: JwsResult) => T | Promise<T>): Promise<T> {
  const header = parsed.header as JWSHeaderParameters
  const alg = header.alg!
  if (!b.algorithms.has(alg)) throw new GuardError('ERR_JWT_ALG_NOT_ALLOWED', 'Algorithm not allowed', { reason: 'alg' })
  if (header.kid !== undefined && typeof header.kid !== 'string')
    throw new GuardError('ERR_JWT_HEADER_INVALID', 'Invalid token header', { reason: 'kid' })
  // No JWS extension is understood here: any `crit` must be refused (RFC 7515 §4.1.11), and `b64` (RFC 7797) is never valid in a JWT.
  if (header.crit !== undefined || header.b64 !== undefined) {
    throw new GuardError('ERR_JWT_HEADER_INVALID', 'Invalid token header', { reason: 'crit' })
  }
  checkTyp(b, header)
  const payload = parsed.payload!
  // The unverified `iss` only picks whose keys to try; nothing is fetched for an issuer outside the list.
  const issuer = checkIssuer(payload, b.policy.issuers)
  if (!issuer.algorithms.has(alg)) throw new GuardError('ERR_JWT_ALG_NOT_ALLOWED', 'Algorithm not allowed', { reason: 'alg' })
  const signed = (candidates: readonly Candidate[]): Promise<T> => {
    if (candidates.length === 0) throw new GuardError('ERR_JWKS_NO_MATCHING_KEY', 'No matching key', { reason: 'no_key' })
    return verifySignature(parsed.raw, alg, candidates.map(keyOf)).then((i) => {
      validateClaims(payload, b.policy, Math.floor(Date.now() / 1000))
      return then({ header, payload, keysUntil: b.keys.keysValidUntil?.(issuer), lease: candidates[i]!.lease })
    })
  }
  // Held keys come back synchronously: no promise until the signature check.
  const resolved = b.keys.resolve(header, issuer, parsed.raw)
  return Array.isArray(resolved) ? signed(resolved) : resolved.then(signed)
}

const keyOf = (candidate: Candidate): Candidate['key'] => candidate.key

/**
 * The signed claims are frozen before the schema sees them: what it returns
 * becomes `payload`, and it cannot change the `claims` every decision reads.
 */
function finish<C>(b: Built<C>, token: string, jws: JwsResult, encrypted: boolean): Verified<C> | Promise<Verified<C>> {
  const schema = b.options.claimsSchema
  const signed = deepFreeze(jws.payload)
  if (!schema) return verified(b, token, jws, signed as C, encrypted)
  return validateWithSchema(schema, signed).then((output) => verified(b, token, jws, output, encrypted))
}

function verified<C>(
  b: Built<C>,
  token: string,
  { header, payload, keysUntil, lease }: JwsResult,
  output: C,
  encrypted: boolean,
): Verified<C> {
  const auth = { token, header, payload: output, claims: payload, scopes: b.scopes(payload), roles: b.roles(payload), encrypted }
  return {
    auth: withConfirmation(auth, payload, b.mtls !== undefined),
    // A cached token never outlives the key set that verified it (one no refetch could renew) …
    until: Math.min(validUntil(b, payload), keysUntil ?? Number.POSITIVE_INFINITY),
    // … nor the key's place in it: a key withdrawn by a refetch or `reload()` takes its tokens with it.
    lease,
  }
}

function withConfirmation<C>(auth: AuthInfo<C>, payload: Record<string, unknown>, mtls: boolean): AuthInfo<C> {
  const cnf = confirmationOf(payload, mtls)
  if (cnf) auth.cnf = cnf
  return auth
}

/**
 * Runs on every request, cached token or not: a revocation takes effect at
 * once. A check that throws or rejects (sync or async) is a 503: the token may
 * be fine, and a revoked one must not pass (unless it threw a status of its own).
 */
async function checkRevocation<C>(b: Built<C>, auth: AuthInfo<C>): Promise<void> {
  const { isRevoked, revocation } = b.options
  let asking: 'isRevoked' | 'revocation' = 'isRevoked'
  let revoked: boolean
  try {
    // Any truthy answer revokes, as in express-jwt: a ported hook returning a row or 1 must not let tokens through.
    revoked = isRevoked !== undefined && Boolean(await isRevoked(auth))
    asking = 'revocation'
    if (!revoked && revocation !== undefined) revoked = Boolean(await revocation.isRevoked(auth as AuthInfo<unknown>, b.revocationContext))
  } catch (err) {
    const error = callbackError(err, asking, 'ERR_REVOCATION_UNAVAILABLE', 'Revocation service unavailable', 'check_threw')
    if (error !== err && error.code === 'ERR_REVOCATION_UNAVAILABLE')
      b.emit?.({ type: 'revocation_unavailable', reason: 'check_threw', failOpen: false })
    throw error
  }
  if (revoked) throw new GuardError('ERR_JWT_REVOKED', 'Token revoked', { reason: 'revoked' })
}
