import { inspect } from 'node:util'
import createHttpError from 'http-errors'

/**
 * Every stable error code jwtguard produces, with the HTTP status it maps to.
 * The table is the single source for `GuardError.status` and for the README.
 */
export const ERROR_CODES = {
  /** No token on a route that requires one: 401 with a bare challenge. */
  ERR_JWT_MISSING: 401,
  /** The request itself is malformed (bad `Authorization` syntax, token sent twice). */
  ERR_REQUEST_INVALID: 400,
  ERR_JWT_TOO_LARGE: 401,
  ERR_JWT_MALFORMED: 401,
  ERR_JWT_ALG_NOT_ALLOWED: 401,
  ERR_JWT_TYP_INVALID: 401,
  ERR_JWT_HEADER_INVALID: 401,
  ERR_JWT_SIGNATURE_INVALID: 401,
  ERR_JWKS_NO_MATCHING_KEY: 401,
  ERR_JWT_EXPIRED: 401,
  ERR_JWT_NOT_YET_VALID: 401,
  ERR_JWT_ISSUED_IN_FUTURE: 401,
  ERR_JWT_TOO_OLD: 401,
  ERR_JWT_ISSUER_INVALID: 401,
  ERR_JWT_AUDIENCE_INVALID: 401,
  ERR_JWT_CLAIM_INVALID: 401,
  ERR_JWT_CLAIM_MISSING: 401,
  ERR_JWT_SCHEMA_INVALID: 401,
  ERR_JWT_REVOKED: 401,
  ERR_JWT_JTI_MISSING: 401,
  ERR_JWE_NOT_SUPPORTED: 401,
  ERR_JWE_REQUIRED: 401,
  ERR_JWE_DECRYPTION_FAILED: 401,
  ERR_JWE_INVALID: 401,
  ERR_DPOP_PROOF_INVALID: 401,
  ERR_DPOP_NONCE_REQUIRED: 401,
  ERR_DPOP_BINDING_INVALID: 401,
  /** `mtls`: a certificate-bound token (`cnf["x5t#S256"]`) came without that client certificate. */
  ERR_MTLS_BINDING_INVALID: 401,
  /** The token's `cnf` names a confirmation the guard cannot check (`x5t#S256`, `jwk` …) or is malformed. */
  ERR_JWT_CNF_UNSUPPORTED: 401,
  ERR_JWT_INSUFFICIENT_SCOPE: 403,
  ERR_JWT_INSUFFICIENT_ROLE: 403,
  ERR_JWT_CLAIM_CHECK_FAILED: 403,
  /**
   * A user callback (a `tokenFrom` function, `claimsSchema`, a `scopeClaim` / `rolesClaim` function, a
   * `requireClaims` predicate) threw: a server fault. Or any callback threw an error with an explicit
   * HTTP status (400–599), which is then the status.
   */
  ERR_CALLBACK_FAILED: 500,
  /** `tokenFrom: { body }` met a form post that no body parser parsed: the app must add one (named in the message). */
  ERR_BODY_NOT_PARSED: 500,
  /** Gateway mode (`jwtguard serve`): no route rule matches and the config's `default` is `deny`. */
  ERR_ROUTE_DENIED: 403,
  ERR_JWKS_UNAVAILABLE: 503,
  ERR_JWKS_TIMEOUT: 503,
  ERR_JWKS_INVALID: 503,
  ERR_DISCOVERY_FAILED: 503,
  ERR_KEY_SOURCE_UNAVAILABLE: 503,
  ERR_REVOCATION_UNAVAILABLE: 503,
  /** `revoke` / `revokeSubject` of the in-memory store when it holds `max` live entries: the revocation did not take. */
  ERR_REVOCATION_STORE_FULL: 503,
  ERR_DPOP_REPLAY_UNAVAILABLE: 503,
  /** The in-memory DPoP replay store holds `max` live proofs: a new proof cannot be recorded, so it is refused. */
  ERR_DPOP_REPLAY_STORE_FULL: 503,
} as const

export type GuardErrorCode = keyof typeof ERROR_CODES

/** The RFC 6750 / RFC 9449 `error` parameter a failure carries in its challenge. */
export type ChallengeError = 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof' | 'use_dpop_nonce'

export interface GuardErrorContext {
  /** The claim at fault, e.g. `aud` (never its value when that could be sensitive). */
  claim?: string
  /** A short machine-readable reason, e.g. `check_failed`, `timeout`. */
  reason?: string
  /** Scopes the route requires (insufficient_scope). */
  scope?: string[]
  /** Path of a failing schema issue (claimsSchema). */
  path?: string
  /** Anything else worth logging; never the token or key material. */
  [key: string]: unknown
}

const challengeFor: Partial<Record<GuardErrorCode, ChallengeError>> = {
  ERR_REQUEST_INVALID: 'invalid_request',
  ERR_JWT_INSUFFICIENT_SCOPE: 'insufficient_scope',
  ERR_JWT_INSUFFICIENT_ROLE: 'insufficient_scope',
  ERR_JWT_CLAIM_CHECK_FAILED: 'insufficient_scope',
  ERR_ROUTE_DENIED: 'insufficient_scope',
  ERR_DPOP_PROOF_INVALID: 'invalid_dpop_proof',
  ERR_DPOP_NONCE_REQUIRED: 'use_dpop_nonce',
}

// Statuses of codes with no entry above (and of statuses a callback chose): the RFC 6750 `error` that fits.
const challengeForStatus: Partial<Record<number, ChallengeError>> = {
  400: 'invalid_request',
  401: 'invalid_token',
  403: 'insufficient_scope',
}

/**
 * The one error class of jwtguard. It is an `http-errors` `HttpError`
 * (`status`, `statusCode`, `expose`, `headers`), so Express's finalhandler,
 * Koa's `ctx.onerror` and Fastify's error handler render it as is.
 *
 * Its `stack` holds no frames: Express prints `err.stack` outside production,
 * and the frames say nothing a client should see. The original error is kept
 * on `cause` for logs.
 */
export class GuardError extends Error {
  override readonly name: string = 'GuardError'
  readonly code: GuardErrorCode
  readonly status: number
  readonly statusCode: number
  /** Messages are written for clients: short, never a token, key or URL. */
  readonly expose = true
  /**
   * Response headers, `WWW-Authenticate` among them. Empty on the error a check
   * throws; the HTTP layer answers with a copy that carries them, frozen (see `withHeaders`).
   */
  headers: Readonly<Record<string, string>> = {}
  /** RFC 6750 `error` value, when the challenge should carry one. */
  readonly challenge: ChallengeError | undefined
  readonly context: GuardErrorContext

  /** `options.status` overrides the code's status: only for an error a user callback threw with one (`ERR_CALLBACK_FAILED`). */
  constructor(code: GuardErrorCode, message: string, context: GuardErrorContext = {}, options?: { cause?: unknown; status?: number }) {
    super(message, options)
    this.code = code
    this.status = this.statusCode = options?.status ?? ERROR_CODES[code]
    this.context = context
    this.challenge = challengeFor[code] ?? (code === 'ERR_JWT_MISSING' ? undefined : challengeForStatus[this.status])
    this.stack = `${this.name} [${code}]: ${message}`
  }

  /** One line in logs (Express prints every error it handles): code, message, reason. */
  [inspect.custom](): string {
    const reason = typeof this.context.reason === 'string' ? ` (${this.context.reason})` : ''
    return `${this.stack}${reason}`
  }
}

// Make `instanceof createHttpError.HttpError` and `createHttpError.isHttpError` true.
Object.setPrototypeOf(GuardError.prototype, createHttpError.HttpError.prototype)

/**
 * A copy of `err` carrying `headers` (frozen): one error per response. Requests
 * that fail on the same token share one thrown error (single-flight verification),
 * so the HTTP layer never writes on the error it was given. The copy keeps all the
 * instance carries (status, context, cause, a subclass). The copy itself stays
 * extensible: Koa marks errors `headerSent`, and error trackers tag what they saw.
 */
export function withHeaders(err: GuardError, headers: Record<string, string>): GuardError {
  const copy = new GuardError(err.code, err.message)
  const { headers: _shared, ...own } = Object.getOwnPropertyDescriptors(err)
  Object.defineProperties(copy, own)
  const proto = Object.getPrototypeOf(err) as object
  if (Object.getPrototypeOf(copy) !== proto) Object.setPrototypeOf(copy, proto)
  copy.headers = Object.freeze(headers)
  return copy
}

export function isGuardError(value: unknown): value is GuardError {
  return value instanceof GuardError
}
