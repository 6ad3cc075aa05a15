import type { GuardError } from '../errors.js'

/** The JSON body of a refusal: RFC 6750's `error` and `error_description`, and jwtguard's stable `code`. */
export interface ErrorBody {
  /** The challenge's `error` (`invalid_token`, `insufficient_scope`, `invalid_request` …); `unauthorized` when no token was sent; `server_error` / `temporarily_unavailable` for 5xx. */
  error: string
  error_description: string
  code: string
}

/** A refusal as a JSON answer: status, headers (the challenge among them) and body. */
export function errorResponse(err: GuardError): { status: number; headers: Record<string, string>; body: ErrorBody } {
  const error = err.challenge ?? (err.status === 401 ? 'unauthorized' : err.status === 503 ? 'temporarily_unavailable' : 'server_error')
  // A 5xx that is not meant for clients (a failing callback) says nothing of its cause.
  const description = err.expose ? err.message : 'Internal server error'
  return { status: err.status, headers: { ...err.headers }, body: { error, error_description: description, code: err.code } }
}
