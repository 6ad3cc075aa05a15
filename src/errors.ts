import { inspect } from 'node:util'
import createHttpError from 'http-errors'
import { ERROR_TABLE, type ChallengeError, type GuardErrorCode } from './error-table.js'

export type { ChallengeError, GuardErrorCode }

/** Every stable error code with the HTTP status it maps to (the statuses of `ERROR_TABLE`, kept for compatibility). */
export const ERROR_CODES = Object.freeze(Object.fromEntries(Object.entries(ERROR_TABLE).map(([code, info]) => [code, info.status]))) as {
  readonly [K in GuardErrorCode]: (typeof ERROR_TABLE)[K]['status']
}

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

// Statuses a callback chose: the RFC 6750 `error` that fits.
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
    this.status = this.statusCode = options?.status ?? ERROR_TABLE[code].status
    this.context = context
    this.challenge = options?.status === undefined ? ERROR_TABLE[code].challenge : challengeForStatus[options.status]
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
 * instance carries (status, context, cause, a subclass), writable again where `err`
 * is frozen (see `frozen`). The copy itself stays extensible and writable: Koa marks
 * errors `headerSent` and writes back `status`, and error trackers tag what they saw.
 */
export function withHeaders(err: GuardError, headers: Record<string, string>): GuardError {
  const copy = new GuardError(err.code, err.message)
  const { headers: _shared, ...own } = Object.getOwnPropertyDescriptors(err)
  for (const d of Object.values(own)) {
    d.configurable = true
    if ('value' in d) d.writable = true
  }
  Object.defineProperties(copy, own)
  const proto = Object.getPrototypeOf(err) as object
  if (Object.getPrototypeOf(copy) !== proto) Object.setPrototypeOf(copy, proto)
  copy.headers = Object.freeze(headers)
  return copy
}

/**
 * Freezes the error the pipeline threw, and its context, before any response is
 * made from it: requests that failed on one token in flight share it, so none
 * may change what another answers with.
 */
export function frozen(err: GuardError): GuardError {
  Object.freeze(err.context)
  return Object.freeze(err)
}

export function isGuardError(value: unknown): value is GuardError {
  return value instanceof GuardError
}
